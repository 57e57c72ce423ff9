"""place_hold and release_hold: one hold per offer, and every rule that can refuse one."""

from datetime import timedelta

import pytest

from booking.models import CourseSession, Hold, Offer
from booking.services.bookings import HOLD_MINUTES, place_hold, release_hold

from .conftest import (
    assert_refused,
    events,
    live_holds,
    local_at,
    local_day,
    make_offer,
    make_session,
    reload,
)

pytestmark = pytest.mark.usefixtures("in_essex")


def test_a_hold_keeps_a_seat_for_fifteen_minutes(now):
    session = make_session(capacity=2, now=now)
    offer = make_offer(now=now)
    hold = place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
    assert hold.session == session and hold.offer == offer
    assert hold.expires_at == now + timedelta(minutes=HOLD_MINUTES)
    assert live_holds(session, now) == 1
    assert reload(session).seats_booked == 0  # a hold is not a booking
    [event] = events(offer, "hold.placed")
    assert event.after["session"] == session.pk and event.channel == "online"


def test_one_hold_per_offer_a_second_replaces_the_first_and_frees_its_seat(now):
    first = make_session(capacity=1, now=now)
    second = make_session(capacity=1, starts_in=timedelta(days=12), now=now)
    offer = make_offer(now=now)
    other = make_offer(now=now)
    place_hold(offer.pk, first.pk, channel="online", actor="online", now=now)
    assert_refused("session_full", place_hold, other.pk, first.pk, channel="online",
                   actor="online", now=now)

    place_hold(offer.pk, second.pk, channel="online", actor="online", now=now)
    assert Hold.objects.filter(offer=offer).count() == 1
    assert Hold.objects.get(offer=offer).session == second
    assert live_holds(first, now) == 0
    # The first seat is free again for someone else.
    place_hold(other.pk, first.pk, channel="online", actor="online", now=now)
    assert len(events(offer, "hold.placed")) == 2


def test_holding_the_same_session_again_renews_the_hold_even_when_it_is_full(now):
    session = make_session(capacity=1, now=now)
    offer = make_offer(now=now)
    place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
    later = now + timedelta(minutes=10)
    hold = place_hold(offer.pk, session.pk, channel="online", actor="online", now=later)
    assert hold.expires_at == later + timedelta(minutes=HOLD_MINUTES)
    assert Hold.objects.filter(offer=offer).count() == 1


def test_an_expired_hold_frees_its_seat_without_any_job(now):
    session = make_session(capacity=1, now=now)
    first, second = make_offer(now=now), make_offer(now=now)
    place_hold(first.pk, session.pk, channel="online", actor="online", now=now)
    later = now + timedelta(minutes=HOLD_MINUTES, seconds=1)
    assert_refused("session_full", place_hold, second.pk, session.pk, channel="online",
                   actor="online", now=now + timedelta(minutes=HOLD_MINUTES - 1))
    place_hold(second.pk, session.pk, channel="online", actor="online", now=later)
    assert live_holds(session, later) == 1


def test_release_hold_frees_the_seat_and_logs_it(now):
    session = make_session(capacity=1, now=now)
    offer = make_offer(now=now)
    place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
    release_hold(offer.pk, channel="online", actor="online", now=now)
    assert not Hold.objects.filter(offer=offer).exists()
    assert len(events(offer, "hold.released")) == 1
    # Releasing nothing writes nothing.
    release_hold(offer.pk, channel="online", actor="online", now=now)
    assert len(events(offer, "hold.released")) == 1


# --- Refusals --------------------------------------------------------------------------------


def hold(offer, session, now):
    return place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)


def test_expired_offer_is_refused(now):
    session = make_session(now=now)
    past = make_offer(critical_in=-timedelta(days=1), now=now)
    assert_refused("offer_expired", hold, past, session, now)
    marked = make_offer(status=Offer.Status.EXPIRED, now=now)
    assert_refused("offer_expired", hold, marked, session, now)


def test_withdrawn_offer_is_refused(now):
    offer = make_offer(status=Offer.Status.WITHDRAWN, now=now)
    assert_refused("offer_withdrawn", hold, offer, make_session(now=now), now)


@pytest.mark.parametrize("status", [Offer.Status.BOOKED, Offer.Status.COMPLETED,
                                    Offer.Status.SPECIAL_ARRANGEMENT])
def test_offer_with_a_booking_or_outcome_is_refused(now, status):
    offer = make_offer(status=status, now=now)
    assert_refused("offer_not_bookable", hold, offer, make_session(now=now), now)


def test_booking_period_ended_is_refused(now):
    offer = make_offer(booking_period_end=local_day(now) - timedelta(days=1), now=now)
    assert_refused("booking_period_ended", hold, offer, make_session(now=now), now)


def test_session_in_the_past_is_refused(now):
    session = make_session(starts_in=-timedelta(hours=2), now=now)
    assert_refused("session_in_past", hold, make_offer(now=now), session, now)


def test_session_inside_the_lead_time_is_refused(now):
    # NSAC: online booking closes 48 hours before the course.
    session = make_session(starts_in=timedelta(hours=47), now=now)
    assert_refused("inside_lead_time", hold, make_offer(now=now), session, now)
    just_enough = make_session(starts_in=timedelta(hours=48), now=now)
    hold(make_offer(now=now), just_enough, now)


def test_session_after_the_critical_date_is_refused(now):
    offer = make_offer(critical_in=timedelta(days=20), now=now)
    on_the_day = make_session(starts_at=local_at(offer.critical_date, 9), now=now)
    day_after = make_session(starts_at=local_at(offer.critical_date + timedelta(days=1), 9),
                             now=now)
    assert_refused("after_critical_date", hold, offer, day_after, now)
    hold(offer, on_the_day, now)


def test_session_ending_after_midnight_past_the_critical_date_is_refused(now):
    offer = make_offer(critical_in=timedelta(days=20), now=now)
    late = make_session(starts_at=local_at(offer.critical_date, 22), now=now)
    assert_refused("after_critical_date", hold, offer, late, now)


def test_cancelled_session_is_refused(now):
    session = make_session(status=CourseSession.Status.CANCELLED, now=now)
    assert_refused("session_cancelled", hold, make_offer(now=now), session, now)


def test_wrong_course_type_is_refused(now):
    session = make_session(course_type_code="NMAC", now=now)
    assert_refused("wrong_course_type", hold, make_offer(now=now), session, now)


def test_full_session_is_refused(now):
    booked_out = make_session(capacity=3, seats_booked=3, now=now)
    assert_refused("session_full", hold, make_offer(now=now), booked_out, now)
    held_out = make_session(capacity=1, now=now)
    hold(make_offer(now=now), held_out, now)
    assert_refused("session_full", hold, make_offer(now=now), held_out, now)


def test_unknown_session_is_refused(now):
    assert_refused("unknown_session", place_hold, make_offer(now=now).pk, 987654321,
                   channel="online", actor="online", now=now)


def test_a_refused_hold_keeps_the_existing_one(now):
    good = make_session(now=now)
    full = make_session(capacity=1, seats_booked=1, now=now)
    offer = make_offer(now=now)
    hold(offer, good, now)
    assert_refused("session_full", hold, offer, full, now)
    assert Hold.objects.get(offer=offer).session == good
