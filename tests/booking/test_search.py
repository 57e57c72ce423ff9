"""search_sessions: which course dates an offer is shown, with seats left and distance."""

from datetime import timedelta

import pytest

from booking.models import CourseSession, DeliveryMode, Hold
from booking.services.bookings import place_hold
from booking.services.rules import BookingRefused
from booking.services.search import search_sessions
from integrations import postcodes

from .conftest import local_at, make_offer, make_session, make_venue

pytestmark = pytest.mark.usefixtures("in_essex")


def found(options):
    return [option.session.pk for option in options]


def test_only_scheduled_dates_of_the_offers_course(now):
    offer = make_offer(now=now)
    wanted = make_session(now=now)
    make_session(course_type_code="NMAC", now=now)
    make_session(status=CourseSession.Status.CANCELLED, now=now)
    make_session(status=CourseSession.Status.COMPLETED, now=now)
    assert found(search_sessions(offer, now=now)) == [wanted.pk]


def test_only_after_the_lead_time(now):
    offer = make_offer(now=now)
    make_session(starts_in=timedelta(hours=47, minutes=59), now=now)
    make_session(starts_in=-timedelta(days=1), now=now)
    on_the_line = make_session(starts_in=timedelta(hours=48), now=now)
    later = make_session(starts_in=timedelta(days=3), now=now)
    assert found(search_sessions(offer, now=now)) == [on_the_line.pk, later.pk]


def test_only_dates_ending_on_or_before_the_critical_date(now):
    offer = make_offer(critical_in=timedelta(days=20), now=now)
    last_day = offer.critical_date
    in_time = make_session(starts_at=local_at(last_day, 18), now=now)  # ends 20:45
    make_session(starts_at=local_at(last_day, 22), now=now)  # ends 00:45 the next day
    make_session(starts_at=local_at(last_day + timedelta(days=1), 9), now=now)
    assert found(search_sessions(offer, now=now)) == [in_time.pk]


def test_online_and_classroom_are_separate_searches(now):
    offer = make_offer(now=now)
    room = make_session(now=now)
    online = make_session(mode=DeliveryMode.ONLINE, now=now)
    assert found(search_sessions(offer, now=now)) == [room.pk]
    assert found(search_sessions(offer, now=now, online=True)) == [online.pk]
    [option] = search_sessions(offer, now=now, online=True, near_postcode="CM1 1AA")
    assert option.distance_km is None


def test_welsh_only(now):
    offer = make_offer(now=now)
    english = make_session(now=now)
    welsh = make_session(language="cy", starts_in=timedelta(days=11), now=now)
    assert found(search_sessions(offer, now=now)) == [english.pk, welsh.pk]
    assert found(search_sessions(offer, now=now, welsh_only=True)) == [welsh.pk]


@pytest.fixture
def essex_venues():
    return {
        "chelmsford": make_venue(town="Chelmsford", postcode="CM1 1AA", latitude=51.73,
                                 longitude=0.47),
        "southend": make_venue(town="Southend", postcode="SS1 1AA", latitude=51.539,
                               longitude=0.724),
        "colchester": make_venue(town="Colchester", postcode="CO1 1AA", latitude=51.876,
                                 longitude=0.880),
        "cambridge": make_venue(town="Cambridge", postcode="CB1 1AA", latitude=52.185,
                                longitude=0.167),
        "cardiff": make_venue(town="Cardiff", postcode="CF10 1AA", latitude=51.474,
                              longitude=-3.177),
    }


