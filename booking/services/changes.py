"""Changing a booking once it is made: moving it to another date, cancelling it, and the police
withdrawing the offer. Each is one action, whichever face, job or API asks: one durable
transaction that checks the rules, writes the events, queues the message to the person in the
outbox and asks for any refund after commit (booking.services.refunds makes it; the refunds-due
job asks again for any Stripe could not take at the time).

A move inside the transfer-fee notice is not made until its fee is paid or waived: the new
date's seat is held for a `transfer_pending` booking while the booking it moves stays
confirmed, and settle_payment completes the move when the fee is paid (settle_transfer_fee).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import notifications
from booking.models import (
    Booking,
    Channel,
    CourseSession,
    Hold,
    Offer,
    OfferEvent,
    Payment,
    Refund,
)

from .bookings import FeeWaiver
from .events import log_event
from .refunds import refund_payment
from .rules import (
    BookingRefused,
    check_can_change,
    check_has_seat,
    check_session_fits_offer,
    transfer_fee,
)
from .seats import (
    HOLD_MINUTES,
    delete_holds,
    give_back_seat,
    lock_offer,
    lock_sessions,
    new_booking,
    retrying_reference_clash,
    take_seat,
    upsert_hold,
)

log = logging.getLogger(__name__)

# An offer with one of these outcomes or ends can no longer be withdrawn.
CLOSED_OFFER_STATUSES = (
    Offer.Status.COMPLETED, Offer.Status.DID_NOT_ATTEND, Offer.Status.REFUSED_ENTRY,
    Offer.Status.NOT_COMPLETED, Offer.Status.EXPIRED, Offer.Status.WITHDRAWN,
)


# --- What was paid, and what is due back ------------------------------------------------------


def _moved_from(booking: Booking) -> list[int]:
    """The booking and every booking it was moved from: the fee was paid on the first."""
    chain = []
    while booking is not None:
        chain.append(booking.pk)
        booking = booking.transferred_from
    return chain


def fee_paid(booking: Booking) -> int:
    """The booking's fee as actually paid by card, less any of it refunded, in pence: nothing
    for a fee that was waived or never taken. Transfer fees are not part of it."""
    chain = _moved_from(booking)
    paid = Payment.objects.filter(booking_id__in=chain, kind=Payment.Kind.BOOKING_FEE,
                                  status=Payment.Status.SUCCEEDED).aggregate(
        total=Sum("amount_pence"))["total"] or 0
    refunded = Refund.objects.filter(payment__booking_id__in=chain,
                                     payment__kind=Payment.Kind.BOOKING_FEE).aggregate(
        total=Sum("amount_pence"))["total"] or 0
    return max(0, paid - refunded)


def refund_due(booking: Booking, now) -> int:
    """What cancelling now gives back: the fee paid, in full with the free-transfer notice or
    when the client cancelled the date; nothing inside the notice. Never more than was paid, so
    a booking whose fee was waived is owed nothing."""
    if booking.session.status != CourseSession.Status.CANCELLED:
        notice = booking.session.starts_at - now
        if notice < timedelta(days=booking.policy_snapshot["free_transfer_notice_days"]):
            return 0
    return fee_paid(booking)


# --- Steps inside a change's transaction ------------------------------------------------------


def _lock_booking(booking_id) -> tuple[Offer, Booking]:
    offer_id = Booking.objects.values_list("offer_id", flat=True).get(pk=booking_id)
    offer = lock_offer(offer_id)
    return offer, Booking.objects.select_for_update().get(pk=booking_id)


def _refund_after_commit(booking: Booking) -> None:
    from booking.tasks import make_refund_due

    schema = connection.schema_name

    def ask_for_refund():
        try:
            make_refund_due.apply_async(args=(booking.pk,), headers={"_schema_name": schema})
        except Exception:  # noqa: BLE001 — the broker is down: the refunds-due job makes it
            log.warning("Could not hand the refund for booking %s to a worker; the refunds-due "
                        "job will make it", booking.pk, exc_info=True)

    transaction.on_commit(ask_for_refund)


def drop_move(offer: Offer, move: Booking, *, channel: str, actor, reason: str, now) -> None:
    """A move still waiting for its fee will not be made. Its hold goes; a fee paid for it
    later is refunded by settle_transfer_fee. Inside the caller's transaction, offer locked."""
    delete_holds(Hold.objects.filter(offer=offer, session_id=move.session_id))
    move.status = Booking.Status.CANCELLED
    move.ended_at = now
    move.save(update_fields=["status", "ended_at"])
    log_event(offer, "booking.transfer_cancelled", channel=channel, actor=actor, booking=move,
              now=now, after={"reason": reason})


