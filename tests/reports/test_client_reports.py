"""The bookings-by-channel report and the offer funnel, against hand-counted fixtures in a real
client schema: the Europe/London month boundary, a transfer counted once, a booking that never
confirmed left out, fees summed, the previous period beside, and nothing of another client's."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from accounts.roles import Role
from booking.models import Booking, Channel, Offer
from booking.services.bookings import confirm_booking
from booking.services.changes import transfer_booking, withdraw_offer
from booking.services.offers import expire_offers, record_outcome
from integrations.spreadsheets import safe_cell
from reports.bookings import bookings_report
from reports.funnel import funnel_report
from reports.periods import Period

from ..conftest import make_user
from ..factories import CourseSessionFactory, CourseTypeFactory, OfferFactory, book_offer


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def offer_on(course, *, arrived, language="en"):
    offer = OfferFactory(course_type=course, today=arrived.date(), critical_in=120,
                         language=language)
    Offer.objects.filter(pk=offer.pk).update(created_at=arrived)
    return offer


def session_of(course, starts_at):
    return CourseSessionFactory(course_type=course, starts_at=starts_at, capacity=10)


def paid_booking(offer, session, *, channel, at):
    booking = book_offer(offer, session, channel=channel,
                         actor="offender" if channel == Channel.ONLINE else "agent@essex.test",
                         now=at, hold=True, waived=False)
    return confirm_booking(booking.pk, channel=channel, actor="stripe", now=at,
                           payment={"payment_intent": f"pi_{booking.pk}", "amount_pence": 9900})


@pytest.fixture
def march_and_april(in_essex):
    """Essex: bookings on either side of the end of March in UK time (BST from 29 March)."""
    paid = CourseTypeFactory(code="NSAC", provider_fee_pence=9900, police_cost_recovery_pence=0,
                             vat_applies=False)
    CourseTypeFactory._meta.model.objects.filter(pk=paid.pk).update(
        provider_fee_pence=9900, police_cost_recovery_pence=0, vat_applies=False)
    paid.refresh_from_db()
    other = CourseTypeFactory(code="WMS")
    CourseTypeFactory._meta.model.objects.filter(pk=other.pk).update(
        provider_fee_pence=0, police_cost_recovery_pence=0)
    other.refresh_from_db()
    early, later = (session_of(paid, utc(2026, 4, 20, 9)), session_of(paid, utc(2026, 5, 20, 9)))
    free_date = session_of(other, utc(2026, 4, 22, 9))
    arrived = utc(2026, 3, 10, 12)
    made = {}
    # 23:30 BST on 31 March: March.
    made["march_online"] = paid_booking(offer_on(paid, arrived=arrived), early,
                                        channel=Channel.ONLINE, at=utc(2026, 3, 31, 22, 30))
    # 00:30 BST on 1 April (23:30 UTC on 31 March): April.
    made["april_online"] = paid_booking(offer_on(paid, arrived=arrived), early,
                                        channel=Channel.ONLINE, at=utc(2026, 3, 31, 23, 30))
    made["april_phone"] = paid_booking(offer_on(paid, arrived=utc(2026, 4, 2, 9)), early,
                                       channel=Channel.TELEPHONE, at=utc(2026, 4, 3, 10))
    # A free course booked by staff in April, then moved to May: one booking, in April.
    moved = book_offer(offer_on(other, arrived=utc(2026, 4, 1, 9)), free_date,
                       channel=Channel.ADMIN, now=utc(2026, 4, 5, 10))
    transfer_booking(moved.pk, session_of(other, utc(2026, 5, 22, 9)).pk, channel=Channel.ADMIN,
                     actor="agent@essex.test", now=utc(2026, 4, 6, 10))
    # Booked online in April, never paid: not a booking made.
    book_offer(offer_on(paid, arrived=utc(2026, 4, 2, 9)), later, channel=Channel.ONLINE,
               now=utc(2026, 4, 7, 10), hold=True, waived=False)
    return made, paid, other


def test_bookings_by_course_type_and_channel(march_and_april):
    _made, paid, other = march_and_april
    report = bookings_report(Period(date(2026, 4, 1), date(2026, 4, 1)))
    by_key = {(row.month, row.course_type): row for row in report.rows}
    paid_row = by_key[(date(2026, 4, 1), paid.name("en"))]
    assert paid_row.channels["online"].count == 1
    assert paid_row.channels["telephone"].count == 1
    assert paid_row.channels["staff"].count == 0
    assert paid_row.total.fees_pence == 2 * 9900
    other_row = by_key[(date(2026, 4, 1), other.name("en"))]
    assert (other_row.channels["staff"].count, other_row.total.count) == (1, 1)  # moved: once
    assert len(report.rows) == 2
    assert report.totals.total.count == 3
    assert report.totals.share("online") == pytest.approx(1 / 3)
    # The period before (March) holds the 23:30 BST booking only.
    assert report.previous.total.count == 1
    assert report.previous.channels["online"].count == 1


def test_channel_shift_and_filters(march_and_april):
    _made, paid, other = march_and_april
    report = bookings_report(Period(date(2026, 3, 1), date(2026, 5, 1)))
    trend = {month: (online, every) for month, online, every, _share in report.trend}
    assert len(report.trend) == 12 and report.trend[-1][0] == date(2026, 5, 1)
    assert trend[date(2026, 3, 1)] == (1, 1)
    assert trend[date(2026, 4, 1)] == (1, 3)
    assert trend[date(2026, 5, 1)] == (0, 0)
    assert report.trend[-1][3] is None  # nothing booked: no share, not 0 %
    only_free = bookings_report(Period(date(2026, 3, 1), date(2026, 5, 1)), course_type=other)
    assert only_free.totals.total.count == 1
    # The three paid bookings share one date (one venue); the moved one counts at its first.
    paid_venue = Offer.objects.get(bookings__channel=Channel.TELEPHONE).bookings.get().session.venue
    first_venue = Booking.objects.get(channel=Channel.ADMIN, transferred_from=None).session.venue
    period = Period(date(2026, 3, 1), date(2026, 5, 1))
    assert bookings_report(period, venue=paid_venue).totals.total.count == 3
    assert bookings_report(period, venue=first_venue).totals.total.count == 1


def test_offer_funnel(march_and_april):
    made, paid, _other = march_and_april
    record_outcome(made["march_online"].pk, "completed", actor="trainer",
                   now=utc(2026, 4, 20, 13))
    record_outcome(made["april_online"].pk, "did_not_attend", actor="trainer",
                   now=utc(2026, 4, 20, 13))
    expired = offer_on(paid, arrived=utc(2026, 3, 12, 9))
    Offer.objects.filter(pk=expired.pk).update(critical_date=date(2026, 3, 30))
    expire_offers(today=date(2026, 4, 1))
    withdrawn = offer_on(paid, arrived=utc(2026, 3, 13, 9))
    withdraw_offer(withdrawn.pk, reason="Sent in error", actor="agent@essex.test",
                   channel=Channel.ADMIN, now=utc(2026, 3, 14, 9))
    report = funnel_report(Period(date(2026, 3, 1), date(2026, 4, 1)))
    march, april = report.rows
    assert (march.offered, march.booked) == (4, 2)
    assert march.endings["completed"] == 1 and march.endings["did_not_attend"] == 1
    assert march.endings["expired"] == 1 and march.endings["withdrawn"] == 1
    # Offers arriving 10 March 12:00 UTC, booked 31 March 22:30 and 23:30 UTC: 21.4 and 21.5
    # days, each 21 whole days.
    assert march.median_days_to_book == 21
    # April's arrivals: two booked (phone, staff), one never paid.
    assert (april.offered, april.booked) == (3, 2)
    assert report.total.offered == 7
    assert report.previous.offered == 0


def test_reports_show_only_their_own_client(march_and_april, south_wales):
    with schema_context(south_wales.schema_name):
        course = CourseTypeFactory(code="NSAC")
        book_offer(offer_on(course, arrived=utc(2026, 4, 1, 9)),
                   session_of(course, utc(2026, 4, 25, 9)), channel=Channel.ADMIN,
                   now=utc(2026, 4, 2, 9))
        theirs = bookings_report(Period(date(2026, 4, 1), date(2026, 4, 1)))
        assert theirs.totals.total.count == 1
    connection.set_tenant(connection.tenant)  # back in essex
    assert bookings_report(Period(date(2026, 4, 1), date(2026, 4, 1))).totals.total.count == 3


@pytest.fixture
def auditor(essex):
    return make_user("auditor@essex.test", organisation=essex, role=Role.AUDITOR)


def signed_in(user):
    browser = Client(HTTP_HOST="essex.localhost")
    browser.force_login(user)
    return browser


APRIL = {"start": "2026-04", "end": "2026-04"}


def test_report_pages_and_downloads(march_and_april, auditor):
    _made, paid, other = march_and_april
    browser = signed_in(auditor)
    page = browser.get("/manage/reports/bookings/", APRIL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "April 2026 to April 2026" in body
    assert 'role="img"' in body and "<title" in body
    download = browser.get("/manage/reports/bookings/", {**APRIL, "format": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    text = download.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Month", "Course", "Online bookings"]
    assert {row[1] for row in rows[1:]} == {paid.name("en"), other.name("en")}
    assert sum(int(row[-2]) for row in rows[1:]) == 3
    sheet = browser.get("/manage/reports/funnel/", {**APRIL, "format": "xlsx"})
    book = load_workbook(io.BytesIO(sheet.content))
    values = list(book.active.values)
    assert values[0][0] == "Month of offer" and values[1][:3] == ("2026-04", 3, 2)
    assert browser.get("/manage/reports/funnel/", APRIL).status_code == 200
    assert browser.get("/manage/reports/bookings/", {**APRIL, "format": "pdf"}).status_code == 404


def test_bad_filters_are_named(march_and_april, auditor):
    browser = signed_in(auditor)
    backwards = browser.get("/manage/reports/bookings/", {"start": "2026-05", "end": "2026-04"})
    assert backwards.status_code == 200
    assert "The last month must be the same as or after the first month." in \
        backwards.content.decode()
    nonsense = browser.get("/manage/reports/funnel/", {"start": "1999-99", "end": "2026-04",
                                                       "venue": "x'; drop"})
    body = nonsense.content.decode()
    assert nonsense.status_code == 200 and "govuk-error-summary" in body
    assert "Select a valid choice" in body
    # A download with bad filters is the page with its errors, not a file.
    assert browser.get("/manage/reports/bookings/", {"start": "2026-05", "end": "2026-04",
                                                     "format": "csv"})["Content-Type"] \
        .startswith("text/html")


def test_who_may_read_reports(essex, south_wales_admin):
    trainer = make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER)
    assert signed_in(trainer).get("/manage/reports/").status_code == 403
    assert signed_in(south_wales_admin).get("/manage/reports/bookings/").status_code == 403
    anonymous = Client(HTTP_HOST="essex.localhost").get("/manage/reports/")
    assert anonymous.status_code == 302 and "/accounts/" in anonymous["Location"]


def test_formula_cells_are_neutralised():
    assert safe_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert safe_cell("+44 1234") == "'+44 1234"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell(-5) == -5 and safe_cell("Essex") == "Essex" and safe_cell(None) == ""


def test_periods_step_back_by_their_own_length():
    period = Period(date(2026, 1, 1), date(2026, 3, 1))
    assert period.previous() == Period(date(2025, 10, 1), date(2025, 12, 1))
    assert period.start.isoformat() == "2026-01-01T00:00:00+00:00"
    assert Period(date(2026, 4, 1), date(2026, 4, 1)).start == utc(2026, 3, 31, 23)
    march = Period(date(2026, 3, 1), date(2026, 3, 1))
    assert march.end.astimezone(UTC) - march.start == timedelta(days=31, hours=-1)

