"""What a client offers: course types, venues, trainers and their time away."""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from tenants.opening_hours import DAYS


class DeliveryMode(models.TextChoices):
    CLASSROOM = "classroom", _("Classroom")
    ONLINE = "online", _("Online")
    PRACTICAL = "practical", _("Practical")


class CourseType(models.Model):
    """A kind of course a client offers (NSAC, NMAC, …), with its fee and policies."""

    code = models.CharField(
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9]{2,12}$", _("Use 2–12 letters or digits."))],
    )
    name_en = models.CharField(max_length=200)
    name_cy = models.CharField(max_length=200, blank=True)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(30)])
    delivery_modes = models.JSONField(default=list)
    # The 3-year rule (one course per family in three years) is applied per family.
    eligibility_family = models.CharField(max_length=32)
    provider_fee_pence = models.PositiveIntegerField()
    police_cost_recovery_pence = models.PositiveIntegerField()
    vat_applies = models.BooleanField(default=False)
    # Transfer policy: free up to `free_transfer_notice_days` before the course, then a fee;
    # no transfer inside `transfer_cutoff_hours`; at most `max_transfers`.
    free_transfer_notice_days = models.PositiveIntegerField(default=7)
    late_transfer_fee_pence = models.PositiveIntegerField(default=1500)
    transfer_cutoff_hours = models.PositiveIntegerField(default=24)
    max_transfers = models.PositiveIntegerField(default=2)
    online_booking_lead_hours = models.PositiveIntegerField(default=48)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(delivery_modes__isnull=False), name="course_type_has_modes"
            ),
        ]

    def __str__(self):
        return f"{self.code} — {self.name_en}"

    def name(self, language: str) -> str:
        return self.name_cy if language.startswith("cy") and self.name_cy else self.name_en

    @property
    def fee_pence(self) -> int:
        return self.provider_fee_pence + self.police_cost_recovery_pence


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    WELSH = "cy", _("Welsh")


class Venue(models.Model):
    name = models.CharField(max_length=200)
    # A bilingual client's Welsh name for the venue; the English name stands when it is blank.
    name_cy = models.CharField(max_length=200, blank=True)
    address = models.TextField()
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=8)
    # Placed from the postcode-sector centroids (integrations/postcodes.py) when saved by a service.
    latitude = models.FloatField()
    longitude = models.FloatField()
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    step_free = models.BooleanField(default=False)
    hearing_loop = models.BooleanField(default=False)
    parking = models.BooleanField(default=False)
    directions_en = models.TextField(blank=True)
    directions_cy = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    # When the row last changed, for the client API's `updated_since`. A database trigger
    # (migration 0017_api_change_times) sets it on every UPDATE, including queryset updates and saves with
    # update_fields, which Django's auto_now would miss; the default, for rows inserted in SQL.
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["town", "name"]
        indexes = [models.Index(fields=["updated_at", "id"], name="venue_changed")]

    def __str__(self):
        return f"{self.name}, {self.town}"

    def name_in(self, language: str) -> str:
        return self.name_cy if language.startswith("cy") and self.name_cy else self.name

    def directions_in(self, language: str) -> str:
        if language.startswith("cy") and self.directions_cy:
            return self.directions_cy
        return self.directions_en

    def address_lines(self) -> list[str]:
        """The address without a line that only repeats the venue's name (either language's),
        which is shown above it already."""
        names = {self.name.strip().casefold(), self.name_cy.strip().casefold()} - {""}
        return [line.strip() for line in self.address.splitlines()
                if line.strip() and line.strip().rstrip(",").casefold() not in names]


def every_day() -> list[str]:
    return list(DAYS)


class Trainer(models.Model):
    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    # The trainer's staff login (public schema), if they record outcomes themselves.
    user_id = models.BigIntegerField(null=True, blank=True)
    course_types = models.ManyToManyField(CourseType, related_name="trainers", blank=True)
    is_active = models.BooleanField(default=True)
    # Days of the week the trainer takes courses (tenants.opening_hours.DAYS: "mon" … "sun");
    # time away is TrainerAbsence.
    working_days = models.JSONField(default=every_day)

    class Meta:
        ordering = ["full_name"]

    def __str__(self):
        return self.full_name


class TrainerAbsence(models.Model):
    """Days a trainer cannot teach (leave, training, illness): no course date is given them."""

    trainer = models.ForeignKey(Trainer, on_delete=models.CASCADE, related_name="absences")
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["first_day"]
        constraints = [models.CheckConstraint(condition=models.Q(last_day__gte=models.F("first_day")),
                                              name="absence_ends_after_it_starts")]

    def __str__(self):
        return f"{self.trainer} away {self.first_day}–{self.last_day}"
