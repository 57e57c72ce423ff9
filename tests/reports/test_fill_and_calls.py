"""Venue and course-date fill, and contact-centre calls, against hand-counted fixtures in a real
client schema: a live hold counted and an expired one not, outcomes, a transfer counted at its
new date only, a cancelled date left out; calls at Europe/London hours (23:30 UTC in summer is
00:30 the next day), out of hours by the client's own hours and bank holidays, and nothing of
another client's."""

import csv
import io
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from accounts.roles import Role
from booking.models import Channel, CourseSession, Offer
from booking.services.bookings import place_hold
from booking.services.calls import log_call
from booking.services.changes import cancel_booking, transfer_booking
from booking.services.offers import record_outcome
from reports.calls import calls_report
from reports.fill import fill_report
from reports.periods import Period
from tenants.models import ClientOrganisation

from ..conftest import make_user
from ..factories import CourseSessionFactory, CourseTypeFactory, OfferFactory, VenueFactory, book_offer

AGENT = "agent@essex.test"
APRIL = Period(date(2026, 4, 1), date(2026, 4, 1))
SUMMER = Period(date(2026, 7, 1), date(2026, 8, 1))


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


MARCH_FIRST = utc(2026, 3, 1, 9)
APRIL_FIRST = utc(2026, 4, 1, 10)


def offer_of(course, arrived=MARCH_FIRST):
    offer = OfferFactory(course_type=course, today=arrived.date(), critical_in=200)
    Offer.objects.filter(pk=offer.pk).update(created_at=arrived)
    return offer


def staff_booking(course, session, at=APRIL_FIRST, channel=Channel.ADMIN):
    """Confirmed at once, the fee waived (as staff may, on the phone too)."""
    return book_offer(offer_of(course), session, channel=channel, now=at, waived=True)


@pytest.fixture
def april_dates(in_essex):
    """Two venues' dates in April 2026 (and one in March) with their bookings, counted by hand:

    first (venue one, 10 seats): 3 booked (1 completed, 1 did not attend, 1 still confirmed),
        1 live hold, 1 expired hold, 1 cancelled booking, 1 moved away to `third`
    second (venue one, 8 seats): 1 booked
    third (venue two, 5 seats): 1 booked + 1 moved in
    cancelled (venue one, 30 seats): a cancelled date, left out
    march (venue one, 10 seats): 1 booked (the period before)
    """
    course = CourseTypeFactory(code="NSAC")
    one, two = VenueFactory(name="Abbey Hall"), VenueFactory(name="Bridge House")

    def on(venue, starts_at, capacity):
        return CourseSessionFactory(course_type=course, venue=venue, starts_at=starts_at,
                                    capacity=capacity)

    first, second = on(one, utc(2026, 4, 20, 9), 10), on(one, utc(2026, 4, 27, 9), 8)
    third, march = on(two, utc(2026, 4, 22, 9), 5), on(one, utc(2026, 3, 20, 10), 10)
    cancelled = on(one, utc(2026, 4, 24, 9), 30)
    CourseSession.objects.filter(pk=cancelled.pk).update(status=CourseSession.Status.CANCELLED)
    attended, missed, _waiting = (staff_booking(course, first) for _n in range(3))
    cancel_booking(staff_booking(course, first).pk, channel=Channel.ADMIN, actor=AGENT,
                   reason="Asked to", now=utc(2026, 4, 2, 10))
    transfer_booking(staff_booking(course, first).pk, third.pk, channel=Channel.ADMIN,
                     actor=AGENT, now=utc(2026, 4, 3, 10))
    staff_booking(course, second)
    staff_booking(course, third)
    staff_booking(course, march, at=utc(2026, 3, 2, 10))
    # Holds last 15 minutes: the report is drawn at 10:05, so the 10:00 hold is live and the
    # 09:00 one expired.
    place_hold(offer_of(course).pk, first.pk, channel=Channel.ONLINE, actor="offender",
               now=utc(2026, 4, 10, 9))
    place_hold(offer_of(course).pk, first.pk, channel=Channel.ONLINE, actor="offender",
               now=utc(2026, 4, 10, 10))
    record_outcome(attended.pk, "completed", actor="trainer", now=utc(2026, 4, 20, 13))
    record_outcome(missed.pk, "did_not_attend", actor="trainer", now=utc(2026, 4, 20, 13))
    return SimpleNamespace(course=course, one=one, two=two, first=first, second=second,
                           third=third, cancelled=cancelled)


