"""Scheduled reports: setting one up (a report, its filters, monthly on day N or weekly on a
weekday, recipients among the client's staff) and sending those due, each as the person who
set it up. A sending is one durable transaction: its run row (unique per schedule and day)
and its e-mails through the outbox, so a re-run, a second worker or a retry never sends the
same day twice; a schedule whose owner no longer may read reports is not sent, and its run is
marked failed and counted."""

import base64
import logging
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.permissions import is_allowed
from audit.services import record as audit
from outbox.services import queue_email
from tenants.opening_hours import DAYS

from . import views
from .models import LAST_DAY_OF_MONTH, LONGEST_MONTHS, ScheduledReport, ScheduledReportRun
from .periods import Period, add_months, month_start

logger = logging.getLogger(__name__)
READ = "reports.view"
MIMETYPES = {"csv": "text/csv",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ScheduleRefused(ValidationError):
    """A schedule that cannot be kept as asked; the message names the field's problem."""


@dataclass(frozen=True)
class ScheduleRequest:
    report: str
    frequency: str
    day_of_month: int | None
    weekday: str
    months: int
    export_format: str
    recipient_ids: tuple[int, ...]
    course_type: object = None
    venue: object = None


def client_staff(organisation) -> list[User]:
    """The client's own staff who may receive a report: active members with any role here."""
    ids = (Membership.objects.filter(organisation=organisation, is_active=True,
                                     user__is_active=True).values("user_id"))
    return list(User.objects.filter(pk__in=ids).order_by("email"))


def _checked(request: ScheduleRequest, organisation) -> dict:
    errors = {}
    if request.report not in ScheduledReport.Report.values:
        errors["report"] = _("Select a report.")
    if request.frequency == ScheduledReport.Frequency.MONTHLY:
        if not isinstance(request.day_of_month, int) or not \
                1 <= request.day_of_month <= LAST_DAY_OF_MONTH:
            errors["day_of_month"] = _("Enter a day of the month from 1 to %(last)d.") % {
                "last": LAST_DAY_OF_MONTH}
    elif request.frequency == ScheduledReport.Frequency.WEEKLY:
        if request.weekday not in DAYS:
            errors["weekday"] = _("Select a day of the week.")
    else:
        errors["frequency"] = _("Select how often to send the report.")
    if not isinstance(request.months, int) or not 1 <= request.months <= LONGEST_MONTHS:
        errors["months"] = _("Enter a number of months from 1 to %(count)d.") % {
            "count": LONGEST_MONTHS}
    if request.export_format not in ScheduledReport.Format.values:
        errors["export_format"] = _("Select CSV or Excel.")
    staff = {user.pk for user in client_staff(organisation)}
    if not request.recipient_ids:
        errors["recipients"] = _("Select at least one person to send the report to.")
    elif any(user_id not in staff for user_id in request.recipient_ids):
        errors["recipients"] = _("Send the report only to your organisation's own staff.")
    if errors:
        raise ScheduleRefused(errors)
    monthly = request.frequency == ScheduledReport.Frequency.MONTHLY
    return {"report": request.report, "frequency": request.frequency,
            "day_of_month": request.day_of_month if monthly else None,
            "weekday": "" if monthly else request.weekday, "months": request.months,
            "export_format": request.export_format,
            "recipient_ids": sorted(set(request.recipient_ids)),
            "course_type": request.course_type, "venue": request.venue}


def create_schedule(request: ScheduleRequest, *, organisation, acting_user,
                    ip_address=None) -> ScheduledReport:
    fields = _checked(request, organisation)
    if not is_allowed(acting_user, organisation, READ):
        raise ScheduleRefused(_("You cannot read reports here, so you cannot schedule one."))
    with transaction.atomic(durable=True):
        schedule = ScheduledReport.objects.create(**fields, owner_user_id=acting_user.pk,
                                                  owner=acting_user.email)
        audit(actor=acting_user, action="reports.schedule_created", obj=schedule,
              organisation=organisation, ip_address=ip_address,
              after={"report": schedule.report, "frequency": schedule.frequency,
                     "recipients": schedule.recipient_ids})
    return schedule


def stop_schedule(schedule_id, *, organisation, acting_user, ip_address=None) -> None:
    with transaction.atomic(durable=True):
        schedule = ScheduledReport.objects.select_for_update().filter(pk=schedule_id,
                                                                      is_active=True).first()
        if schedule is None:
            raise ScheduleRefused(_("That scheduled report does not exist or was already "
                                    "stopped."))
        schedule.is_active = False
        schedule.save(update_fields=["is_active"])
        audit(actor=acting_user, action="reports.schedule_stopped", obj=schedule,
              organisation=organisation, ip_address=ip_address)


# --- sending --------------------------------------------------------------------------------


def is_due(schedule: ScheduledReport, day: date) -> bool:
    if schedule.frequency == ScheduledReport.Frequency.MONTHLY:
        return day.day == schedule.day_of_month
    return DAYS[day.weekday()] == schedule.weekday


def period_for(schedule: ScheduledReport, day: date) -> Period:
    """Monthly: the whole months before the month of sending. Weekly: up to and including the
    month of sending (so far)."""
    this_month = month_start(day)
    if schedule.frequency == ScheduledReport.Frequency.MONTHLY:
        return Period(add_months(this_month, -schedule.months), add_months(this_month, -1))
    return Period(add_months(this_month, -(schedule.months - 1)), this_month)


def _export(schedule: ScheduledReport, owner, organisation, period: Period):
    """The report's own download, made by its page's view with the owner's filters. The view
    is called past its sign-in wrapper: the owner's right to read reports is checked here
    (is_allowed, the same check), and there is no browser session for a second factor."""
    view = getattr(views, views.SCHEDULABLE[schedule.report])
    while hasattr(view, "__wrapped__"):
        view = view.__wrapped__
    query = {"start": f"{period.first:%Y-%m}", "end": f"{period.last:%Y-%m}",
             "format": schedule.export_format}
    if schedule.course_type_id:
        query["course_type"] = schedule.course_type_id
    if schedule.venue_id:
        query["venue"] = schedule.venue_id
    request = RequestFactory().get("/manage/reports/", query)
    request.user, request.tenant = owner, organisation
    response = view(request)
    if not response.get("Content-Disposition", "").startswith("attachment"):
        raise ScheduleRefused(_("The report could not be made with the filters chosen."))
    filename = response["Content-Disposition"].split('filename="')[1].rstrip('"')
    return filename, response.content


def _fail(schedule, run_day, period, error: str, now) -> ScheduledReportRun:
    run = ScheduledReportRun.objects.create(
        schedule=schedule, day=run_day, first_month=period.first, last_month=period.last,
        status=ScheduledReportRun.Status.FAILED, error=error[:300], created_at=now)
    schedule.failures += 1
    schedule.last_error = error[:300]
    schedule.save(update_fields=["failures", "last_error"])
    return run


def send_schedule(schedule_id, *, organisation, now=None) -> str:
    """Send one schedule for today if it is due and not sent today: sent, failed, not_due or
    already."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    try:
        with transaction.atomic(durable=True):
            schedule = ScheduledReport.objects.select_for_update().get(pk=schedule_id)
            if not schedule.is_active or not is_due(schedule, today):
                return "not_due"
            if schedule.runs.filter(day=today).exists():
                return "already"
            period = period_for(schedule, today)
            owner = User.objects.filter(pk=schedule.owner_user_id, is_active=True).first()
            if owner is None or not is_allowed(owner, organisation, READ):
                _fail(schedule, today, period, _("%(owner)s can no longer read reports, so "
                                                 "the report was not sent.")
                      % {"owner": schedule.owner}, now)
                return "failed"
            staff = {user.pk: user for user in client_staff(organisation)}
            recipients = [staff[user_id] for user_id in schedule.recipient_ids
                          if user_id in staff]
            if not recipients:
                _fail(schedule, today, period, _("None of the recipients works here any more."),
                      now)
                return "failed"
            with translation.override("en"):
                filename, content = _export(schedule, owner, organisation, period)
                subject = _("%(report)s, %(first)s to %(last)s") % {
                    "report": schedule.get_report_display(), "first": f"{period.first:%B %Y}",
                    "last": f"{period.last:%B %Y}"}
                text = _("The scheduled report %(report)s for %(client)s is attached. It was "
                         "set up by %(owner)s; to stop it, go to Reports, then Scheduled "
                         "reports.") % {"report": schedule.get_report_display(),
                                        "client": organisation.name, "owner": schedule.owner}
            # The outbox keeps text files as text and binary ones as base64.
            attachment = (filename, content.decode("utf-8") if schedule.export_format == "csv"
                          else base64.b64encode(content).decode("ascii"),
                          MIMETYPES[schedule.export_format])
            ScheduledReportRun.objects.create(
                schedule=schedule, day=today, first_month=period.first,
                last_month=period.last, status=ScheduledReportRun.Status.SENT,
                recipients=len(recipients), created_at=now)
            for user in recipients:
                queue_email(kind="scheduled_report", to=user.email, subject=subject, text=text,
                            attachments=[attachment], regarding={"schedule": schedule.pk},
                            dedupe_key=f"scheduled-report:{connection.schema_name}:"
                                       f"{schedule.pk}:{today:%Y-%m-%d}:{user.pk}")
            schedule.last_sent_at = now
            schedule.save(update_fields=["last_sent_at"])
            return "sent"
    except IntegrityError:  # another worker sent today's run first
        return "already"
    except Exception as error:  # a report that cannot be made is a failed run, counted
        if isinstance(error, ScheduleRefused):
            message = error.messages[0]
        else:
            logger.exception("Scheduled report %s could not be made", schedule_id)
            message = _("The report could not be made; the error was logged.")
        with transaction.atomic(durable=True):
            schedule = ScheduledReport.objects.select_for_update().get(pk=schedule_id)
            if not schedule.runs.filter(day=today).exists():
                _fail(schedule, today, period_for(schedule, today), message, now)
        return "failed"


def send_due_reports(*, organisation, now=None) -> dict:
    counts: dict[str, int] = {}
    for schedule_id in ScheduledReport.objects.filter(is_active=True).values_list("pk",
                                                                                  flat=True):
        outcome = send_schedule(schedule_id, organisation=organisation, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
