from django import forms
from django.utils.translation import gettext_lazy as _

SHIFT_ERROR = _("Enter the percentage of contact-centre bookings made online instead as a "
                "whole number from 0 to 100")


class ChannelShiftForm(forms.Form):
    """The what-if on /manage/billing/: asked by GET, so the answer can be bookmarked."""

    shift_percent = forms.IntegerField(
        label=_("Percentage of contact-centre bookings made online instead"),
        min_value=0, max_value=100,
        error_messages={"required": SHIFT_ERROR, "invalid": SHIFT_ERROR,
                        "min_value": SHIFT_ERROR, "max_value": SHIFT_ERROR})
