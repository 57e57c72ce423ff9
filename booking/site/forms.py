"""Forms of the public booking journey: one question per page, GOV.UK patterns."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from booking.form_fields import (
    ACCESS_CHOICES,
    EMAIL_TOO_LONG,
    AccessNeedsMixin,
    ChooseSessionField,
    DateOfBirthField,
    PhoneNumberField,
    column_length,
)
from booking.models import Language, Offer
from integrations import postcodes


class FindOfferForm(forms.Form):
    reference = forms.CharField(
        label=_("Offer reference"),
        help_text=_("This is on the letter the police sent you"),
        max_length=column_length(Offer, "reference"),
        widget=forms.TextInput(attrs={"width": "20", "spellcheck": "false",
                                      "autocomplete": "off"}),
        error_messages={"required": _("Enter your offer reference")},
    )
    date_of_birth = DateOfBirthField(label=_("Date of birth"), help_text=_("For example, 27 3 1985"))
    postcode = forms.CharField(
        label=_("Postcode (optional)"),
        help_text=_("The postcode on your letter, if you want to check it too"),
        required=False, max_length=10,
        widget=forms.TextInput(attrs={"width": "10", "autocomplete": "postal-code"}),
    )

    def clean_postcode(self):
        raw = self.cleaned_data.get("postcode", "").strip()
        if not raw:
            return ""
        try:
            return postcodes.normalise(raw)
        except ValidationError as error:
            raise ValidationError(error.messages[0]) from None


class WhereForm(forms.Form):
    MODE_CHOICES = [("classroom", _("At a venue near a postcode")), ("online", _("Online"))]
    mode = forms.ChoiceField(
        label=_("How do you want to do the course?"), choices=MODE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select how you want to do the course")},
    )
    postcode = forms.CharField(
        label=_("Postcode"), required=False, max_length=10,
        help_text=_("For classroom courses: we show the venues nearest this postcode first"),
        widget=forms.TextInput(attrs={"width": "10", "autocomplete": "postal-code"}),
    )
    welsh_only = forms.BooleanField(label=_("Only show courses taught in Welsh"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("mode") == "classroom":
            raw = (cleaned.get("postcode") or "").strip()
            if not raw:
                self.add_error("postcode", _("Enter a postcode to find venues near you"))
            else:
                try:
                    cleaned["postcode"] = postcodes.locate_area(raw).postcode
                except ValidationError as error:
                    self.add_error("postcode", error.messages[0])
        return cleaned


class ChooseSessionForm(forms.Form):
    session = ChooseSessionField()


class ContactForm(forms.Form):
    """How we reach the person and in which language: an email address, a phone number or
    both, never neither."""

    email = forms.EmailField(
        label=_("Email address"), max_length=column_length(Offer, "email"),
        help_text=_("We will send your booking confirmation here. Give an email address, a "
                    "phone number or both."),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={"required": _("Enter your email address"),
                        "invalid": _("Enter an email address in the correct format, like "
                                     "name@example.com"),
                        "max_length": EMAIL_TOO_LONG},
    )
    phone = PhoneNumberField(
        label=_("Phone number"), max_length=column_length(Offer, "phone"),
        help_text=_("In case we need to contact you about your course. A mobile number gets "
                    "text message reminders."),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "width": "20", "inputmode": "tel"}),
        error_messages={"required": _("Enter a phone number, like 01632 960 001 or "
                                      "07700 900 982")},
    )
    language = forms.ChoiceField(
        label=_("Which language should we write to you in?"), choices=Language.choices,
        widget=forms.RadioSelect, initial=Language.ENGLISH,
        error_messages={"required": _("Select the language for letters and emails")},
    )

    def clean(self):
        cleaned = super().clean()
        if not self.has_error("email") and not self.has_error("phone") and not (
                cleaned.get("email") or cleaned.get("phone")):
            # One way to reach the person is enough; with neither we could not confirm anything.
            self.add_error("email", _("Enter an email address or a phone number"))
        return cleaned


class DetailsForm(AccessNeedsMixin, ContactForm):
    notes_needed = _("Tell us what support you need, for example the language for an "
                     "interpreter")

    access = forms.MultipleChoiceField(
        label=_("Do you need any support at the course?"), choices=ACCESS_CHOICES,
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Select all that apply"),
    )
    access_notes = forms.CharField(
        label=_("Tell us what support you need"), required=False, max_length=500,
        widget=forms.Textarea,
    )
