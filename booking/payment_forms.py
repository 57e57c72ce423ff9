"""The contact centre's pay-by-link by text: the one question, the caller's mobile number."""

from django import forms
from django.utils.translation import gettext_lazy as _

from booking.text_messages import uk_mobile


class TextLinkForm(forms.Form):
    mobile = forms.CharField(
        label=_("Mobile number"), max_length=32,
        help_text=_("Read it back to the caller. For example, 07700 900 982"),
        error_messages={"required": _("Enter the caller's mobile number")},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "width": "20"}),
    )

    def clean_mobile(self):
        return uk_mobile(self.cleaned_data["mobile"])
