"""The contact centre's own services: finding a caller's offer, logging calls, and raising
special circumstances for the client's administrators (through the administrators' own case
service, booking.services.admin.raise_case).

Bookings, transfers and cancellations made on the phone go through booking.services.bookings
with channel "telephone", like every other channel; nothing here changes a booking.
"""

import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Func, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Booking, CallLog, Channel, Offer, SpecialCircumstancesCase

from .events import actor_label, log_event
from .rules import BookingRefused

MAX_RESULTS = 50
MAX_NOTES = 5000


# --- Finding the caller ----------------------------------------------------------------------


def normalise_reference(text: str) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def find_by_reference(text: str) -> Offer | None:
    """The offer with this offer reference, or with a booking of this booking reference."""
    reference = normalise_reference(text)
    if not reference:
        return None
    offer = Offer.objects.select_related("course_type").filter(reference=reference).first()
    if offer is None:
        booking = Booking.objects.select_related("offer__course_type").filter(
            reference=reference).first()
        offer = booking.offer if booking else None
    return offer


def find_by_name(last_name: str, date_of_birth, first_name: str = "") -> list[Offer]:
    """Offers for this surname and date of birth (any case); a first name narrows them."""
    last_name = (last_name or "").strip()
    if not last_name or date_of_birth is None:
        return []
    offers = Offer.objects.filter(date_of_birth=date_of_birth, last_name__iexact=last_name)
    first_name = (first_name or "").strip()
    if first_name:
        offers = offers.filter(first_name__istartswith=first_name)
    return list(offers.select_related("course_type").order_by("-created_at")[:MAX_RESULTS])


def phone_digits(text: str) -> str:
    """A UK number as national digits: "+44 (0)7700 900982" → "07700900982"."""
    digits = re.sub(r"\D", "", text or "")
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("440"):
        digits = digits[2:]
    elif digits.startswith("44") and len(digits) == 12:
        digits = "0" + digits[2:]
    return digits


def find_by_phone(text: str) -> list[Offer]:
    """Offers whose phone number is this one, however either was written."""
    digits = phone_digits(text)
    if len(digits) < 10:
        return []
    forms = {digits, "44" + digits[1:], "440" + digits[1:]}
    stored = Func(F("phone"), Value(r"[^0-9]"), Value(""), Value("g"),
                  function="regexp_replace")
    offers = (Offer.objects.exclude(phone="").annotate(phone_digits=stored)
              .filter(phone_digits__in=forms))
    return list(offers.select_related("course_type").order_by("-created_at")[:MAX_RESULTS])


# --- Logging calls ---------------------------------------------------------------------------


def _check_call(call_type: str, outcome: str, duration_minutes, notes: str) -> None:
    if call_type not in CallLog.Type.values:
        raise BookingRefused(_("Select the type of call."), "unknown_call_type")
    if outcome not in CallLog.Outcome.values:
        raise BookingRefused(_("Select the outcome of the call."), "unknown_call_outcome")
    if (not isinstance(duration_minutes, int) or isinstance(duration_minutes, bool)
            or not 0 <= duration_minutes <= CallLog.MAX_MINUTES):
        raise BookingRefused(_("The call length must be a whole number of minutes from 0 to "
                               "%(max)d.") % {"max": CallLog.MAX_MINUTES}, "bad_call_duration")
    if len(notes) > MAX_NOTES:
        raise BookingRefused(_("Notes must be %(max)d characters or fewer.")
                             % {"max": MAX_NOTES}, "notes_too_long")


def _create_call(*, actor, call_type, outcome, duration_minutes, notes, offer, booking,
                 started_at, now) -> CallLog:
    label, user_id = actor_label(actor)
    call = CallLog.objects.create(
        call_type=call_type, outcome=outcome, duration_minutes=duration_minutes, notes=notes,
        offer=offer, booking=booking, agent_user_id=user_id, agent_label=label,
        started_at=started_at or now - timedelta(minutes=duration_minutes),
    )
    if offer is not None:
        log_event(offer, "call.logged", channel=Channel.TELEPHONE, actor=actor, booking=booking,
                  now=now, after={"call": call.pk, "type": call_type, "outcome": outcome,
                                  "duration_minutes": duration_minutes})
    return call


