"""Scheduled reports: set up with a clear error for each bad answer (day N, weekday, months,
a recipient of another client), sent on their day as an attachment with the owner's
permissions, never twice for the same day, not sent (and counted as failed) once the owner
can no longer read reports, and each client's schedules its own."""

import base64
from datetime import UTC, date, datetime

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import Membership
from accounts.roles import Role
from booking.models import Channel
from booking.tasks import run_for_every_client
from outbox.models import OutboundMessage
from reports import tasks as report_tasks  # registers the job, as the worker's autodiscovery does
from reports.models import ScheduledReport, ScheduledReportRun
from reports.periods import Period
from reports.scheduling import (
    ScheduleRefused,
    ScheduleRequest,
    create_schedule,
    period_for,
    send_due_reports,
    send_schedule,
)

from ..conftest import deliver_outbox, make_user
from ..factories import CourseSessionFactory, CourseTypeFactory, OfferFactory, book_offer

MAY_3 = datetime(2026, 5, 3, 8, tzinfo=UTC)  # a Sunday


def monthly(recipients, **changes):
    return ScheduleRequest(**{"report": "bookings", "frequency": "monthly", "day_of_month": 3,
                              "weekday": "", "months": 1, "export_format": "csv",
                              "recipient_ids": tuple(recipients), **changes})


@pytest.fixture
def auditor(essex):
    return make_user("auditor@essex.test", organisation=essex, role=Role.AUDITOR)


@pytest.fixture
def april_booking(in_essex):
    course = CourseTypeFactory(code="NSAC")
    session = CourseSessionFactory(course_type=course,
                                   starts_at=datetime(2026, 5, 20, 9, tzinfo=UTC))
    book_offer(OfferFactory(course_type=course, today=date(2026, 3, 1), critical_in=150),
               session, channel=Channel.ADMIN, now=datetime(2026, 4, 10, 9, tzinfo=UTC))


def test_bad_schedules_are_named(in_essex, essex, essex_admin, south_wales_admin):
    for changes, field in (({"day_of_month": 0}, "day_of_month"),
                           ({"day_of_month": 29}, "day_of_month"),
                           ({"frequency": "weekly", "weekday": "xyz"}, "weekday"),
                           ({"months": 25}, "months"), ({"report": "nope"}, "report"),
                           ({"export_format": "pdf"}, "export_format")):
        with pytest.raises(ScheduleRefused) as refused:
            create_schedule(monthly([essex_admin.pk], **changes), organisation=essex,
                            acting_user=essex_admin)
        assert field in refused.value.message_dict
    with pytest.raises(ScheduleRefused) as other_client:
        create_schedule(monthly([south_wales_admin.pk]), organisation=essex,
                        acting_user=essex_admin)
    assert other_client.value.message_dict["recipients"] == [
        "Send the report only to your organisation's own staff."]
    assert not ScheduledReport.objects.exists()


def test_periods_sent():
    schedule = ScheduledReport(frequency="monthly", day_of_month=3, months=2)
    assert period_for(schedule, date(2026, 5, 3)) == Period(date(2026, 3, 1), date(2026, 4, 1))
    weekly = ScheduledReport(frequency="weekly", weekday="sun", months=1)
    assert period_for(weekly, date(2026, 5, 3)) == Period(date(2026, 5, 1), date(2026, 5, 1))


def test_sent_on_its_day_once_as_the_owner(april_booking, essex, essex_admin, auditor):
    schedule = create_schedule(monthly([auditor.pk, essex_admin.pk]), organisation=essex,
                               acting_user=essex_admin)
    assert send_schedule(schedule.pk, organisation=essex,
                         now=datetime(2026, 5, 2, 8, tzinfo=UTC)) == "not_due"
    assert send_schedule(schedule.pk, organisation=essex, now=MAY_3) == "sent"
    assert send_schedule(schedule.pk, organisation=essex, now=MAY_3) == "already"
    assert send_due_reports(organisation=essex, now=MAY_3) == {"already": 1}
    run = ScheduledReportRun.objects.get()
    assert (run.status, run.first_month, run.recipients) == ("sent", date(2026, 4, 1), 2)
    sent = deliver_outbox()
    assert sorted(message.to[0] for message in sent) == sorted([essex_admin.email,
                                                                 "auditor@essex.test"])
    name, content, mimetype = sent[0].attachments[0]
    assert name == "bookings-by-channel-2026-04-to-2026-04.csv" and mimetype == "text/csv"
    text = content if isinstance(content, str) else content.decode("utf-8")
    assert text.startswith("\ufeffMonth,Course") and ",1," in text  # April's one booking
    assert OutboundMessage.objects.count() == 2


