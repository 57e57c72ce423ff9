"""The filters every client report takes: a period of whole months, a course type and a venue."""

from datetime import date
from urllib.parse import urlencode

from django import forms
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from booking.models import CourseType, Venue

from .periods import Period, add_months, month_start

MONTHS_OFFERED = 48  # how far back the month lists go
LONGEST_PERIOD = 24
DEFAULT_MONTHS = 12


def month_choices(now=None) -> list[tuple[str, str]]:
    this_month = month_start(now or timezone.now())
    months = [add_months(this_month, -n) for n in range(MONTHS_OFFERED)]
    return [(f"{month:%Y-%m}", formats.date_format(month, "F Y")) for month in months]


def as_month(value: str) -> date:
    """A "YYYY-MM" choice (already validated against month_choices) as its first day."""
    year, month = value.split("-")
    return date(int(year), int(month), 1)


class ReportFilterForm(forms.Form):
    start = forms.ChoiceField(label=_("From"))
    end = forms.ChoiceField(label=_("To"))
    course_type = forms.ModelChoiceField(label=_("Course"), required=False,
                                         queryset=CourseType.objects.none(),
                                         empty_label=_("All courses"))
    venue = forms.ModelChoiceField(label=_("Venue"), required=False,
                                   queryset=Venue.objects.none(), empty_label=_("All venues"))

    def __init__(self, data=None, *, now=None):
        default = Period.last_months(DEFAULT_MONTHS, now=now)
        initial = {"start": f"{default.first:%Y-%m}", "end": f"{default.last:%Y-%m}"}
        # An unfiltered visit shows the default period rather than errors.
        if data is not None and not any(data.get(name) for name in self.base_fields):
            data = None
        super().__init__(data if data is not None else initial)
        choices = month_choices(now)
        self.fields["start"].choices = self.fields["end"].choices = choices
        self.fields["course_type"].queryset = CourseType.objects.order_by("name_en")
        self.fields["course_type"].label_from_instance = lambda course: course.name(get_language() or "en")
        self.fields["venue"].queryset = Venue.objects.order_by("name")

    def clean(self):
        cleaned = super().clean()
        if "start" in cleaned and "end" in cleaned:
            first, last = as_month(cleaned["start"]), as_month(cleaned["end"])
            if first > last:
                self.add_error("end", _("The last month must be the same as or after the first "
                                        "month."))
            elif len(Period(first, last).months) > LONGEST_PERIOD:
                self.add_error("end", _("Choose a period of %(count)d months or fewer.")
                               % {"count": LONGEST_PERIOD})
            else:
                cleaned["period"] = Period(first, last)
        return cleaned

    def query(self) -> str:
        """The filters as a query string, for export links."""
        return urlencode({name: self.data[name] for name in self.base_fields
                          if self.data.get(name)})


class PlatformFilterForm(ReportFilterForm):
    """The control plane's reports: a period only (course types and venues are each client's)."""

    def __init__(self, data=None, *, now=None):
        super().__init__(data, now=now)
        del self.fields["course_type"], self.fields["venue"]


OWN_FORCE = "own"  # the filter's value for offers that name no referring force


class RemittanceFilterForm(ReportFilterForm):
    """The remittance statement's filters, and the referring force it is for."""

    force = forms.ChoiceField(label=_("Police force"), required=False)

    def __init__(self, data=None, *, now=None, forces=(), own_force=""):
        super().__init__(data, now=now)
        self.fields["force"].choices = [("", _("All forces")), (OWN_FORCE, own_force),
                                        *[(name, name) for name in forces]]

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("force")
        cleaned["force_name"] = None if not chosen else "" if chosen == OWN_FORCE else chosen
        return cleaned
