"""cancel_booking and refund_due: the policy's refund, never more than was paid."""

from datetime import timedelta

import pytest

from booking.models import Booking, CourseSession, Hold, Offer
from booking.services.bookings import place_hold
from booking.services.changes import cancel_booking, refund_due

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


@pytest.fixture
def booked(now):
    """Paid by card, on a course in 10 days (full refund up to 7 days before)."""
    session = make_session(starts_in=timedelta(days=10), capacity=1, now=now)
    return paid_booking(make_offer(now=now), session, now=now)


def cancel(booking, now, channel="online", actor="online"):
    return cancel_booking(booking.pk, channel=channel, actor=actor, reason="Changed my mind",
                          now=now)


def refund_on_event(booking):
    [event] = events(booking.offer, "booking.cancelled")
    return event.after["refund_due_pence"]


def test_cancelling_frees_the_seat_and_reopens_the_offer(now, booked):
    cancelled = cancel(booked, now)
    assert cancelled.status == Booking.Status.CANCELLED and cancelled.ended_at == now
    assert reload(booked.session).seats_booked == 0
    offer = reload(booked.offer)
    assert offer.status == Offer.Status.OFFERED
    [event] = events(offer, "booking.cancelled")
    assert event.after == {"reason": "Changed my mind", "refund_due_pence": 9500}
    # The seat is free and the offer can book again.
    place_hold(make_offer(now=now).pk, booked.session_id, channel="online", actor="online",
               now=now)
    place_hold(offer.pk, make_session(now=now).pk, channel="online", actor="online", now=now)


def test_full_refund_with_notice(now, booked):
    moment = booked.session.starts_at - timedelta(days=7)
    assert refund_due(booked, moment) == 9500
    cancel(booked, moment)
    assert refund_on_event(booked) == 9500


def test_no_refund_inside_the_notice(now, booked):
    moment = booked.session.starts_at - timedelta(days=6, hours=23)
    assert refund_due(booked, moment) == 0
    cancel(booked, moment)
    assert refund_on_event(booked) == 0
    assert reload(booked.session).seats_booked == 0


def test_full_refund_when_the_client_cancelled_the_date(now, booked):
    CourseSession.objects.filter(pk=booked.session_id).update(
        status=CourseSession.Status.CANCELLED)
    booked = reload(booked)
    moment = booked.session.starts_at - timedelta(hours=2)
    assert refund_due(booked, moment) == 9500
    cancel(booked, moment)  # online, inside the cut-off: allowed, the client cancelled it
    assert refund_on_event(booked) == 9500


def test_online_cancellation_refused_after_the_cut_off_but_staff_may(now, booked):
    moment = booked.session.starts_at - timedelta(hours=23)
    assert_refused("change_cutoff_passed", cancel, booked, moment)
    cancel(booked, moment, channel="admin", actor=AGENT)
    assert reload(booked).status == Booking.Status.CANCELLED
    assert reload(booked.session).seats_booked == 0
    assert refund_on_event(booked) == 0
    [event] = events(booked.offer, "booking.cancelled")
    assert event.channel == "admin" and event.actor == AGENT


def test_cancelling_a_pending_booking_releases_its_hold(now):
    session = make_session(capacity=1, now=now)
    offer = make_offer(now=now)
    booking = pending_booking(offer, session, now=now)
    cancel(booking, now)
    assert not Hold.objects.filter(offer=offer).exists()
    assert reload(session).seats_booked == 0
    assert refund_on_event(booking) == 0
    assert reload(offer).status == Offer.Status.OFFERED


def test_cancelling_twice_is_refused(now, booked):
    cancel(booked, now)
    assert_refused("booking_not_active", cancel, booked, now)


def test_a_waived_fee_is_not_refunded_whatever_the_notice(now):
    session = make_session(starts_in=timedelta(days=10), now=now)
    waived = admin_booking(make_offer(now=now), session, now=now)
    assert refund_due(waived, now) == 0
    cancel(waived, now, channel="admin", actor=AGENT)
    assert refund_on_event(waived) == 0
    CourseSession.objects.filter(pk=session.pk).update(status=CourseSession.Status.CANCELLED)
    assert refund_due(reload(waived), now) == 0


def test_the_refund_is_what_was_paid_less_what_was_refunded_already(now, booked):
    payment = booked.payments.get()
    payment.refunds.create(stripe_refund_id="re_test_part", amount_pence=2000,
                           reason="Goodwill, by hand")
    assert refund_due(booked, now) == 7500
