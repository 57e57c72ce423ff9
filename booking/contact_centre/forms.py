"""Forms of the contact-centre console. Wording speaks to the agent about "the caller"."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from booking.form_fields import (
    ACCESS_CHOICES,
    EMAIL_TOO_LONG,
    AccessNeedsMixin,
    ChooseSessionField,
    DateOfBirthField,
    FeeWaiverMixin,
    PhoneNumberField,
    column_length,
)
from booking.models import CallLog, Language, Offer, SpecialCircumstancesCase
from booking.services.calls import MAX_NOTES
from integrations import postcodes
from integrations.text_messages import uk_mobile

CALLER_DOB_MESSAGES = {
    "required": _("Enter the caller's date of birth"),
    "incomplete": _("The caller's date of birth must include a day, month and year"),
    "invalid": _("The caller's date of birth must be a real date, like 27 3 1985"),
    "future": _("The caller's date of birth must be in the past"),
}


class CallerDateOfBirthField(DateOfBirthField):
    """The public journey's GOV.UK date input, with messages about the caller."""

    def compress(self, values):
        try:
            return super().compress(values)
        except ValidationError as error:
            raise ValidationError(CALLER_DOB_MESSAGES.get(error.code, error.messages[0]),
                                  code=error.code) from None


class ReferenceSearchForm(forms.Form):
    reference = forms.CharField(
        label=_("Offer or booking reference"), max_length=40,
        help_text=_("From the caller's letter or confirmation email, for example ESX-123456"),
        widget=forms.TextInput(attrs={"width": "20", "spellcheck": "false", "autocomplete": "off"}),
        error_messages={"required": _("Enter the offer or booking reference")},
    )


class NameSearchForm(forms.Form):
    last_name = forms.CharField(
        label=_("Last name"), max_length=100,
        widget=forms.TextInput(attrs={"width": "20", "spellcheck": "false", "autocomplete": "off"}),
        error_messages={"required": _("Enter the caller's last name")},
    )
    first_name = forms.CharField(
        label=_("First name (optional)"), max_length=100, required=False,
        widget=forms.TextInput(attrs={"width": "20", "spellcheck": "false", "autocomplete": "off"}),
    )
    date_of_birth = CallerDateOfBirthField(label=_("Date of birth"),
                                           help_text=_("For example, 27 3 1985"))


class PhoneSearchForm(forms.Form):
    phone = PhoneNumberField(
        label=_("Phone number"), max_length=32,
        help_text=_("The number the caller gave when they booked, or the one they are calling "
                    "from"),
        widget=forms.TextInput(attrs={"width": "20", "inputmode": "tel", "autocomplete": "off"}),
        error_messages={"required": _("Enter the caller's phone number")},
    )


class SessionFilterForm(forms.Form):
    """Where the caller wants the course: near a postcode (or anywhere) or online."""

    MODE_CHOICES = [("classroom", _("At a venue")), ("online", _("Online"))]
    mode = forms.ChoiceField(label=_("How the caller wants to do the course"),
                             choices=MODE_CHOICES, widget=forms.RadioSelect, required=False)
    postcode = forms.CharField(
        label=_("Near postcode (optional)"), required=False, max_length=10,
        help_text=_("Leave empty to see every venue"),
        widget=forms.TextInput(attrs={"width": "10", "autocomplete": "off"}),
    )
    welsh_only = forms.BooleanField(label=_("Only courses taught in Welsh"), required=False)

    def clean(self):
        cleaned = super().clean()
        cleaned["mode"] = cleaned.get("mode") or "classroom"
        raw = (cleaned.get("postcode") or "").strip()
        cleaned["postcode"] = ""
        if raw and cleaned["mode"] == "classroom":
            try:
                cleaned["postcode"] = postcodes.locate_area(raw).postcode
            except ValidationError as error:
                self.add_error("postcode", error.messages[0])
        return cleaned


