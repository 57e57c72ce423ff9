"""Holds, bookings and their confirmation. Moving and cancelling a booking, and withdrawing an
offer, are in booking.services.changes; the locking steps both share are in
booking.services.seats.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import notifications
from booking.models import Booking, CourseSession, Hold, Language, Offer, OfferEvent

from .events import log_event
from .rules import (
    BookingRefused,
    check_has_seat,
    check_offer_can_book,
    check_session_fits_offer,
    fee_breakdown,
    policy_snapshot,
)
from .seats import (
    HOLD_MINUTES,
    delete_holds,
    lock_offer,
    lock_offer_of,
    lock_sessions,
    new_booking,
    read_here,
    retrying_reference_clash,
    take_seat,
    upsert_hold,
)


@dataclass(frozen=True)
class ContactDetails:
    email: str = ""
    phone: str = ""
    language: str = "en"
    access_requirements: tuple[str, ...] = ()
    access_notes: str = ""


@dataclass(frozen=True)
class FeeWaiver:
    """A fee let off by staff whose role allows it ("bookings.waive_fee", checked by the face),
    and why: recorded on the event of the booking or move it confirms."""

    reason: str

    def recorded(self, pence: int) -> dict:
        reason = (self.reason or "").strip()
        if not reason:
            raise BookingRefused(_("Enter why the fee is waived."), "waiver_reason_missing")
        return {"fee_waived_pence": pence, "waiver_reason": reason}


def seat_held_for(booking: Booking, now=None) -> Hold | None:
    """The live hold keeping a booking's seat while it waits for payment, if any."""
    return Hold.objects.filter(offer_id=booking.offer_id, session_id=booking.session_id,
                               expires_at__gt=now or timezone.now()).first()


