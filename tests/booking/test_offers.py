"""find_offer, expire_offers and record_outcome."""

from datetime import date, timedelta

import pytest

from booking.models import Booking, Offer
from booking.services.offers import expire_offers, find_offer, record_outcome

from .conftest import (
    admin_booking,
    assert_refused,
    events,
    local_day,
    make_offer,
    make_session,
    pending_booking,
    reload,
)

pytestmark = pytest.mark.usefixtures("in_essex")

DOB = date(1985, 3, 14)


# --- find_offer ------------------------------------------------------------------------------


@pytest.fixture
def offer(now):
    return make_offer(reference="ESX20261234", date_of_birth=DOB, postcode="CM1 1AA", now=now)


def test_reference_and_date_of_birth_find_the_offer(offer):
    found = find_offer("ESX20261234", DOB)
    assert found == offer
    assert found.course_type.code == "NSAC"


@pytest.mark.parametrize("typed", ["esx20261234", " ESX 2026 1234 ", "esx 20261234\n"])
def test_the_reference_is_normalised(offer, typed):
    assert find_offer(typed, DOB) == offer


@pytest.mark.parametrize("typed", ["CM1 1AA", "cm11aa", " cm1  1aa "])
def test_a_matching_postcode_in_any_form_finds_it(offer, typed):
    assert find_offer("ESX20261234", DOB, typed) == offer


@pytest.mark.parametrize("reference,date_of_birth,postcode", [
    ("ESX20261234", date(1985, 3, 15), ""),          # wrong date of birth
    ("ESX20261235", DOB, ""),                        # unknown reference
    ("ESX20261234", DOB, "CM2 9ZZ"),                  # wrong postcode
    ("ESX20261234", DOB, "not a postcode"),           # not even a postcode
    ("", DOB, ""),
    ("ESX20261234", None, ""),
])
def test_any_wrong_part_gives_the_same_none(offer, reference, date_of_birth, postcode):
    assert find_offer(reference, date_of_birth, postcode) is None


def test_an_offer_without_a_postcode_is_found_whatever_postcode_is_given(now):
    offer = make_offer(reference="ESX999", postcode="", date_of_birth=DOB, now=now)
    assert find_offer("ESX999", DOB, "SS1 1AA") == offer


# --- expire_offers ---------------------------------------------------------------------------


def test_offers_past_their_critical_date_expire_with_an_event(now):
    past = make_offer(critical_in=-timedelta(days=1), now=now)
    current = make_offer(critical_in=timedelta(days=1), now=now)
    booked = make_offer(critical_in=-timedelta(days=1), status=Offer.Status.BOOKED, now=now)
    done = make_offer(critical_in=-timedelta(days=1), status=Offer.Status.COMPLETED, now=now)
    # The day the offers were made relative to, not a fresh clock that may be past midnight.
    assert expire_offers(actor="nightly", today=local_day(now)) == 1
    assert reload(past).status == Offer.Status.EXPIRED
    [event] = events(past, "offer.expired")
    assert event.before == {"status": "offered"} and event.after == {"status": "expired"}
    assert event.channel == "system" and event.actor == "nightly"
    for untouched, status in ((current, "offered"), (booked, "booked"), (done, "completed")):
        assert reload(untouched).status == status
        assert not events(untouched)
    # Run again: nothing more to do.
    assert expire_offers() == 0


def test_an_offer_expires_only_the_day_after_its_critical_date(now):
    today = make_offer(critical_in=timedelta(0), now=now)
    assert expire_offers(today=today.critical_date) == 0
    assert expire_offers(today=today.critical_date + timedelta(days=1)) == 1


# --- record_outcome --------------------------------------------------------------------------


@pytest.fixture
def attended(now):
    """A confirmed booking on a course that ran yesterday (booked 10 days before it)."""
    booked_at = now - timedelta(days=11)
    session = make_session(starts_in=timedelta(days=10), now=booked_at)
    return admin_booking(make_offer(now=booked_at), session, now=booked_at)


@pytest.mark.parametrize("outcome,offer_status", [
    ("completed", Offer.Status.COMPLETED),
    ("did_not_attend", Offer.Status.DID_NOT_ATTEND),
    ("refused_entry", Offer.Status.REFUSED_ENTRY),
    ("not_completed", Offer.Status.NOT_COMPLETED),
])
def test_each_outcome_sets_the_offer_status(now, attended, outcome, offer_status):
    booking = record_outcome(attended.pk, outcome, actor="trainer@essex.test", note="On time",
                             id_seen="driving licence", now=now)
    assert booking.status == outcome and booking.ended_at == now
    assert reload(attended.offer).status == offer_status
    [event] = events(attended.offer, "booking.outcome_recorded")
    assert event.before == {"booking": "confirmed", "offer": "booked"}
    assert event.after == {"booking": outcome, "offer": offer_status, "note": "On time",
                           "id_seen": "driving licence"}
    assert event.actor == "trainer@essex.test" and event.channel == "admin"


def test_an_outcome_can_be_corrected(now, attended):
    record_outcome(attended.pk, "did_not_attend", actor="trainer@essex.test", now=now)
    record_outcome(attended.pk, "completed", actor="trainer@essex.test", now=now)
    assert reload(attended.offer).status == Offer.Status.COMPLETED
    assert len(events(attended.offer, "booking.outcome_recorded")) == 2


def test_no_outcome_before_the_course_starts(now):
    booking = admin_booking(make_offer(now=now), make_session(now=now), now=now)
    assert_refused("course_not_started", record_outcome, booking.pk, "completed",
                   actor="trainer@essex.test", now=now)


def test_unknown_outcome_is_refused(now, attended):
    assert_refused("unknown_outcome", record_outcome, attended.pk, "attended",
                   actor="trainer@essex.test", now=now)
    assert_refused("unknown_outcome", record_outcome, attended.pk, "cancelled",
                   actor="trainer@essex.test", now=now)


def test_no_outcome_for_a_booking_awaiting_payment(now):
    session = make_session(now=now)
    booking = pending_booking(make_offer(now=now), session, now=now)
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert_refused("booking_not_confirmed", record_outcome, booking.pk, "completed",
                   actor="trainer@essex.test", now=session.starts_at + timedelta(hours=1))


def test_an_offer_stored_with_a_malformed_postcode_is_simply_not_found(now):
    make_offer(reference="ESX777", postcode="BFPO 12", date_of_birth=DOB, now=now)
    assert find_offer("ESX777", DOB, "CM1 1AA") is None
    assert find_offer("ESX777", DOB).reference == "ESX777"
