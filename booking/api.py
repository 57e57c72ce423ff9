"""Client API (/api/v1/ on the client's domain)."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.generics import RetrieveAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasAction
from tenants.api import OrganisationSerializer

from .api_auth import ApiKeyAuthentication
from .imports import COLUMNS, MAX_ROWS, ImportProblem, ImportRejected, import_offers
from .models import Channel, Offer

# Key first: DRF then answers 401 (WWW-Authenticate: Api-Key) when no credentials are sent.
CLIENT_API_AUTHENTICATION = [ApiKeyAuthentication, TokenAuthentication, SessionAuthentication]
# 10,000 offers of about 500 bytes each, with room to spare.
MAX_IMPORT_BODY_BYTES = 20 * 1024 * 1024


class CurrentOrganisation(RetrieveAPIView):
    """The client organisation whose domain answered: members of that client only."""

    authentication_classes = CLIENT_API_AUTHENTICATION
    permission_classes = [HasAction]
    required_action = "client.view"
    serializer_class = OrganisationSerializer

    def get_object(self):
        return self.request.tenant


# --- offers -----------------------------------------------------------------------------------

class OfferRowSerializer(serializers.Serializer):
    """One offer as sent. Dates are YYYY-MM-DD or DD/MM/YYYY; checked by booking.imports."""

    reference = serializers.CharField(help_text="6–20 letters, digits or hyphens; upper-cased")
    course_type = serializers.CharField(help_text="Code of an active course type, e.g. NSAC")
    offence_date = serializers.CharField()
    booking_period_end = serializers.CharField(help_text="On or before the critical date")
    critical_date = serializers.CharField(help_text="After the offence date")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.CharField(help_text="16 to 110 years before the offence")
    postcode = serializers.CharField(help_text="A real UK postcode; stored normalised")
    address = serializers.CharField(required=False)
    email = serializers.EmailField(required=False)
    phone = serializers.CharField(required=False)
    licence_number = serializers.CharField(required=False, max_length=16)
    language = serializers.ChoiceField(choices=["en", "cy"], required=False, default="en")


class OfferImportRequestSerializer(serializers.Serializer):
    offers = OfferRowSerializer(many=True, help_text=f"At most {MAX_ROWS:,} offers")


class NotUpdatedSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()


class OfferImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField(
        help_text="Known offers with nothing new, plus those left alone because booked/closed")
    not_updated = NotUpdatedSerializer(
        many=True, help_text="Known offers not updated because they are booked or closed")


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1 for the first offer in the list")
    field = serializers.CharField()
    message = serializers.CharField()


class RowErrorsSerializer(serializers.Serializer):
    rows = RowErrorSerializer(many=True)


class ErrorResponseSerializer(serializers.Serializer):
    errors = serializers.DictField(help_text='{"rows": [...]} for bad offers, otherwise '
                                             '{"offers" or "__all__": [messages]}')


class OfferBookingSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    session_start = serializers.DateTimeField(source="session.starts_at")


class OfferStatusSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    course_type = serializers.CharField(source="course_type.code")
    critical_date = serializers.DateField()
    bookings = OfferBookingSerializer(many=True, source="booking_list")


ERROR_RESPONSES = {
    401: OpenApiResponse(ErrorResponseSerializer, description="No key, or a bad or revoked key"),
    403: OpenApiResponse(ErrorResponseSerializer, description="The key lacks the scope"),
}


class OfferImport(APIView):
    """Create or update offers in bulk, all or nothing (see booking/imports.py for the rules)."""

    authentication_classes = CLIENT_API_AUTHENTICATION
    permission_classes = [HasAction]
    required_action = "offers.import"

    @extend_schema(
        operation_id="offers_import",
        summary="Import offers (all or nothing)",
        description=(
            "Creates new offers and updates known ones by reference. Every offer is checked "
            "first; if any is bad, nothing is written and every problem is listed by row. "
            "Offers already booked or closed are not changed and are listed in `not_updated`. "
            f"Known fields: {', '.join(COLUMNS)}. Needs the `offers.import` scope."),
        request=OfferImportRequestSerializer,
        responses={
            201: OpenApiResponse(OfferImportResultSerializer, description="Some offers created"),
            200: OpenApiResponse(OfferImportResultSerializer, description="Nothing new created"),
            400: OpenApiResponse(ErrorResponseSerializer, description="Bad offers; nothing "
                                 "written", examples=[OpenApiExample("Bad rows", value={
                                     "errors": {"rows": [{"row": 2, "field": "critical_date",
                                                          "message": "The critical date must "
                                                          "be after the offence date."}]}})]),
            413: OpenApiResponse(ErrorResponseSerializer, description="Body too large"),
            **ERROR_RESPONSES,
        },
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > MAX_IMPORT_BODY_BYTES:
            return Response({"errors": {"__all__": [
                _("The request is too large: send at most %(max)s offers at a time.")
                % {"max": f"{MAX_ROWS:,}"}]}}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("offers"), list):
            return Response({"errors": {"offers": [_('Send a JSON object with a list of offers: '
                                                     '{"offers": [...]}.')]}},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            result = import_offers(data["offers"], source=Offer.Source.API,
                                   actor=request.user, channel=Channel.API)
        except ImportProblem as problem:
            return Response({"errors": {"offers": problem.messages}},
                            status=status.HTTP_400_BAD_REQUEST)
        except ImportRejected as rejected:
            return Response({"errors": {"rows": rejected.errors}},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(result.as_dict(),
                        status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class OfferStatus(APIView):
    """Where one offer stands: its status, course, critical date and bookings (no personal
    data beyond the reference)."""

    authentication_classes = CLIENT_API_AUTHENTICATION
    permission_classes = [HasAction]
    required_action = "offers.view"

    @extend_schema(
        operation_id="offers_status",
        summary="Status of one offer",
        responses={200: OfferStatusSerializer,
                   404: OpenApiResponse(ErrorResponseSerializer, description="No such offer"),
                   **ERROR_RESPONSES},
    )
    def get(self, request, reference):
        offer = (Offer.objects.select_related("course_type")
                 .filter(reference=reference.strip().upper()).first())
        if offer is None:
            raise Http404
        offer.booking_list = list(offer.bookings.select_related("session")
                                  .order_by("created_at", "pk"))
        return Response(OfferStatusSerializer(offer).data)