class PhoneBookingForm(FeeWaiverMixin, AccessNeedsMixin, forms.Form):
    notes_needed = _("Say what support the caller needs, for example the language for an "
                     "interpreter")

    session = ChooseSessionField()
    email = forms.EmailField(
        label=_("Email address (optional)"), required=False,
        max_length=column_length(Offer, "email"),
        help_text=_("The confirmation is sent here. Read it back to the caller."),
        widget=forms.EmailInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        error_messages={"invalid": _("Enter an email address in the correct format, like "
                                     "name@example.com"),
                        "max_length": EMAIL_TOO_LONG},
    )
    phone = PhoneNumberField(
        label=_("Phone number"), max_length=column_length(Offer, "phone"),
        widget=forms.TextInput(attrs={"width": "20", "inputmode": "tel", "autocomplete": "off"}),
        error_messages={"required": _("Enter the caller's phone number")},
    )
    language = forms.ChoiceField(
        label=_("Letters and emails in"), choices=Language.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Select the language for letters and emails")},
    )
    access = forms.MultipleChoiceField(
        label=_("Support the caller needs at the course"), choices=ACCESS_CHOICES,
        required=False, widget=forms.CheckboxSelectMultiple,
    )
    access_notes = forms.CharField(label=_("Details of the support needed (optional)"),
                                   required=False, max_length=500, widget=forms.Textarea)


class TransferForm(FeeWaiverMixin, forms.Form):
    session = ChooseSessionField()
    fee_agreed = forms.BooleanField(required=False)

    def __init__(self, *args, fee_pence: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.fee_pence = fee_pence

    def clean(self):
        cleaned = super().clean()
        if self.fee_pence and not (cleaned.get("fee_agreed") or cleaned.get("waive_fee")):
            self.add_error("fee_agreed", _("Confirm the caller agrees to pay the transfer fee"))
        return cleaned


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the caller cancelling?"), max_length=500, widget=forms.Textarea,
        error_messages={"required": _("Enter why the caller is cancelling")},
    )


class DurationField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(
            label=_("Length of the call, in minutes"), min_value=0,
            max_value=CallLog.MAX_MINUTES,
            widget=forms.TextInput(attrs={"width": "3", "inputmode": "numeric",
                                          "autocomplete": "off"}),
            error_messages={
                "required": _("Enter how long the call took, in minutes"),
                "invalid": _("The length of the call must be a whole number of minutes, like 5"),
                "min_value": _("The length of the call must be 0 minutes or more"),
                "max_value": _("The length of the call must be %(limit_value)s minutes or fewer"),
            }, **kwargs)


class CallLogForm(forms.Form):
    call_type = forms.ChoiceField(
        label=_("Type of call"), choices=[("", _("Select the type of call"))]
        + list(CallLog.Type.choices),
        error_messages={"required": _("Select the type of call"),
                        "invalid_choice": _("Select the type of call")},
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("Select the outcome"))]
        + list(CallLog.Outcome.choices),
        error_messages={"required": _("Select the outcome of the call"),
                        "invalid_choice": _("Select the outcome of the call")},
    )
    duration_minutes = DurationField()
    offer_reference = forms.CharField(
        label=_("Offer or booking reference (optional)"), max_length=40, required=False,
        help_text=_("If the call was about an offer, its timeline shows the call"),
        widget=forms.TextInput(attrs={"width": "20", "spellcheck": "false", "autocomplete": "off"}),
    )
    notes = forms.CharField(label=_("Notes (optional)"), required=False, max_length=MAX_NOTES,
                            widget=forms.Textarea)

    def __init__(self, *args, with_reference: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_reference:
            del self.fields["offer_reference"]


class SpecialCircumstancesForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What is the caller asking for?"),
        choices=SpecialCircumstancesCase.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select what the caller is asking for")},
    )
    details = forms.CharField(
        label=_("The caller's circumstances"), max_length=MAX_NOTES, widget=forms.Textarea,
        help_text=_("What the caller told you, in their words. The client's administrators "
                    "decide; do not promise an outcome."),
        error_messages={"required": _("Describe the caller's circumstances for the "
                                      "administrators")},
    )
    duration_minutes = DurationField()


class TextLinkForm(forms.Form):
    """Pay-by-link by text: the one question, the caller's mobile number."""

    mobile = forms.CharField(
        label=_("Mobile number"), max_length=32,
        help_text=_("Read it back to the caller. For example, 07700 900 982"),
        error_messages={"required": _("Enter the caller's mobile number")},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "width": "20"}),
    )

    def clean_mobile(self):
        return uk_mobile(self.cleaned_data["mobile"])
