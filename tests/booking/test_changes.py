"""booking.services.changes: a move inside the fee notice waits for its fee (paid or waived),
the old booking stays confirmed meanwhile; the police withdrawing an offer cancels and refunds
its booking in full and tells the person."""

from datetime import timedelta

import pytest

from booking.models import Booking, CourseSession, Hold, Offer
from booking.services.bookings import FeeWaiver
from booking.services.changes import (
    cancel_booking,
    complete_transfer,
    refund_due,
    transfer_booking,
    withdraw_offer,
)
from booking.services.refunds import refund_promised
from booking.services.sessions import cancel_session
from outbox.models import OutboundMessage

from ..conftest import deliver_outbox
from .conftest import (
    AGENT,
    admin_booking,
    assert_refused,
    events,
    make_offer,
    make_session,
    paid_booking,
    pending_booking,
    reload,
)

pytestmark = pytest.mark.usefixtures("in_essex")

PAYMENT = {"payment_intent": "pi_transfer_fee", "amount_pence": 1500}


def messages_of(kind) -> int:
    return OutboundMessage.objects.filter(kind=kind).count()


@pytest.fixture
def soon(now):
    """A paid booking on a course in 5 days: inside the 7 days' free notice, so a move costs
    £15."""
    session = make_session(starts_in=timedelta(days=5), now=now)
    return paid_booking(make_offer(email="sam@example.test", now=now), session, now=now)


@pytest.fixture
def later(now):
    return make_session(starts_in=timedelta(days=20), capacity=2, now=now)


def test_a_move_inside_the_notice_waits_for_its_fee_and_keeps_the_old_booking(now, soon, later):
    move = transfer_booking(soon.pk, later.pk, channel="online", actor="offender", now=now)
    assert move.status == Booking.Status.TRANSFER_PENDING
    assert move.transferred_from == soon and move.session == later
    assert move.amount_due_pence == 1500 and move.fee_pence == soon.fee_pence
    old = reload(soon)
    assert old.status == Booking.Status.CONFIRMED
    assert reload(old.session).seats_booked == 1 and reload(later).seats_booked == 0
    hold = Hold.objects.get(offer=old.offer)
    assert hold.session == later and hold.expires_at > now
    assert messages_of("transfer_confirmation") == 0
    [event] = events(old.offer, "booking.transfer_requested")
    assert event.booking == move and event.after["transfer_fee_pence"] == 1500


def test_paying_the_fee_makes_the_move_once_and_says_it_was_paid(now, soon, later):
    move = transfer_booking(soon.pk, later.pk, channel="online", actor="offender", now=now)
    moved = complete_transfer(move.pk, channel="online", actor="stripe", payment=PAYMENT,
                              now=now + timedelta(minutes=2))
    assert moved.pk == move.pk and moved.status == Booking.Status.CONFIRMED
    assert reload(soon).status == Booking.Status.TRANSFERRED
    assert reload(soon.session).seats_booked == 0 and reload(later).seats_booked == 1
    assert not Hold.objects.filter(offer=soon.offer).exists()
    [event] = events(soon.offer, "booking.transferred")
    assert event.after["payment"] == PAYMENT and event.after["transfer_fee_pence"] == 1500
    # The same payment again changes nothing; another one finds nothing left to pay for.
    complete_transfer(move.pk, channel="online", actor="stripe", payment=PAYMENT)
    assert len(events(soon.offer, "booking.transferred")) == 1
    assert_refused("transfer_not_pending", complete_transfer, move.pk, channel="online",
                   actor="stripe", payment={"payment_intent": "pi_other", "amount_pence": 1500})
    mail = deliver_outbox()[-1]  # after the booking's own confirmation
    assert "You have paid the transfer fee of £15.00." in mail.body


def test_a_late_payment_is_honoured_while_the_new_date_has_a_seat(now, soon, later):
    move = transfer_booking(soon.pk, later.pk, channel="online", actor="offender", now=now)
    moved = complete_transfer(move.pk, channel="online", actor="stripe", payment=PAYMENT,
                              now=now + timedelta(hours=2))
    assert moved.status == Booking.Status.CONFIRMED


def test_a_late_payment_is_refused_once_the_seat_has_gone(now, soon, later):
    move = transfer_booking(soon.pk, later.pk, channel="online", actor="offender", now=now)
    hour_later = now + timedelta(hours=1)
    admin_booking(make_offer(now=now), later, now=hour_later)
    admin_booking(make_offer(now=now), later, now=hour_later)
    assert_refused("session_full", complete_transfer, move.pk, channel="online", actor="stripe",
                   payment=PAYMENT, now=hour_later)
    assert reload(soon).status == Booking.Status.CONFIRMED


def test_staff_may_waive_the_fee_and_the_move_is_made_at_once(now, soon, later):
    moved = transfer_booking(soon.pk, later.pk, channel="admin", actor=AGENT, now=now,
                             waiver=FeeWaiver("The person was in hospital"))
    assert moved.status == Booking.Status.CONFIRMED
    assert moved.fee_snapshot["transfer_fee_waived"] is True
    [event] = events(soon.offer, "booking.transferred")
    assert event.after["fee_waived_pence"] == 1500
    assert event.after["waiver_reason"] == "The person was in hospital"
    mail = deliver_outbox()[-1]
    assert "The transfer fee of £15.00 has been waived" in mail.body


