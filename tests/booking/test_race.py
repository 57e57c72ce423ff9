"""The race for the last seats: many people, each with their own offer and their own database
connection, press the button at the same moment. Exactly the free seats are taken; everyone
else is told the date is full; the database never holds more than the capacity.

After pretix's concurrency tests, with a control run that switches the session lock off to prove
these tests can see an overbooking when there is one.

The data must be committed to be seen across connections, so these tests are transactional and
run in a fresh client created for each test (its schema is dropped afterwards; the public rows go
with the end-of-test flush). Event rows cannot be deleted, which is why essex is not used.
"""

import secrets
import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import Booking, CourseSession, Hold, Offer, OfferEvent
from booking.services import bookings, changes, seats
from booking.services.rules import BookingRefused
from tenants.services import NewClient, onboard_client

from ..factories import STAFF_WAIVER
from .conftest import AGENT, make_offer, make_session

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
CONTROL_ATTEMPTS = 8


@pytest.fixture
def race_schema(transactional_db):
    slug = f"race-{secrets.token_hex(4)}"
    organisation = onboard_client(
        NewClient(name=f"Race {slug}", slug=slug, kind="county_council",
                  admin_email=f"admin@{slug}.test"),
        acting_user="tests",
    )
    yield organisation.schema_name
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{organisation.schema_name}" CASCADE')


