"""Pay-by-link: the contact centre sends the caller, by e-mail or text, a signed link to a page
of the client's site that completes the booking's payment. A link works only on its own
client's site, and only for LINK_MAX_AGE."""

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking import notifications
from booking.models import Booking, Channel
from integrations import text_messages
from tenants.site_urls import site_url

from .bookings import seat_held_for
from .events import log_event
from .payments import merchant_account, payable_booking
from .rules import BookingRefused

LINK_SALT = "waymark.pay-by-link"
LINK_MAX_AGE = 48 * 3600


def pay_link_token(booking: Booking) -> str:
    return signing.dumps({"booking": booking.reference, "client": connection.schema_name},
                         salt=LINK_SALT)


def pay_link_url(booking: Booking, organisation) -> str:
    return site_url(organisation) + reverse("payments:link", args=[pay_link_token(booking)],
                                            urlconf="config.urls_client")


def booking_for_link(token: str) -> Booking | None:
    """The booking a pay-by-link token names, if the link is genuine, still fresh and this
    client's (the connection's schema); else None."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("client") != connection.schema_name:
        return None
    return (Booking.objects.select_related("offer", "session__venue", "session__course_type")
            .filter(reference=data["booking"]).first())


class LinkBy:
    EMAIL = "email"
    TEXT = "text"


def send_pay_by_link(booking_id, *, organisation, actor, channel=Channel.TELEPHONE,
                     by: str = LinkBy.EMAIL, mobile: str = "") -> str:
    """Send the caller a link to a page that completes this booking's PaymentIntent, by e-mail
    or by text to `mobile` (default: the offer's phone). Returns the link. The message is queued
    in the outbox with its event; the timeline shows when it has gone, or that it could not."""
    booking = payable_booking(booking_id)
    if merchant_account(organisation) is None:
        raise BookingRefused(_("Card payments are not available for this service yet."),
                             "no_merchant_account")
    if by == LinkBy.TEXT:
        if not text_messages.texts_available():
            raise BookingRefused(_("Payment links cannot be sent by text message here: send it "
                                   "by email."), "no_text_service")
        try:
            to = text_messages.uk_mobile(mobile or booking.offer.phone)
        except ValidationError as invalid:
            raise BookingRefused(invalid.messages[0], "bad_mobile") from None
    elif booking.offer.email:
        to = booking.offer.email
    else:
        raise BookingRefused(_("Add the caller's email address first: the payment link is sent "
                               "by email."), "no_email")
    link = pay_link_url(booking, organisation)
    with transaction.atomic(durable=True):
        if by == LinkBy.TEXT:
            notifications.queue_payment_link_text(
                booking, to, _payment_link_text(booking, organisation, link))
        else:
            notifications.queue_payment_link(booking, link)
        log_event(booking.offer, "payment.link_sent", channel=channel, actor=actor,
                  booking=booking, after={"to": to, "by": by})
    return link


def _payment_link_text(booking, organisation, link) -> str:
    language = notifications.language_of(booking.offer)
    hold = seat_held_for(booking)
    values = {"client": organisation.display_name(language), "amount": notifications.pounds(booking.amount_due_pence),
              "reference": booking.reference, "link": link}
    with translation.override(language):
        text = gettext("%(client)s: pay %(amount)s for course booking %(reference)s at %(link)s"
                       ) % values
        if hold is not None:
            text += " " + gettext("Pay by %(time)s to keep your place.") % {
                "time": timezone.localtime(hold.expires_at).strftime("%H:%M")}
    return text

