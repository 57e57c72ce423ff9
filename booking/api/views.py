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
from booking.models import Channel, Offer
from booking.services.changes import withdraw_offer
from booking.services.offer_import import (
    COLUMNS,
    MAX_LENGTHS,
    MAX_ROWS,
    ImportProblem,
    ImportRejected,
    import_offers,
)
from booking.services.rules import BookingRefused
from config.api_schema import documented_error
from tenants.api import OrganisationSerializer

from .authentication import ApiKeyAuthentication

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

def _text(name: str, **kwargs) -> serializers.CharField:
    """A text column of an offer as the import takes it: bounded by its column (MAX_LENGTHS)."""
    return serializers.CharField(max_length=MAX_LENGTHS.get(name), **kwargs)


def _optional_text(name: str, **kwargs) -> serializers.CharField:
    # null or blank leaves the value already stored, as a blank CSV cell does.
    return _text(name, required=False, allow_null=True, allow_blank=True, **kwargs)


class OfferRowSerializer(serializers.Serializer):
    """One offer as sent (documentation only: booking.services.offer_import checks the rows and reports each
    problem by row and field). Dates are YYYY-MM-DD or DD/MM/YYYY. Every value is a string."""

    reference = _text("reference", help_text="6–20 letters, digits or hyphens; upper-cased")
    course_type = _text("course_type", help_text="Code of an active course type, e.g. NSAC")
    offence_date = serializers.CharField()
    booking_period_end = serializers.CharField(help_text="On or before the critical date")
    critical_date = serializers.CharField(help_text="After the offence date")
    first_name = _text("first_name")
    last_name = _text("last_name")
    date_of_birth = serializers.CharField(help_text="16 to 110 years before the offence")
    postcode = _text("postcode", help_text="A real UK postcode; stored normalised")
    address = _optional_text("address")
    email = _optional_text("email", help_text="A valid e-mail address")
    phone = _optional_text("phone")
    # Bounded once its spaces are removed, which a schema cannot say.
    licence_number = serializers.CharField(
        required=False, allow_null=True, allow_blank=True,
        help_text=f"At most {MAX_LENGTHS['licence_number']} characters once spaces are removed")
    language = serializers.ChoiceField(choices=["en", "cy"], required=False, allow_null=True,
                                       allow_blank=True, help_text="en if blank")


class OfferImportRequestSerializer(serializers.Serializer):
    offers = OfferRowSerializer(many=True, help_text=f"At most {MAX_ROWS:,} offers")


class NotUpdatedSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()


class RefusedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    reference = serializers.CharField()
    reason = serializers.CharField()


class OfferImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField(
        help_text="Known offers with nothing new, plus those left alone because booked/closed")
    not_updated = NotUpdatedSerializer(
        many=True, help_text="Known offers not updated because they are booked or closed")
    refused = RefusedRowSerializer(
        many=True, required=False,
        help_text="Rows refused because the offer's person was erased (retention or request)")


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


class OfferImport(APIView):
    """Create or update offers in bulk, all or nothing (see booking/services/offer_import.py for the rules)."""

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
        examples=[OpenApiExample("One offer", request_only=True, value={"offers": [{
            "reference": "ESX-123456", "course_type": "NSAC", "offence_date": "2025-03-01",
            "booking_period_end": "2025-06-20", "critical_date": "2025-06-29",
            "first_name": "Sam", "last_name": "Driver", "date_of_birth": "27/03/1985",
            "postcode": "CM1 1QH", "email": "sam@example.com", "language": "en"}]})],
        responses={
            201: OpenApiResponse(OfferImportResultSerializer, description="Some offers created"),
            200: OpenApiResponse(OfferImportResultSerializer, description="Nothing new created"),
            400: documented_error("Bad offers, or not a list of offers; nothing written",
                                  examples=[OpenApiExample("Bad rows", value={
                                      "errors": {"rows": [{"row": 2, "field": "critical_date",
                                                           "message": "The critical date must "
                                                           "be after the offence date."}]}})]),
            413: documented_error("Body too large"),
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
        responses={200: OfferStatusSerializer, 404: documented_error("No such offer")},
    )
    def get(self, request, reference):
        offer = (Offer.objects.select_related("course_type")
                 .filter(reference=reference.strip().upper(), erased_at__isnull=True).first())
        if offer is None:
            raise Http404
        offer.booking_list = list(offer.bookings.select_related("session")
                                  .order_by("created_at", "pk"))
        return Response(OfferStatusSerializer(offer).data)


class OfferWithdrawRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the police withdrew the offer; "
                                   "recorded on its timeline")


class OfferWithdrawResultSerializer(serializers.Serializer):
    reference = serializers.CharField(source="offer.reference")
    status = serializers.CharField(source="offer.status")
    cancelled_booking = serializers.CharField(
        source="cancelled_booking.reference", allow_null=True, default=None,
        help_text="The booking cancelled by the withdrawal, if the offer had one")
    refund_due_pence = serializers.IntegerField(
        help_text="What was paid for that booking, refunded to the card in full")


class OfferWithdraw(APIView):
    """The police withdraw an offer: any booking is cancelled and refunded, the person told."""

    authentication_classes = CLIENT_API_AUTHENTICATION
    permission_classes = [HasAction]
    required_action = "offers.import"

    @extend_schema(
        operation_id="offers_withdraw",
        summary="Withdraw an offer",
        description=(
            "Closes the offer as withdrawn. An active booking is cancelled and what was paid for "
            "it refunded in full, whatever the notice; the person is told by e-mail in their "
            "language. Needs the `offers.import` scope."),
        request=OfferWithdrawRequestSerializer,
        examples=[OpenApiExample("Withdrawn", request_only=True,
                                 value={"reason": "The case is going to court."})],
        responses={
            200: OpenApiResponse(OfferWithdrawResultSerializer, description="Withdrawn"),
            404: documented_error("No such offer"),
            409: documented_error(
                "The offer is closed (attended, expired or already withdrawn); nothing changed",
                examples=[OpenApiExample("Closed", value={"errors": {"__all__": [
                    "This offer cannot be withdrawn: its status is Withdrawn."]}})]),
        },
    )
    def post(self, request, reference):
        offer = Offer.objects.filter(reference=reference.strip().upper(),
                                     erased_at__isnull=True).first()
        if offer is None:
            raise Http404
        given = OfferWithdrawRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            withdrawal = withdraw_offer(offer.pk, reason=given.validated_data["reason"],
                                        actor=request.user, channel=Channel.API)
        except BookingRefused as refused:
            # The serializer has checked the reason: what is left is the offer's state.
            return Response({"errors": {"__all__": refused.messages}},
                            status=status.HTTP_409_CONFLICT)
        return Response(OfferWithdrawResultSerializer(withdrawal).data)