def at_once(schema, calls):
    """Run each call in its own thread (so its own connection), all released by one barrier.
    Returns ("ok", result) | ("refused", code, cause) | ("error", repr) per call."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            connection.set_schema(schema)
            Offer.objects.exists()  # connect and set the search path before the start line
            barrier.wait(timeout=30)
            results[index] = ("ok", call())
        except BookingRefused as refusal:
            results[index] = ("refused", refusal.code, type(refusal.__cause__).__name__)
        except Exception as error:  # reported by the assertions below
            results[index] = ("error", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    assert not [r for r in results if r is None or r[0] == "error"], results
    return results


def a_session_and_offers(schema, *, capacity, booked, offers=THREADS):
    with schema_context(schema):
        session = make_session(capacity=capacity, seats_booked=booked)
        return session.pk, [make_offer().pk for _ in range(offers)]


def holds_at_once(schema, session_id, offer_ids):
    return at_once(schema, [
        (lambda offer_id=offer_id: bookings.place_hold(offer_id, session_id, channel="online",
                                                       actor="online"))
        for offer_id in offer_ids
    ])


def admin_books_at_once(schema, session_id, offer_ids):
    return at_once(schema, [
        (lambda offer_id=offer_id: bookings.book(offer_id, session_id=session_id,
                                                 channel="admin", actor=AGENT,
                                                 waiver=STAFF_WAIVER))
        for offer_id in offer_ids
    ])


def tally(results):
    won = [r for r in results if r[0] == "ok"]
    refused = [r for r in results if r[0] == "refused"]
    assert {r[1] for r in refused} <= {"session_full"}, refused
    return len(won), refused


def seats_taken(schema, session_id):
    """(confirmed seats, live holds, confirmed booking rows) as the database has them now."""
    with schema_context(schema):
        session = CourseSession.objects.get(pk=session_id)
        live = Hold.objects.filter(session=session, expires_at__gt=timezone.now()).count()
        confirmed = Booking.objects.filter(session=session, status="confirmed").count()
        return session.seats_booked, live, confirmed


@pytest.mark.parametrize("capacity,booked", [(24, 23), (5, 2)])
def test_holds_race_for_the_last_seats(race_schema, capacity, booked):
    free = capacity - booked
    session_id, offer_ids = a_session_and_offers(race_schema, capacity=capacity, booked=booked)
    results = holds_at_once(race_schema, session_id, offer_ids)
    won, refused = tally(results)
    assert won == free and len(refused) == THREADS - free
    seats_booked, live, _ = seats_taken(race_schema, session_id)
    assert seats_booked == booked and live == free
    assert seats_booked + live == capacity
    with schema_context(race_schema):
        assert OfferEvent.objects.filter(kind="hold.placed").count() == free
        assert Hold.objects.count() == free


def test_admin_bookings_race_for_the_last_seat(race_schema):
    session_id, offer_ids = a_session_and_offers(race_schema, capacity=24, booked=23)
    won, refused = tally(admin_books_at_once(race_schema, session_id, offer_ids))
    assert won == 1 and len(refused) == THREADS - 1
    # With the lock, the losers are told by the seat count, never by the database constraint.
    assert {r[2] for r in refused} == {"NoneType"}
    seats_booked, live, confirmed = seats_taken(race_schema, session_id)
    assert seats_booked == 24 and live == 0 and confirmed == 1
    with schema_context(race_schema):
        assert Offer.objects.filter(status="booked").count() == 1
        assert OfferEvent.objects.filter(kind="booking.confirmed").count() == 1


def test_holds_and_admin_bookings_race_for_the_same_seat(race_schema):
    session_id, offer_ids = a_session_and_offers(race_schema, capacity=3, booked=2)
    half = THREADS // 2
    calls = [
        (lambda offer_id=offer_id: bookings.place_hold(offer_id, session_id, channel="online",
                                                       actor="online"))
        for offer_id in offer_ids[:half]
    ] + [
        (lambda offer_id=offer_id: bookings.book(offer_id, session_id=session_id,
                                                 channel="admin", actor=AGENT,
                                                 waiver=STAFF_WAIVER))
        for offer_id in offer_ids[half:]
    ]
    won, refused = tally(at_once(race_schema, calls))
    assert won == 1 and len(refused) == THREADS - 1
    seats_booked, live, _ = seats_taken(race_schema, session_id)
    assert seats_booked + live == 3


def test_late_payments_race_for_the_last_seat(race_schema):
    """Ten people whose holds ran out pay at the same moment; one seat is left."""
    with schema_context(race_schema):
        session = make_session(capacity=3, seats_booked=2)
        booking_ids = []
        for _ in range(10):
            offer = make_offer()
            booking_ids.append(Booking.objects.create(
                reference=secrets.token_hex(4).upper(), offer=offer, session=session,
                channel="online", status="pending_payment", fee_pence=9500,
                fee_snapshot={"total_pence": 9500}, policy_snapshot={}, made_by="online").pk)
            Hold.objects.create(offer=offer, session=session,
                                expires_at=timezone.now() - timedelta(minutes=1))
    won, refused = tally(at_once(race_schema, [
        (lambda booking_id=booking_id: bookings.confirm_booking(
            booking_id, channel="online", actor="stripe"))
        for booking_id in booking_ids
    ]))
    assert won == 1 and len(refused) == 9
    seats_booked, _, confirmed = seats_taken(race_schema, session.pk)
    assert seats_booked == 3 and confirmed == 1


# --- Control runs: the lock switched off ---------------------------------------------------------


def test_control_without_the_lock_holds_do_overbook(race_schema, monkeypatch):
    """Proves the hold race above can catch an overbooking: without the session lock, more
    people hold a seat than there are seats."""
    monkeypatch.setattr(seats, "LOCK_SESSIONS", False)
    worst = 0
    for _attempt in range(CONTROL_ATTEMPTS):
        session_id, offer_ids = a_session_and_offers(race_schema, capacity=24, booked=23)
        won, _refused = tally(holds_at_once(race_schema, session_id, offer_ids))
        _, live, _ = seats_taken(race_schema, session_id)
        assert live == won
        worst = max(worst, live)
        if live > 1:
            break
    assert worst > 1, "no overbooking seen without the lock: the race test could not catch one"


def test_control_without_the_lock_the_database_still_refuses_overbooked_bookings(
        race_schema, monkeypatch):
    """Without the lock, the seat count in Python is read unlocked and lets several bookings
    through; the `session_never_overbooked` check constraint has the last word."""
    monkeypatch.setattr(seats, "LOCK_SESSIONS", False)
    caught_by_database = False
    for _attempt in range(CONTROL_ATTEMPTS):
        session_id, offer_ids = a_session_and_offers(race_schema, capacity=24, booked=23)
        won, refused = tally(admin_books_at_once(race_schema, session_id, offer_ids))
        assert won == 1 and len(refused) == THREADS - 1
        seats_booked, _, confirmed = seats_taken(race_schema, session_id)
        assert seats_booked == 24 and confirmed == 1
        if any(cause == IntegrityError.__name__ for *_, cause in refused):
            caught_by_database = True
            break
    assert caught_by_database, "every loser was stopped in Python: the control proved nothing"


def test_transfers_race_for_the_last_seat(race_schema):
    """Twenty confirmed people move to the same date at once; one seat is free there."""
    with schema_context(race_schema):
        old = make_session(capacity=THREADS, starts_in=timedelta(days=10))
        new = make_session(capacity=24, seats_booked=23, starts_in=timedelta(days=20))
        booking_ids = [bookings.book(make_offer().pk, session_id=old.pk, channel="admin",
                                     actor=AGENT, waiver=STAFF_WAIVER).pk
                       for _ in range(THREADS)]
    won, refused = tally(at_once(race_schema, [
        (lambda booking_id=booking_id: changes.transfer_booking(
            booking_id, new.pk, channel="online", actor="online"))
        for booking_id in booking_ids
    ]))
    assert won == 1 and len(refused) == THREADS - 1
    assert seats_taken(race_schema, new.pk)[0] == 24
    assert seats_taken(race_schema, old.pk)[0] == THREADS - 1


def _lock_waits():
    with connection.cursor() as cursor:
        # Activity statistics are a snapshot per transaction unless cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND datname = current_database()")
        return cursor.fetchone()[0]


def test_an_outcome_and_a_cancellation_at_the_same_moment_do_not_deadlock(race_schema,
                                                                           monkeypatch):
    """Staff cancel a booking while the trainer records its outcome. Whatever the order, both
    calls finish: one succeeds, the other is refused, neither dies in a deadlock."""
    with schema_context(race_schema):
        booked_at = timezone.now() - timedelta(days=11)
        session = make_session(starts_in=timedelta(days=10), now=booked_at)
        booking = bookings.book(make_offer(now=booked_at).pk, session_id=session.pk,
                                channel="admin", actor=AGENT, waiver=STAFF_WAIVER,
                                now=booked_at)
    real_lock_offer = changes.lock_offer

    def lock_offer_then_wait(offer_id):
        # The cancellation holds the offer and waits until the outcome is queued on a lock.
        offer = real_lock_offer(offer_id)
        if threading.current_thread().name == "cancel":
            offer_locked.set()
            for _ in range(100):
                if _lock_waits():
                    break
                threading.Event().wait(0.05)
        return offer

    monkeypatch.setattr(changes, "lock_offer", lock_offer_then_wait)
    offer_locked = threading.Event()
    results = {}

    def run(name, call):
        try:
            connection.set_schema(race_schema)
            if name == "outcome":
                offer_locked.wait(timeout=10)
            results[name] = ("ok", call())
        except BookingRefused as refusal:
            results[name] = ("refused", refusal.code)
        except Exception as error:
            results[name] = ("error", repr(error))
        finally:
            connection.close()

    from booking.services.offers import record_outcome

    threads = [
        threading.Thread(name="cancel", target=run, args=("cancel", lambda: changes.cancel_booking(
            booking.pk, channel="admin", actor=AGENT))),
        threading.Thread(name="outcome", target=run, args=("outcome", lambda: record_outcome(
            booking.pk, "completed", actor="trainer@race.test"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(result[0] for result in results.values()) == ["ok", "refused"], results
