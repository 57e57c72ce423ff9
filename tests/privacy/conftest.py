"""A person with everything a record can hold at essex: a booking (confirmed, then cancelled),
a call with notes, a decided special-circumstances case, an extension with its reason, a
message in the outbox, a change of e-mail address on the timeline, then the offer withdrawn.
Every one of their details is a string the tests look for after erasure."""

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from booking.models import Booking, CallLog, Channel, Offer, SatisfactionResponse
from booking.services.bookings import ContactDetails
from booking.services.calls import log_call
from booking.services.cases import decide_case, raise_case
from booking.services.changes import cancel_booking, withdraw_offer
from booking.services.events import log_event
from booking.services.offers import extend_critical_date

from ..factories import CourseSessionFactory, CourseTypeFactory, OfferFactory, book_offer
from ..manage.conftest import make_staff, world  # noqa: F401 (a fixture)

ESSEX_HOST = "essex.localhost"
# What must be gone after erasure, wherever it was written.
SECRETS = ("Priya", "Erasable", "1979-05-04", "priya@example.test", "07700 900123",
           "+447700900123", "Secret Lane", "ERASA705049P99AB", "hearing loop please",
           "dog ate the letter", "lost her job", "in hospital", "moved to Spain",
           "ESX-900001", "old.priya@example.test", "CM2 9ZZ", "survey note from Priya")


@pytest.fixture
def staff(essex):
    return {role: make_staff(f"{role}@essex.test", essex, role) for role in (
        Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT, Role.AUDITOR,
        Role.TRAINER)}


def make_person(admin, *, reference="ESX-900001"):
    """Priya Erasable's offer with a full history, ending withdrawn (nothing left open)."""
    nsac = CourseTypeFactory(code="NSAC")
    session = CourseSessionFactory(course_type=nsac)
    offer = OfferFactory(
        reference=reference, course_type=nsac, first_name="Priya", last_name="Erasable",
        date_of_birth=date(1979, 5, 4), address="1 Secret Lane, Chelmsford", postcode="CM2 9ZZ",
        phone="07700 900123", licence_number="ERASA705049P99AB", offence_days_ago=30)
    booking = book_offer(offer, session, channel=Channel.ADMIN, actor=admin, details=ContactDetails(
        email="priya@example.test", phone="07700 900123",
        access_requirements=("hearing_loop",), access_notes="A hearing loop please"))
    log_call(actor=admin, call_type=CallLog.Type.ENQUIRY, outcome=CallLog.Outcome.INFORMATION_GIVEN,
             duration_minutes=4, notes="Priya said the dog ate the letter", offer_id=offer.pk)
    with transaction.atomic():
        log_event(offer, "offer.details_changed", channel=Channel.ADMIN, actor=admin,
                  before={"email": "old.priya@example.test"},
                  after={"email": "priya@example.test"})
    SatisfactionResponse.objects.create(booking=booking, level="satisfied",
                                        comment="A survey note from Priya",
                                        created_at=timezone.now())
    cancel_booking(booking.pk, channel=Channel.ADMIN, actor=admin, reason="Priya in hospital")
    case = raise_case(offer.pk, kind="part_payment", notes="Priya lost her job", actor=admin)
    decide_case(case.pk, approve=False, note="Priya lost her job: declined", actor=admin)
    extend_critical_date(offer.pk, timezone.localdate() + timedelta(days=90),
                         reason="Priya was in hospital", actor=admin)
    withdraw_offer(offer.pk, reason="Priya moved to Spain", actor=admin, channel=Channel.ADMIN)
    offer.refresh_from_db()
    return offer, Booking.objects.get(pk=booking.pk)


@pytest.fixture
def person(essex, staff, in_essex):
    return make_person(staff[Role.CLIENT_ADMIN])


def every_row_text() -> str:
    """Every row of every table of the client's schema that can hold a person's details, as
    text: what a search, page, export or report could ever read."""
    from django.db import connection

    tables = ("booking_offer", "booking_booking", "booking_offerevent", "booking_calllog",
              "booking_specialcircumstancescase", "booking_payment", "booking_refund",
              "booking_hold", "outbox_outboundmessage", "audit_auditentry",
              "booking_erasurerecord", "booking_offenderread",
              "booking_satisfactionresponse")
    with connection.cursor() as cursor:
        parts = []
        for table in tables:
            cursor.execute(f"SELECT coalesce(string_agg(row_to_json(t)::text, '\n'), '') "
                           f"FROM {table} t")
            parts.append(cursor.fetchone()[0])
    return "\n".join(parts)


def offers_named(reference) -> Offer | None:
    return Offer.objects.filter(reference=reference).first()
