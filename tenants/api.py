"""Platform API: /api/platform/v1/organisations/ (token auth; provider staff)."""

from dataclasses import fields

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from accounts.permissions import HasAction
from audit.services import client_ip

from . import services
from .models import ClientOrganisation


class OrganisationSerializer(serializers.ModelSerializer):
    domain = serializers.SerializerMethodField()

    class Meta:
        model = ClientOrganisation
        fields = ["slug", "name", "kind", "status", "languages", "display_name_en",
                  "display_name_cy", "primary_colour", "contact_phone", "contact_email",
                  "domain", "created_at"]

    def get_domain(self, organisation) -> str | None:
        primary = [d.domain for d in organisation.domains.all() if d.is_primary]
        return primary[0] if primary else None


class NewOrganisationSerializer(serializers.Serializer):
    """Types only; the rules are the onboarding service's, reported per field."""

    name = serializers.CharField(allow_blank=True)
    slug = serializers.CharField(allow_blank=True)
    kind = serializers.CharField(allow_blank=True)
    admin_email = serializers.CharField(allow_blank=True)
    admin_name = serializers.CharField(required=False, allow_blank=True, default="")
    display_name_en = serializers.CharField(required=False, allow_blank=True, default="")
    display_name_cy = serializers.CharField(required=False, allow_blank=True, default="")
    primary_colour = serializers.CharField(required=False, default="#1d70b8")
    contact_phone = serializers.CharField(required=False, allow_blank=True, default="")
    contact_email = serializers.CharField(required=False, allow_blank=True, default="")
    languages = serializers.CharField(required=False, default="en")
    domain = serializers.CharField(required=False, allow_blank=True, default="")


class OrganisationList(ListAPIView):
    permission_classes = [HasAction]
    required_actions = {"GET": "platform.view", "POST": "platform.onboard"}
    serializer_class = OrganisationSerializer
    queryset = ClientOrganisation.objects.filter(is_template=False).prefetch_related("domains")

    @extend_schema(request=NewOrganisationSerializer, responses={201: OrganisationSerializer})
    def post(self, request):
        incoming = NewOrganisationSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        wanted = {f.name for f in fields(services.NewClient)}
        new = services.NewClient(**{k: v for k, v in incoming.validated_data.items() if k in wanted})
        try:
            organisation = services.onboard_client(new, acting_user=request.user,
                                                   ip_address=client_ip(request))
        except ValidationError as error:
            errors = (error.message_dict if hasattr(error, "error_dict")
                      else {"__all__": error.messages})
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(OrganisationSerializer(organisation).data, status=status.HTTP_201_CREATED)
