"""Calls the contact centre logs."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .bookings import Booking
from .catalogue import CourseType
from .offers import Offer


def in_london(sql_type: str, output_field, part: str = "") -> models.Func:
    """started_at as the UK wall clock showed it, as a date, a time or one part (an hour, an
    ISO weekday): immutable SQL, so the database can keep it in a generated column."""
    local = "(%(expressions)s AT TIME ZONE 'Europe/London')"
    sql = f"EXTRACT({part} FROM {local})::{sql_type}" if part else f"{local}::{sql_type}"
    return models.Func(models.F("started_at"), template=sql, output_field=output_field)


class CallLog(models.Model):
    """One telephone call handled by a contact-centre agent: what it was about, how it ended,
    how long it took. A call about an offer also appends "call.logged" to the offer's timeline.
    Rows are never changed once written (but for the course type copied from the offer)."""

    class Type(models.TextChoices):
        NEW_BOOKING = "new_booking", _("New booking")
        TRANSFER = "transfer", _("Transfer")
        CANCELLATION = "cancellation", _("Cancellation")
        PAYMENT = "payment", _("Payment")
        ENQUIRY = "enquiry", _("Enquiry")
        COMPLAINT = "complaint", _("Complaint")
        SPECIAL_CIRCUMSTANCES = "special_circumstances", _("Special circumstances")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        BOOKED = "booked", _("Booked")
        TRANSFERRED = "transferred", _("Transferred to another date")
        CANCELLED = "cancelled", _("Cancelled")
        PAYMENT_TAKEN = "payment_taken", _("Payment taken")
        INFORMATION_GIVEN = "information_given", _("Question answered")
        REFERRED = "referred", _("Referred to the client's administrators")
        CALL_BACK = "call_back", _("Call back needed")
        NOT_RESOLVED = "not_resolved", _("Not resolved")
        CALL_DROPPED = "call_dropped", _("Call dropped")

    MAX_MINUTES = 600

    call_type = models.CharField(max_length=24, choices=Type.choices)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    duration_minutes = models.PositiveIntegerField()
    notes = models.TextField(blank=True)
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="calls")
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="calls")
    # The agent is a user of the public schema: kept by id and label, like OfferEvent's actor.
    agent_user_id = models.BigIntegerField(null=True, blank=True)
    agent_label = models.CharField(max_length=254)
    started_at = models.DateTimeField()
    logged_at = models.DateTimeField(auto_now_add=True)
    # The UK wall-clock moment the call started, worked out by the database as the row is
    # written (never by hand): the calls report buckets and judges opening hours by it, and
    # converting every call of a year on each visit took most of the report's second.
    local_date = models.GeneratedField(expression=in_london("date", models.DateField()),
                                       output_field=models.DateField(), db_persist=True)
    local_time = models.GeneratedField(expression=in_london("time", models.TimeField()),
                                       output_field=models.TimeField(), db_persist=True)
    local_hour = models.GeneratedField(
        expression=in_london("integer", models.IntegerField(), "HOUR"),
        output_field=models.IntegerField(), db_persist=True)
    iso_weekday = models.GeneratedField(
        expression=in_london("integer", models.IntegerField(), "ISODOW"),
        output_field=models.IntegerField(), db_persist=True)
    # The course type of the offer the call is about, copied from it (create_call, and again
    # when an import changes the offer's: booking/tallies.py), so the course filter needs no
    # join to a million offers.
    course_type = models.ForeignKey(CourseType, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["call_type", "started_at"], name="call_type_time"),
            models.Index(fields=["agent_user_id", "started_at"], name="call_agent_time"),
            # The calls report: a period's calls read from the index alone.
            models.Index(fields=["started_at"], name="call_report",
                         include=["call_type", "outcome", "duration_minutes", "local_date",
                                  "local_time", "local_hour", "iso_weekday", "course_type",
                                  "booking"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(duration_minutes__lte=600),
                                   name="call_duration_at_most_10_hours"),
        ]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.call_type} {self.outcome}"
