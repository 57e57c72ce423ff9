"""E-mails to the offender: confirmation, transfer, cancellation, reminders, joining
instructions for online courses, and a nudge before the booking period ends.

Every message is composed in the offer's language (Welsh-language offers get the whole e-mail in
Welsh), branded for the client whose schema the connection is in, and recorded on the offer's
timeline as `message.sent` (or `message.skipped` when there is no e-mail address). Everything is
read again in the current schema, so a booking object from another client's schema is refused
instead of being mailed.

These functions send at once. Callers inside a service transaction should send after commit
(`booking.tasks.queue_booking_message`); the scheduled jobs in `booking.tasks` make sure each
reminder goes out once.
"""

import logging
import re
from dataclasses import dataclass
from datetime import UTC
from email.utils import formataddr, parseaddr

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.defaultfilters import linebreaks
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from booking.models import Booking, Channel, CourseSession, Offer, OfferEvent
from booking.services.events import log_event
from tenants.models import ClientOrganisation

logger = logging.getLogger(__name__)

SYSTEM = "system"

# The names recorded as `after["template"]` on message events; the jobs de-duplicate on them.
BOOKING_CONFIRMATION = "booking_confirmation"
TRANSFER_CONFIRMATION = "transfer_confirmation"
CANCELLATION = "cancellation"
JOINING_INSTRUCTIONS = "joining_instructions"
BOOKING_PERIOD_NUDGE = "booking_period_nudge"
REMINDER_DAYS = (7, 2)

# An event of either kind means "dealt with": a job never sends that message again.
DELIVERED_KINDS = ("message.sent", "message.skipped")

PRODID = "-//Waymark//NDORS course booking//EN"


def reminder_template(days_before: int) -> str:
    return f"reminder_{days_before}"


def already_sent(template: str, *, offer: Offer | None = None,
                 booking: Booking | None = None) -> bool:
    """Whether this message was already sent (or skipped for want of an address)."""
    events = OfferEvent.objects.filter(kind__in=DELIVERED_KINDS, after__template=template)
    if booking is not None:
        events = events.filter(booking_id=booking.pk)
    elif offer is not None:
        events = events.filter(offer_id=offer.pk, booking__isnull=True)
    else:
        raise ValueError("already_sent needs an offer or a booking")
    return events.exists()


# --- The client and its site ------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    organisation: ClientOrganisation
    domain: str
    site_url: str


def current_client() -> Client:
    """The client whose schema the connection is in (a real tenant, or the one a task or a
    `schema_context` switched to). Never the public schema or the template."""
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise RuntimeError("Offender e-mails are sent only from a client's schema.")
    tenant = getattr(connection, "tenant", None)
    if not isinstance(tenant, ClientOrganisation) or tenant.schema_name != schema:
        tenant = ClientOrganisation.objects.get(schema_name=schema)
    if tenant.is_template:
        raise RuntimeError("The client template never sends e-mail.")
    domain = (tenant.domains.filter(is_primary=True).values_list("domain", flat=True).first()
              or f"{tenant.slug}.{settings.PLATFORM_DOMAIN}")
    scheme = "http" if settings.DEBUG else "https"
    port = getattr(settings, "PUBLIC_PORT", "")
    return Client(tenant, domain, f"{scheme}://{domain}{':' + port if port else ''}")


def _client_url(client: Client, name: str, fallback: str = "/") -> str:
    try:
        path = reverse(name, urlconf="config.urls_client")
    except NoReverseMatch:
        path = fallback
    return client.site_url + path


# --- Reading in the current schema ------------------------------------------------------------


def _reload_booking(booking: Booking) -> Booking:
    """The same booking, read in this schema. A booking from another client's schema has no
    row with this id and reference here, so it raises Booking.DoesNotExist."""
    return (Booking.objects
            .select_related("offer", "session", "session__course_type", "session__venue",
                            "transferred_from", "transferred_from__session",
                            "transferred_from__session__course_type",
                            "transferred_from__session__venue")
            .get(pk=booking.pk, reference=booking.reference))


