"""Holds, bookings, confirmation, transfers and cancellations.

Locks are always taken in the same order — the offer, then sessions by primary key — so two
services never wait on each other in a cycle. Seats are counted under the session's row lock;
the `session_never_overbooked` constraint is the database's last word.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import notifications
from booking.models import Booking, Channel, CourseSession, Hold, Offer

from .events import actor_label, log_event
from .rules import (
    BookingRefused,
    check_can_change,
    check_has_seat,
    check_offer_can_book,
    check_session_fits_offer,
    fee_breakdown,
    policy_snapshot,
    transfer_fee,
)

HOLD_MINUTES = 15
# Crockford-style alphabet: no I, L, O, U, so references read out over the phone are unambiguous.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Set to False only by the race test's control run, to prove the test can catch an overbooking.
LOCK_SESSIONS = True


@dataclass(frozen=True)
class ContactDetails:
    email: str = ""
    phone: str = ""
    language: str = "en"
    access_requirements: tuple[str, ...] = ()
    access_notes: str = ""


def _lock_offer(offer_id) -> Offer:
    # of=("self",): lock the offer row only, not the joined course type (which every booking of
    # that course would otherwise queue on).
    return (Offer.objects.select_for_update(of=("self",)).select_related("course_type")
            .get(pk=offer_id))


def _lock_sessions(*session_ids) -> dict[int, CourseSession]:
    query = CourseSession.objects.select_related("course_type").filter(
        pk__in=session_ids).order_by("pk")
    if LOCK_SESSIONS:
        query = query.select_for_update(of=("self",))
    return {session.pk: session for session in query}


def seat_held_for(booking: Booking, now=None) -> Hold | None:
    """The live hold keeping a booking's seat while it waits for payment, if any."""
    return Hold.objects.filter(offer_id=booking.offer_id, session_id=booking.session_id,
                               expires_at__gt=now or timezone.now()).first()


def _new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def place_hold(offer_id, session_id, *, channel: str, actor, now=None,
               minutes: int = HOLD_MINUTES) -> Hold:
    """Keep a seat for this offer for `minutes`. One hold per offer: a new one replaces it."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer = _lock_offer(offer_id)
        check_offer_can_book(offer, now)
        session = _lock_sessions(session_id).get(session_id)
        if session is None:
            raise BookingRefused(_("That course date does not exist."), "unknown_session")
        check_session_fits_offer(session, offer, now)
        check_has_seat(session, now, offer_id=offer.pk)
        hold = _upsert_hold(offer, session, now + timedelta(minutes=minutes))
        log_event(offer, "hold.placed", channel=channel, actor=actor, now=now,
                  after={"session": session.pk, "expires_at": hold.expires_at.isoformat()})
        return hold


def release_hold(offer_id, *, channel: str, actor, now=None) -> None:
    with transaction.atomic(durable=True):
        offer = _lock_offer(offer_id)
        deleted, _rows = Hold.objects.filter(offer=offer).delete()
        if deleted:
            log_event(offer, "hold.released", channel=channel, actor=actor, now=now)


def _apply_contact_details(offer: Offer, details: ContactDetails | None) -> dict:
    if details is None:
        return {}
    before = {"email": offer.email, "phone": offer.phone, "language": offer.language,
              "access_requirements": offer.access_requirements,
              "access_notes": offer.access_notes}
    offer.email = details.email
    offer.phone = details.phone
    offer.language = details.language
    offer.access_requirements = list(details.access_requirements)
    offer.access_notes = details.access_notes
    return before


def book(offer_id, *, channel: str, actor, details: ContactDetails | None = None,
         session_id=None, now=None) -> Booking:
    """Turn the offer's live hold (or, for staff and API, a seat on `session_id`) into a booking.

    A zero fee or an administrator's booking confirms at once; otherwise the booking waits for
    payment while the hold keeps its seat.
    """
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer = _lock_offer(offer_id)
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
        session = _lock_sessions(session_id).get(session_id)
        if session is None:
            raise BookingRefused(_("That course date does not exist."), "unknown_session")
        check_session_fits_offer(session, offer, now)
        own_live_hold = hold is not None and hold.session_id == session.pk and hold.expires_at > now
        if not own_live_hold:
            check_has_seat(session, now, offer_id=offer.pk)
        fees = fee_breakdown(session.course_type)
        confirm_now = fees["total_pence"] == 0 or channel == Channel.ADMIN
        before_details = _apply_contact_details(offer, details)
        booking = _create_booking(
            offer, session, channel=channel, actor=actor, fees=fees,
            policy=policy_snapshot(session.course_type),
            status=Booking.Status.CONFIRMED if confirm_now else Booking.Status.PENDING_PAYMENT,
            now=now,
        )
        if confirm_now:
            _take_seat(session, offer, hold)
            offer.status = Offer.Status.BOOKED
        elif not own_live_hold:
            # A staff booking awaiting payment keeps its seat with a hold, like an online one.
            _upsert_hold(offer, session, now + timedelta(minutes=HOLD_MINUTES))
        offer.save(update_fields=["status", "email", "phone", "language", "access_requirements",
                                  "access_notes", "updated_at"])
        if before_details:
            log_event(offer, "offer.details_changed", channel=channel, actor=actor, now=now,
                      before=before_details, after={k: getattr(offer, k) for k in before_details})
        log_event(offer, "booking.confirmed" if confirm_now else "booking.created",
                  channel=channel, actor=actor, booking=booking, now=now,
                  after={"session": session.pk, "status": booking.status,
                         "fee_pence": booking.fee_pence})
        if confirm_now:
            notifications.queue_booking_confirmation(booking)
        return booking


def _upsert_hold(offer, session, expires_at) -> Hold:
    """One statement: the offer's hold (one per offer, by constraint) now points here."""
    hold = Hold(offer=offer, session=session, expires_at=expires_at, created_at=timezone.now())
    Hold.objects.bulk_create([hold], update_conflicts=True, unique_fields=["offer"],
                             update_fields=["session", "expires_at", "created_at"])
    return hold


