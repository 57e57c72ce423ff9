"""confirm_booking: payment landed. Idempotent, and re-checks the seat if the hold ran out."""

from datetime import timedelta

import pytest

from booking.models import Booking, CourseSession, Hold, Offer
from booking.services.bookings import HOLD_MINUTES, confirm_booking, place_hold
from booking.services.changes import cancel_booking

from .conftest import (
    admin_booking,
    assert_refused,
    events,
    make_offer,
    make_session,
    pending_booking,
    reload,
)

pytestmark = pytest.mark.usefixtures("in_essex")

PAYMENT = {"payment_intent": "pi_test_123", "amount": 9500}


def confirm(booking, now):
    return confirm_booking(booking.pk, channel="online", actor="stripe", payment=PAYMENT, now=now)


def test_payment_in_time_confirms_and_turns_the_hold_into_a_seat(now):
    session = make_session(capacity=2, now=now)
    offer = make_offer(now=now)
    booking = pending_booking(offer, session, now=now)
    paid_at = now + timedelta(minutes=3)
    booking = confirm(booking, paid_at)
    assert booking.status == Booking.Status.CONFIRMED and booking.confirmed_at == paid_at
    assert reload(session).seats_booked == 1
    assert not Hold.objects.filter(offer=offer).exists()
    assert reload(offer).status == Offer.Status.BOOKED
    [event] = events(offer, "booking.confirmed")
    assert event.after == {"payment": PAYMENT, "late": False} and event.actor == "stripe"


def test_confirming_twice_takes_one_seat_and_logs_once(now):
    session = make_session(capacity=2, now=now)
    offer = make_offer(now=now)
    booking = pending_booking(offer, session, now=now)
    confirm(booking, now)
    again = confirm(booking, now + timedelta(minutes=1))
    assert again.pk == booking.pk and again.status == Booking.Status.CONFIRMED
    assert reload(session).seats_booked == 1
    assert len(events(offer, "booking.confirmed")) == 1


def test_late_payment_with_a_seat_still_free_is_honoured(now):
    session = make_session(capacity=2, now=now)
    offer = make_offer(now=now)
    booking = pending_booking(offer, session, now=now)
    late = now + timedelta(minutes=HOLD_MINUTES + 5)
    booking = confirm(booking, late)
    assert booking.status == Booking.Status.CONFIRMED
    assert reload(session).seats_booked == 1
    assert not Hold.objects.filter(offer=offer).exists()  # the stale hold is gone too
    [event] = events(offer, "booking.confirmed")
    assert event.after["late"] is True


def test_late_payment_after_the_seat_went_to_someone_else_is_refused(now):
    session = make_session(capacity=1, now=now)
    offer = make_offer(now=now)
    booking = pending_booking(offer, session, now=now)
    late = now + timedelta(minutes=HOLD_MINUTES + 1)
    # The hold ran out and someone else holds the only seat now.
    place_hold(make_offer(now=now).pk, session.pk, channel="online", actor="online", now=late)
    assert_refused("session_full", confirm, booking, late + timedelta(minutes=1))
    assert reload(booking).status == Booking.Status.PENDING_PAYMENT
    assert reload(session).seats_booked == 0


def test_late_payment_after_the_seat_was_booked_is_refused(now):
    session = make_session(capacity=1, now=now)
    offer = make_offer(now=now)
    booking = pending_booking(offer, session, now=now)
    late = now + timedelta(minutes=HOLD_MINUTES + 1)
    admin_booking(make_offer(now=now), session, now=late)
    assert_refused("session_full", confirm, booking, late)
    assert reload(session).seats_booked == 1


def test_payment_for_a_cancelled_booking_is_refused(now):
    session = make_session(now=now)
    offer = make_offer(now=now)
    booking = pending_booking(offer, session, now=now)
    cancel_booking(booking.pk, channel="online", actor="online", now=now)
    assert_refused("booking_not_pending", confirm, booking, now)


def test_payment_for_a_date_the_client_cancelled_meanwhile_is_refused(now):
    session = make_session(now=now)
    offer = make_offer(now=now)
    booking = pending_booking(offer, session, now=now)
    CourseSession.objects.filter(pk=session.pk).update(status=CourseSession.Status.CANCELLED)
    assert_refused("session_cancelled", confirm, booking, now + timedelta(minutes=2))


def test_payment_for_an_offer_withdrawn_meanwhile_is_refused(now):
    session = make_session(now=now)
    offer = make_offer(now=now)
    booking = pending_booking(offer, session, now=now)
    Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.WITHDRAWN)
    assert_refused("offer_withdrawn", confirm, booking, now + timedelta(minutes=2))
