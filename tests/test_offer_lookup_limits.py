"""Offer look-ups are limited per source and reference, so guessing a date of birth is slow,
but a stranger who knows someone's reference cannot lock that person out of their own offer."""

from types import SimpleNamespace

import pytest
from django.core.cache import cache

from booking.site import lookup_limits

from .journey_data import make_journey_data

HOST = {"HTTP_HOST": "essex.localhost"}
RIGHT = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}
WRONG = {"date_of_birth_0": "1", "date_of_birth_1": "1", "date_of_birth_2": "1990"}


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(lookup_limits, "time", SimpleNamespace(time=lambda: now[0]))
    cache.clear()
    yield now
    cache.clear()


def look_up(client, source, reference="ESX-100001", dob=RIGHT):
    return client.post("/book/find/", {"reference": reference, **dob}, REMOTE_ADDR=source,
                       **HOST)


def test_backoff_grows_and_is_capped():
    assert [lookup_limits.backoff_seconds(n) for n in (0, 9, 10, 11, 12, 17, 18, 500)] == [
        0, 0, 2, 4, 8, 256, 300, 300]


def test_strangers_cannot_lock_the_person_out(essex, client, clock):
    make_journey_data(essex)
    for stranger in range(60):
        clock[0] += 1
        look_up(client, f"198.51.100.{stranger}", dob=WRONG)
    # The real person, from home, right after the last wrong guess: asked to wait, not locked.
    waiting = look_up(client, "203.0.113.7")
    assert waiting.status_code == 429
    page = waiting.content.decode()
    assert "wait" in page and "1 hour" not in page
    assert 0 < int(waiting["Retry-After"]) <= lookup_limits.BACKOFF_MAX_SECONDS
    clock[0] += lookup_limits.BACKOFF_MAX_SECONDS
    assert look_up(client, "203.0.113.7")["Location"] == "/book/where/"


def test_a_proven_look_up_clears_the_backoff(essex, client, clock):
    make_journey_data(essex)
    for stranger in range(12):
        look_up(client, f"198.51.100.{stranger}", dob=WRONG)
    clock[0] += 60
    assert look_up(client, "203.0.113.7")["Location"] == "/book/where/"
    assert lookup_limits.refusal("192.0.2.1", "ESX-100001") is None


def test_a_backoff_attempt_is_refused_before_the_date_of_birth_is_checked(essex, client, clock):
    make_journey_data(essex)
    for stranger in range(11):
        look_up(client, f"198.51.100.{stranger}", dob=WRONG)
    # Inside the wait even a right guess is not tried, so the wait cannot be used to test guesses.
    assert look_up(client, "198.51.100.99").status_code == 429


def test_one_source_is_locked_on_one_reference(essex, client, clock):
    make_journey_data(essex)
    for _ in range(lookup_limits.MAX_FAILURES_PER_SOURCE_AND_REFERENCE):
        clock[0] += lookup_limits.BACKOFF_MAX_SECONDS  # past any back-off: only the lock counts
        look_up(client, "198.51.100.1", dob=WRONG)
    clock[0] += lookup_limits.BACKOFF_MAX_SECONDS
    locked = look_up(client, "198.51.100.1")
    assert locked.status_code == 429 and "1 hour" in locked.content.decode()
    # The same person from another place is not locked.
    assert look_up(client, "203.0.113.7")["Location"] == "/book/where/"


def test_one_source_spraying_references_is_locked(essex, client, clock):
    make_journey_data(essex)
    for number in range(lookup_limits.MAX_FAILURES_PER_SOURCE):
        look_up(client, "198.51.100.1", reference=f"ESX-9{number:05d}")
    assert look_up(client, "198.51.100.1").status_code == 429
    assert look_up(client, "198.51.100.2")["Location"] == "/book/where/"


def test_limits_of_one_client_never_touch_another(essex, south_wales, client, clock):
    make_journey_data(essex)
    make_journey_data(south_wales, reference="ESX-100001")
    for _ in range(lookup_limits.MAX_FAILURES_PER_SOURCE_AND_REFERENCE):
        look_up(client, "198.51.100.1", dob=WRONG)
    assert look_up(client, "198.51.100.1").status_code == 429
    other = client.post("/book/find/", {"reference": "ESX-100001", **RIGHT},
                        REMOTE_ADDR="198.51.100.1", HTTP_HOST="south-wales.localhost")
    assert other["Location"] == "/book/where/"
