"""Data for the /manage/ tests: staff of every role at essex, and in essex's schema a venue, a
trainer linked to the trainer's login, a course date that started an hour ago with a confirmed
booking on it, an upcoming date, an unbooked offer and an open special-circumstances case."""

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Membership, User
from accounts.roles import Role
from booking.models import CourseSession, CourseType, Offer, Trainer, Venue
from booking.services.bookings import book
from booking.services.cases import raise_case

ESSEX_HOST = "essex.localhost"
STAFF_ROLES = (Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT,
               Role.TRAINER, Role.AUDITOR, Role.USERGROUP_MEMBER)


def make_staff(email, organisation, role) -> User:
    """A staff user without a password (hashing one is slow; tests use force_login)."""
    user = User.objects.create_user(email=email, password=None)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def staff(essex):
    """One user per client role at essex: staff[Role.AUDITOR] and so on."""
    return {role: make_staff(f"{role}@essex.test", essex, role) for role in STAFF_ROLES}


@pytest.fixture
def in_essex(essex):
    connection.set_tenant(essex)
    yield essex
    connection.set_schema_to_public()


def make_offer(reference, *, critical_in=60, course="NSAC", **extra) -> Offer:
    today = timezone.localdate()
    return Offer.objects.create(
        reference=reference, course_type=CourseType.objects.get(code=course),
        offence_date=today - timedelta(days=30),
        booking_period_end=today + timedelta(days=critical_in),
        critical_date=today + timedelta(days=critical_in),
        first_name=extra.pop("first_name", "Sam"),
        last_name=extra.pop("last_name", "Driver"),
        date_of_birth=extra.pop("date_of_birth", date(1985, 3, 27)),
        postcode=extra.pop("postcode", "CM1 1QH"), **extra)


def make_session(course_type, venue, starts_at, *, capacity=20, trainers=()) -> CourseSession:
    session = CourseSession.objects.create(
        course_type=course_type, venue=venue, delivery_mode="classroom", starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=course_type.duration_minutes), capacity=capacity)
    session.trainers.set(trainers)
    return session


@pytest.fixture
def world(essex, staff, in_essex):
    """The objects every /manage/ URL needs, by the URL's keyword names."""
    now = timezone.now()
    nsac = CourseType.objects.get(code="NSAC")
    venue = Venue.objects.create(name="County Hall", address="Market Road", town="Chelmsford",
                                 postcode="CM1 1QH", latitude=51.73, longitude=0.47,
                                 capacity=24, step_free=True)
    trainer = Trainer.objects.create(full_name="Terry Trainer", email="terry@essex.test",
                                     user_id=staff[Role.TRAINER].pk)
    trainer.course_types.add(nsac)
    # Within today even just after midnight, so the dashboard lists it as today's.
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    started = make_session(nsac, venue, max(now - timedelta(hours=1), midnight), trainers=[trainer])
    upcoming = make_session(nsac, venue, now + timedelta(days=10), trainers=[trainer])
    other = make_session(nsac, venue, now + timedelta(days=11))
    booked = make_offer("ESX-500001", access_requirements=["hearing_loop"],
                        email="sam@example.com")
    booking = book(booked.pk, session_id=started.pk, channel="admin", actor="setup",
                   now=now - timedelta(days=5))
    unbooked = make_offer("ESX-500002", first_name="Alex", last_name="Walker",
                          date_of_birth=date(1990, 1, 2))
    case = raise_case(unbooked.pk, kind="part_payment", notes="Lost job",
                      actor=staff[Role.CLIENT_ADMIN])
    membership = Membership.objects.get(user=staff[Role.BOOKING_OFFICER], organisation=essex)
    return {
        "reference": booked.reference, "session_id": started.pk, "course_type_id": nsac.pk,
        "venue_id": venue.pk, "trainer_id": trainer.pk, "case_id": case.pk,
        "membership_id": membership.pk, "user_id": staff[Role.BOOKING_OFFICER].pk,
        "kind": "reminder", "language": "en",
        # Not URL keywords, for the tests' own use:
        "booking": booking, "offer": booked, "unbooked": unbooked, "started": started,
        "upcoming": upcoming, "other": other, "venue": venue, "trainer": trainer,
        "nsac": nsac, "case": case,
    }


def get(client, url, **extra):
    return client.get(url, HTTP_HOST=ESSEX_HOST, **extra)


def post(client, url, data=None, **extra):
    return client.post(url, data or {}, HTTP_HOST=ESSEX_HOST, **extra)
