"""Two administrators give the same trainer overlapping dates at the same moment, each on
their own database connection: exactly one date is created; the other is refused by name.
Transactional, in a client made for the test (its schema is dropped afterwards), as
tests/booking/test_race.py does."""

import secrets
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import CourseSession, CourseType, Trainer
from booking.services import sessions
from tenants.services import NewClient, onboard_client

from ..factories import TrainerFactory, VenueFactory

pytestmark = pytest.mark.django_db(transaction=True)
RACERS = 6
CONTROL_ATTEMPTS = 8


@pytest.fixture
def schema(transactional_db):
    slug = f"trainers-{secrets.token_hex(4)}"
    organisation = onboard_client(
        NewClient(name=f"Trainers {slug}", slug=slug, kind="county_council",
                  admin_email=f"admin@{slug}.test"), acting_user="tests")
    yield organisation.schema_name
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{organisation.schema_name}" CASCADE')


def race(schema, start):
    """RACERS administrators give one trainer overlapping dates at once; returns what each
    was told and how many dates the trainer ended up with."""
    with schema_context(schema):
        nsac = CourseType.objects.get(code="NSAC")
        trainer = TrainerFactory(full_name="Robin Racer", email="robin@example.test",
                                 course_types=[nsac])
        venues = VenueFactory.create_batch(RACERS, address="x", town="Town", postcode="CM1 1QH",
                                           latitude=51.7, longitude=0.4, capacity=20)
    barrier = threading.Barrier(RACERS)
    results = [None] * RACERS

    def run(index):
        try:
            connection.set_schema(schema)
            Trainer.objects.exists()
            spec = sessions.SessionSpec(
                course_type_id=nsac.pk, delivery_mode="classroom", venue_id=venues[index].pk,
                capacity=10, trainer_ids=(trainer.pk,))
            barrier.wait(timeout=30)
            # Each racer starts a few minutes apart: every pair overlaps.
            sessions.create_sessions(spec, [start + timedelta(minutes=5 * index)],
                                     actor="racer")
            results[index] = "created"
        except ValidationError as error:
            results[index] = "refused" if "already teaching" in str(error) else repr(error)
        except Exception as error:  # reported by the assertions
            results[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    with schema_context(schema):
        count = CourseSession.objects.filter(trainers=trainer).count()
        CourseSession.objects.filter(trainers=trainer).update(status="cancelled")
    return results, count


def test_a_trainer_is_never_double_booked_under_concurrency(schema):
    start = timezone.now().replace(microsecond=0) + timedelta(days=20)
    results, count = race(schema, start)
    assert sorted(results) == ["created"] + ["refused"] * (RACERS - 1), results
    assert count == 1


def test_control_without_the_lock_the_race_is_seen(schema, monkeypatch):
    """With the trainer lock switched off the same race books the trainer twice at least once,
    so the test above would notice if the lock stopped working."""
    monkeypatch.setattr(sessions, "LOCK_TRAINERS", False)
    start = timezone.now().replace(microsecond=0) + timedelta(days=20)
    for attempt in range(CONTROL_ATTEMPTS):
        _results, count = race(schema, start + timedelta(days=attempt))
        if count > 1:
            return
    pytest.fail("the race never double-booked the trainer without the lock")