def _create_booking(offer, session, *, channel, actor, fees, policy, status, now,
                    transferred_from=None, transfer_count=0) -> Booking:
    label, _user_id = actor_label(actor)
    reference = _new_reference()
    while Booking.objects.filter(reference=reference).exists():  # 1 in 32^8: almost never
        reference = _new_reference()
    return Booking.objects.create(
        reference=reference, offer=offer, session=session, channel=channel,
        status=status, fee_pence=fees["total_pence"], fee_snapshot=fees,
        policy_snapshot=policy, made_by=label, transfer_count=transfer_count,
        transferred_from=transferred_from,
        confirmed_at=now if status == Booking.Status.CONFIRMED else None,
    )


def _take_seat(session: CourseSession, offer: Offer, hold: Hold | None) -> None:
    if hold is not None:
        Hold.objects.filter(offer=offer).delete()
    try:
        CourseSession.objects.filter(pk=session.pk).update(seats_booked=F("seats_booked") + 1)
    except IntegrityError as error:
        # The database's last word: the check constraint refused an overbooking. The whole
        # transaction rolls back as this leaves the service's atomic block.
        if "session_never_overbooked" not in str(error):
            raise
        raise BookingRefused(_("Sorry, that course date has just filled up. Choose another "
                               "date."), "session_full") from error


def _give_back_seat(session: CourseSession) -> None:
    CourseSession.objects.filter(pk=session.pk).update(seats_booked=F("seats_booked") - 1)