def _end_booking(offer: Offer, booking: Booking, *, channel: str, actor, now, after: dict) -> None:
    """Cancel an active booking: its seat (or hold) comes free, a move waiting for its fee is
    dropped, the event records the refund due and the refund is asked for after commit."""
    if booking.status == Booking.Status.CONFIRMED:
        give_back_seat(booking.session)
    for move in Booking.objects.select_for_update().filter(
            transferred_from=booking, status=Booking.Status.TRANSFER_PENDING):
        drop_move(offer, move, channel=channel, actor=actor, now=now,
                  reason="the booking it would have moved was cancelled")
    delete_holds(Hold.objects.filter(offer=offer))
    booking.status = Booking.Status.CANCELLED
    booking.ended_at = now
    booking.save(update_fields=["status", "ended_at"])
    log_event(offer, "booking.cancelled", channel=channel, actor=actor, booking=booking,
              now=now, after=after)
    if after["refund_due_pence"]:
        _refund_after_commit(booking)


# --- Cancelling -------------------------------------------------------------------------------


def cancel_booking(booking_id, *, channel: str, actor, reason: str = "", now=None) -> Booking:
    """Cancel a booking, refund what the policy gives and tell the person: one action, whoever
    asks. The seat comes free and the offer can be booked again while it lasts."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer, booking = _lock_booking(booking_id)
        if booking.status not in Booking.ACTIVE:
            raise BookingRefused(_("This booking is not active, so it cannot be cancelled."),
                                 "booking_not_active")
        booking.session = lock_sessions(booking.session_id)[booking.session_id]
        refund = paid = 0
        if booking.status == Booking.Status.CONFIRMED:
            if channel == Channel.ONLINE:
                check_can_change(booking, now)
            paid = fee_paid(booking)
            refund = refund_due(booking, now)
        _end_booking(offer, booking, channel=channel, actor=actor, now=now,
                     after={"reason": reason, "refund_due_pence": refund})
        offer.status = Offer.Status.OFFERED
        offer.save(update_fields=["status", "updated_at"])
        notifications.queue_cancellation(booking, refund, paid_pence=paid)
        return booking


# --- Moving -----------------------------------------------------------------------------------


@retrying_reference_clash
def transfer_booking(booking_id, new_session_id, *, channel: str, actor,
                     waiver: FeeWaiver | None = None, now=None) -> Booking:
    """Move a confirmed booking to another date, re-checking every rule; returns the booking on
    the new date. A free move (enough notice, or a date the client cancelled), or one whose fee
    staff waive (`waiver`), is made at once: the new booking is confirmed. Otherwise the new
    booking is `transfer_pending`: it holds the new date's seat while its fee
    (`fee_snapshot["transfer_fee_pence"]`) is paid, and the old booking stays confirmed until
    then. Asking again while a move waits points that move at the new date."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer, old = _lock_booking(booking_id)
        sessions = lock_sessions(old.session_id, new_session_id)
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
        waived = waiver.recorded(fee) if waiver and fee else {}
        move = _point_move(offer, old, new_session, channel=channel, actor=actor, now=now,
                           fees=dict(old.fee_snapshot, transfer_fee_pence=fee))
        if fee and not waived:
            upsert_hold(offer, new_session, now + timedelta(minutes=HOLD_MINUTES))
            log_event(offer, "booking.transfer_requested", channel=channel, actor=actor,
                      booking=move, now=now,
                      before={"booking": old.reference, "session": old.session_id},
                      after={"booking": move.reference, "session": new_session.pk,
                             "transfer_fee_pence": fee})
            return move
        _make_move(offer, old, move, new_session, channel=channel, actor=actor, now=now,
                   settled=waived)
        return move


