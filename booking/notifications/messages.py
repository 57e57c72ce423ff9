"""The messages booking sends people, each queued in the outbox inside the transaction of the
change it tells about, so it exists exactly when the change does and goes once (`dedupe_key`).

The outbox sends after commit; booking.notifications.timeline records on the offer's timeline
when it has gone (`message.sent`) or could not (`message.failed`). A person without an e-mail
address gets `message.skipped` at once.
"""

from django.core.mail import EmailMultiAlternatives
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from booking.models import Booking, Channel, CourseSession, Offer, OfferEvent
from booking.services.events import log_event
from outbox.models import OutboundMessage
from outbox.services import queue_email, queue_text

from .compose import (
    _base_context,
    _booking_context,
    _client_wording,
    _compose,
    _compose_custom,
    _ics_attachment,
    _long_date,
    _reload_booking,
    _reload_offer,
    build_calendar,
    current_client,
    has_no_email,
    language_of,
    pounds,
    sending_organisation,
)

SYSTEM = "system"

# What each message is: the outbox's `kind`, `after["template"]` on message events.
BOOKING_CONFIRMATION = "booking_confirmation"
TRANSFER_CONFIRMATION = "transfer_confirmation"
CANCELLATION = "cancellation"
SESSION_CANCELLED = "session_cancelled"
JOINING_INSTRUCTIONS = "joining_instructions"
BOOKING_PERIOD_NUDGE = "booking_period_nudge"
PAYMENT_LINK = "payment_link"
PAYMENT_REFUNDED_PLACE_GONE = "payment_refunded_place_gone"
TRANSFER_FEE_REFUNDED = "transfer_fee_refunded"
OFFER_WITHDRAWN = "offer_withdrawn"
REMINDER_DAYS = (7, 2)

# Before the outbox, a message sent was known only by these events: they still count.
DELIVERED_KINDS = ("message.sent", "message.skipped")


def reminder_template(days_before: int) -> str:
    return f"reminder_{days_before}"


def dedupe_key(template: str, *, offer: Offer | None = None,
               booking: Booking | None = None) -> str:
    """The one message of this kind about this booking (or, for the nudge, this offer)."""
    if booking is not None:
        return f"{template}:booking:{booking.pk}"
    if offer is not None:
        return f"{template}:offer:{offer.pk}"
    raise ValueError("A message is about an offer or a booking")


def already_sent(template: str, *, offer: Offer | None = None,
                 booking: Booking | None = None) -> bool:
    """Whether this message was queued already, or sent or skipped before the outbox."""
    if OutboundMessage.objects.filter(
            dedupe_key=dedupe_key(template, offer=offer, booking=booking)).exists():
        return True
    events = OfferEvent.objects.filter(kind__in=DELIVERED_KINDS, after__template=template)
    if booking is not None:
        events = events.filter(booking_id=booking.pk)
    else:
        events = events.filter(offer_id=offer.pk, booking__isnull=True)
    return events.exists()


def _queue(message: EmailMultiAlternatives | None, *, offer: Offer, booking: Booking | None,
           template: str, once: bool = True) -> OutboundMessage | None:
    """Put the composed message in the outbox (inside the caller's transaction). Returns the
    row, or None when there is no address or it was queued before."""
    if message is None:
        log_event(offer, "message.skipped", channel=Channel.SYSTEM, actor=SYSTEM,
                  booking=booking, after={"template": template, "reason": "no_email"})
        return None
    html = next((content for content, mimetype in message.alternatives
                 if mimetype == "text/html"), "")
    return queue_email(
        kind=template, to=message.to[0], subject=message.subject, text=message.body, html=html,
        sender=message.from_email, reply_to=(message.reply_to or [""])[0],
        headers=message.extra_headers,
        attachments=[(name, content, mimetype) for name, content, mimetype in message.attachments],
        dedupe_key=dedupe_key(template, offer=offer, booking=booking) if once else None,
        regarding={"offer": offer.pk, "booking": booking.pk if booking else None,
                   "template": template, "language": offer.language})


