from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from govuk_forms.fields import DateInputField


class SignInForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
        error_messages={"required": _("Enter your email address"),
                        "invalid": _("Enter an email address in the correct format, like name@example.com")},
    )
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password")},
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Security code"),
        help_text=_("The 6-digit code shown in your authenticator app"),
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "width": "4"}),
        error_messages={"required": _("Enter the security code")},
    )

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit() or len(token) != 6:
            raise forms.ValidationError(_("The security code must be 6 digits"))
        return token


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        help_text=_("At least 12 characters. Avoid common words and your email address."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Enter a new password")},
    )
    password_again = forms.CharField(
        label=_("Confirm new password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Enter the new password again")},
    )

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", _("The passwords do not match"))
        if password:
            try:
                validate_password(password, self.user)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class SignInReportForm(forms.Form):
    """The sign-in report's filters; every one may be left empty."""

    outcome = forms.ChoiceField(label=_("Outcome"), required=False)
    email = forms.CharField(label=_("Email address contains"), max_length=254, required=False,
                            widget=forms.TextInput(attrs={"width": "20", "spellcheck": "false"}))
    date_from = DateInputField(label=_("From"), required=False,
                               messages={"required": "",
                                         "incomplete": _("The start date must include a %(part)s"),
                                         "invalid": _("The start date must be a real date")})
    date_to = DateInputField(label=_("To"), required=False,
                             messages={"required": "",
                                       "incomplete": _("The end date must include a %(part)s"),
                                       "invalid": _("The end date must be a real date")})

    def __init__(self, *args, **kwargs):
        from .models import SignInEvent

        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [("", _("Any")), *SignInEvent.Outcome.choices]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date must be on or after the start date"))
        return cleaned

    def filters(self):
        """The filters asked for (none while the form has errors)."""
        from .sign_in_report import SignInFilter

        if not self.is_bound or not self.is_valid():
            return SignInFilter()
        data = self.cleaned_data
        return SignInFilter(outcome=data["outcome"], email=data["email"],
                            date_from=data["date_from"], date_to=data["date_to"])
