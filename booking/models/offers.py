"""Offers from the police referral feed."""

import phonenumbers
from django.db import models
from django.utils.translation import gettext_lazy as _

from .catalogue import CourseType, Language

# What a typed phone number may hold besides digits. Letters are refused rather than read as
# a keypad's (phonenumbers would take "ESX-500002" for a number).
PHONE_PUNCTUATION = set(" +()-.")


def is_phone_number(text: str) -> bool:
    """The rule a number must pass wherever it comes in (the public form, staff forms, offer
    imports): a UK number as people type it, 10 to 13 digits with spaces, brackets, + or -."""
    digits = sum(c.isdigit() for c in text)
    return 10 <= digits <= 13 and all(c in "0123456789 +()-" for c in text)


def phone_e164(number: str) -> str:
    """The number in E.164 (+447700900982) however it was written, UK numbers by default; ""
    for anything that cannot be a phone number. Possible rather than valid numbers count, so
    Ofcom's 07700 900xxx numbers for drama and tests are kept."""
    text = (number or "").strip()
    if not any(c.isdigit() for c in text) or any(
            not c.isdigit() and c not in PHONE_PUNCTUATION for c in text):
        return ""
    try:
        parsed = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class Offer(models.Model):
    """A police referral: this person may book this course until the critical date."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        BOOKED = "booked", _("Booked")
        COMPLETED = "completed", _("Attended and completed")
        DID_NOT_ATTEND = "did_not_attend", _("Did not attend")
        REFUSED_ENTRY = "refused_entry", _("Refused entry")
        NOT_COMPLETED = "not_completed", _("Left early or not completed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired (returned to police)")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SPECIAL_ARRANGEMENT = "special_arrangement", _("Special arrangement pending")

    class Source(models.TextChoices):
        CSV = "csv", _("CSV import")
        API = "api", _("API")
        MANUAL = "manual", _("Manual")

    reference = models.CharField(max_length=32, unique=True)
    course_type = models.ForeignKey(CourseType, on_delete=models.PROTECT, related_name="offers")
    offence_date = models.DateField()
    booking_period_end = models.DateField()
    critical_date = models.DateField()
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    # The phone number as the contact centre searches for it; set with `phone` by set_phone.
    phone_e164 = models.CharField(max_length=16, blank=True, editable=False)
    licence_number = models.CharField(max_length=16, blank=True)
    # The force that referred the person, as the referral feed names it (its police cost-recovery
    # part is remitted to it); blank: the client's own force.
    police_force = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    # Access requirements: a list of codes (interpreter, step_free, hearing_loop, other).
    access_requirements = models.JSONField(default=list, blank=True)
    access_notes = models.TextField(blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.OFFERED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when the person's details were erased (booking.services.retention): the row stays,
    # pseudonymised, so counts and money still add up, but no search or page finds it.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["critical_date", "reference"]
        indexes = [
            models.Index(fields=["status", "critical_date"], name="offer_status_critical"),
            models.Index(fields=["last_name", "date_of_birth"], name="offer_name_dob"),
            models.Index(fields=["phone_e164"], name="offer_phone_e164"),
            # Reports: the offers that arrived in a period, read from the index alone.
            models.Index(fields=["created_at"], name="offer_arrived",
                         include=["id", "course_type", "status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(critical_date__gt=models.F("offence_date")),
                                   name="offer_critical_after_offence"),
        ]

    def __str__(self):
        return self.reference

    def set_phone(self, number: str) -> None:
        """The phone number as given, and the form it is searched by: every write of `phone`
        goes through here (save both fields)."""
        self.phone = number
        self.phone_e164 = phone_e164(number)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
