"""Finding an offer, extending its critical date, expiring offers past their critical date,
recording course outcomes."""

import re
from datetime import date

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from audit.services import record
from booking.models import Booking, Channel, Offer
from integrations import postcodes

from .editing import field_errors
from .events import log_event
from .rules import BookingRefused
from .search import normalise_reference


def find_offer(reference: str, date_of_birth, postcode: str = "") -> Offer | None:
    """The offer matching every part given, or None: the caller never learns which part was
    wrong."""
    reference = normalise_reference(reference)
    if not reference or date_of_birth is None:
        return None
    offer = (Offer.objects.select_related("course_type")
             .filter(reference=reference, date_of_birth=date_of_birth,
                     erased_at__isnull=True).first())
    if offer is None:
        return None
    if postcode:
        try:
            given = postcodes.normalise(postcode)
        except postcodes.InvalidPostcode:
            return None
        stored = offer.postcode.replace(" ", "").upper()
        if stored and stored != given.replace(" ", ""):
            return None
    return offer


def example_reference() -> str:
    """An offer reference shaped like this client's own (its letters, made-up digits), for the
    find page's hint; a real one would name a person. Blank when the client has no offers."""
    latest = Offer.objects.order_by("-pk").values_list("reference", flat=True).first() or ""
    letters = re.match(r"[A-Za-z]{2,6}", latest)
    if letters is None:
        return "123456" if latest else ""
    return f"{letters.group(0).upper()}-123456"


def extend_critical_date(offer_id, new_date: date, *, reason: str, actor,
                         booking_period_end: date | None = None, organisation=None,
                         ip_address=None, now=None) -> Offer:
    """Give the person longer to complete the course (the police agreed). Only later dates;
    a reason is required. An offer returned as expired becomes bookable again."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reason = (reason or "").strip()
    if not reason:
        raise field_errors(reason=_("Enter the reason for the extension."))
    with transaction.atomic(durable=True):
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        if new_date <= offer.critical_date:
            raise field_errors(critical_date=_("The new date must be after the current one, "
                                               "%(date)s.") % {
                "date": formats.date_format(offer.critical_date, "j F Y")})
        if new_date < today:
            raise field_errors(critical_date=_("The new date must be today or later."))
        if booking_period_end is not None:
            if booking_period_end > new_date:
                raise field_errors(booking_period_end=_("The booking period must end on or before "
                                                        "the new critical date."))
            if booking_period_end < offer.booking_period_end:
                raise field_errors(booking_period_end=_("The booking period can only be extended."))
        before = {"critical_date": offer.critical_date.isoformat(),
                  "booking_period_end": offer.booking_period_end.isoformat(),
                  "status": offer.status}
        offer.critical_date = new_date
        if booking_period_end is not None:
            offer.booking_period_end = booking_period_end
        if offer.status == Offer.Status.EXPIRED:
            offer.status = Offer.Status.OFFERED
        offer.save(update_fields=["critical_date", "booking_period_end", "status",
                                  "updated_at"])
        after = {"critical_date": offer.critical_date.isoformat(),
                 "booking_period_end": offer.booking_period_end.isoformat(),
                 "status": offer.status, "reason": reason}
        log_event(offer, "offer.critical_date_extended", channel=Channel.ADMIN, actor=actor, now=now,
                  before=before, after=after)
        record(actor=actor, action="offer.critical_date_extended", obj=offer,
               organisation=organisation, before=before, after=after, ip_address=ip_address)
        return offer


EXPIRABLE = (Offer.Status.OFFERED, Offer.Status.CANCELLED)


def expire_offers(*, today=None, actor="system") -> int:
    """Return unbooked offers whose critical date has passed to the police."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    with transaction.atomic(durable=True):
        offers = list(Offer.objects.select_for_update(skip_locked=True)
                      .filter(status__in=EXPIRABLE, critical_date__lt=today))
        for offer in offers:
            before = offer.status
            offer.status = Offer.Status.EXPIRED
            offer.save(update_fields=["status", "updated_at"])
            log_event(offer, "offer.expired", channel=Channel.SYSTEM, actor=actor, now=now,
                      before={"status": before}, after={"status": Offer.Status.EXPIRED})
        return len(offers)


OUTCOMES = {
    Booking.Status.COMPLETED: Offer.Status.COMPLETED,
    Booking.Status.DID_NOT_ATTEND: Offer.Status.DID_NOT_ATTEND,
    Booking.Status.REFUSED_ENTRY: Offer.Status.REFUSED_ENTRY,
    Booking.Status.NOT_COMPLETED: Offer.Status.NOT_COMPLETED,
}


def record_outcome(booking_id, outcome: str, *, actor, channel=Channel.ADMIN, note: str = "",
                   id_seen: str = "", now=None) -> Booking:
    """What happened on the day; the offer takes the matching status."""
    now = now or timezone.now()
    if outcome not in OUTCOMES:
        raise BookingRefused(_("Choose an outcome: completed, did not attend, refused entry or "
                               "not completed."), "unknown_outcome")
    with transaction.atomic(durable=True):
        # The offer first, as every other service locks: no deadlock with a cancellation.
        offer_id = Booking.objects.values_list("offer_id", flat=True).get(pk=booking_id)
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        booking = (Booking.objects.select_for_update(of=("self",)).select_related("session")
                   .get(pk=booking_id))
        if booking.status not in (Booking.Status.CONFIRMED, *OUTCOMES):
            raise BookingRefused(_("Outcomes are recorded only for confirmed bookings."),
                                 "booking_not_confirmed")
        if booking.session.starts_at > now:
            raise BookingRefused(_("The course has not started yet."), "course_not_started")
        before = {"booking": booking.status, "offer": offer.status}
        booking.status = outcome
        booking.ended_at = now
        booking.save(update_fields=["status", "ended_at"])
        offer.status = OUTCOMES[outcome]
        offer.save(update_fields=["status", "updated_at"])
        log_event(offer, "booking.outcome_recorded", channel=channel, actor=actor,
                  booking=booking, now=now, before=before,
                  after={"booking": outcome, "offer": offer.status, "note": note,
                         "id_seen": id_seen})
        record(actor=actor, action="booking.outcome_recorded", obj=booking,
               before={"status": before["booking"]},
               after={"status": outcome, "id_seen": id_seen, "note": note})
        return booking
