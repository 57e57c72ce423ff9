"""Logging the contact centre's calls: type, outcome, length and notes, and on the offer's
timeline when the call was about one. Finding the caller is booking.services.search; a call
that refers special circumstances is booking.services.cases.raise_special_circumstances.

Bookings, transfers and cancellations made on the phone go through booking.services.bookings
with channel "telephone", like every other channel; nothing here changes a booking.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import usage
from booking.models import Booking, CallLog, Channel, Offer

from .events import actor_label, log_event
from .rules import BookingRefused

MAX_NOTES = 5000


def check_call(call_type: str, outcome: str, duration_minutes, notes: str) -> None:
    """Refuses (BookingRefused) a call whose type, outcome, length or notes are not ones we keep."""
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


def create_call(*, actor, call_type, outcome, duration_minutes, notes, offer, booking,
                started_at, now) -> CallLog:
    """The call row (and "call.logged" on the offer's timeline), inside the caller's
    transaction; check_call has passed it."""
    label, user_id = actor_label(actor)
    call = CallLog.objects.create(
        call_type=call_type, outcome=outcome, duration_minutes=duration_minutes, notes=notes,
        offer=offer, booking=booking, agent_user_id=user_id, agent_label=label,
        started_at=started_at or now - timedelta(minutes=duration_minutes),
        course_type_id=offer.course_type_id if offer is not None else None,
    )
    usage.on_call(call)  # the call's usage row, in the same transaction
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
    check_call(call_type, outcome, duration_minutes, notes)
    with transaction.atomic(durable=True):
        offer, booking = _offer_and_booking(offer_id, booking_id)
        return create_call(actor=actor, call_type=call_type, outcome=outcome,
                           duration_minutes=duration_minutes, notes=notes, offer=offer,
                           booking=booking, started_at=started_at, now=now)