def test_excel_attachment(april_booking, essex, essex_admin):
    schedule = create_schedule(monthly([essex_admin.pk], export_format="xlsx",
                                       frequency="weekly", weekday="sun", day_of_month=None),
                               organisation=essex, acting_user=essex_admin)
    assert send_schedule(schedule.pk, organisation=essex, now=MAY_3) == "sent"
    stored = OutboundMessage.objects.get().attachments[0]
    assert base64.b64decode(stored["content"]).startswith(b"PK")  # a zip: the workbook
    (email,) = deliver_outbox()
    assert email.attachments[0][1].startswith(b"PK")


def test_not_sent_once_the_owner_lost_the_permission(april_booking, essex, auditor):
    owner = make_user("officer@essex.test", organisation=essex, role=Role.BOOKING_OFFICER)
    schedule = create_schedule(monthly([auditor.pk]), organisation=essex, acting_user=owner)
    Membership.objects.filter(user=owner).update(role=Role.TRAINER)
    assert send_schedule(schedule.pk, organisation=essex, now=MAY_3) == "failed"
    assert send_schedule(schedule.pk, organisation=essex, now=MAY_3) == "already"
    schedule.refresh_from_db()
    assert schedule.failures == 1
    assert "can no longer read reports" in schedule.last_error
    assert ScheduledReportRun.objects.get().status == "failed"
    assert not OutboundMessage.objects.exists()


def test_the_beat_job_and_two_clients(april_booking, essex, essex_admin, south_wales,
                                      south_wales_admin):
    create_schedule(monthly([essex_admin.pk]), organisation=essex, acting_user=essex_admin)
    with schema_context(south_wales.schema_name):
        create_schedule(monthly([south_wales_admin.pk], day_of_month=4),
                        organisation=south_wales, acting_user=south_wales_admin)
        assert send_due_reports(organisation=south_wales, now=MAY_3) == {"not_due": 1}
    # The dispatcher sends the job into every client (today is no one's day: nothing sent).
    result = run_for_every_client(report_tasks.SEND_SCHEDULED_REPORTS)
    assert essex.schema_name in result["dispatched"] and not result["failed"]
    browser = Client(HTTP_HOST="essex.localhost")
    browser.force_login(essex_admin)
    page = browser.get("/manage/reports/schedules/").content.decode()
    assert essex_admin.email in page and south_wales_admin.email not in page


def signed_in(user):
    browser = Client(HTTP_HOST="essex.localhost")
    browser.force_login(user)
    return browser


def test_schedule_pages(in_essex, essex, essex_admin, auditor, south_wales_admin):
    browser = signed_in(essex_admin)
    assert browser.get("/manage/reports/schedules/new/").status_code == 200
    bad = browser.post("/manage/reports/schedules/new/", {
        "report": "bookings", "months": "1", "frequency": "monthly", "day_of_month": "abc",
        "export_format": "csv", "recipients": [str(south_wales_admin.pk)]})
    body = bad.content.decode()
    assert bad.status_code == 200 and "govuk-error-summary" in body
    assert "Enter a day of the month from 1 to 28." in body
    assert "Send the report only to your organisation&#x27;s own staff." in body
    no_day = browser.post("/manage/reports/schedules/new/", {
        "report": "fill", "months": "1", "frequency": "monthly", "day_of_month": "31",
        "export_format": "csv", "recipients": [str(auditor.pk)]})
    assert "Enter a day of the month from 1 to 28." in no_day.content.decode()
    made = browser.post("/manage/reports/schedules/new/", {
        "report": "fill", "months": "2", "frequency": "weekly", "weekday": "mon",
        "export_format": "xlsx", "recipients": [str(auditor.pk)]})
    assert made.status_code == 302
    schedule = ScheduledReport.objects.get()
    assert (schedule.weekday, schedule.day_of_month, schedule.owner) == \
        ("mon", None, essex_admin.email)
    listing = browser.get("/manage/reports/schedules/").content.decode()
    assert "Venue and course-date fill" in listing and "auditor@essex.test" in listing
    # Auditors read reports and schedules but change nothing; trainers and other clients'
    # staff see none of it.
    assert signed_in(auditor).get("/manage/reports/schedules/").status_code == 200
    assert signed_in(auditor).post(f"/manage/reports/schedules/{schedule.pk}/stop/") \
        .status_code == 403
    trainer = make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER)
    assert signed_in(trainer).get("/manage/reports/schedules/").status_code == 403
    assert signed_in(south_wales_admin).get("/manage/reports/schedules/").status_code == 403
    assert browser.post(f"/manage/reports/schedules/{schedule.pk}/stop/").status_code == 302
    assert not ScheduledReport.objects.get().is_active
