from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class CloseMonthForm(forms.Form):
    period = forms.CharField(label=_("Month to close"), help_text=_("For example, 2026-11"),
                             max_length=7)

    def clean_period(self):
        value = self.cleaned_data["period"].strip()
        try:
            year, month = (int(part) for part in value.split("-"))
            return date(year, month, 1)
        except ValueError:
            raise ValidationError(_("Enter the month as a year and month, like 2026-11.")) from None
