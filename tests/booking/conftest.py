"""Helpers for the booking service tests, on the factories of tests/factories.py.

Unless a test says otherwise it runs inside the essex schema (fixture `in_essex`), in the
ordinary test transaction, so everything it writes is rolled back. Times are always relative to
`timezone.now()`; services get an explicit `now=` so a test can move the clock.
"""

import itertools
import secrets
from datetime import date, timedelta

import pytest
from django.utils import timezone

from booking.models import (
    Booking,
    CourseSession,
    CourseType,
    DeliveryMode,
    Hold,
    Offer,
    OfferEvent,
    Payment,
    Venue,
)
from booking.services.bookings import confirm_booking
from booking.services.rules import BookingRefused

from ..factories import (  # noqa: F401 — local_at and local_day are these tests' too
    STAFF,
    CourseSessionFactory,
    OfferFactory,
    VenueFactory,
    book_offer,
    local_at,
    local_day,
)

AGENT = STAFF
_numbers = itertools.count(1)


@pytest.fixture
def now():
    return timezone.now()


# --- What these tests make, on tests/factories.py ---------------------------------------------


def make_venue(*, name=None, town="Chelmsford", postcode="CM1 1AA", latitude=51.73,
               longitude=0.47, capacity=24, **extra) -> Venue:
    return VenueFactory(name=name or f"{town} Hall {next(_numbers)}", address="1 High Street",
                        town=town, postcode=postcode, latitude=latitude, longitude=longitude,
                        capacity=capacity, **{"directions_en": "", **extra})


def make_session(*, course_type_code="NSAC", starts_in=timedelta(days=10), starts_at=None,
                 capacity=24, mode=DeliveryMode.CLASSROOM, venue=None, duration=None, now=None,
                 **fields) -> CourseSession:
    starts_at = starts_at or (now or timezone.now()) + starts_in
    if duration is not None:
        fields["ends_at"] = starts_at + duration
    if mode != DeliveryMode.ONLINE:
        fields["venue"] = venue or make_venue()
    return CourseSessionFactory(course_type__code=course_type_code, starts_at=starts_at,
                                capacity=capacity, delivery_mode=mode, **fields)


def make_offer(*, course_type_code="NSAC", critical_in=timedelta(days=60), critical_date=None,
               reference=None, date_of_birth=date(1985, 3, 14), postcode="CM1 1AA", now=None,
               **extra) -> Offer:
    # Calendar days from the local date, not 24-hour steps: 24 hours back, late on the Sunday
    # the clocks go back, is still that Sunday.
    today = local_day(now or timezone.now())
    critical_date = critical_date or today + timedelta(days=critical_in.days)
    return OfferFactory(
        reference=reference or f"ESX{next(_numbers):05d}{secrets.token_hex(2).upper()}",
        course_type__code=course_type_code, today=today, critical_date=critical_date,
        offence_date=critical_date - timedelta(days=150), date_of_birth=date_of_birth,
        postcode=postcode, **extra)


def set_fee(code="NSAC", *, provider=0, police=0, vat=False, **policy) -> CourseType:
    CourseType.objects.filter(code=code).update(
        provider_fee_pence=provider, police_cost_recovery_pence=police, vat_applies=vat, **policy)
    return CourseType.objects.get(code=code)


def admin_booking(offer, session, *, now, actor=AGENT) -> Booking:
    """A confirmed booking, made the way an administrator makes one with the fee waived (no
    hold, no payment)."""
    return book_offer(offer, session, channel="admin", actor=actor, now=now)


def paid_booking(offer, session, *, now, channel="online") -> Booking:
    """A confirmed booking whose fee was paid by card: its Payment as settle_payment leaves it
    (Stripe itself is not called), then the confirmation."""
    booking = book_offer(offer, session, channel=channel, actor="offender", now=now, hold=True,
                         waived=False)
    intent = f"pi_test_{booking.reference.lower()}"
    Payment.objects.create(booking=booking, stripe_payment_intent_id=intent,
                           amount_pence=booking.fee_pence, status=Payment.Status.SUCCEEDED,
                           channel=channel, succeeded_at=now)
    return confirm_booking(booking.pk, channel=channel, actor="stripe", now=now,
                           payment={"payment_intent": intent, "amount_pence": booking.fee_pence})


def pending_booking(offer, session, *, now, actor="online") -> Booking:
    """An online booking waiting for payment: a hold, then the booking."""
    return book_offer(offer, session, channel="online", actor=actor, now=now)


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