def _queue_for_booking(booking: Booking, *, template: str, template_file: str, subject,
                       extra=None, attachments=None, once: bool = True):
    """`subject`, `extra` and `attachments` are callables run under the offer's language."""
    sending_organisation()  # the public schema and the template refuse, whoever is written to
    if has_no_email(booking):
        # Skipped before the reload, the wording and the calendar of a message that cannot go:
        # in the booking's own transaction, that work was most of its cost.
        return _queue(None, offer=booking.offer, booking=booking, template=template, once=once)
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
    return _queue(message, offer=offer, booking=booking, template=template, once=once)


def _calendar(booking, client, language):
    return [_ics_attachment(f"{booking.reference}.ics", build_calendar(booking, client, language))]


def _calendar_removal(booking, client, language):
    return [_ics_attachment(f"{booking.reference}-cancelled.ics",
                            build_calendar(booking, client, language, cancelled=True),
                            cancelled=True)]


# --- The messages -----------------------------------------------------------------------------


def queue_booking_confirmation(booking: Booking):
    """Booking confirmed: the course, what to bring, the fee breakdown and an .ics file."""
    return _queue_for_booking(
        booking, template=BOOKING_CONFIRMATION, template_file="booking_confirmation",
        subject=lambda b, c: _("Booking confirmed: %(course)s on %(date)s (%(reference)s)") % {
            "course": c["course_name"], "date": _long_date(c["starts"]),
            "reference": b.reference},
        attachments=_calendar,
    )


def queue_transfer_confirmation(new_booking: Booking):
    """Moved to another date: the new booking with its .ics, and a cancellation for the old
    date's calendar entry."""

    def extra(booking, context):
        old = booking.transferred_from
        if old is None:
            return {"previous": None}
        return {"previous": {"reference": old.reference,
                             "starts": timezone.localtime(old.session.starts_at)}}

    def attachments(booking, client, language):
        files = _calendar(booking, client, language)
        if booking.transferred_from is not None:
            files += _calendar_removal(booking.transferred_from, client, language)
        return files

    return _queue_for_booking(
        new_booking, template=TRANSFER_CONFIRMATION, template_file="transfer_confirmation",
        subject=lambda b, c: _("Your course date has changed: %(course)s on %(date)s "
                               "(%(reference)s)") % {
            "course": c["course_name"], "date": _long_date(c["starts"]),
            "reference": b.reference},
        extra=extra, attachments=attachments,
    )


def queue_cancellation(booking: Booking, refund_due_pence: int, *, paid_pence: int):
    """Cancelled: the refund due (if any; `paid_pence` is what was paid, so a fee that was
    waived is not said to be kept), whether another date can still be booked, and an .ics that
    removes the calendar entry."""

    def extra(booking, context):
        offer = booking.offer
        today = timezone.localdate()
        can_rebook = (offer.status == Offer.Status.OFFERED
                      and offer.booking_period_end >= today and offer.critical_date >= today)
        return {
            "refund": pounds(refund_due_pence) if refund_due_pence else "",
            "paid_fee": bool(paid_pence),
            "session_cancelled": booking.session.status == CourseSession.Status.CANCELLED,
            "can_rebook": can_rebook,
            "booking_period_end": offer.booking_period_end,
            "critical_date": offer.critical_date,
        }

    return _queue_for_booking(
        booking, template=CANCELLATION, template_file="cancellation",
        subject=lambda b, c: _("Booking cancelled: %(reference)s") % {"reference": b.reference},
        extra=extra, attachments=_calendar_removal,
    )


def queue_session_cancelled(booking: Booking):
    """The client cancelled the date: the booking stands, and moving to another date or
    cancelling with a full refund is free."""
    return _queue_for_booking(
        booking, template=SESSION_CANCELLED, template_file="session_cancelled",
        subject=lambda b, c: _("Your course date has been cancelled: move to another date free "
                               "of charge"),
        attachments=_calendar_removal,
    )


