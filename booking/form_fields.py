"""Form fields every face asks with, in the GOV.UK patterns: a date of birth, a UK phone number,
a course date to choose, the support someone needs at the course; and the length limits the
database sets."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.date_input import DateProblem, parse_date_parts
from booking.models.offers import is_phone_number

EMAIL_TOO_LONG = _("Email address must be %(limit_value)s characters or less")


def column_length(model, name: str) -> int:
    """What the model's column holds: a form never accepts more than the database can store."""
    return model._meta.get_field(name).max_length


class DateOfBirthField(forms.MultiValueField):
    """GOV.UK date input (day, month, year) with the Design System's error messages."""

    def __init__(self, **kwargs):
        fields = (forms.CharField(), forms.CharField(), forms.CharField())
        super().__init__(fields=fields, require_all_fields=False, required=True,
                         widget=forms.MultiWidget(widgets=[forms.TextInput()] * 3), **kwargs)

    def compress(self, values):
        day, month, year = values or ("", "", "")
        try:
            born = parse_date_parts(day, month, year)
        except DateProblem as problem:
            raise ValidationError(self._problem_message(problem),
                                  code=problem.code) from None
        if born >= timezone.localdate():
            raise ValidationError(_("Date of birth must be in the past"), code="future")
        return born

    @staticmethod
    def _problem_message(problem: DateProblem) -> str:
        if problem.code == "required":
            return _("Enter your date of birth")
        if problem.code == "incomplete":
            part = {"day": _("day"), "month": _("month"), "year": _("year")}[problem.missing]
            return _("Date of birth must include a %(part)s") % {"part": part}
        if problem.code == "year_digits":
            return _("Year must include 4 numbers")
        return _("Date of birth must be a real date")

    def clean(self, value):
        # MultiValueField's own required checks would give a generic message; compress says more.
        return self.compress(value)


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