def test_asking_again_points_the_waiting_move_at_the_new_date(now, soon, later):
    first = transfer_booking(soon.pk, later.pk, channel="online", actor="offender", now=now)
    other = make_session(starts_in=timedelta(days=25), now=now)
    second = transfer_booking(soon.pk, other.pk, channel="online", actor="offender", now=now)
    assert second.pk == first.pk and reload(first).session == other
    assert Hold.objects.get(offer=soon.offer).session == other
    assert soon.transfers.count() == 1


def test_a_free_move_completes_a_waiting_one(now, soon, later):
    move = transfer_booking(soon.pk, later.pk, channel="online", actor="offender", now=now)
    CourseSession.objects.filter(pk=soon.session_id).update(status=CourseSession.Status.CANCELLED)
    moved = transfer_booking(soon.pk, later.pk, channel="online", actor="offender", now=now)
    assert moved.pk == move.pk and moved.status == Booking.Status.CONFIRMED
    assert moved.fee_snapshot["transfer_fee_pence"] == 0


def test_cancelling_the_booking_drops_the_move_waiting_for_its_fee(now, soon, later):
    move = transfer_booking(soon.pk, later.pk, channel="online", actor="offender", now=now)
    cancel_booking(soon.pk, channel="online", actor="offender", now=now)
    assert reload(move).status == Booking.Status.CANCELLED
    assert not Hold.objects.filter(offer=soon.offer).exists()
    assert_refused("transfer_not_pending", complete_transfer, move.pk, channel="online",
                   actor="stripe", payment=PAYMENT)


def test_the_client_cancelling_the_new_date_drops_the_move(now, soon, later):
    move = transfer_booking(soon.pk, later.pk, channel="online", actor="offender", now=now)
    cancel_session(later.pk, reason="Trainer ill", actor=AGENT, now=now)
    assert reload(move).status == Booking.Status.CANCELLED
    assert reload(soon).status == Booking.Status.CONFIRMED
    [event] = events(soon.offer, "booking.transfer_cancelled")
    assert "Trainer ill" in event.after["reason"]


def test_a_date_the_client_cancelled_is_refunded_in_full_of_what_was_paid(now, soon):
    cancel_session(soon.session_id, reason="Venue flooded", actor=AGENT, now=now)
    [event] = events(soon.offer, "session.cancelled")
    assert event.after["refund_due_pence"] == 9500
    # Inside the notice and the cut-off, yet in full: the client cancelled the date.
    late = soon.session.starts_at - timedelta(hours=3)
    assert refund_due(reload(soon), late) == 9500
    cancel_booking(soon.pk, channel="online", actor="offender", now=late)
    assert refund_promised(soon.pk) == 9500


# --- Withdrawing the offer --------------------------------------------------------------------


def test_withdrawing_cancels_the_booking_refunds_what_was_paid_and_tells_the_person(now, soon):
    # Inside the notice: a cancellation would refund nothing, a withdrawal refunds in full.
    assert refund_due(soon, now) == 0
    withdrawal = withdraw_offer(soon.offer_id, reason="Going to court", actor=AGENT,
                                channel="admin", now=now)
    assert withdrawal.cancelled_booking == soon and withdrawal.refund_due_pence == 9500
    offer = reload(soon.offer)
    assert offer.status == Offer.Status.WITHDRAWN
    assert reload(soon).status == Booking.Status.CANCELLED
    assert reload(soon.session).seats_booked == 0
    assert refund_promised(soon.pk) == 9500
    [event] = events(offer, "offer.withdrawn")
    assert event.after["reason"] == "Going to court" and event.actor == AGENT
    assert messages_of("offer_withdrawn") == 1 and messages_of("cancellation") == 0
    mail = deliver_outbox()[-1]
    assert offer.reference in mail.subject and "We will refund £95.00" in mail.body
    assert soon.reference in mail.body


def test_withdrawing_an_offer_without_a_booking_tells_the_person(now):
    offer = make_offer(email="sam@example.test", now=now)
    withdrawal = withdraw_offer(offer.pk, reason="Sent in error", actor="police-feed",
                                channel="api", now=now)
    assert withdrawal.cancelled_booking is None and withdrawal.refund_due_pence == 0
    assert reload(offer).status == Offer.Status.WITHDRAWN
    [mail] = deliver_outbox()
    assert "refund" not in mail.body


def test_withdrawing_an_unpaid_booking_refunds_nothing_and_frees_its_hold(now):
    offer = make_offer(now=now)
    booking = pending_booking(offer, make_session(now=now), now=now)
    withdrawal = withdraw_offer(offer.pk, reason="Sent in error", actor=AGENT, channel="admin",
                                now=now)
    assert withdrawal.refund_due_pence == 0
    assert reload(booking).status == Booking.Status.CANCELLED
    assert not Hold.objects.filter(offer=offer).exists()


def test_a_closed_offer_cannot_be_withdrawn_and_a_reason_is_needed(now):
    offer = make_offer(now=now)
    withdraw_offer(offer.pk, reason="Going to court", actor=AGENT, channel="admin", now=now)
    assert_refused("offer_closed", withdraw_offer, offer.pk, reason="Again", actor=AGENT,
                   channel="admin", now=now)
    assert_refused("reason_missing", withdraw_offer, make_offer(now=now).pk, reason=" ",
                   actor=AGENT, channel="admin", now=now)
