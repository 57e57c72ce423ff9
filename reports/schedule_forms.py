"""The form for setting up a scheduled report; the rules are reports.scheduling's."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from booking.models import CourseType, Venue
from tenants.opening_hours import DAY_NAMES, DAYS

from .models import ScheduledReport
from .scheduling import client_staff

OWN_STAFF_ONLY = _("Send the report only to your organisation's own staff.")


class ScheduleForm(forms.Form):
    report = forms.ChoiceField(label=_("Report"), choices=ScheduledReport.Report.choices,
                               error_messages={"required": _("Select a report."),
                                               "invalid_choice": _("Select a report.")})
    course_type = forms.ModelChoiceField(label=_("Course"), required=False,
                                         queryset=CourseType.objects.none(),
                                         empty_label=_("All courses"))
    venue = forms.ModelChoiceField(label=_("Venue"), required=False,
                                   queryset=Venue.objects.none(), empty_label=_("All venues"))
    months = forms.IntegerField(
        label=_("Months in each report"), initial=1,
        help_text=_("Monthly: the whole months before the day it is sent. Weekly: up to and "
                    "including the month it is sent."),
        widget=forms.TextInput(attrs={"width": "2", "inputmode": "numeric"}),
        error_messages={"required": _("Enter a number of months from 1 to 24."),
                        "invalid": _("Enter a number of months from 1 to 24.")})
    frequency = forms.ChoiceField(
        label=_("How often"), choices=ScheduledReport.Frequency.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Select how often to send the report."),
                        "invalid_choice": _("Select how often to send the report.")})
    day_of_month = forms.IntegerField(
        label=_("Day of the month (monthly)"), required=False,
        help_text=_("From 1 to 28, so that every month has it"),
        widget=forms.TextInput(attrs={"width": "2", "inputmode": "numeric"}),
        error_messages={"invalid": _("Enter a day of the month from 1 to 28.")})
    weekday = forms.ChoiceField(label=_("Day of the week (weekly)"), required=False,
                                error_messages={"invalid_choice": _("Select a day of the week.")})
    export_format = forms.ChoiceField(
        label=_("Send as"), choices=ScheduledReport.Format.choices, widget=forms.RadioSelect,
        initial=ScheduledReport.Format.CSV,
        error_messages={"required": _("Select CSV or Excel."),
                        "invalid_choice": _("Select CSV or Excel.")})
    recipients = forms.TypedMultipleChoiceField(
        label=_("Send to"), coerce=int, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Select at least one person to send the report to."),
                        "invalid_choice": OWN_STAFF_ONLY, "invalid_pk_value": OWN_STAFF_ONLY})

    def __init__(self, data=None, *, organisation):
        super().__init__(data)
        self.fields["course_type"].queryset = CourseType.objects.order_by("name_en")
        self.fields["course_type"].label_from_instance = \
            lambda course: course.name(get_language() or "en")
        self.fields["venue"].queryset = Venue.objects.order_by("name")
        self.fields["weekday"].choices = [("", _("Choose a day")),
                                          *[(day, DAY_NAMES[day]) for day in DAYS]]
        self.fields["recipients"].choices = [(user.pk, user.email)
                                             for user in client_staff(organisation)]
