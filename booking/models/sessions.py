"""Course dates: one date of one course, at a venue or online."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .catalogue import CourseType, DeliveryMode, Language, Trainer, Venue


class CourseSession(models.Model):
    """One date of one course: at a venue, or online (no venue)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")

    course_type = models.ForeignKey(CourseType, on_delete=models.PROTECT, related_name="sessions")
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="sessions")
    delivery_mode = models.CharField(max_length=16, choices=DeliveryMode.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    # Confirmed bookings, kept under the session's row lock; live holds are counted at query
    # time. The check constraint turns any logic slip into an error instead of an oversold course.
    seats_booked = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    trainers = models.ManyToManyField(Trainer, related_name="sessions", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    joining_url = models.URLField(blank=True)
    # When the row last changed, for the client API's `updated_since`. A database trigger
    # (migration 0017_api_change_times) sets it on every UPDATE, including queryset updates and saves with
    # update_fields, which Django's auto_now would miss; the default, for rows inserted in SQL.
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="session_changed"),
            models.Index(fields=["course_type", "status", "starts_at"], name="session_search"),
            # The fill report: a period's dates, their venue totals summed from the index.
            models.Index(fields=["starts_at"], name="session_fill",
                         include=["venue", "course_type", "capacity", "status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seats_booked__lte=models.F("capacity")),
                                   name="session_never_overbooked"),
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="session_ends_after_start"),
            models.CheckConstraint(
                condition=(models.Q(delivery_mode="online", venue__isnull=True)
                           | (~models.Q(delivery_mode="online") & models.Q(venue__isnull=False))),
                name="session_venue_matches_mode",
            ),
        ]

    def __str__(self):
        where = self.venue.town if self.venue_id else _("Online")
        return f"{self.course_type.code} {self.starts_at:%d %b %Y %H:%M} {where}"

    @property
    def is_online(self) -> bool:
        return self.delivery_mode == DeliveryMode.ONLINE
