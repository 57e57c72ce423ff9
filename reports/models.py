"""Scheduled reports (client schemas): a report with its filters, sent as an attachment to
some of the client's staff monthly or weekly, with the permissions of the person who set it
up; each sending is a row of its own, unique per schedule and day, so none goes twice."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from booking.models import CourseType, Venue
from tenants.opening_hours import DAY_NAMES, DAYS

LONGEST_MONTHS = 24
LAST_DAY_OF_MONTH = 28  # every month has it


class ScheduledReport(models.Model):
    class Report(models.TextChoices):
        BOOKINGS = "bookings", _("Bookings by course and channel")
        FUNNEL = "funnel", _("Offer funnel")
        FILL = "fill", _("Venue and course-date fill")
        CALLS = "calls", _("Contact-centre calls")
        REMITTANCE = "remittance", _("Fees and police cost-recovery remittance")
        CASES = "cases", _("Special circumstances")
        MEASURES = "measures", _("Service measures")

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        WEEKLY = "weekly", _("Weekly")

    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        XLSX = "xlsx", _("Excel (XLSX)")

    report = models.CharField(max_length=16, choices=Report.choices)
    course_type = models.ForeignKey(CourseType, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    venue = models.ForeignKey(Venue, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # The period sent: this many whole months before the month of sending (monthly), or up to
    # and including the month of sending, so far (weekly).
    months = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(LONGEST_MONTHS)])
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    day_of_month = models.PositiveSmallIntegerField(
        null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(LAST_DAY_OF_MONTH)])
    weekday = models.CharField(max_length=3, blank=True, choices=[(day, DAY_NAMES[day]) for day in DAYS])
    export_format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    # Staff users live in the public schema: kept by id, checked again at every sending.
    recipient_ids = models.JSONField(default=list)
    owner_user_id = models.BigIntegerField()
    owner = models.CharField(max_length=254)  # a label that stays readable
    is_active = models.BooleanField(default=True)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(frequency="monthly", day_of_month__gte=1,
                                    day_of_month__lte=LAST_DAY_OF_MONTH, weekday="")
                           | (models.Q(frequency="weekly", day_of_month__isnull=True)
                              & ~models.Q(weekday=""))),
                name="scheduled_report_has_its_day"),
        ]

    def __str__(self):
        return f"{self.get_report_display()} ({self.get_frequency_display()})"


class ScheduledReportRun(models.Model):
    """One day's sending of a schedule, sent or failed; the unique key is what stops a second."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    schedule = models.ForeignKey(ScheduledReport, on_delete=models.CASCADE, related_name="runs")
    day = models.DateField()
    first_month = models.DateField()
    last_month = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices)
    error = models.CharField(max_length=300, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["schedule", "day"],
                                               name="one_run_per_schedule_day")]

    def __str__(self):
        return f"{self.schedule} on {self.day}: {self.status}"
