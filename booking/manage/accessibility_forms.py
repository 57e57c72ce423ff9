"""The accessibility statement's form: what the administrator may say about the client's site.
The rules (dates not in the future, lengths) live in tenants.accessibility_statement."""

from django import forms
from django.utils.translation import gettext_lazy as _

from govuk_forms.fields import DateInputField
from tenants.accessibility_statement import KNOWN_ISSUES_MAX
from tenants.models import ClientOrganisation

ISSUES_HINT = _("One problem a line, for example: Some older PDF letters are not accessible. "
                "Leave empty to show the standard text about the card payment fields.")


Compliance = ClientOrganisation.AccessibilityCompliance
COMPLIANCE_CHOICES = [(Compliance.FULL, _("Fully compliant")),
                      (Compliance.PARTIAL, _("Partially compliant")),
                      (Compliance.NOT_COMPLIANT, _("Not compliant"))]


class AccessibilityStatementForm(forms.Form):
    compliance = forms.ChoiceField(
        label=_("Compliance status"), widget=forms.RadioSelect,
        choices=COMPLIANCE_CHOICES,
        error_messages={"required": _("Select the compliance status")})
    known_issues = forms.CharField(
        label=_("Non-accessible content"), required=False, max_length=KNOWN_ISSUES_MAX,
        widget=forms.Textarea, help_text=ISSUES_HINT,
        error_messages={"max_length": _("Non-accessible content must be %(limit_value)d "
                                        "characters or fewer")})
    known_issues_cy = forms.CharField(
        label=_("Non-accessible content in Welsh"), required=False, max_length=KNOWN_ISSUES_MAX,
        widget=forms.Textarea, help_text=_("The same problems, one a line, for the Welsh site"),
        error_messages={"max_length": _("Non-accessible content must be %(limit_value)d "
                                        "characters or fewer")})
    reviewed_on = DateInputField(
        label=_("Date the statement was last reviewed"),
        messages={"required": _("Enter the date the statement was last reviewed"),
                  "incomplete": _("The date the statement was last reviewed must include a "
                                  "%(part)s"),
                  "invalid": _("The date the statement was last reviewed must be a real date")})
    tested_on = DateInputField(
        label=_("Date the site was last tested (optional)"), required=False,
        help_text=_("Leave empty to keep the date shown now"),
        messages={"incomplete": _("The date the site was last tested must include a %(part)s"),
                  "invalid": _("The date the site was last tested must be a real date")})

    def __init__(self, *args, bilingual: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not bilingual:
            del self.fields["known_issues_cy"]

    @classmethod
    def initial_from(cls, organisation) -> dict:
        return {"compliance": organisation.accessibility_compliance,
                "known_issues": organisation.accessibility_known_issues,
                "known_issues_cy": organisation.accessibility_known_issues_cy,
                "reviewed_on": organisation.accessibility_reviewed_on,
                "tested_on": organisation.accessibility_tested_on}

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {"compliance": data["compliance"], "known_issues": data["known_issues"],
                "known_issues_cy": data.get("known_issues_cy", ""),
                "reviewed_on": data["reviewed_on"], "tested_on": data["tested_on"]}
