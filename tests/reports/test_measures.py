"""The four GOV.UK service measures against hand-counted fixtures (digital take-up, completion
rate from the anonymous daily journey counter, cost per transaction by channel from a
finalised invoice, user satisfaction from the survey, each at the Europe/London month
boundary), the survey page itself (one answer per booking, bad answers named, nothing
written), and nothing of another client's."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.roles import Role
from billing.models import Invoice, InvoiceLine
from booking.models import Channel, JourneyStartDay, Offer, SatisfactionResponse
from booking.services.bookings import confirm_booking
from booking.services.measures import count_journey_start, record_satisfaction
from booking.services.rules import BookingRefused
from reports.measures import measures_report
from reports.periods import Period

from ..billing.conftest import make_plan
from ..conftest import make_user
from ..factories import CourseSessionFactory, CourseTypeFactory, OfferFactory, book_offer

APRIL = Period(date(2026, 4, 1), date(2026, 4, 1))


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def made(course, session, channel, at):
    offer = OfferFactory(course_type=course, today=date(2026, 3, 1), critical_in=150)
    booking = book_offer(offer, session, channel=channel, now=at, hold=True, waived=False)
    return confirm_booking(booking.pk, channel=channel, actor="stripe", now=at,
                           payment={"payment_intent": f"pi_{booking.pk}", "amount_pence": 9900})


def answer(level, at, booking=None):
    return record_satisfaction(level=level, comment="", language="en", booking=booking, now=at)


@pytest.fixture
def measured(in_essex, essex):
    course = CourseTypeFactory(code="NSAC")
    session = CourseSessionFactory(course_type=course, starts_at=utc(2026, 5, 20, 9),
                                   capacity=20)
    # April (UK time): two online (one at 00:30 BST on 1 April), one by telephone.
    first = made(course, session, Channel.ONLINE, utc(2026, 3, 31, 23, 30))
    made(course, session, Channel.ONLINE, utc(2026, 4, 12, 10))
    made(course, session, Channel.TELEPHONE, utc(2026, 4, 13, 10))
    # March: one online, at 23:30 BST on 31 March.
    made(course, session, Channel.ONLINE, utc(2026, 3, 31, 22, 30))
    # Journeys started: 4 in April (3 of them on 1 April, the first at 00:10 BST), 2 in March.
    for moment in (utc(2026, 3, 31, 23, 10), utc(2026, 4, 1, 9), utc(2026, 4, 1, 18),
                   utc(2026, 4, 30, 12), utc(2026, 3, 31, 22, 50), utc(2026, 3, 5, 9)):
        count_journey_start(now=moment)
    # Survey: April 2 very satisfied (one at 00:30 BST on 1 April), 1 satisfied, 1 neither,
    # 1 very dissatisfied: 3 of 5 satisfied. March: 1 dissatisfied at 23:30 BST on 31 March.
    answer("very_satisfied", utc(2026, 3, 31, 23, 30), booking=first)
    for level in ("very_satisfied", "satisfied", "neutral", "very_dissatisfied"):
        answer(level, utc(2026, 4, 15, 10))
    answer("dissatisfied", utc(2026, 3, 31, 22, 30))
    # April's finalised invoice: £33 shared by every booking, £7 only the telephone's.
    version = make_plan("standard", "graduated").versions.get()
    invoice = Invoice.objects.create(
        client=essex, period=date(2026, 4, 1), number="WM-2026-0001",
        status=Invoice.Status.FINALISED, plan_version=version, vat_rate_basis_points=2000,
        subtotal_pence=4000, vat_pence=800, total_pence=4800,
        finalise_after=utc(2026, 5, 5), finalised_at=utc(2026, 5, 5))
    for position, (kind, amount) in enumerate((("tier", 3000), ("card_fees", 300),
                                               ("surcharge", 500), ("calls", 200))):
        InvoiceLine.objects.create(invoice=invoice, position=position, kind=kind,
                                   description=kind, quantity=1, unit_pence=amount,
                                   amount_pence=amount)
    return course


def test_the_four_measures_by_hand(measured, essex):
    report = measures_report(APRIL, client=essex)
    assert report.take_up == pytest.approx(2 / 3) and report.previous_take_up == 1
    assert (report.completion.started, report.completion.completed) == (4, 2)
    assert report.completion.rate == 0.5
    assert (report.previous_completion.started, report.previous_completion.rate) == (2, 0.5)
    assert report.satisfaction.levels == {"very_satisfied": 2, "satisfied": 1, "neutral": 1,
                                           "dissatisfied": 0, "very_dissatisfied": 1}
    assert report.satisfaction.satisfied_share == pytest.approx(0.6)
    assert report.previous_satisfaction.responses == 1
    assert report.previous_satisfaction.satisfied_share == 0
    cost = report.cost
    assert cost.invoiced_months == 1
    assert cost.bookings == {"online": 2, "telephone": 1, "staff": 0}
    assert cost.per_booking("online") == 1100  # £33 over 3 bookings
    assert cost.per_booking("telephone") == 1800  # and £7 over the one telephone booking
    assert cost.per_booking("staff") is None
    (april,) = report.months
    assert (april.online, april.bookings, april.started, april.completed) == (2, 3, 4, 2)
    assert (april.satisfied, april.responses) == (3, 5)
    # A course filter narrows take-up; the counter and the invoice know no course.
    other = measures_report(APRIL, client=essex, course_type=CourseTypeFactory(code="WDU"))
    assert other.take_up is None and other.completion.started == 4


def test_journey_starts_are_a_bare_daily_count(in_essex):
    count_journey_start(now=utc(2026, 6, 30, 23, 5))  # 00:05 BST on 1 July
    count_journey_start(now=utc(2026, 7, 1, 8))
    assert list(JourneyStartDay.objects.values_list("day", "started")) == [(date(2026, 7, 1), 2)]
    assert [field.name for field in JourneyStartDay._meta.get_fields()] == ["id", "day", "started"]


def test_measures_are_per_client(measured, essex, south_wales):
    with schema_context(south_wales.schema_name):
        count_journey_start(now=utc(2026, 4, 3, 9))
        answer("satisfied", utc(2026, 4, 3, 9))
        theirs = measures_report(APRIL, client=south_wales)
        assert theirs.completion.started == 1 and theirs.satisfaction.responses == 1
        assert theirs.cost.invoiced_months == 0 and theirs.take_up is None
    connection.set_tenant(connection.tenant)
    assert measures_report(APRIL, client=essex).satisfaction.responses == 5


def test_one_answer_per_booking_and_bad_answers(measured):
    booking = SatisfactionResponse.objects.exclude(booking=None).get().booking
    with pytest.raises(BookingRefused) as twice:
        answer("satisfied", utc(2026, 4, 2, 9), booking=booking)
    assert twice.value.code == "already_answered"
    with pytest.raises(BookingRefused):
        answer("meh", utc(2026, 4, 2, 9))
    with pytest.raises(BookingRefused):
        record_satisfaction(level="satisfied", comment="x" * 1201, language="en", booking=None)
    assert SatisfactionResponse.objects.count() == 6


def journey_for(offer, browser):
    response = browser.post("/book/find/", {
        "reference": offer.reference, "date_of_birth_0": offer.date_of_birth.day,
        "date_of_birth_1": offer.date_of_birth.month,
        "date_of_birth_2": offer.date_of_birth.year})
    assert response.status_code == 302
    return response["Location"]


def test_survey_page_after_a_booking(in_essex, taking_bookings):
    course = CourseTypeFactory(code="NSAC")
    session = CourseSessionFactory(course_type=course,
                                   starts_at=timezone.now() + timedelta(days=20))
    booked = OfferFactory(course_type=course, critical_in=60)
    booking = book_offer(booked, session, channel=Channel.ADMIN, waived=True)
    waiting = OfferFactory(course_type=course, critical_in=60)
    browser = Client(HTTP_HOST="essex.localhost")
    assert journey_for(waiting, browser).endswith("/book/where/")
    assert JourneyStartDay.objects.get().started == 1
    browser = Client(HTTP_HOST="essex.localhost")
    assert journey_for(booked, browser).endswith("/booking/")  # already booked: not a start
    assert JourneyStartDay.objects.get().started == 1
    confirmation = browser.get(f"/book/confirmation/{booking.reference}/").content.decode()
    assert f'href="/feedback/?booking={booking.reference}"' in confirmation
    page = browser.get("/feedback/", {"booking": booking.reference})
    assert f'value="{booking.reference}"' in page.content.decode()
    missing = browser.post("/feedback/", {"booking": booking.reference, "comment": "x" * 1201})
    body = missing.content.decode()
    assert missing.status_code == 200 and "Select how you feel about the service." in body
    assert "Your comments must be 1200 characters or fewer." in body
    assert not SatisfactionResponse.objects.exists()
    sent = browser.post("/feedback/", {"booking": booking.reference, "level": "satisfied",
                                       "comment": "Quick and clear"})
    assert sent.status_code == 302 and sent["Location"] == "/feedback/thank-you/"
    kept = SatisfactionResponse.objects.get()
    assert (kept.booking, kept.level, kept.comment) == (booking, "satisfied", "Quick and clear")
    again = browser.get("/feedback/", {"booking": booking.reference})
    assert "You have already told us how you felt about this booking." in again.content.decode()
    # Someone else's booking reference is not theirs to answer for: the answer has no booking.
    stranger = Client(HTTP_HOST="essex.localhost")
    stranger.post("/feedback/", {"booking": booking.reference, "level": "very_dissatisfied"})
    assert SatisfactionResponse.objects.filter(booking=None).count() == 1
    assert Offer.objects.filter(pk=booked.pk).exists()


def signed_in(user):
    browser = Client(HTTP_HOST="essex.localhost")
    browser.force_login(user)
    return browser


def test_measures_page_download_and_access(measured, essex, essex_admin, south_wales_admin):
    browser = signed_in(essex_admin)
    page = browser.get("/manage/reports/service-measures/", {"start": "2026-04", "end": "2026-04"})
    body = page.content.decode()
    assert page.status_code == 200 and "£18.00" in body and "60%" in body
    text = browser.get("/manage/reports/service-measures/",
                       {"start": "2026-04", "end": "2026-04", "format": "csv"}).content.decode()
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1] == ["2026-04", "2", "3", "66.7", "4", "2", "50.0", "5", "60.0"]
    bad = browser.get("/manage/reports/service-measures/", {"start": "2026-13", "end": "2026-04"})
    assert "govuk-error-summary" in bad.content.decode()
    trainer = make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER)
    assert signed_in(trainer).get("/manage/reports/service-measures/").status_code == 403
    assert signed_in(south_wales_admin).get("/manage/reports/service-measures/") \
        .status_code == 403
