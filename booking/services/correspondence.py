"""The client's own wording for the messages people get, in English and Welsh: placeholders
such as {first_name} filled in from the booking, previews with sample values, and the wording
booking.notifications sends instead of the standard one. Saving and resetting are each one
durable transaction with its audit row."""

import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from audit.services import record
from booking.models import CorrespondenceTemplate, CourseType, Language

from .editing import field_errors
from .events import actor_label

PLACEHOLDERS = {
    "first_name": _("The person's first name"),
    "offer_reference": _("The offer reference"),
    "booking_reference": _("The booking reference"),
    "course_name": _("The course's name"),
    "course_date": _("The course date, like Monday 7 December 2026"),
    "start_time": _("The start time, like 09:30"),
    "venue": _("The venue and its address, or Online"),
    "joining_url": _("The joining link of an online course"),
    "client_name": _("Your name on the site"),
    "contact_phone": _("Your contact phone number"),
    "contact_email": _("Your contact email address"),
    "manage_url": _("The link to manage the booking"),
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")


def _check_placeholders(text: str, field: str) -> None:
    unknown = sorted(set(_PLACEHOLDER.findall(text or "")) - set(PLACEHOLDERS))
    if unknown:
        raise field_errors(**{field: _("%(names)s is not a placeholder we know. Use only the "
                                       "placeholders listed.") % {
            "names": ", ".join("{" + name + "}" for name in unknown)}})


def fill_placeholders(text: str, values: dict) -> str:
    """{name} → its value; anything else is left as written."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values
                            else m.group(0), text or "")


def sample_values(organisation, language: str) -> dict:
    """Example values for previews, in the client's own details."""
    start = timezone.localtime() + timedelta(days=14)
    return {
        "first_name": "Sam", "offer_reference": "ESX-123456", "booking_reference": "7KQ2M9XB",
        "course_name": CourseType.objects.filter(is_active=True).first().name(language)
        if CourseType.objects.filter(is_active=True).exists() else "National Speed Awareness",
        "course_date": formats.date_format(start, "l j F Y"),
        "start_time": "09:30", "venue": "County Hall, Market Road, Chelmsford CM1 1QH",
        "joining_url": "https://meet.example/abc-defg",
        "client_name": organisation.display_name(language),
        "contact_phone": organisation.contact_phone, "contact_email": organisation.contact_email,
        "manage_url": "https://example/manage/",
    }


def _template_after(template) -> dict:
    return {"kind": template.kind, "language": template.language, "subject": template.subject,
            "body": template.body}


def save_correspondence_template(kind: str, language: str, *, subject: str, body: str, actor,
                                 organisation=None, ip_address=None):
    """The client's own wording for one message in one language (created or replaced)."""
    if kind not in CorrespondenceTemplate.Kind.values or language not in Language.values:
        raise ValueError("unknown message or language")
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not subject:
        raise field_errors(subject=_("Enter the subject line."))
    if not body:
        raise field_errors(body=_("Enter the message."))
    _check_placeholders(subject, "subject")
    _check_placeholders(body, "body")
    label, _user_id = actor_label(actor)
    with transaction.atomic(durable=True):
        template = (CorrespondenceTemplate.objects.select_for_update()
                    .filter(kind=kind, language=language).first())
        before = _template_after(template) if template else None
        if template is None:
            template = CorrespondenceTemplate(kind=kind, language=language)
        template.subject, template.body, template.updated_by = subject, body, label
        template.full_clean(exclude=["kind", "language"])
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError:
            raise field_errors(body=_("Someone saved this message just now. Check it and save "
                                      "again.")) from None
        record(actor=actor, action="correspondence.saved", obj=template,
               organisation=organisation, before=before, after=_template_after(template),
               ip_address=ip_address)
        return template


def reset_correspondence_template(kind: str, language: str, *, actor, organisation=None,
                                  ip_address=None) -> bool:
    """Back to the standard wording. Returns whether there was anything to remove."""
    with transaction.atomic(durable=True):
        template = (CorrespondenceTemplate.objects.select_for_update()
                    .filter(kind=kind, language=language).first())
        if template is None:
            return False
        record(actor=actor, action="correspondence.reset", obj=template,
               organisation=organisation, before=_template_after(template),
               ip_address=ip_address)
        template.delete()
        return True


def custom_correspondence(message: str, language: str, values: dict) -> tuple[str, str] | None:
    """(subject, body) in the client's own wording for a message (booking.notifications'
    names: "booking_confirmation", "reminder_7", …), filled in; None for the standard one."""
    kind = "reminder" if message.startswith("reminder") else message
    template = CorrespondenceTemplate.objects.filter(
        kind=kind, language="cy" if (language or "").startswith("cy") else "en").first()
    if template is None:
        return None
    return fill_placeholders(template.subject, values), fill_placeholders(template.body, values)