def _point_move(offer, old, session, *, channel, actor, now, fees) -> Booking:
    """The booking on the new date: the move already waiting for its fee, now pointed here, or
    a new one."""
    move = Booking.objects.select_for_update().filter(
        transferred_from=old, status=Booking.Status.TRANSFER_PENDING).first()
    if move is None:
        move = new_booking(offer, session, channel=channel, actor=actor, fees=fees,
                           policy=old.policy_snapshot, status=Booking.Status.TRANSFER_PENDING,
                           now=now, transferred_from=old, transfer_count=old.transfer_count + 1)
    move.session = session
    move.channel = channel
    move.fee_snapshot = fees
    # The course fee travels with the booking, for the refund a later cancellation gives.
    move.fee_pence = old.fee_pence
    move.save(update_fields=["session", "channel", "fee_snapshot", "fee_pence"])
    return move


def _make_move(offer, old, move, session, *, channel, actor, now, settled: dict) -> None:
    """The move itself: the old booking ends, the new one is confirmed on its seat, the person
    is told, with what was paid or waived (`settled`, also on the event)."""
    old.status = Booking.Status.TRANSFERRED
    old.ended_at = now
    old.save(update_fields=["status", "ended_at"])
    give_back_seat(old.session)
    if "fee_waived_pence" in settled:
        move.fee_snapshot = dict(move.fee_snapshot, transfer_fee_waived=True)
    move.status = Booking.Status.CONFIRMED
    move.confirmed_at = now
    move.save(update_fields=["status", "confirmed_at", "fee_snapshot"])
    take_seat(session, offer, Hold.objects.filter(offer=offer).first())
    log_event(offer, "booking.transferred", channel=channel, actor=actor, booking=move, now=now,
              before={"booking": old.reference, "session": old.session_id},
              after={"booking": move.reference, "session": session.pk,
                     "transfer_fee_pence": move.fee_snapshot["transfer_fee_pence"], **settled})
    notifications.queue_transfer_confirmation(move)


def _paid_by(move: Booking, payment: dict) -> bool:
    return OfferEvent.objects.filter(
        kind="booking.transferred", booking=move,
        after__payment__payment_intent=payment.get("payment_intent")).exists()


