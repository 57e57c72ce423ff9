"""transfer_booking: moves the seat, re-checks every rule, charges by notice period (a move
that costs a fee waits for it: tests/booking/test_changes.py)."""

from datetime import timedelta

import pytest

from booking.models import Booking, CourseSession
from booking.services.changes import transfer_booking

from .conftest import (
    AGENT,
    admin_booking,
    assert_refused,
    events,
    local_at,
    make_offer,
    make_session,
    pending_booking,
    reload,
    set_fee,
)

pytestmark = pytest.mark.usefixtures("in_essex")


def transfer(booking, session, now, channel="online"):
    return transfer_booking(booking.pk, session.pk, channel=channel, actor="online", now=now)


@pytest.fixture
def booked(now):
    """A confirmed booking on a course in 10 days (free transfers up to 7 days before)."""
    old = make_session(starts_in=timedelta(days=10), now=now)
    offer = make_offer(critical_in=timedelta(days=60), now=now)
    return admin_booking(offer, old, now=now)


def test_transfer_moves_the_seat_and_links_the_bookings(now, booked):
    new_session = make_session(starts_in=timedelta(days=20), now=now)
    new = transfer(booked, new_session, now)
    old = reload(booked)
    assert old.status == Booking.Status.TRANSFERRED and old.ended_at == now
    assert reload(old.session).seats_booked == 0
    assert reload(new_session).seats_booked == 1
    assert new.status == Booking.Status.CONFIRMED and new.session == new_session
    assert new.transferred_from == old and list(old.transfers.all()) == [new]
    assert new.transfer_count == 1
    assert new.fee_pence == old.fee_pence == 9500
    assert new.fee_snapshot["transfer_fee_pence"] == 0
    assert new.policy_snapshot == old.policy_snapshot
    assert new.reference != old.reference
    [event] = events(booked.offer, "booking.transferred")
    assert event.booking == new
    assert event.before == {"booking": old.reference, "session": old.session_id}
    assert event.after["session"] == new_session.pk and event.after["transfer_fee_pence"] == 0


def test_transfers_are_counted_and_limited(now, booked):
    first = transfer(booked, make_session(starts_in=timedelta(days=15), now=now), now)
    second = transfer(first, make_session(starts_in=timedelta(days=16), now=now), now)
    assert second.transfer_count == 2
    third_session = make_session(starts_in=timedelta(days=17), now=now)
    assert_refused("too_many_transfers", transfer, second, third_session, now)


def test_the_limit_is_the_one_agreed_at_booking(now, booked):
    set_fee(provider=5000, police=4500, max_transfers=0)
    new = transfer(booked, make_session(starts_in=timedelta(days=15), now=now), now)
    assert new.transfer_count == 1


def test_no_transfer_inside_the_cut_off(now, booked):
    new_session = make_session(starts_in=timedelta(days=20), now=now)
    late = booked.session.starts_at - timedelta(hours=23)
    assert_refused("change_cutoff_passed", transfer, booked, new_session, late)


def test_no_transfer_to_a_full_session(now, booked):
    full = make_session(starts_in=timedelta(days=20), capacity=2, seats_booked=2, now=now)
    assert_refused("session_full", transfer, booked, full, now)


def test_no_transfer_after_the_critical_date(now):
    offer = make_offer(critical_in=timedelta(days=20), now=now)
    booking = admin_booking(offer, make_session(starts_in=timedelta(days=10), now=now), now=now)
    too_late = make_session(starts_at=local_at(offer.critical_date + timedelta(days=1), 10),
                            now=now)
    assert_refused("after_critical_date", transfer, booking, too_late, now)


def test_transfer_rechecks_the_new_session(now, booked):
    assert_refused("wrong_course_type", transfer, booked,
                   make_session(course_type_code="NMAC", starts_in=timedelta(days=20), now=now),
                   now)
    assert_refused("session_cancelled", transfer, booked,
                   make_session(starts_in=timedelta(days=20), now=now,
                                status=CourseSession.Status.CANCELLED), now)
    assert_refused("inside_lead_time", transfer, booked,
                   make_session(starts_in=timedelta(hours=30), now=now), now)
    assert_refused("same_session", transfer, booked, booked.session, now)


def test_only_a_confirmed_booking_can_be_transferred(now):
    booking = pending_booking(make_offer(now=now), make_session(now=now), now=now)
    assert_refused("booking_not_confirmed", transfer, booking,
                   make_session(starts_in=timedelta(days=20), now=now), now)


def test_unknown_target_session_is_refused(now, booked):
    assert_refused("unknown_session", transfer_booking, booked.pk, 987654321, channel="online",
                   actor="online", now=now)


def test_free_with_enough_notice(now, booked):
    # Exactly 7 days before the course is still free.
    moment = booked.session.starts_at - timedelta(days=7)
    new = transfer(booked, make_session(starts_in=timedelta(days=20), now=now), moment)
    assert new.fee_snapshot["transfer_fee_pence"] == 0


def test_late_transfer_fee_inside_the_free_notice(now, booked):
    moment = booked.session.starts_at - timedelta(days=6, hours=23)
    new = transfer(booked, make_session(starts_in=timedelta(days=20), now=now), moment)
    assert new.status == Booking.Status.TRANSFER_PENDING
    assert new.fee_snapshot["transfer_fee_pence"] == 1500 == new.amount_due_pence
    assert new.fee_pence == 9500  # the course fee itself is unchanged
    [event] = events(booked.offer, "booking.transfer_requested")
    assert event.after["transfer_fee_pence"] == 1500


def test_late_fee_is_the_one_agreed_at_booking(now, booked):
    set_fee(provider=5000, police=4500, late_transfer_fee_pence=9999,
            free_transfer_notice_days=1)
    moment = booked.session.starts_at - timedelta(days=3)
    new = transfer(booked, make_session(starts_in=timedelta(days=20), now=now), moment)
    assert new.fee_snapshot["transfer_fee_pence"] == 1500


def test_free_and_allowed_late_when_the_client_cancelled_the_date(now, booked):
    CourseSession.objects.filter(pk=booked.session_id).update(
        status=CourseSession.Status.CANCELLED)
    # Inside both the fee notice and the cut-off: still free and still allowed.
    moment = booked.session.starts_at - timedelta(hours=6)
    new_session = make_session(starts_in=timedelta(days=20), now=now)
    new = transfer(booked, new_session, moment, channel="online")
    assert new.fee_snapshot["transfer_fee_pence"] == 0
    assert reload(new_session).seats_booked == 1
    assert reload(booked.session).seats_booked == 0


def test_staff_transfer_is_logged_with_its_channel(now, booked):
    new = transfer_booking(booked.pk, make_session(starts_in=timedelta(days=20), now=now).pk,
                           channel="telephone", actor=AGENT, now=now)
    assert new.channel == "telephone" and new.made_by == AGENT
    [event] = events(booked.offer, "booking.transferred")
    assert event.channel == "telephone" and event.actor == AGENT