def place_hold(offer_id, session_id, *, channel: str, actor, now=None,
               minutes: int = HOLD_MINUTES) -> Hold:
    """Keep a seat for this offer for `minutes`. One hold per offer: a new one replaces it."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer = lock_offer(offer_id)
        check_offer_can_book(offer, now)
        session = lock_sessions(session_id).get(session_id)
        if session is None:
            raise BookingRefused(_("That course date does not exist."), "unknown_session")
        check_session_fits_offer(session, offer, now)
        check_has_seat(session, now, offer_id=offer.pk)
        hold = upsert_hold(offer, session, now + timedelta(minutes=minutes))
        log_event(offer, "hold.placed", channel=channel, actor=actor, now=now,
                  after={"session": session.pk, "expires_at": hold.expires_at.isoformat()})
        return hold


def release_hold(offer_id, *, channel: str, actor, now=None) -> None:
    with transaction.atomic(durable=True):
        offer = lock_offer(offer_id)
        deleted = delete_holds(Hold.objects.filter(offer=offer))
        if deleted:
            log_event(offer, "hold.released", channel=channel, actor=actor, now=now)


def _apply_contact_details(offer: Offer, details: ContactDetails | None) -> dict:
    if details is None:
        return {}
    before = {"email": offer.email, "phone": offer.phone, "language": offer.language,
              "access_requirements": offer.access_requirements,
              "access_notes": offer.access_notes}
    offer.email = details.email
    offer.set_phone(details.phone)
    offer.language = details.language
    offer.access_requirements = list(details.access_requirements)
    offer.access_notes = details.access_notes
    return before


def change_contact_details(offer_id, *, email: str, phone: str, language: str, channel: str,
                           actor, now=None) -> Offer:
    """The person (or staff for them) changes how we reach them and the language of their
    letters after booking. Only fields that changed are recorded on the "offer.details_changed"
    event, which is also what keeps a later feed import from reverting them."""
    email, phone = (email or "").strip(), (phone or "").strip()
    if not (email or phone):
        raise BookingRefused(_("Enter an email address or a phone number"), "no_contact")
    if language not in Language.values:
        raise BookingRefused(_("Select the language for letters and emails"), "bad_language")
    with transaction.atomic(durable=True):
        offer = lock_offer(offer_id)
        before = {"email": offer.email, "phone": offer.phone, "language": offer.language}
        offer.email = email
        offer.set_phone(phone)
        offer.language = language
        changed = {name for name, value in before.items() if getattr(offer, name) != value}
        if changed:
            offer.save(update_fields=["email", "phone", "phone_e164", "language", "updated_at"])
            log_event(offer, "offer.details_changed", channel=channel, actor=actor, now=now,
                      before={name: before[name] for name in sorted(changed)},
                      after={name: getattr(offer, name) for name in sorted(changed)})
        return offer


@retrying_reference_clash
def book(offer_id, *, channel: str, actor, details: ContactDetails | None = None,
         session_id=None, waiver: FeeWaiver | None = None, request_key: str | None = None,
         now=None) -> Booking:
    """Turn the offer's live hold (or, for staff and API, a seat on `session_id`) into a booking.

    A zero fee, or a fee waived by staff (`waiver`, its reason on the event), confirms at once;
    otherwise the booking waits for payment, whoever made it, while a hold keeps its seat.

    `request_key`, the one-time key of the form that asked, makes the request idempotent: asked
    again with the same key (a double click, a retry, a second tab), it returns the booking the
    first request made instead of making another.
    """
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer = lock_offer(offer_id)
        earlier = booking_made_with(offer.pk, request_key)
        if earlier is not None:
            return earlier
        check_offer_can_book(offer, now)
        active = Booking.objects.select_for_update().filter(
            offer=offer, status__in=Booking.ACTIVE).first()
        if active is not None and active.status == Booking.Status.CONFIRMED:
            raise BookingRefused(_("This offer already has a booking."), "already_booked")
        if active is not None:
            # An unpaid booking the person walked away from: the new choice replaces it (a
            # payment that still lands on it is refunded by the payment service).
            active.status = Booking.Status.CANCELLED
            active.ended_at = now
            active.save(update_fields=["status", "ended_at"])
            log_event(offer, "booking.superseded", channel=channel, actor=actor, booking=active,
                      now=now, after={"reason": "replaced by a new booking before payment"})
        hold = Hold.objects.filter(offer=offer).first()
        if session_id is None:
            if hold is None or hold.expires_at <= now:
                raise BookingRefused(_("Your seat was held for %(minutes)d minutes and the time "
                                       "ran out. Choose a date again.") % {"minutes": HOLD_MINUTES},
                                     "hold_expired")
            session_id = hold.session_id
        session = lock_sessions(session_id).get(session_id)
        if session is None:
            raise BookingRefused(_("That course date does not exist."), "unknown_session")
        check_session_fits_offer(session, offer, now)
        own_live_hold = hold is not None and hold.session_id == session.pk and hold.expires_at > now
        if not own_live_hold:
            check_has_seat(session, now, offer_id=offer.pk)
        fees = fee_breakdown(session.course_type)
        waived = waiver.recorded(fees["total_pence"]) if waiver and fees["total_pence"] else {}
        if waived:
            fees["waived"] = True
        confirm_now = fees["total_pence"] == 0 or bool(waived)
        before_details = _apply_contact_details(offer, details)
        booking = new_booking(
            offer, session, channel=channel, actor=actor, fees=fees,
            policy=policy_snapshot(session.course_type),
            status=Booking.Status.CONFIRMED if confirm_now else Booking.Status.PENDING_PAYMENT,
            now=now,
        )
        if confirm_now:
            take_seat(session, offer, hold)
            offer.status = Offer.Status.BOOKED
        elif not own_live_hold:
            # A staff booking awaiting payment keeps its seat with a hold, like an online one.
            upsert_hold(offer, session, now + timedelta(minutes=HOLD_MINUTES))
        offer.save(update_fields=["status", "email", "phone", "phone_e164", "language",
                                  "access_requirements", "access_notes", "updated_at"])
        if before_details:
            log_event(offer, "offer.details_changed", channel=channel, actor=actor, now=now,
                      before=before_details, after={k: getattr(offer, k) for k in before_details})
        log_event(offer, "booking.confirmed" if confirm_now else "booking.created",
                  channel=channel, actor=actor, booking=booking, now=now,
                  after={"session": session.pk, "status": booking.status,
                         "fee_pence": booking.fee_pence, **waived,
                         **({"request_key": request_key} if request_key else {})})
        if confirm_now:
            notifications.queue_booking_confirmation(booking)
        return booking


def booking_made_with(offer_id, request_key: str | None) -> Booking | None:
    """The booking `book` made for the offer when asked with this request key, if it did. Under
    the offer's lock (as in `book`) a request running at the same time has finished or not
    begun."""
    if not request_key:
        return None
    event = (OfferEvent.objects.select_related("booking")
             .filter(offer_id=offer_id, booking__isnull=False, after__request_key=request_key)
             .first())
    return event.booking if event else None


def confirm_booking(booking_id, *, channel: str, actor, payment: dict | None = None,
                    now=None) -> Booking:
    """Confirm after payment. Idempotent; honours a payment that arrives after the hold expired
    if a seat is still free, and otherwise refuses with `session_full` (the caller refunds)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer = lock_offer_of(booking_id)
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        if booking.status == Booking.Status.CONFIRMED:
            return booking
        if booking.status != Booking.Status.PENDING_PAYMENT:
            raise BookingRefused(_("This booking is no longer waiting for payment."),
                                 "booking_not_pending")
        session = lock_sessions(booking.session_id)[booking.session_id]
        # The rows just locked are the booking's own: its event's webhook and tallies read them
        # from here rather than each loading them again.
        booking.offer, booking.session = offer, session
        read_here(booking)
        # Re-check what may have changed while the card was being charged (not the lead time
        # or booking period: a payment a few minutes late is still honoured).
        if session.status != CourseSession.Status.SCHEDULED:
            raise BookingRefused(_("That course date has been cancelled."), "session_cancelled")
        if session.starts_at <= now:
            raise BookingRefused(_("That course date has already started."), "session_in_past")
        if offer.status == Offer.Status.WITHDRAWN:
            raise BookingRefused(_("This offer has been withdrawn by the police."),
                                 "offer_withdrawn")
        if offer.status == Offer.Status.EXPIRED:
            raise BookingRefused(_("This offer has expired."), "offer_expired")
        hold = Hold.objects.filter(offer=offer, session=session, expires_at__gt=now).first()
        if hold is None:
            check_has_seat(session, now, offer_id=offer.pk)  # raises session_full → seat gone
        take_seat(session, offer, hold or Hold.objects.filter(offer=offer).first())
        booking.status = Booking.Status.CONFIRMED
        booking.confirmed_at = now
        booking.save(update_fields=["status", "confirmed_at"])
        offer.status = Offer.Status.BOOKED
        offer.save(update_fields=["status", "updated_at"])
        log_event(offer, "booking.confirmed", channel=channel, actor=actor, booking=booking,
                  now=now, after={"payment": payment or {}, "late": hold is None})
        notifications.queue_booking_confirmation(booking)
        return booking
