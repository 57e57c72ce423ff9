from django import forms
from django.utils.translation import gettext_lazy as _

from billing.onboarding import plan_choices
from tenants.models import ClientOrganisation
from tenants.services import STORED_IN, stored_length, too_long


class OnboardingForm(forms.Form):
    """Field types and lengths only: the rules live in tenants.services.validate_new_client."""

    name = forms.CharField(label=_("Organisation name"), max_length=stored_length("name"),
                           required=False)
    slug = forms.CharField(
        label=_("Short name"), max_length=40, required=False,
        help_text=_("Lower-case letters, digits and hyphens, like essex. It names the schema "
                    "and the default web address."),
    )
    kind = forms.ChoiceField(label=_("Kind of organisation"),
                             choices=[("", "")] + ClientOrganisation.Kind.choices, required=False)
    languages = forms.ChoiceField(label=_("Languages"), choices=ClientOrganisation.Languages.choices,
                                  widget=forms.RadioSelect, initial="en", required=False)
    display_name_en = forms.CharField(label=_("Name shown on the site (English)"), required=False,
                                      max_length=stored_length("display_name_en"),
                                      help_text=_("Leave empty to use the organisation name."))
    display_name_cy = forms.CharField(label=_("Name shown on the site (Welsh)"), required=False,
                                      max_length=stored_length("display_name_cy"))
    domain = forms.CharField(label=_("Web address"), required=False,
                             max_length=stored_length("domain"),
                             help_text=_("Leave empty for short-name.<platform domain>."))
    primary_colour = forms.CharField(label=_("Brand colour"), initial="#1d70b8", required=False,
                                     max_length=stored_length("primary_colour"),
                                     help_text=_("A hex code dark enough for white text, like #1d70b8."),
                                     widget=forms.TextInput(attrs={"width": "10"}))
    contact_phone = forms.CharField(label=_("Contact phone"), required=False,
                                    max_length=stored_length("contact_phone"),
                                    widget=forms.TextInput(attrs={"width": "20",
                                                                  "autocomplete": "off"}))
    contact_email = forms.CharField(label=_("Contact email"), required=False,
                                    max_length=stored_length("contact_email"))
    admin_name = forms.CharField(label=_("First administrator's name"), required=False,
                                 max_length=stored_length("admin_name"))
    admin_email = forms.CharField(label=_("First administrator's email"), required=False,
                                  max_length=stored_length("admin_email"),
                                  help_text=_("They get an email with a link to set a password."))
    plan = forms.ChoiceField(label=_("Price plan"), required=False, choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read per form, not at import: plans are added while the server runs.
        choices = plan_choices()
        plan = self.fields["plan"]
        if choices:
            plan.choices = [("", _("No plan yet (choose one later under Billing)")), *choices]
            plan.help_text = _("The client is billed on this plan from today.")
        else:
            plan.choices = [("", _("No price plans yet"))]
            plan.help_text = _("There are no price plans yet: add one under Billing, then put "
                               "the client on it there.")
        for name, (_model, _column, label) in STORED_IN.items():
            self.fields[name].error_messages["max_length"] = too_long(label, stored_length(name))


class StatusChangeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea, required=False,
                             help_text=_("Kept in the audit trail."))


class MerchantAccountForm(forms.Form):
    stripe_account_id = forms.CharField(
        label=_("Stripe account id"), required=False, max_length=64,
        help_text=_("The client's connected account, starting acct_. Leave empty and use "
                    "'Create a Stripe account' to make one."),
        widget=forms.TextInput(attrs={"width": "20", "spellcheck": "false"}))
    allow_moto = forms.BooleanField(label=_("Agents may take card details by phone (MOTO)"),
                                    required=False)