def counts(fill):
    return (fill.capacity, fill.booked, fill.held, fill.attended, fill.did_not_attend)


def test_fill_per_date_and_venue(april_dates):
    report = fill_report(APRIL, now=utc(2026, 4, 10, 10, 5))
    by_date = {row.session_id: row for row in report.dates}
    assert set(by_date) == {april_dates.first.pk, april_dates.second.pk, april_dates.third.pk}
    assert counts(by_date[april_dates.first.pk].fill) == (10, 3, 1, 1, 1)
    assert by_date[april_dates.first.pk].fill.share == pytest.approx(0.3)
    assert counts(by_date[april_dates.second.pk].fill) == (8, 1, 0, 0, 0)
    assert counts(by_date[april_dates.third.pk].fill) == (5, 2, 0, 0, 0)  # one moved in
    assert [(venue.venue, venue.dates) for venue in report.venues] == [
        ("Abbey Hall", 2), ("Bridge House", 1)]
    abbey, bridge = report.venues
    assert counts(abbey.fill) == (18, 4, 1, 1, 1)
    assert counts(bridge.fill) == (5, 2, 0, 0, 0)
    assert counts(report.total) == (23, 6, 1, 1, 1)
    assert (report.previous.capacity, report.previous.booked) == (10, 1)
    assert report.previous_venues[april_dates.one.pk].share == pytest.approx(0.1)
    # A quarter of an hour later the hold has lapsed: no seat is held.
    assert fill_report(APRIL, now=utc(2026, 4, 10, 10, 20)).total.held == 0


def test_fill_filters(april_dates):
    at = utc(2026, 4, 10, 10, 5)
    only_two = fill_report(APRIL, venue=april_dates.two, now=at)
    assert [row.session_id for row in only_two.dates] == [april_dates.third.pk]
    other_course = CourseTypeFactory(code="WMS")
    assert fill_report(APRIL, course_type=other_course, now=at).dates == []
    assert counts(fill_report(APRIL, course_type=april_dates.course, now=at).total) == \
        (23, 6, 1, 1, 1)


