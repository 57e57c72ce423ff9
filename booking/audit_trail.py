"""The client's audit trail as staff read it in /manage/audit/: each AuditEntry's action, the
kind of record and the before/after details in words, never a model or field name.

Every action the services record on a client (tests/manage/test_audit_trail_words.py finds them
in the code and fails for one missing here)."""

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from booking.timeline import CHOICES as TIMELINE_CHOICES
from booking.timeline import KEYS as TIMELINE_KEYS

ACTIONS = {
    "api_key.created": _("API key issued"),
    "api_key.revoked": _("API key revoked"),
    "booking.outcome_recorded": _("Register: outcome recorded"),
    "case.approved": _("Special-circumstances case approved"),
    "case.declined": _("Special-circumstances case declined"),
    "case.assigned": _("Special-circumstances case assigned"),
    "case.raised": _("Special-circumstances case opened"),
    "closure.added": _("Closure added"),
    "closure.removed": _("Closure removed"),
    "correspondence.reset": _("E-mail wording set back to the standard"),
    "correspondence.saved": _("E-mail wording saved"),
    "course_type.created": _("Course type added"),
    "course_type.changed": _("Course type changed"),
    "offer.critical_date_extended": _("Critical date extended"),
    "organisation.branding_changed": _("Branding changed"),
    "organisation.logo_changed": _("Logo changed"),
    "organisation.accessibility_changed": _("Accessibility statement changed"),
    "organisation.merchant_account_set": _("Merchant account connected"),
    "organisation.merchant_account_updated": _("Merchant account status changed"),
    "organisation.onboarded": _("Client set up"),
    "organisation.suspended": _("Client suspended"),
    "organisation.reactivated": _("Client reactivated"),
    "organisation.offboarded": _("Client offboarded"),
    "offers.imported": _("Offers imported"),
    "privacy.erased": _("Personal data erased"),
    "privacy.exported": _("Personal data exported"),
    "privacy.schedule_changed": _("Retention schedule changed"),
    "session.cancelled": _("Course date cancelled"),
    "session.changed": _("Course date changed"),
    "session.created": _("Course date added"),
    "staff.invited": _("Staff member invited"),
    "staff.reactivated": _("Staff member's access given back"),
    "staff.deactivated": _("Staff member's access removed"),
    "staff.role_changed": _("Staff member's role changed"),
    "trainer.absence_added": _("Trainer's time away added"),
    "trainer.absence_removed": _("Trainer's time away removed"),
    "incident.reported": _("Incident reported"),
    "incident.updated": _("Incident updated"),
    "trainer.created": _("Trainer added"),
    "trainer.changed": _("Trainer changed"),
    "user.password_set": _("Password set"),
    "user.two_factor_enabled": _("Two-factor authentication turned on"),
    "user.two_factor_reset": _("Two-factor authentication reset"),
    "venue.created": _("Venue added"),
    "venue.changed": _("Venue changed"),
    "webhook_endpoint.created": _("Webhook added"),
    "webhook_endpoint.deleted": _("Webhook removed"),
    "webhook_endpoint.tested": _("Webhook tested"),
}
KEYS = {
    **TIMELINE_KEYS,
    "source": _("Source"),
    "rows": _("Rows"),
    "created": _("Added"),
    "updated": _("Updated"),
    "unchanged": _("Unchanged"),
    "conflicts": _("Offers where the person's contact details were kept over the feed's"),
    "subject": _("Subject line"),
    "body": _("Message"),
    "language": _("Language"),
    "role": _("Role"),
    "email": _("Email"),
    "name": _("Name"),
}
SOURCES = {"csv": _("CSV file"), "api": _("API")}


def action_label(action: str) -> str:
    """The action in words; one no code writes any more, as its words with the dots gone."""
    if action in ACTIONS:
        return ACTIONS[action]
    return action.replace(".", ": ").replace("_", " ").capitalize()


def record_kind(object_type: str) -> str:
    """"booking.Venue" → "venue": the model's own name for people."""
    if not object_type:
        return ""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name)


def _key_label(key: str, model) -> str:
    if key in KEYS:
        return str(KEYS[key])
    if model is not None:
        try:
            return str(model._meta.get_field(key).verbose_name).capitalize()
        except Exception:  # noqa: BLE001 - any field name that is not the model's
            pass
    return key.replace("_", " ").capitalize()


def _value_words(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if key == "source" and value in SOURCES:
        return str(SOURCES[value])
    if isinstance(value, str) and value in TIMELINE_CHOICES.get(key, {}):
        return str(TIMELINE_CHOICES[key][value])
    if isinstance(value, list):
        return ", ".join(_value_words(key, item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{_key_label(k, None)}: {_value_words(k, v)}" for k, v in value.items())
    return str(value)


def details(values: dict | None, object_type: str = "") -> list[tuple[str, str]]:
    """[(label, value in words)] of an entry's before or after."""
    if not values:
        return []
    try:
        model = apps.get_model(object_type) if object_type else None
    except (LookupError, ValueError):
        model = None
    return [(_key_label(key, model), _value_words(key, value)) for key, value in values.items()]


def entry_in_words(entry) -> dict:
    return {"entry": entry, "action": action_label(entry.action),
            "kind": record_kind(entry.object_type),
            "changes": [(_("Before"), details(entry.before, entry.object_type)),
                        (_("After"), details(entry.after, entry.object_type))]}
