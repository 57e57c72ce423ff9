"""Form fields every face asks with, in the GOV.UK patterns: a date of birth, a UK phone number,
a course date to choose, the support someone needs at the course; and the length limits the
database sets."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models.offers import is_phone_number
from govuk_forms.fields import DateInputField

EMAIL_TOO_LONG = _("Email address must be %(limit_value)s characters or less")


def column_length(model, name: str) -> int:
    """What the model's column holds: a form never accepts more than the database can store."""
    return model._meta.get_field(name).max_length


class DateOfBirthField(DateInputField):
    """GOV.UK date input (day, month, year) with the Design System's error messages; its parts
    keep the names _0, _1 and _2 that the journey's links and tests use."""

    def __init__(self, **kwargs):
        super().__init__(messages={"required": _("Enter your date of birth"),
                                   "incomplete": _("Date of birth must include a %(part)s"),
                                   "invalid": _("Date of birth must be a real date")},
                         suffixes=("0", "1", "2"), example="", **kwargs)

    def compress(self, values):
        born = super().compress(values)
        if born >= timezone.localdate():
            raise ValidationError(_("Date of birth must be in the past"), code="future")
        return born


class ChooseSessionField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(error_messages={"required": _("Select a course date"),
                                         "invalid": _("Select a course date")}, **kwargs)


ACCESS_CHOICES = [
    ("interpreter", _("An interpreter")),
    ("step_free", _("Step-free access")),
    ("hearing_loop", _("A hearing loop")),
    ("other", _("Something else")),
]


class PhoneNumberField(forms.CharField):
    """A UK number as people type it: 10 to 13 digits, with spaces, brackets, + or - between."""

    def clean(self, value):
        phone = super().clean(value)
        if not phone:
            return phone
        if not is_phone_number(phone):
            raise ValidationError(_("Enter a phone number, like 01632 960 001 or 07700 900 982"))
        return phone


class AccessNeedsMixin:
    """For a form with `access` and `access_notes`: an interpreter or "something else" cannot be
    arranged without knowing what is needed. Each form words `notes_needed` for its reader."""

    notes_needed = None

    def clean(self):
        cleaned = super().clean()
        needs_notes = {"interpreter", "other"} & set(cleaned.get("access") or [])
        if needs_notes and not (cleaned.get("access_notes") or "").strip():
            self.add_error("access_notes", self.notes_needed)
        return cleaned


class FeeWaiverMixin:
    """For staff forms that take a fee, where the role allows letting it off
    ("bookings.waive_fee"): a "waive the fee" box and the reason, which is then required. Pass
    `can_waive`; without it the form has neither field."""

    def __init__(self, *args, can_waive: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if can_waive:
            self.fields["waive_fee"] = forms.BooleanField(
                label=_("Waive the fee: confirm without taking a payment"), required=False)
            self.fields["waiver_reason"] = forms.CharField(
                label=_("Why is the fee waived?"), required=False, max_length=500,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Recorded on the booking's timeline"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("waive_fee") and not (cleaned.get("waiver_reason") or "").strip():
            self.add_error("waiver_reason", _("Enter why the fee is waived"))
        return cleaned