def _reload_offer(offer: Offer) -> Offer:
    return (Offer.objects.select_related("course_type")
            .get(pk=offer.pk, reference=offer.reference))


# --- Formatting -------------------------------------------------------------------------------


def language_of(offer: Offer) -> str:
    """The Django language to compose in: Welsh for Welsh-language offers, else British English."""
    return "cy" if (offer.language or "").startswith("cy") else "en-gb"


def content_language(language: str) -> str:
    return "cy" if language == "cy" else "en-GB"


def pounds(pence: int) -> str:
    pence = int(pence or 0)
    return f"£{pence // 100:,}.{pence % 100:02d}"


def _long_date(value) -> str:
    return formats.date_format(value, "l j F Y")


def _location_lines(session: CourseSession) -> list[str]:
    venue = session.venue
    if venue is None:
        return []
    lines = [venue.name]
    lines += [line.strip() for line in re.split(r"[\r\n]+", venue.address) if line.strip()]
    lines += [part for part in (venue.town, venue.postcode) if part]
    return lines


def _what_to_do(session: CourseSession) -> list[str]:
    """What to bring and when to arrive, in the active language (e-mail body and .ics)."""
    if session.is_online:
        lines = [_("Have your photocard driving licence with you: the trainer will ask to see it "
                   "on camera before the course starts.")]
        if session.joining_url:
            lines.append(_("Join the course here: %(url)s") % {"url": session.joining_url})
        else:
            lines.append(_("We will e-mail you the link to join the course before it starts."))
        lines.append(_("Join 15 minutes before the start time, with your camera and microphone "
                       "working. If you join late you may not be allowed to take part."))
    else:
        lines = [
            _("Bring your photocard driving licence. You cannot take part in the course "
              "without it."),
            _("Arrive 15 minutes before the start time. If you arrive late you may not be "
              "allowed to take part."),
        ]
    return lines


def _session_context(session: CourseSession, language: str) -> dict:
    venue = session.venue
    directions = ""
    if venue is not None:
        directions = (venue.directions_cy if language == "cy" and venue.directions_cy
                      else venue.directions_en)
    return {
        "course_name": session.course_type.name(language),
        "starts": timezone.localtime(session.starts_at),
        "ends": timezone.localtime(session.ends_at),
        "online": session.is_online,
        "location_lines": _location_lines(session),
        "postcode": venue.postcode if venue else "",
        "directions": directions,
        "joining_url": session.joining_url,
        "what_to_do": _what_to_do(session),
    }


def _fee_lines(booking: Booking) -> dict:
    fees = booking.fee_snapshot or {}
    return {
        "course": pounds(fees.get("course_pence", 0)),
        "police": pounds(fees.get("police_cost_recovery_pence", 0)),
        "vat": pounds(fees.get("vat_pence", 0)),
        "total": pounds(fees.get("total_pence", booking.fee_pence)),
        "transfer": pounds(fees["transfer_fee_pence"]) if fees.get("transfer_fee_pence") else "",
        "is_free": not fees.get("total_pence", booking.fee_pence),
    }


def _policy_context(booking: Booking) -> dict:
    policy = booking.policy_snapshot or {}
    return {
        "free_transfer_days": policy.get("free_transfer_notice_days"),
        "late_transfer_fee": pounds(policy.get("late_transfer_fee_pence", 0)),
        "cutoff_hours": policy.get("transfer_cutoff_hours"),
    }


def _base_context(client: Client, offer: Offer, language: str) -> dict:
    organisation = client.organisation
    return {
        "lang_code": content_language(language),
        "is_welsh": language == "cy",
        "client_name": organisation.display_name(language),
        "brand_colour": organisation.primary_colour,
        "contact_phone": organisation.contact_phone,
        "contact_email": organisation.contact_email,
        "site_url": client.site_url,
        "manage_url": _client_url(client, "journey:manage", "/"),
        "find_url": _client_url(client, "journey:find", "/"),
        "first_name": offer.first_name,
        "offer_reference": offer.reference,
    }


