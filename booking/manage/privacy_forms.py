"""Forms of the data protection officer's pages (/manage/privacy/)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from booking.models import ErasureRecord

from .forms import required


def _months(label, help_text, message):
    # No max_value here: the service refuses a longer period with the national policy's own
    # words, the same message an API or a script would get.
    return forms.IntegerField(label=label, help_text=help_text, min_value=1,
                              error_messages={**required(message),
                                              "invalid": _("Enter a whole number of months."),
                                              "min_value": _("Enter at least 1 month.")})


class RetentionScheduleForm(forms.Form):
    """The periods of booking.models.privacy (42, 12 and 24 months at most)."""

    attended_months = _months(
        _("People who attended: months after the offence"),
        _("The national policy is 42 months (3 years 6 months) at most."),
        _("Enter how many months to keep the data of people who attended"))
    not_attended_months = _months(
        _("People who did not attend: months after the offence"),
        _("The national policy is 12 months at most."),
        _("Enter how many months to keep the data of people who did not attend"))
    access_log_months = _months(
        _("Log of who viewed a record: months"),
        _("24 months at most."),
        _("Enter how many months to keep the log of who viewed a record"))


class FindRecordForm(forms.Form):
    reference = forms.CharField(label=_("Offer reference"), max_length=32,
                                error_messages=required(_("Enter the offer reference")))


class ErasureForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why is the record being erased?"), choices=ErasureRecord.Reason.choices,
        widget=forms.RadioSelect,
        error_messages=required(_("Select why the record is being erased")))
    confirm = forms.BooleanField(
        label=_("I understand the person's details will be erased and this cannot be undone"),
        error_messages=required(_("Confirm that you understand this cannot be undone")))