def _offer_and_booking(offer_id, booking_id) -> tuple[Offer | None, Booking | None]:
    booking = None
    if booking_id is not None:
        booking = Booking.objects.filter(pk=booking_id).first()
        if booking is None:
            raise BookingRefused(_("That booking does not exist."), "unknown_booking")
        if offer_id is not None and booking.offer_id != offer_id:
            raise BookingRefused(_("That booking is for a different offer."), "wrong_offer")
        offer_id = booking.offer_id
    offer = None
    if offer_id is not None:
        offer = Offer.objects.filter(pk=offer_id).first()
        if offer is None:
            raise BookingRefused(_("That offer does not exist."), "unknown_offer")
    return offer, booking


def log_call(*, actor, call_type: str, outcome: str, duration_minutes: int, notes: str = "",
             offer_id=None, booking_id=None, started_at=None, now=None) -> CallLog:
    """Record one call. A call about an offer (or one of its bookings) also goes on the offer's
    timeline as "call.logged"."""
    now = now or timezone.now()
    notes = (notes or "").strip()
    _check_call(call_type, outcome, duration_minutes, notes)
    with transaction.atomic(durable=True):
        offer, booking = _offer_and_booking(offer_id, booking_id)
        return _create_call(actor=actor, call_type=call_type, outcome=outcome,
                            duration_minutes=duration_minutes, notes=notes, offer=offer,
                            booking=booking, started_at=started_at, now=now)


def open_case(offer: Offer):
    """The offer's open special-circumstances case, if any."""
    return offer.cases.filter(status=SpecialCircumstancesCase.Status.OPEN).first()


def raise_special_circumstances(offer_id, *, actor, kind: str, details: str,
                                duration_minutes: int, organisation=None, ip_address=None,
                                started_at=None, now=None) -> tuple[CallLog, object | None]:
    """The agent does not decide. The call opens a special-circumstances case for the client's
    administrators (booking.services.admin.raise_case: the offer shows "special arrangement
    pending" until they decide) and is logged as special circumstances, referred.

    If the offer already has an open case, the call is referred to it instead: logged, with
    "special_circumstances.raised" on the offer's timeline, which the administrators' case list
    shows. Returns (call, the new case or None)."""
    from .admin import raise_case

    now = now or timezone.now()
    details = (details or "").strip()
    if kind not in SpecialCircumstancesCase.Kind.values:
        raise BookingRefused(_("Select what the caller is asking for."), "unknown_kind")
    if not details:
        raise BookingRefused(_("Describe the caller's circumstances for the administrators."),
                             "details_missing")
    _check_call(CallLog.Type.SPECIAL_CIRCUMSTANCES, CallLog.Outcome.REFERRED, duration_minutes,
                details)
    offer = Offer.objects.filter(pk=offer_id).first()
    if offer is None:
        raise BookingRefused(_("That offer does not exist."), "unknown_offer")
    case = None
    if open_case(offer) is None:
        try:
            case = raise_case(offer.pk, kind=kind, notes=details, actor=actor,
                              organisation=organisation, ip_address=ip_address, now=now)
        except ValidationError as error:
            if open_case(offer) is None:  # refused for another reason than a case opened meanwhile
                raise BookingRefused(error.messages[0], "case_refused") from None
    with transaction.atomic(durable=True):
        offer = Offer.objects.get(pk=offer.pk)
        booking = offer.bookings.filter(status__in=Booking.ACTIVE).first()
        call = _create_call(actor=actor, call_type=CallLog.Type.SPECIAL_CIRCUMSTANCES,
                            outcome=CallLog.Outcome.REFERRED, duration_minutes=duration_minutes,
                            notes=details, offer=offer, booking=booking, started_at=started_at,
                            now=now)
        if case is None:
            log_event(offer, "special_circumstances.raised", channel=Channel.TELEPHONE,
                      actor=actor, booking=booking, now=now,
                      after={"call": call.pk, "category": kind, "details": details,
                             "offer_status": offer.status})
        return call, case