def _booking_context(client: Client, booking: Booking, language: str) -> dict:
    context = _base_context(client, booking.offer, language)
    context.update(_session_context(booking.session, language))
    context.update(_policy_context(booking))
    context["booking_reference"] = booking.reference
    context["fees"] = _fee_lines(booking)
    return context


# --- Calendar file ----------------------------------------------------------------------------


def calendar_uid(booking: Booking, client: Client) -> str:
    return f"{booking.reference}@{client.domain}"


def build_calendar(booking: Booking, client: Client, language: str, *,
                   cancelled: bool = False, sequence: int | None = None) -> bytes:
    """An .ics with one VEVENT for the booking (times in UTC). `cancelled` makes it a
    METHOD:CANCEL for the same UID, so calendars remove the entry."""
    session = booking.session
    organisation = client.organisation
    name = organisation.display_name(language)
    if session.is_online:
        location = _("Online")
    else:
        location = ", ".join(_location_lines(session))
    description = [_("Booking reference: %(reference)s") % {"reference": booking.reference},
                   *_what_to_do(session)]
    if organisation.contact_phone or organisation.contact_email:
        description.append(_("Questions? Contact %(name)s: %(contact)s") % {
            "name": name,
            "contact": " / ".join(filter(None, (organisation.contact_phone,
                                                organisation.contact_email))),
        })
    organizer_email = organisation.contact_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    organizer = icalendar.vCalAddress(f"mailto:{organizer_email}")
    organizer.params["CN"] = name
    if sequence is None:
        sequence = booking.transfer_count + (1 if cancelled else 0)
    event = icalendar.Event.new(
        uid=calendar_uid(booking, client),
        start=session.starts_at.astimezone(UTC),
        end=session.ends_at.astimezone(UTC),
        stamp=timezone.now().astimezone(UTC),
        summary=session.course_type.name(language),
        location=location,
        description="\n".join(description),
        sequence=sequence,
        status="CANCELLED" if cancelled else "CONFIRMED",
        organizer=organizer,
        url=_client_url(client, "journey:manage", "/"),
    )
    calendar = icalendar.Calendar.new(prodid=PRODID, method="CANCEL" if cancelled else "PUBLISH",
                                      subcomponents=[event])
    return calendar.to_ical()


def _ics_attachment(filename: str, content: bytes, *, cancelled: bool = False):
    method = "CANCEL" if cancelled else "PUBLISH"
    return (filename, content.decode("utf-8"), f"text/calendar; method={method}")


# --- Rendering and sending --------------------------------------------------------------------


def _render_text(template: str, context: dict) -> str:
    text = render_to_string(template, context)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _compose(client: Client, offer: Offer, *, template_file: str, subject: str,
             context: dict, attachments=()) -> EmailMultiAlternatives | None:
    """The message, or None when the offer has no e-mail address. Call under the language."""
    if not offer.email:
        return None
    context = dict(context, subject=subject)
    text = _render_text(f"email/{template_file}.txt", context)
    html = render_to_string(f"email/{template_file}.html", context)
    return _message(client, offer, context, subject=subject, text=text, html=html,
                     attachments=attachments)


