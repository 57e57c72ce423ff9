"""The GOV.UK date input (day, month and year in a fieldset) and time input (one text box with an
example), as Django fields. templates/includes/date_input.html draws the date input; the error
messages name the field and the missing part, as the Design System asks."""

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.utils.translation import gettext_lazy as _

from .date_parts import DateProblem, parse_date_parts

PART_KINDS = ("day", "month", "year")
PART_LABELS = {"day": _("Day"), "month": _("Month"), "year": _("Year")}
PART_WORDS = {"day": _("day"), "month": _("month"), "year": _("year")}
YEAR_DIGITS = _("Year must include 4 numbers")
DATE_EXAMPLE = _("For example, 27 3 2027")
TIME_EXAMPLE = _("For example, 09:30 or 14:00")


class DatePartsWidget(forms.MultiWidget):
    """Three text boxes named <name>_day, <name>_month and <name>_year (or the suffixes given:
    the public journey keeps _0, _1 and _2). A whole ISO date under the field's own name
    (?date_from=2026-12-01, as older links send) is read too."""

    input_type = "date_parts"

    def __init__(self, suffixes=PART_KINDS, attrs=None):
        self.suffixes = tuple(suffixes)
        super().__init__({suffix: forms.TextInput() for suffix in self.suffixes}, attrs)

    def decompress(self, value):
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return ["", "", ""]

    def value_from_datadict(self, data, files, name):
        parts = super().value_from_datadict(data, files, name)
        whole = data.get(name)
        if not any(parts) and isinstance(whole, str) and whole.strip():
            return self.split_whole(whole.strip())
        return parts

    @staticmethod
    def split_whole(whole: str) -> list[str]:
        """2026-12-01 or 1/12/2026 as its parts; anything else in every part, so that it is
        "not a real date" rather than a date missing a part."""
        pieces = re.split(r"[-/. ]+", whole)
        if len(pieces) != 3:
            return [whole] * 3
        if len(pieces[0]) == 4:  # year first, as ISO writes it
            pieces.reverse()
        return pieces

    def value_omitted_from_data(self, data, files, name):
        return name not in data and super().value_omitted_from_data(data, files, name)


class DatePartsBoundField(BoundField):
    """What the template needs: each part's name, id, value and whether it is in error."""

    @property
    def parts(self):
        widget = self.field.widget
        value = self.value()
        if not isinstance(value, list | tuple):
            value = widget.decompress(value)
        in_error = set(self._parts_in_error())
        return [{"kind": kind, "label": PART_LABELS[kind], "value": part or "",
                 "name": f"{self.html_name}_{suffix}", "id": f"{self.auto_id}_{suffix}",
                 "width": 4 if kind == "year" else 2, "error": kind in in_error}
                for kind, suffix, part in zip(PART_KINDS, widget.suffixes, value, strict=True)]

    def _parts_in_error(self):
        if not self.errors:
            return []
        missing = getattr(self.field, "missing_part", "")
        return [missing] if missing else list(PART_KINDS)

    @property
    def error_target(self) -> str:
        """The id the error summary links to: the first part in error."""
        for part in self.parts:
            if part["error"]:
                return part["id"]
        return f"{self.auto_id}_{self.field.widget.suffixes[0]}"

    @property
    def example(self):
        return self.field.example


class DateInputField(forms.MultiValueField):
    """A date typed as day, month and year. `messages` gives the GOV.UK messages naming this
    field: "required", "incomplete" (with %(part)s, the missing part), "invalid" and optionally
    "year_digits"; the field's own clean_* or the form may add more."""

    def __init__(self, *, messages, required=True, suffixes=PART_KINDS, example=DATE_EXAMPLE,
                 **kwargs):
        self.messages = {"year_digits": YEAR_DIGITS, **messages}
        self.example = example
        self.missing_part = ""
        fields = (forms.CharField(), forms.CharField(), forms.CharField())
        super().__init__(fields=fields, require_all_fields=False, required=required,
                         widget=DatePartsWidget(suffixes), **kwargs)

    def get_bound_field(self, form, field_name):
        return DatePartsBoundField(form, self, field_name)

    def compress(self, values):
        day, month, year = values or ("", "", "")
        try:
            return parse_date_parts(day, month, year)
        except DateProblem as problem:
            if problem.code == "incomplete":
                self.missing_part = problem.missing
                raise ValidationError(self.messages["incomplete"], code="incomplete",
                                      params={"part": PART_WORDS[problem.missing]}) from None
            raise ValidationError(self.messages[problem.code], code=problem.code) from None

    def clean(self, value):
        # MultiValueField's own required checks give a generic message; compress says more.
        self.missing_part = ""
        if not self.required and not any(part.strip() for part in (value or ()) if part):
            return None
        cleaned = self.compress(value)
        self.run_validators(cleaned)
        return cleaned


class TimeInputField(forms.TimeField):
    """A time of day in one text box, 24-hour, with an example as its hint (GOV.UK has no time
    pattern; this is what GOV.UK services ask with). 9:30, 09:30 and 09.30 are all read."""

    input_formats = ["%H:%M", "%H.%M", "%H:%M:%S"]

    def __init__(self, *, help_text=TIME_EXAMPLE, **kwargs):
        widget = forms.TextInput(attrs={"width": "5"})
        super().__init__(help_text=help_text, widget=widget, **kwargs)

    def prepare_value(self, value):
        if hasattr(value, "strftime"):
            return value.strftime("%H:%M")
        return value
