"""The client's outgoing webhook endpoints on the API: list, add (the secret shown once), remove,
the delivery log, and a test event. The `webhooks.manage` scope."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasAction
from audit.services import client_ip
from booking.services.webhooks import (
    EVENT_TYPES,
    create_webhook_endpoint,
    delete_webhook_endpoint,
    send_test_event,
)
from config.api_schema import documented_error
from outbox.models import WebhookDelivery, WebhookEndpoint
from outbox.webhooks import SIGNATURE_HEADER

from .views import CLIENT_API_AUTHENTICATION

DELIVERIES_SHOWN = 100
SIGNING = (f"Each delivery is a POST of a JSON event (`id`, `type`, `created`, `data`) with "
           f"`{SIGNATURE_HEADER}: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" keyed with "
           "the endpoint's secret>`; refuse a time more than five minutes off. A 2xx answer "
           "is a delivery; anything else is retried with a growing wait (1, 3, 9 … minutes, "
           "8 attempts). Events may come twice: ignore an `id` you have seen.")


class EventListField(serializers.ListField):
    """A list of event types; a bad item is named in one flat message (the one error shape has
    a list of messages per field, not a message per list index)."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError(
                _("Choose events from: %(events)s.") % {"events": ", ".join(sorted(EVENT_TYPES))}
            ) from None


class EndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.CharField(max_length=500, help_text="https:// and a public address")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                        default="")
    events = EventListField(child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)),
                            min_length=1, max_length=len(EVENT_TYPES))
    is_active = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class NewEndpointSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown this once: keep it to "
                                                             "check signatures")


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    response_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="When it is tried again; null once delivered or given up")
    delivered_at = serializers.DateTimeField(allow_null=True)


def _delivery_data(delivery: WebhookDelivery) -> dict:
    data = DeliverySerializer(delivery).data
    if delivery.status in (WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED):
        data["next_attempt_at"] = None
    return data


class WebhookView(APIView):
    authentication_classes = CLIENT_API_AUTHENTICATION
    permission_classes = [HasAction]
    required_action = "webhooks.manage"

    def endpoint(self, endpoint_id) -> WebhookEndpoint:
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:
            raise Http404
        return endpoint


class EndpointList(WebhookView):
    @extend_schema(operation_id="webhook_endpoints_list", summary="Webhook endpoints",
                   responses={200: EndpointSerializer(many=True)})
    def get(self, request):
        return Response(EndpointSerializer(WebhookEndpoint.objects.all(), many=True).data)

    @extend_schema(
        operation_id="webhook_endpoints_create", summary="Add a webhook endpoint",
        description=f"{SIGNING} Needs the `webhooks.manage` scope.",
        request=EndpointSerializer,
        examples=[OpenApiExample("Bookings", request_only=True, value={
            "url": "https://backoffice.example.gov.uk/waymark", "description": "Back office",
            "events": ["booking.confirmed", "booking.cancelled"]})],
        responses={201: OpenApiResponse(NewEndpointSerializer, description="Added"),
                   400: documented_error("A bad or unsafe address, or unknown events")})
    def post(self, request):
        given = EndpointSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            endpoint, secret = create_webhook_endpoint(
                given.validated_data["url"], given.validated_data["events"],
                description=given.validated_data["description"], actor=request.user,
                ip_address=client_ip(request))
        except ValidationError as error:
            return Response({"errors": error.message_dict}, status=status.HTTP_400_BAD_REQUEST)
        data = NewEndpointSerializer(endpoint).data
        data["secret"] = secret
        return Response(data, status=status.HTTP_201_CREATED)


class EndpointDetail(WebhookView):
    @extend_schema(operation_id="webhook_endpoints_retrieve", summary="One webhook endpoint",
                   responses={200: EndpointSerializer, 404: documented_error("No such endpoint")})
    def get(self, request, endpoint_id: int):
        return Response(EndpointSerializer(self.endpoint(endpoint_id)).data)

    @extend_schema(operation_id="webhook_endpoints_destroy", summary="Remove a webhook endpoint",
                   description="Removes it and its delivery log; nothing more is sent to it.",
                   responses={204: None, 404: documented_error("No such endpoint")})
    def delete(self, request, endpoint_id: int):
        endpoint = self.endpoint(endpoint_id)
        delete_webhook_endpoint(endpoint.pk, actor=request.user, ip_address=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointDeliveries(WebhookView):
    @extend_schema(operation_id="webhook_deliveries_list", summary="An endpoint's delivery log",
                   description=f"The latest {DELIVERIES_SHOWN} deliveries, newest first.",
                   responses={200: DeliverySerializer(many=True),
                              404: documented_error("No such endpoint")})
    def get(self, request, endpoint_id: int):
        endpoint = self.endpoint(endpoint_id)
        return Response([_delivery_data(delivery)
                         for delivery in endpoint.deliveries.all()[:DELIVERIES_SHOWN]])


class EndpointTest(WebhookView):
    @extend_schema(operation_id="webhook_endpoints_test", summary="Send a test event",
                   description="Queues a `webhook.test` event to this endpoint only; see the "
                               "delivery log for how it went.",
                   request=None,
                   responses={202: OpenApiResponse(DeliverySerializer, description="Queued"),
                              404: documented_error("No such endpoint")})
    def post(self, request, endpoint_id: int):
        endpoint = self.endpoint(endpoint_id)
        delivery = send_test_event(endpoint.pk, actor=request.user,
                                   ip_address=client_ip(request))
        delivery.refresh_from_db()
        return Response(_delivery_data(delivery), status=status.HTTP_202_ACCEPTED)
