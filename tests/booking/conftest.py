"""Factories and helpers for the booking service tests.

Unless a test says otherwise it runs inside the essex schema (fixture `in_essex`), in the
ordinary test transaction, so everything it writes is rolled back. Times are always relative to
`timezone.now()`; services get an explicit `now=` so a test can move the clock.
"""

import itertools
import secrets
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from booking.models import (
    Booking,
    CourseSession,
    CourseType,
    DeliveryMode,
    Hold,
    Offer,
    OfferEvent,
    Venue,
)
from booking.services.bookings import book, place_hold
from booking.services.rules import BookingRefused

AGENT = "agent@essex.test"
_numbers = itertools.count(1)


@pytest.fixture
def in_essex(essex):
    connection.set_tenant(essex)
    return essex


@pytest.fixture
def now():
    return timezone.now()


# --- Factories -------------------------------------------------------------------------------


def local_at(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware datetime at a local (Europe/London) wall-clock time."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def make_venue(*, name=None, town="Chelmsford", postcode="CM1 1AA", latitude=51.73,
               longitude=0.47, capacity=24, **extra) -> Venue:
    return Venue.objects.create(
        name=name or f"{town} Hall {next(_numbers)}", address="1 High Street", town=town,
        postcode=postcode, latitude=latitude, longitude=longitude, capacity=capacity, **extra,
    )


def make_session(*, course_type_code="NSAC", starts_in=timedelta(days=10), starts_at=None,
                 capacity=24, seats_booked=0, mode=DeliveryMode.CLASSROOM, language="en",
                 venue=None, status=CourseSession.Status.SCHEDULED, duration=None,
                 now=None) -> CourseSession:
    course_type = CourseType.objects.get(code=course_type_code)
    starts_at = starts_at or (now or timezone.now()) + starts_in
    duration = duration or timedelta(minutes=course_type.duration_minutes)
    if mode != DeliveryMode.ONLINE and venue is None:
        venue = make_venue()
    return CourseSession.objects.create(
        course_type=course_type, venue=None if mode == DeliveryMode.ONLINE else venue,
        delivery_mode=mode, starts_at=starts_at, ends_at=starts_at + duration, capacity=capacity,
        seats_booked=seats_booked, language=language, status=status,
    )


def make_offer(*, course_type_code="NSAC", critical_in=timedelta(days=60), critical_date=None,
               booking_period_end=None, reference=None, date_of_birth=date(1985, 3, 14),
               postcode="CM1 1AA", status=Offer.Status.OFFERED, now=None, **extra) -> Offer:
    # Calendar days from the local date, not 24-hour steps: 24 hours back, late on the Sunday
    # the clocks go back, is still that Sunday.
    critical_date = critical_date or local_day(now or timezone.now()) + timedelta(
        days=critical_in.days)
    return Offer.objects.create(
        reference=reference or f"ESX{next(_numbers):05d}{secrets.token_hex(2).upper()}",
        course_type=CourseType.objects.get(code=course_type_code),
        offence_date=critical_date - timedelta(days=150),
        booking_period_end=booking_period_end or critical_date,
        critical_date=critical_date, first_name="Sam", last_name="Driver",
        date_of_birth=date_of_birth, postcode=postcode, status=status, **extra,
    )


def set_fee(code="NSAC", *, provider=0, police=0, vat=False, **policy) -> CourseType:
    CourseType.objects.filter(code=code).update(
        provider_fee_pence=provider, police_cost_recovery_pence=police, vat_applies=vat, **policy)
    return CourseType.objects.get(code=code)


def admin_booking(offer, session, *, now, actor=AGENT) -> Booking:
    """A confirmed booking, made the way an administrator makes one (no hold, no payment)."""
    return book(offer.pk, session_id=session.pk, channel="admin", actor=actor, now=now)


def pending_booking(offer, session, *, now, actor="online") -> Booking:
    """An online booking waiting for payment: a hold, then the booking."""
    place_hold(offer.pk, session.pk, channel="online", actor=actor, now=now)
    return book(offer.pk, channel="online", actor=actor, now=now)


def reload(obj):
    obj.refresh_from_db()
    return obj


def live_holds(session, now) -> int:
    return Hold.objects.filter(session=session, expires_at__gt=now).count()


def events(offer, kind=None):
    rows = OfferEvent.objects.filter(offer=offer)
    return list(rows.filter(kind=kind) if kind else rows)


# --- "Refused, and nothing was written" ------------------------------------------------------


def db_state() -> dict:
    """Everything a booking service may write in the current schema."""
    return {
        "bookings": list(Booking.objects.order_by("pk").values_list(
            "pk", "status", "session_id", "fee_pence", "transfer_count", "confirmed_at",
            "ended_at")),
        "holds": list(Hold.objects.order_by("pk").values_list(
            "pk", "offer_id", "session_id", "expires_at")),
        "sessions": list(CourseSession.objects.order_by("pk").values_list(
            "pk", "seats_booked", "status")),
        "offers": list(Offer.objects.order_by("pk").values_list(
            "pk", "status", "email", "phone", "language", "access_requirements", "updated_at")),
        "events": list(OfferEvent.objects.order_by("pk").values_list("pk", flat=True)),
    }


def assert_refused(code, service, *args, **kwargs) -> BookingRefused:
    """The service refuses with `code` and leaves every booking table exactly as it was."""
    before = db_state()
    with pytest.raises(BookingRefused) as caught:
        service(*args, **kwargs)
    assert caught.value.code == code, f"expected {code!r}, got {caught.value.code!r}: " \
        f"{caught.value.messages}"
    assert caught.value.messages and caught.value.messages[0]
    assert db_state() == before, "a refused call wrote to the database"
    return caught.value