def complete_transfer(booking_id, *, channel: str, actor, payment: dict, now=None) -> Booking:
    """Make a move whose transfer fee has been paid (`payment`: what Stripe said, recorded on
    the event). Idempotent for the same payment. Honours a payment that lands after the hold
    ran out if the new date still has a seat; otherwise refuses (the caller refunds)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        offer, move = _lock_booking(booking_id)
        if move.status == Booking.Status.CONFIRMED and _paid_by(move, payment):
            return move
        if move.status != Booking.Status.TRANSFER_PENDING:
            raise BookingRefused(_("This move is no longer waiting for its transfer fee."),
                                 "transfer_not_pending")
        old = Booking.objects.select_for_update().get(pk=move.transferred_from_id)
        sessions = lock_sessions(old.session_id, move.session_id)
        old.session, session = sessions[old.session_id], sessions[move.session_id]
        # Re-check what may have changed while the card was charged (not the cut-off: a
        # payment a few minutes late is still honoured).
        if old.status != Booking.Status.CONFIRMED:
            raise BookingRefused(_("The booking to move is no longer confirmed."),
                                 "booking_not_confirmed")
        if session.status != CourseSession.Status.SCHEDULED:
            raise BookingRefused(_("That course date has been cancelled."), "session_cancelled")
        if session.starts_at <= now:
            raise BookingRefused(_("That course date has already started."), "session_in_past")
        if not Hold.objects.filter(offer=offer, session=session, expires_at__gt=now).exists():
            check_has_seat(session, now, offer_id=offer.pk)
        _make_move(offer, old, move, session, channel=channel, actor=actor, now=now,
                   settled={"payment": payment})
        return move


def settle_transfer_fee(payment: Payment, *, organisation, actor) -> str:
    """booking.services.payments.settle_payment's step for a transfer fee Stripe says is paid:
    the move is made ("confirmed"), or, if it can no longer be made (the seat went, the booking
    changed, it was made already), the fee goes back ("refunded"). Idempotent."""
    summary = {"payment_intent": payment.stripe_payment_intent_id,
               "amount_pence": payment.amount_pence}
    try:
        complete_transfer(payment.booking_id, channel=payment.channel, actor=actor,
                          payment=summary)
    except BookingRefused as refused:
        log.warning("Transfer fee %s paid but move %s could not be made: %s",
                    payment.stripe_payment_intent_id, payment.booking_id, refused.code)
        _refund_transfer_fee(payment, organisation=organisation, actor=actor,
                             reason=refused.code)
        return "refunded"
    return "confirmed"


def _refund_transfer_fee(payment: Payment, *, organisation, actor, reason: str) -> None:
    # Stripe is called outside our transactions; its idempotency key makes a second call for
    # the same payment return the same refund.
    refund_payment(payment.pk, payment.amount_pence - payment.refunded_pence,
                   organisation=organisation, actor=actor,
                   reason=f"Transfer fee paid for a move that could not be made ({reason})",
                   key="unplaceable")
    with transaction.atomic(durable=True):
        offer, move = _lock_booking(payment.booking_id)
        if move.status == Booking.Status.TRANSFER_PENDING:
            drop_move(offer, move, channel=Channel.SYSTEM, actor=actor, now=timezone.now(),
                      reason=f"transfer fee refunded: {reason}")
        if move.status == Booking.Status.CANCELLED:
            notifications.queue_transfer_fee_refunded(move)  # once, whoever settles


# --- Withdrawing the offer --------------------------------------------------------------------


@dataclass(frozen=True)
class Withdrawal:
    offer: Offer
    cancelled_booking: Booking | None
    refund_due_pence: int


def withdraw_offer(offer_id, *, reason: str, actor, channel: str, now=None) -> Withdrawal:
    """The police withdraw the offer: any active booking is cancelled and what was paid for it
    refunded in full (whatever the notice), the person is told, and the offer is closed as
    withdrawn."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise BookingRefused(_("Enter why the offer is withdrawn."), "reason_missing")
    with transaction.atomic(durable=True):
        offer = lock_offer(offer_id)
        if offer.status in CLOSED_OFFER_STATUSES:
            raise BookingRefused(_("This offer cannot be withdrawn: its status is %(status)s.")
                                 % {"status": offer.get_status_display()}, "offer_closed")
        booking = Booking.objects.select_for_update().filter(
            offer=offer, status__in=Booking.ACTIVE).first()
        refund = 0
        if booking is not None:
            booking.session = lock_sessions(booking.session_id)[booking.session_id]
            if booking.status == Booking.Status.CONFIRMED:
                refund = fee_paid(booking)
            _end_booking(offer, booking, channel=channel, actor=actor, now=now,
                         after={"reason": reason, "offer_withdrawn": True,
                                "refund_due_pence": refund})
        delete_holds(Hold.objects.filter(offer=offer))
        before = offer.status
        offer.status = Offer.Status.WITHDRAWN
        offer.save(update_fields=["status", "updated_at"])
        log_event(offer, "offer.withdrawn", channel=channel, actor=actor, booking=booking,
                  now=now, before={"status": before},
                  after={"status": offer.status, "reason": reason, "refund_due_pence": refund})
        notifications.queue_offer_withdrawn(offer, booking, refund)
        return Withdrawal(offer, booking, refund)
