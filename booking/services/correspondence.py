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


def standard_wording(kind: str, language: str) -> tuple[str, str]:
    """(subject, body) of the standard message in placeholders, in `language`: what the editor
    opens on. The sentences are the standard e-mails' own (the same translations); the parts
    that depend on the booking (fees, refunds, what to bring) have no placeholder, so they are
    left out, and saving this unchanged keeps the full standard message (see
    save_correspondence_template)."""
    from django.utils import translation
    from django.utils.translation import gettext, ngettext

    with translation.override(language):
        session = "\n".join([
            f"{gettext('Course')}: {{course_name}}", f"{gettext('Date')}: {{course_date}}",
            f"{gettext('Time')}: {{start_time}}", f"{gettext('Where')}: {{venue}}"])
        reference = f"{gettext('Booking reference')}: {{booking_reference}}"
        opening = {
            "booking_confirmation": gettext("Your course booking is confirmed."),
            "reminder": ngettext("This is a reminder that your course is in %(days)s day.",
                                 "This is a reminder that your course is in %(days)s days.",
                                 7) % {"days": 7},
            "joining_instructions": gettext("Here is how to join your online course."),
            "transfer_confirmation": gettext("Your booking has been moved to a new date."),
            "cancellation": gettext("Your course booking has been cancelled."),
            "session_cancelled": gettext("We are sorry: we have had to cancel your course date."),
        }[kind]
        middle = [reference, session]
        if kind == "transfer_confirmation":
            middle[0] = f"{gettext('New booking reference')}: {{booking_reference}}"
        if kind == "joining_instructions":
            middle.append(f"{gettext('Join the course using this link:')}\n{{joining_url}}")
        if kind == "session_cancelled":
            middle.append(gettext("You can move to another date free of charge, or cancel and "
                                  "have your fee refunded in full. Use Manage my booking on our "
                                  "website, or contact us.") + "\n{manage_url}")
        subject = {
            "booking_confirmation": gettext(
                "Booking confirmed: %(course)s on %(date)s (%(reference)s)"),
            "reminder": gettext("Reminder: %(course)s on %(date)s"),
            "joining_instructions": gettext("How to join your online course on %(date)s"),
            "transfer_confirmation": gettext(
                "Your course date has changed: %(course)s on %(date)s (%(reference)s)"),
            "cancellation": gettext("Booking cancelled: %(reference)s"),
            "session_cancelled": gettext(
                "Your course date has been cancelled: move to another date free of charge"),
        }[kind] % {"course": "{course_name}", "date": "{course_date}",
                   "reference": "{booking_reference}"}
        body = "\n\n".join([
            gettext("Dear %(name)s,") % {"name": "{first_name}"}, opening, *middle,
            "{client_name}\n{contact_phone}\n{contact_email}"])
    return subject, body


def _normalised(subject: str, body: str) -> tuple[str, str]:
    return " ".join((subject or "").split()), (body or "").replace("\r\n", "\n").strip()


def _template_after(template) -> dict:
    return {"kind": template.kind, "language": template.language, "subject": template.subject,
            "body": template.body}


def save_correspondence_template(kind: str, language: str, *, subject: str, body: str, actor,
                                 organisation=None, ip_address=None):
    """The client's own wording for one message in one language (created or replaced).

    Saving the standard wording unchanged (what the editor opened on) or the client's own
    unchanged writes nothing and returns the template there is (None: the standard one stays,
    with the parts that depend on the booking)."""
    if kind not in CorrespondenceTemplate.Kind.values or language not in Language.values:
        raise ValueError("unknown message or language")
    subject, body = _normalised(subject, body)
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
        if template is None and (subject, body) == _normalised(*standard_wording(kind, language)):
            return None
        if template is not None and (template.subject, template.body) == (subject, body):
            return template
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
