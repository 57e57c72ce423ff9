"""What the outbox tells booking: a message about an offer has gone, or has been given up on.
Recorded on the offer's timeline, where staff look, in the schema the message belongs to."""

from django.db import transaction

from booking.models import Booking, Channel, Offer
from booking.services.events import log_event

SYSTEM = "system"


def _record(message, kind: str, after: dict) -> None:
    regarding = message.regarding or {}
    if not regarding.get("offer"):  # a staff message (public schema): not about an offer
        return
    offer = Offer.objects.filter(pk=regarding["offer"]).first()
    if offer is None:
        return
    booking = Booking.objects.filter(pk=regarding.get("booking")).first()
    with transaction.atomic():
        log_event(offer, kind, channel=Channel.SYSTEM, actor=SYSTEM, booking=booking,
                  after={"template": regarding.get("template", message.kind),
                         "medium": message.medium, **after})


def record_sent(sender, message, **kwargs) -> None:
    _record(message, "message.sent", {"to": message.to, "language": message.regarding.get(
        "language", "")})


def record_failed(sender, message, **kwargs) -> None:
    _record(message, "message.failed", {"to": message.to, "error": message.last_error})
