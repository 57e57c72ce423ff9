"""How a message to a person reads: composed in their language (Welsh-language offers get the
whole message in Welsh), branded for the client whose schema the connection is in, with the
client's own wording where they set it, and a calendar file. Everything is read again in the
current schema, so a booking object from another client's schema is refused instead of mailed.
"""

import re
from dataclasses import dataclass
from datetime import UTC
from email.utils import formataddr, parseaddr

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.template.defaultfilters import linebreaks
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from booking.models import Booking, CourseSession, Offer
from booking.templatetags.booking_format import pounds  # noqa: F401 — the one money format
from tenants.models import ClientOrganisation
from tenants.site_urls import client_domains, origin

PRODID = "-//Waymark//NDORS course booking//EN"


# --- The client and its site ------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    organisation: ClientOrganisation
    domain: str
    site_url: str


def current_client() -> Client:
    """The client whose schema the connection is in (a real tenant, or the one a task or a
    `schema_context` switched to). Never the public schema or the template."""
    tenant = sending_organisation()
    domain = client_domains([tenant])[tenant.pk]
    return Client(tenant, domain, origin(domain))  # the same as site_url(tenant), one query


def sending_organisation() -> ClientOrganisation:
    """current_client's organisation, with its refusals, without the domain's query."""
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise RuntimeError("Offender e-mails are sent only from a client's schema.")
    tenant = getattr(connection, "tenant", None)
    if not isinstance(tenant, ClientOrganisation) or tenant.schema_name != schema:
        tenant = ClientOrganisation.objects.get(schema_name=schema)
    if tenant.is_template:
        raise RuntimeError("The client template never sends e-mail.")
    return tenant


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


# Set on a booking by the service that read or wrote it, with its offer, in this transaction
# (booking.services.seats.read_here): the schema it was read in.
READ_IN_SCHEMA = "_read_in_schema"


def has_no_email(booking: Booking) -> bool:
    """Whether the booking's offer, as read in this schema, has no e-mail address; checked only
    when the offer the caller holds has none (else the reload finds out), in one small query.
    A booking from another client's schema raises Booking.DoesNotExist, as the reload does."""
    if not Booking.offer.is_cached(booking) or booking.offer.email:
        return False
    if getattr(booking, READ_IN_SCHEMA, None) == connection.schema_name:
        return True  # the booking and its offer were read (or written) in this schema
    return not (Booking.objects.filter(pk=booking.pk, reference=booking.reference)
                .values_list("offer__email", flat=True).get())


def _reload_offer(offer: Offer) -> Offer:
    return (Offer.objects.select_related("course_type")
            .get(pk=offer.pk, reference=offer.reference))


# --- Formatting -------------------------------------------------------------------------------


def language_of(offer: Offer) -> str:
    """The Django language to compose in: Welsh for Welsh-language offers, else British English."""
    return "cy" if (offer.language or "").startswith("cy") else "en-gb"


def content_language(language: str) -> str:
    return "cy" if language == "cy" else "en-GB"


def _long_date(value) -> str:
    return formats.date_format(value, "l j F Y")


def _location_lines(session: CourseSession, language: str) -> list[str]:
    venue = session.venue
    if venue is None:
        return []
    lines = [venue.name_in(language), *venue.address_lines()]
    lines += [part for part in (venue.town, venue.postcode)
              if part and part.casefold() not in {line.casefold() for line in lines}]
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
        directions = venue.directions_in(language)
    return {
        "course_name": session.course_type.name(language),
        "starts": timezone.localtime(session.starts_at),
        "ends": timezone.localtime(session.ends_at),
        "online": session.is_online,
        "location_lines": _location_lines(session, language),
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
        # Staff let the fee (or the transfer fee) off; a move still waiting asks for its fee.
        "waived": bool(fees.get("waived")),
        "transfer_waived": bool(fees.get("transfer_fee_waived")),
        "transfer_due": booking.status == Booking.Status.TRANSFER_PENDING,
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
        location = ", ".join(_location_lines(session, language))
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


def _client_wording(template: str, booking: Booking, client: Client, language: str,
                    context: dict) -> tuple[str, str] | None:
    """The client's own subject and body for this message (set in /manage/), if any."""
    from booking.services.correspondence import custom_correspondence

    session = booking.session
    start = timezone.localtime(session.starts_at)
    values = {
        "first_name": booking.offer.first_name, "offer_reference": booking.offer.reference,
        "booking_reference": booking.reference,
        "course_name": session.course_type.name(language),
        "course_date": _long_date(start.date()), "start_time": start.strftime("%H:%M"),
        "venue": ", ".join(_location_lines(session, language)),
        "joining_url": session.joining_url,
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