def queue_reminder(booking: Booking, days_before: int):
    """A reminder `days_before` days before the course (recorded as `reminder_<days>`)."""
    return _queue_for_booking(
        booking, template=reminder_template(days_before), template_file="reminder",
        subject=lambda b, c: _("Reminder: %(course)s on %(date)s") % {
            "course": c["course_name"], "date": _long_date(c["starts"])},
        extra=lambda b, c: {"days_before": days_before},
    )


def queue_joining_instructions(booking: Booking):
    """How to join an online course: the joining link and what to have ready."""
    session = _reload_booking(booking).session
    if not session.is_online:
        raise ValueError("Joining instructions are only for online courses.")
    if not session.joining_url:
        raise ValueError("The online course has no joining link yet.")
    return _queue_for_booking(
        booking, template=JOINING_INSTRUCTIONS, template_file="joining_instructions",
        subject=lambda b, c: _("How to join your online course on %(date)s") % {
            "date": _long_date(c["starts"])},
    )


def queue_booking_period_nudge(offer: Offer):
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
    return _queue(message, offer=offer, booking=None, template=BOOKING_PERIOD_NUDGE)


def queue_payment_link(booking: Booking, link: str):
    """The contact centre's pay-by-link by e-mail: each one asked for is sent."""
    return _queue_for_booking(
        booking, template=PAYMENT_LINK, template_file="payment_link",
        subject=lambda b, c: _("Pay for your course booking %(reference)s")
        % {"reference": b.reference},
        extra=lambda b, c: {"payment_link": link}, once=False,
    )


def queue_payment_link_text(booking: Booking, to: str, body: str):
    """The same link by text message to `to` (E.164)."""
    return queue_text(kind=PAYMENT_LINK, to=to, body=body,
                      regarding={"offer": booking.offer_id, "booking": booking.pk,
                                 "template": PAYMENT_LINK, "language": booking.offer.language})


def queue_unplaceable_payment_refunded(booking: Booking):
    """The payment arrived after the place was taken: refunded in full."""
    return _queue_for_booking(
        booking, template=PAYMENT_REFUNDED_PLACE_GONE, template_file="payment_refunded",
        subject=lambda b, c: _("Your payment has been refunded"),
    )


def queue_transfer_fee_refunded(move: Booking):
    """A transfer fee was paid but the move could not be made (the new date's seat went, or the
    booking changed meanwhile): the fee is refunded in full, and the booking still held, if
    any, is said to be unchanged."""

    def extra(booking, context):
        old = booking.transferred_from
        still_booked = old is not None and old.status == Booking.Status.CONFIRMED
        return {"refund": pounds(booking.fee_snapshot.get("transfer_fee_pence", 0)),
                "current": {"reference": old.reference,
                            "starts": timezone.localtime(old.session.starts_at)}
                if still_booked else None}

    return _queue_for_booking(
        move, template=TRANSFER_FEE_REFUNDED, template_file="transfer_fee_refunded",
        subject=lambda b, c: _("Your transfer fee has been refunded"), extra=extra,
    )


def queue_offer_withdrawn(offer: Offer, booking: Booking | None, refund_due_pence: int):
    """The police withdrew the offer: the booking it had, if any, is cancelled (with an .ics
    that removes a confirmed one from the calendar) and what was paid is refunded. Once per
    offer."""
    client = current_client()
    offer = _reload_offer(offer)
    language = language_of(offer)
    with translation.override(language):
        context = _base_context(client, offer, language)
        context.update(course_name=offer.course_type.name(language), booking_reference="",
                       refund=pounds(refund_due_pence) if refund_due_pence else "")
        files = []
        if booking is not None:
            booking = _reload_booking(booking)
            context.update(booking_reference=booking.reference,
                           starts=timezone.localtime(booking.session.starts_at))
            if booking.confirmed_at is not None:
                files = _calendar_removal(booking, client, language)
        message = _compose(
            client, offer, template_file="offer_withdrawn",
            subject=_("Your course offer %(reference)s has been withdrawn")
            % {"reference": offer.reference},
            context=context, attachments=files,
        )
    return _queue(message, offer=offer, booking=None, template=OFFER_WITHDRAWN)