def test_near_a_postcode_within_the_radius_by_date_or_distance(now, essex_venues):
    offer = make_offer(now=now)
    v = essex_venues
    colchester = make_session(venue=v["colchester"], starts_in=timedelta(days=5), now=now)
    cambridge = make_session(venue=v["cambridge"], starts_in=timedelta(days=6), now=now)
    chelmsford_late = make_session(venue=v["chelmsford"], starts_in=timedelta(days=9), now=now)
    southend = make_session(venue=v["southend"], starts_in=timedelta(days=7), now=now)
    chelmsford_soon = make_session(venue=v["chelmsford"], starts_in=timedelta(days=8), now=now)
    make_session(venue=v["cardiff"], starts_in=timedelta(days=4), now=now)

    by_date = search_sessions(offer, now=now, near_postcode="cm1 1aa")
    assert found(by_date) == [colchester.pk, cambridge.pk, southend.pk, chelmsford_soon.pk,
                              chelmsford_late.pk]
    distances = {option.session.venue.town: option.distance_km for option in by_date}
    assert distances["Chelmsford"] < 2
    assert 20 < distances["Southend"] < distances["Colchester"] < 40 < distances["Cambridge"] < 80

    by_distance = search_sessions(offer, now=now, near_postcode="CM1 1AA", sort="distance")
    assert found(by_distance) == [chelmsford_soon.pk, chelmsford_late.pk, southend.pk,
                                  colchester.pk, cambridge.pk]

    nearer = search_sessions(offer, now=now, near_postcode="CM1", radius_km=40)
    assert found(nearer) == [colchester.pk, southend.pk, chelmsford_soon.pk, chelmsford_late.pk]

    # Without a postcode every classroom date is shown, with no distance.
    everywhere = search_sessions(offer, now=now)
    assert len(everywhere) == 6 and {option.distance_km for option in everywhere} == {None}


def test_inactive_venues_are_not_near_anywhere(now, essex_venues):
    offer = make_offer(now=now)
    venue = essex_venues["chelmsford"]
    make_session(venue=venue, now=now)
    venue.is_active = False
    venue.save(update_fields=["is_active"])
    assert search_sessions(offer, now=now, near_postcode="CM1 1AA") == []


def test_seats_left_counts_live_holds_but_not_expired_ones(now):
    offer = make_offer(now=now)
    session = make_session(capacity=5, seats_booked=2, now=now)
    Hold.objects.create(offer=make_offer(now=now), session=session,
                        expires_at=now + timedelta(minutes=1))
    Hold.objects.create(offer=make_offer(now=now), session=session,
                        expires_at=now - timedelta(seconds=1))
    [option] = search_sessions(offer, now=now)
    assert option.seats_left == 2


def test_full_sessions_are_not_shown(now):
    offer = make_offer(now=now)
    make_session(capacity=3, seats_booked=3, now=now)
    held_full = make_session(capacity=1, now=now)
    place_hold(make_offer(now=now).pk, held_full.pk, channel="online", actor="online", now=now)
    assert search_sessions(offer, now=now) == []
    # Once the hold runs out the date is back.
    later = now + timedelta(minutes=16)
    assert found(search_sessions(offer, now=later)) == [held_full.pk]


@pytest.mark.parametrize("postcode,error", [
    ("not a postcode", postcodes.InvalidPostcode),
    ("CM1 1A", postcodes.InvalidPostcode),
    ("X9 9XX", postcodes.UnknownPostcode),
])
def test_a_bad_postcode_raises(now, postcode, error):
    offer = make_offer(now=now)
    make_session(now=now)
    with pytest.raises(error):
        search_sessions(offer, now=now, near_postcode=postcode)


def test_search_shows_a_date_exactly_when_a_hold_on_it_is_allowed(now):
    """The search and the hold's rules agree at the critical-date boundary: a course ending at
    midnight after the critical date ends on the next day, which the hold refuses."""
    offer = make_offer(critical_in=timedelta(days=20), now=now)
    midnight = local_at(offer.critical_date + timedelta(days=1), 0)
    session = make_session(starts_at=midnight - timedelta(hours=3), duration=timedelta(hours=3),
                           now=now)
    shown = session.pk in found(search_sessions(offer, now=now))
    try:
        place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
        allowed = True
    except BookingRefused:
        allowed = False
    assert shown == allowed