def confirm_booking(booking_id, *, channel: str, actor, payment: dict | None = None,
                    now=None) -> Booking:
    """Confirm after payment. Idempotent; honours a payment that arrives after the hold expired
    if a seat is still free, and otherwise refuses with `session_full` (the caller refunds)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer_id = Booking.objects.values_list("offer_id", flat=True).get(pk=booking_id)
        offer = _lock_offer(offer_id)
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        if booking.status == Booking.Status.CONFIRMED:
            return booking
        if booking.status != Booking.Status.PENDING_PAYMENT:
            raise BookingRefused(_("This booking is no longer waiting for payment."),
                                 "booking_not_pending")
        session = _lock_sessions(booking.session_id)[booking.session_id]
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
        _take_seat(session, offer, hold or Hold.objects.filter(offer=offer).first())
        booking.status = Booking.Status.CONFIRMED
        booking.confirmed_at = now
        booking.save(update_fields=["status", "confirmed_at"])
        offer.status = Offer.Status.BOOKED
        offer.save(update_fields=["status", "updated_at"])
        log_event(offer, "booking.confirmed", channel=channel, actor=actor, booking=booking,
                  now=now, after={"payment": payment or {}, "late": hold is None})
        notifications.queue_booking_confirmation(booking)
        return booking


def transfer_booking(booking_id, new_session_id, *, channel: str, actor, now=None) -> Booking:
    """Move a confirmed booking to another date, re-checking every rule. Returns the new booking;
    its `fee_snapshot["transfer_fee_pence"]` is what the notice period costs."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer_id = Booking.objects.values_list("offer_id", flat=True).get(pk=booking_id)
        offer = _lock_offer(offer_id)
        old = Booking.objects.select_for_update().get(pk=booking_id)
        sessions = _lock_sessions(old.session_id, new_session_id)
        if new_session_id not in sessions:
            raise BookingRefused(_("That course date does not exist."), "unknown_session")
        old.session = sessions[old.session_id]
        new_session = sessions[new_session_id]
        check_can_change(old, now)
        if old.transfer_count >= old.policy_snapshot["max_transfers"]:
            raise BookingRefused(_("This booking has already been moved the most times allowed "
                                   "(%(max)d).") % {"max": old.policy_snapshot["max_transfers"]},
                                 "too_many_transfers")
        if new_session.pk == old.session_id:
            raise BookingRefused(_("That is the date you are already booked on."), "same_session")
        if offer.critical_date < timezone.localdate(now):
            raise BookingRefused(_("This offer has expired."), "offer_expired")
        check_session_fits_offer(new_session, offer, now)
        check_has_seat(new_session, now, offer_id=offer.pk)
        fee = transfer_fee(old, now)
        old.status = Booking.Status.TRANSFERRED
        old.ended_at = now
        old.save(update_fields=["status", "ended_at"])
        _give_back_seat(old.session)
        fees = dict(old.fee_snapshot, transfer_fee_pence=fee)
        new = _create_booking(offer, new_session, channel=channel, actor=actor, fees=fees,
                              policy=old.policy_snapshot, status=Booking.Status.CONFIRMED,
                              now=now, transferred_from=old, transfer_count=old.transfer_count + 1)
        new.fee_pence = old.fee_pence
        new.save(update_fields=["fee_pence"])
        _take_seat(new_session, offer, Hold.objects.filter(offer=offer).first())
        log_event(offer, "booking.transferred", channel=channel, actor=actor, booking=new, now=now,
                  before={"booking": old.reference, "session": old.session_id},
                  after={"booking": new.reference, "session": new_session.pk,
                         "transfer_fee_pence": fee})
        notifications.queue_transfer_confirmation(new)
        return new


def refund_due(booking: Booking, now) -> int:
    """Full refund with the free-transfer notice, or when the client cancelled the date;
    nothing inside it."""
    if booking.session.status == CourseSession.Status.CANCELLED:
        return booking.fee_pence
    notice = booking.session.starts_at - now
    if notice >= timedelta(days=booking.policy_snapshot["free_transfer_notice_days"]):
        return booking.fee_pence
    return 0


def cancel_booking(booking_id, *, channel: str, actor, reason: str = "", now=None) -> Booking:
    """Cancel a booking, refund what the policy gives and tell the person: one action, whoever
    asks. The seat comes free and the offer can be booked again while it lasts. The refund due
    is recorded on the cancellation's event and made after commit (booking.services.refunds);
    if Stripe cannot be reached, the refunds-due job makes it later."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer_id = Booking.objects.values_list("offer_id", flat=True).get(pk=booking_id)
        offer = _lock_offer(offer_id)
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        if booking.status not in Booking.ACTIVE:
            raise BookingRefused(_("This booking is not active, so it cannot be cancelled."),
                                 "booking_not_active")
        booking.session = _lock_sessions(booking.session_id)[booking.session_id]
        if booking.status == Booking.Status.CONFIRMED:
            if channel == Channel.ONLINE:
                check_can_change(booking, now)
            _give_back_seat(booking.session)
            refund = refund_due(booking, now)
        else:
            Hold.objects.filter(offer=offer).delete()
            refund = 0
        booking.status = Booking.Status.CANCELLED
        booking.ended_at = now
        booking.save(update_fields=["status", "ended_at"])
        offer.status = Offer.Status.OFFERED
        offer.save(update_fields=["status", "updated_at"])
        log_event(offer, "booking.cancelled", channel=channel, actor=actor, booking=booking,
                  now=now, after={"reason": reason, "refund_due_pence": refund})
        notifications.queue_cancellation(booking, refund)
        if refund:
            from booking.tasks import make_refund_due

            schema = connection.schema_name
            transaction.on_commit(lambda: make_refund_due.apply_async(
                args=(booking.pk,), headers={"_schema_name": schema}))
        return booking