# Essex's lines: weekdays 09:00–17:00 and Saturday mornings (the default would open at 08:00).
ESSEX_HOURS = {**{day: ["09:00", "17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
               "sat": ["09:00", "12:00"]}


def call(call_type, outcome, started_at, minutes=1, **about):
    return log_call(actor=AGENT, call_type=call_type, outcome=outcome,
                    duration_minutes=minutes, started_at=started_at,
                    now=started_at, **about)


@pytest.fixture
def summer_calls(in_essex):
    """July and August 2026 (BST, UTC+1). Nine calls, hand-counted (UK time):

    c1 Wed 1 Jul 09:30 new booking → booked (5 min)   open      (about the phone booking)
    c2 Wed 1 Jul 08:30 enquiry → answered (3)         closed    (before Essex's 09:00)
    c3 Wed 15 Jul 00:30 transfer → transferred (4)    closed    (23:30 UTC on the 14th)
    c4 Sat 4 Jul 10:00 payment → taken (2)            open
    c5 Sat 4 Jul 12:30 complaint → referred (10)      closed    (Saturday closes 12:00)
    c6 Sat 1 Aug 00:30 new booking → booked (6)       closed    (23:30 UTC on 31 July)
    c7 Mon 31 Aug 10:00 enquiry → answered (1)        closed    (summer bank holiday)
    c8 Mon 6 Jul 16:59 new booking → dropped (1)      open
    c9 Mon 6 Jul 17:00 enquiry → call back (1)        closed    (closing time)
    and one in June (the period before), and two bookings made in July (phone and staff).
    """
    ClientOrganisation.objects.filter(pk=in_essex.pk).update(opening_hours=ESSEX_HOURS)
    in_essex.refresh_from_db()
    course = CourseTypeFactory(code="NSAC")
    session = CourseSessionFactory(course_type=course, starts_at=utc(2026, 9, 1, 9))
    phoned = staff_booking(course, session, at=utc(2026, 7, 1, 8, 30), channel=Channel.TELEPHONE)
    staff_booking(course, session, at=utc(2026, 7, 2, 10))
    call("new_booking", "booked", utc(2026, 7, 1, 8, 30), 5, booking_id=phoned.pk)
    call("enquiry", "information_given", utc(2026, 7, 1, 7, 30), 3)
    call("transfer", "transferred", utc(2026, 7, 14, 23, 30), 4)
    call("payment", "payment_taken", utc(2026, 7, 4, 9), 2)
    call("complaint", "referred", utc(2026, 7, 4, 11, 30), 10)
    call("new_booking", "booked", utc(2026, 7, 31, 23, 30), 6)
    call("enquiry", "information_given", utc(2026, 8, 31, 9))
    call("new_booking", "call_dropped", utc(2026, 7, 6, 15, 59))
    call("enquiry", "call_back", utc(2026, 7, 6, 16))
    call("enquiry", "information_given", utc(2026, 6, 10, 10))
    return SimpleNamespace(organisation=in_essex, course=course, venue=session.venue)


def test_calls_by_type_outcome_hour_and_weekday(summer_calls):
    report = calls_report(SUMMER, organisation=summer_calls.organisation)
    assert report.total.calls == 9 and report.total.minutes == 33
    assert report.by_type == {"new_booking": 3, "enquiry": 3, "transfer": 1, "payment": 1,
                              "complaint": 1}
    assert report.by_type_and_outcome[("new_booking", "booked")] == (2, 11)
    assert report.by_type_and_outcome[("enquiry", "information_given")] == (2, 4)
    assert report.by_type_and_outcome[("enquiry", "call_back")] == (1, 1)
    hours = {hour: count for hour, count in enumerate(report.by_hour) if count}
    assert hours == {0: 2, 8: 1, 9: 1, 10: 2, 12: 1, 16: 1, 17: 1}
    assert report.by_weekday == [3, 0, 3, 0, 0, 3, 0]  # Monday first
    assert report.total.ended_in_booking == 2
    assert report.total.share(report.total.ended_in_booking) == pytest.approx(2 / 9)
    # New bookings, transfers and payments could have been online (5); the rest need a person.
    assert report.total.could_be_online == 5
    assert (report.total.bookings_made, report.total.telephone_bookings) == (2, 1)
    assert report.total.per_booking == 4.5 and report.total.per_telephone_booking == 9.0
    assert report.previous.calls == 1 and report.previous.out_of_hours == 0


def test_calls_out_of_hours_by_the_clients_hours(summer_calls):
    report = calls_report(SUMMER, organisation=summer_calls.organisation)
    assert report.total.out_of_hours == 6
    closed = {hour: count for hour, count in enumerate(report.out_of_hours_by_hour) if count}
    assert closed == {0: 2, 8: 1, 10: 1, 12: 1, 17: 1}
    # With the default hours (08:00–17:00 on weekdays, no Saturday) 08:30 on Wednesday is open
    # but Saturday 10:00 is not: the count follows the client's own hours.
    default = calls_report(SUMMER, organisation=SimpleNamespace(opening_hours={}))
    assert default.total.out_of_hours == 6
    assert default.out_of_hours_by_hour[8] == 0 and default.out_of_hours_by_hour[10] == 2
    # The 23:30 UTC call on 31 July is 00:30 on 1 August: not in July.
    july = calls_report(Period(date(2026, 7, 1), date(2026, 7, 1)),
                        organisation=summer_calls.organisation)
    assert july.total.calls == 7 and july.by_hour[0] == 1


def test_calls_filters(summer_calls):
    by_course = calls_report(SUMMER, organisation=summer_calls.organisation,
                             course_type=summer_calls.course)
    assert by_course.total.calls == 1 and by_course.by_type == {"new_booking": 1}
    by_venue = calls_report(SUMMER, organisation=summer_calls.organisation,
                            venue=summer_calls.venue)
    assert by_venue.total.calls == 1


def test_only_the_clients_own_calls_and_dates(summer_calls, south_wales):
    with schema_context(south_wales.schema_name):
        call("enquiry", "information_given", utc(2026, 7, 2, 10))
        call("complaint", "referred", utc(2026, 7, 3, 10))
        CourseSessionFactory(starts_at=utc(2026, 7, 20, 9), capacity=12)
        theirs = calls_report(SUMMER, organisation=south_wales)
        assert theirs.total.calls == 2
        assert fill_report(SUMMER).total.capacity == 12
    connection.set_tenant(summer_calls.organisation)
    assert calls_report(SUMMER, organisation=summer_calls.organisation).total.calls == 9
    # Essex's one date is in September, outside the summer period.
    assert fill_report(SUMMER).dates == []


@pytest.fixture
def auditor(essex):
    return make_user("auditor@essex.test", organisation=essex, role=Role.AUDITOR)


def signed_in(user):
    browser = Client(HTTP_HOST="essex.localhost")
    browser.force_login(user)
    return browser


def test_fill_page_and_downloads(april_dates, auditor):
    browser = signed_in(auditor)
    page = browser.get("/manage/reports/fill/", {"start": "2026-04", "end": "2026-04"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Venue and course-date fill" in body and 'role="img"' in body
    assert f'href="/manage/registers/{april_dates.first.pk}/"' in body
    assert "Abbey Hall" in body and "Bridge House" in body
    assert ">100%</text>" in body  # a fill chart always runs to 100 %
    download = browser.get("/manage/reports/fill/",
                           {"start": "2026-04", "end": "2026-04", "format": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[0] == ["Date", "Time", "Course", "Venue", "Capacity", "Booked", "Held",
                       "Attended", "Did not attend", "Fill (%)"]
    # Drawn now (December 2026): April's holds have long lapsed.
    assert [row[3:9] for row in rows[1:]] == [
        ["Abbey Hall", "10", "3", "0", "1", "1"], ["Bridge House", "5", "2", "0", "0", "0"],
        ["Abbey Hall", "8", "1", "0", "0", "0"]]
    assert rows[1][0] == "2026-04-20" and rows[1][1] == "10:00"  # 09:00 UTC is 10:00 BST
    sheet = browser.get("/manage/reports/fill/",
                        {"start": "2026-04", "end": "2026-04", "format": "xlsx"})
    values = list(load_workbook(io.BytesIO(sheet.content)).active.values)
    assert values[1][3:6] == ("Abbey Hall", 10, 3)


def test_calls_page_and_downloads(summer_calls, auditor):
    browser = signed_in(auditor)
    summer = {"start": "2026-07", "end": "2026-08"}
    page = browser.get("/manage/reports/calls/", summer)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Contact-centre calls" in body and 'role="img"' in body
    download = browser.get("/manage/reports/calls/", {**summer, "format": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[0] == ["Call type", "Outcome", "Calls", "Minutes", "Could have been online"]
    assert rows[1] == ["New booking", "Booked", "2", "11", "Yes"]
    assert sum(int(row[2]) for row in rows[1:]) == 9
    assert ["Complaint", "Referred to the client's administrators", "1", "10", "No"] in rows
    assert browser.get("/manage/reports/calls/", {**summer, "format": "pdf"}).status_code == 404


def test_bad_filters_are_named(essex, auditor):
    browser = signed_in(auditor)
    for path in ("/manage/reports/fill/", "/manage/reports/calls/"):
        backwards = browser.get(path, {"start": "2026-05", "end": "2026-04", "format": "csv"})
        assert backwards.status_code == 200 and backwards["Content-Type"].startswith("text/html")
        assert "The last month must be the same as or after the first month." in \
            backwards.content.decode()
        nonsense = browser.get(path, {"start": "2026-04", "end": "2026-04", "venue": "x'; drop"})
        body = nonsense.content.decode()
        assert nonsense.status_code == 200 and "govuk-error-summary" in body
        assert "Select a valid choice" in body


def test_index_links_the_new_reports(essex, auditor):
    body = signed_in(auditor).get("/manage/reports/").content.decode()
    assert 'href="/manage/reports/fill/"' in body and 'href="/manage/reports/calls/"' in body

