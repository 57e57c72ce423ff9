"""A client's accessibility statement: what its public page says (`statement_context`, also the
administrators' preview) and changes to it by its administrators: the compliance status,
the content known not to meet the standard (in Welsh too for a bilingual client) and the dates
the statement was last reviewed and the site last tested. One durable transaction with its
audit row; problems are a ValidationError keyed by the form field."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import record

from .models import ClientOrganisation

STATEMENT_FIELDS = ("accessibility_compliance", "accessibility_known_issues",
                    "accessibility_known_issues_cy", "accessibility_prepared_on",
                    "accessibility_reviewed_on", "accessibility_tested_on")
EDITED_FIELDS = tuple(name for name in STATEMENT_FIELDS if name != "accessibility_prepared_on")
KNOWN_ISSUES_MAX = 5000


def statement_of(organisation) -> dict:
    return {name.removeprefix("accessibility_"): getattr(organisation, name)
            for name in STATEMENT_FIELDS}


def statement_context(organisation, *, welsh: bool, draft: dict | None = None) -> dict:
    """What the public /accessibility/ page shows; `draft` (the form's cleaned values, unsaved)
    is the administrator's preview. Dates not yet set fall back to the day the site went up."""
    current = {**statement_of(organisation), **(draft or {})}
    set_up = timezone.localtime(organisation.created_at).date()
    prepared = current["prepared_on"] or set_up
    issues = (welsh and current["known_issues_cy"]) or current["known_issues"] or ""
    return {
        "compliance": current["compliance"],
        "known_issues": [line.strip() for line in issues.splitlines() if line.strip()],
        "prepared_on": prepared,
        "reviewed_on": current["reviewed_on"] or prepared,
        "tested_on": current["tested_on"] or prepared,
    }


def _as_audited(statement: dict) -> dict:
    return {name: value.isoformat() if isinstance(value, date) else value
            for name, value in statement.items()}


def update_accessibility_statement(organisation_id, *, compliance: str, known_issues: str,
                                   known_issues_cy: str, reviewed_on: date,
                                   tested_on: date | None, actor, ip_address=None):
    today = timezone.localdate()
    errors = {}
    if compliance not in ClientOrganisation.AccessibilityCompliance.values:
        errors["compliance"] = [_("Select the compliance status")]
    if reviewed_on > today:
        errors["reviewed_on"] = [_("The date the statement was last reviewed must be today or "
                                   "in the past")]
    if tested_on is not None and tested_on > today:
        errors["tested_on"] = [_("The date the site was last tested must be today or in the "
                                 "past")]
    for name, text in (("known_issues", known_issues), ("known_issues_cy", known_issues_cy)):
        if len(text) > KNOWN_ISSUES_MAX:
            errors[name] = [_("Non-accessible content must be %(limit)d characters or fewer")
                            % {"limit": KNOWN_ISSUES_MAX}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(durable=True):
        organisation = ClientOrganisation.objects.select_for_update().get(pk=organisation_id)
        before = statement_of(organisation)
        organisation.accessibility_compliance = compliance
        organisation.accessibility_known_issues = known_issues.strip()
        # Welsh text only where the site is in Welsh too; an English-only client keeps none.
        organisation.accessibility_known_issues_cy = (known_issues_cy.strip()
                                                      if organisation.is_bilingual else "")
        organisation.accessibility_reviewed_on = reviewed_on
        organisation.accessibility_tested_on = tested_on or organisation.accessibility_tested_on
        organisation.save(update_fields=list(EDITED_FIELDS))
        record(actor=actor, action="organisation.accessibility_changed", obj=organisation,
               organisation=organisation, before=_as_audited(before),
               after=_as_audited(statement_of(organisation)), ip_address=ip_address)
        return organisation
