"""Platform API: /api/platform/v1/organisations/ (token auth; provider staff)."""

from dataclasses import fields

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import HasAction
from audit.services import client_ip

from . import services
from .models import ClientOrganisation, Domain


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


class StrictCharField(serializers.CharField):
    """Text only: DRF's CharField would take a JSON number and turn it into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _column(model, name: str, **kwargs) -> StrictCharField:
    """Text bounded by the column it is stored in, so the database never sees it too long."""
    return StrictCharField(max_length=model._meta.get_field(name).max_length, **kwargs)


def _optional(model, name: str, default="", **kwargs) -> StrictCharField:
    return _column(model, name, required=False, default=default, **kwargs)


class NewOrganisationSerializer(serializers.Serializer):
    """Types and column lengths only; the rules are the onboarding service's, reported per
    field."""

    name = _column(ClientOrganisation, "name", allow_blank=True)
    slug = _column(ClientOrganisation, "slug", allow_blank=True)
    kind = _column(ClientOrganisation, "kind", allow_blank=True)
    admin_email = _column(User, "email", allow_blank=True)
    admin_name = _optional(User, "full_name", allow_blank=True)
    display_name_en = _optional(ClientOrganisation, "display_name_en", allow_blank=True)
    display_name_cy = _optional(ClientOrganisation, "display_name_cy", allow_blank=True)
    primary_colour = _optional(ClientOrganisation, "primary_colour", default="#1d70b8")
    contact_phone = _optional(ClientOrganisation, "contact_phone", allow_blank=True)
    contact_email = _optional(ClientOrganisation, "contact_email", allow_blank=True)
    languages = _optional(ClientOrganisation, "languages", default="en")
    domain = _optional(Domain, "domain", allow_blank=True)
    # Billing owns price plans (tenants cannot import it): the length is its PricePlan.code's.
    plan = StrictCharField(
        max_length=50, required=False, default="", allow_blank=True,
        help_text="Code of the price plan the client is billed on from the onboarding day "
                  "(e.g. standard). Empty: no plan yet. An unknown code is refused under "
                  "`errors.plan`.")


class OrganisationList(ListAPIView):
    permission_classes = [HasAction]
    required_actions = {"GET": "platform.view", "POST": "platform.onboard"}
    serializer_class = OrganisationSerializer
    queryset = ClientOrganisation.objects.filter(is_template=False).prefetch_related("domains")

    @extend_schema(
        request=NewOrganisationSerializer, responses={201: OrganisationSerializer},
        examples=[OpenApiExample("A county council", request_only=True, value={
            "name": "Norfolk County Council", "slug": "norfolk", "kind": "county_council",
            "admin_email": "lead@norfolk.example", "contact_phone": "0344 800 8020",
            "plan": "standard"})])
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
