"""Data for the /manage/ tests: staff of every role at essex, and in essex's schema a venue, a
trainer linked to the trainer's login, a course date that started an hour ago with a confirmed
booking on it, an upcoming date, an unbooked offer and an open special-circumstances case."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership, User
from accounts.roles import Role
from booking.models import CourseSession, Offer
from booking.services.cases import raise_case
from outbox.models import WebhookEndpoint

from ..factories import (
    CourseSessionFactory,
    CourseTypeFactory,
    OfferFactory,
    TrainerFactory,
    VenueFactory,
    book_offer,
)

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


def make_offer(reference, *, critical_in=60, course="NSAC", **extra) -> Offer:
    return OfferFactory(reference=reference, critical_in=critical_in, course_type__code=course,
                        offence_days_ago=30, **extra)


def make_session(course_type, venue, starts_at, *, capacity=20, trainers=()) -> CourseSession:
    return CourseSessionFactory(course_type=course_type, venue=venue, starts_at=starts_at,
                                capacity=capacity, trainers=trainers)


@pytest.fixture
def world(essex, staff, in_essex):
    """The objects every /manage/ URL needs, by the URL's keyword names."""
    now = timezone.now()
    nsac = CourseTypeFactory(code="NSAC")
    venue = VenueFactory(name="County Hall", address="Market Road", postcode="CM1 1QH",
                         latitude=51.73, longitude=0.47, step_free=True, directions_en="")
    trainer = TrainerFactory(full_name="Terry Trainer", email="terry@essex.test",
                             user_id=staff[Role.TRAINER].pk, course_types=[nsac])
    # Within today even just after midnight, so the dashboard lists it as today's.
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    started = make_session(nsac, venue, max(now - timedelta(hours=1), midnight), trainers=[trainer])
    upcoming = make_session(nsac, venue, now + timedelta(days=10), trainers=[trainer])
    other = make_session(nsac, venue, now + timedelta(days=11))
    booked = make_offer("ESX-500001", access_requirements=["hearing_loop"],
                        email="sam@example.com")
    booking = book_offer(booked, started, channel="admin", actor="setup",
                         now=now - timedelta(days=5))
    unbooked = make_offer("ESX-500002", first_name="Alex", last_name="Walker",
                          date_of_birth=date(1990, 1, 2))
    case = raise_case(unbooked.pk, kind="part_payment", notes="Lost job",
                      actor=staff[Role.CLIENT_ADMIN])
    membership = Membership.objects.get(user=staff[Role.BOOKING_OFFICER], organisation=essex)
    endpoint = WebhookEndpoint.objects.create(url="https://example.org/hooks",
                                              events=["booking.confirmed"],
                                              secret="whsec_world", created_by="setup")
    return {
        "reference": booked.reference, "session_id": started.pk, "course_type_id": nsac.pk,
        "venue_id": venue.pk, "trainer_id": trainer.pk, "case_id": case.pk,
        "membership_id": membership.pk, "user_id": staff[Role.BOOKING_OFFICER].pk,
        "kind": "reminder", "language": "en", "booking_reference": booking.reference,
        "endpoint_id": endpoint.pk,
        # Not URL keywords, for the tests' own use:
        "booking": booking, "offer": booked, "unbooked": unbooked, "started": started,
        "upcoming": upcoming, "other": other, "venue": venue, "trainer": trainer,
        "nsac": nsac, "case": case,
    }


def get(client, url, **extra):
    return client.get(url, HTTP_HOST=ESSEX_HOST, **extra)


def post(client, url, data=None, **extra):
    return client.post(url, data or {}, HTTP_HOST=ESSEX_HOST, **extra)