def _message(client: Client, offer: Offer, context: dict, *, subject: str, text: str,
             html: str, attachments) -> EmailMultiAlternatives:
    """From the client's name, replies to the client: the same whoever wrote the wording."""
    organisation = client.organisation
    sender = formataddr((context["client_name"], parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=sender, to=[offer.email],
        reply_to=[organisation.contact_email] if organisation.contact_email else None,
        headers={"Content-Language": context["lang_code"], "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(*attachment)
    return message


def _deliver(message: EmailMultiAlternatives | None, *, offer: Offer, booking: Booking | None,
             template: str) -> EmailMultiAlternatives | None:
    """Send and record it in one transaction: if sending fails, nothing is recorded and a job
    will try again; if the record cannot be written, the error surfaces."""
    with transaction.atomic():
        if message is None:
            log_event(offer, "message.skipped", channel=Channel.SYSTEM, actor=SYSTEM,
                      booking=booking, after={"template": template, "reason": "no_email"})
            logger.info("Skipped %s for offer %s: no e-mail address", template, offer.pk)
            return None
        message.send()
        log_event(offer, "message.sent", channel=Channel.SYSTEM, actor=SYSTEM, booking=booking,
                  after={"template": template, "to": offer.email, "language": offer.language})
    return message


def _send_for_booking(booking: Booking, *, template: str, template_file: str, subject,
                      extra=None, attachments=None) -> EmailMultiAlternatives | None:
    """`subject`, `extra` and `attachments` are callables run under the offer's language."""
    client = current_client()
    booking = _reload_booking(booking)
    offer = booking.offer
    language = language_of(offer)
    with translation.override(language):
        context = _booking_context(client, booking, language)
        if extra:
            context.update(extra(booking, context))
        files = attachments(booking, client, language) if attachments else ()
        custom = _client_wording(template, booking, client, language, context)
        if custom is None:
            message = _compose(client, offer, template_file=template_file,
                               subject=subject(booking, context), context=context,
                               attachments=files)
        else:
            message = _compose_custom(client, offer, custom, context, attachments=files)
    return _deliver(message, offer=offer, booking=booking, template=template)


def _client_wording(template: str, booking: Booking, client: Client, language: str,
                    context: dict) -> tuple[str, str] | None:
    """The client's own subject and body for this message (set in /manage/), if any."""
    from booking.services.admin import custom_correspondence

    session = booking.session
    start = timezone.localtime(session.starts_at)
    values = {
        "first_name": booking.offer.first_name, "offer_reference": booking.offer.reference,
        "booking_reference": booking.reference,
        "course_name": session.course_type.name(language),
        "course_date": _long_date(start.date()), "start_time": start.strftime("%H:%M"),
        "venue": ", ".join(_location_lines(session)), "joining_url": session.joining_url,
        "client_name": context["client_name"],
        "contact_phone": client.organisation.contact_phone,
        "contact_email": client.organisation.contact_email,
        "manage_url": context.get("manage_url", ""),
    }
    return custom_correspondence(template, language, values)


def _compose_custom(client: Client, offer: Offer, custom: tuple[str, str], context: dict,
                    attachments=()) -> EmailMultiAlternatives | None:
    if not offer.email:
        return None
    subject, body = custom
    return _message(client, offer, context, subject=subject, text=body,
                    html=str(linebreaks(body, autoescape=True)), attachments=attachments)


# --- The messages -----------------------------------------------------------------------------


def send_booking_confirmation(booking: Booking) -> EmailMultiAlternatives | None:
    """Booking confirmed: the course, what to bring, the fee breakdown and an .ics file."""
    return _send_for_booking(
        booking, template=BOOKING_CONFIRMATION, template_file="booking_confirmation",
        subject=lambda b, c: _("Booking confirmed: %(course)s on %(date)s (%(reference)s)") % {
            "course": c["course_name"], "date": _long_date(c["starts"]),
            "reference": b.reference},
        attachments=lambda b, client, language: [_ics_attachment(
            f"{b.reference}.ics", build_calendar(b, client, language))],
    )


def send_transfer_confirmation(new_booking: Booking) -> EmailMultiAlternatives | None:
    """Moved to another date: the new booking with its .ics, and a cancellation for the old
    date's calendar entry."""

    def extra(booking, context):
        old = booking.transferred_from
        if old is None:
            return {"previous": None}
        return {"previous": {
            "reference": old.reference,
            "starts": timezone.localtime(old.session.starts_at),
        }}

    def attachments(booking, client, language):
        files = [_ics_attachment(f"{booking.reference}.ics",
                                 build_calendar(booking, client, language))]
        if booking.transferred_from is not None:
            old = booking.transferred_from
            files.append(_ics_attachment(
                f"{old.reference}-cancelled.ics",
                build_calendar(old, client, language, cancelled=True), cancelled=True))
        return files

    return _send_for_booking(
        new_booking, template=TRANSFER_CONFIRMATION, template_file="transfer_confirmation",
        subject=lambda b, c: _("Your course date has changed: %(course)s on %(date)s "
                               "(%(reference)s)") % {
            "course": c["course_name"], "date": _long_date(c["starts"]),
            "reference": b.reference},
        extra=extra, attachments=attachments,
    )


def send_cancellation(booking: Booking, refund_due_pence: int) -> EmailMultiAlternatives | None:
    """Cancelled: the refund due (if any), whether another date can still be booked, and an
    .ics that removes the calendar entry."""

    def extra(booking, context):
        offer = booking.offer
        today = timezone.localdate()
        can_rebook = (offer.status == Offer.Status.OFFERED
                      and offer.booking_period_end >= today and offer.critical_date >= today)
        return {
            "refund": pounds(refund_due_pence) if refund_due_pence else "",
            "paid_fee": bool(booking.fee_pence),
            "session_cancelled": booking.session.status == CourseSession.Status.CANCELLED,
            "can_rebook": can_rebook,
            "booking_period_end": offer.booking_period_end,
            "critical_date": offer.critical_date,
        }

    return _send_for_booking(
        booking, template=CANCELLATION, template_file="cancellation",
        subject=lambda b, c: _("Booking cancelled: %(reference)s") % {"reference": b.reference},
        extra=extra,
        attachments=lambda b, client, language: [_ics_attachment(
            f"{b.reference}-cancelled.ics", build_calendar(b, client, language, cancelled=True),
            cancelled=True)],
    )


def send_reminder(booking: Booking, days_before: int) -> EmailMultiAlternatives | None:
    """A reminder `days_before` days before the course (recorded as `reminder_<days>`)."""
    return _send_for_booking(
        booking, template=reminder_template(days_before), template_file="reminder",
        subject=lambda b, c: _("Reminder: %(course)s on %(date)s") % {
            "course": c["course_name"], "date": _long_date(c["starts"])},
        extra=lambda b, c: {"days_before": days_before},
    )


def send_joining_instructions(booking: Booking) -> EmailMultiAlternatives | None:
    """How to join an online course: the joining link and what to have ready."""
    session = _reload_booking(booking).session
    if not session.is_online:
        raise ValueError("Joining instructions are only for online courses.")
    if not session.joining_url:
        raise ValueError("The online course has no joining link yet.")
    return _send_for_booking(
        booking, template=JOINING_INSTRUCTIONS, template_file="joining_instructions",
        subject=lambda b, c: _("How to join your online course on %(date)s") % {
            "date": _long_date(c["starts"])},
    )


def send_booking_period_nudge(offer: Offer) -> EmailMultiAlternatives | None:
    """The offer is not booked yet and the booking period ends soon."""
    client = current_client()
    offer = _reload_offer(offer)
    language = language_of(offer)
    with translation.override(language):
        context = _base_context(client, offer, language)
        context.update({
            "course_name": offer.course_type.name(language),
            "booking_period_end": offer.booking_period_end,
            "critical_date": offer.critical_date,
        })
        message = _compose(
            client, offer, template_file="booking_period_nudge",
            subject=_("Book your course by %(date)s") % {
                "date": _long_date(offer.booking_period_end)},
            context=context,
        )
    return _deliver(message, offer=offer, booking=None, template=BOOKING_PERIOD_NUDGE)


PAYMENT_LINK = "payment_link"
PAYMENT_REFUNDED_PLACE_GONE = "payment_refunded_place_gone"


def send_payment_link(booking: Booking, link: str) -> EmailMultiAlternatives | None:
    """The contact centre's pay-by-link: the caller completes the booking's payment online."""
    return _send_for_booking(
        booking, template=PAYMENT_LINK, template_file="payment_link",
        subject=lambda b, c: _("Pay for your course booking %(reference)s")
        % {"reference": b.reference},
        extra=lambda b, c: {"payment_link": link},
    )


def send_unplaceable_payment_refunded(booking: Booking) -> EmailMultiAlternatives | None:
    """The payment arrived after the place was taken: refunded in full."""
    return _send_for_booking(
        booking, template=PAYMENT_REFUNDED_PLACE_GONE, template_file="payment_refunded",
        subject=lambda b, c: _("Your payment has been refunded"),
    )
