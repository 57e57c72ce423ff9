"""What the outbox tells booking: a message about an offer has gone, or has been given up on.
Recorded on the offer's timeline, where staff look, in the schema the message belongs to."""

from django.db import transaction

from booking.models import Booking, Channel, Offer
from booking.services.events import log_event
from booking.services.seats import lock_offer

SYSTEM = "system"


def _record(message, kind: str, after: dict) -> None:
    regarding = message.regarding or {}
    if not regarding.get("offer"):  # a staff message (public schema): not about an offer
        return
    if not Offer.objects.filter(pk=regarding["offer"]).exists():
        return
    with transaction.atomic():
        # The offer's lock first, as every booking service takes it: the event row's keys
        # share-lock the booking and then the offer, which deadlocks against a service that
        # holds the offer and waits for the booking.
        offer = lock_offer(regarding["offer"])
        booking = Booking.objects.filter(pk=regarding.get("booking")).first()
        log_event(offer, kind, channel=Channel.SYSTEM, actor=SYSTEM, booking=booking,
                  after={"template": regarding.get("template", message.kind),
                         "medium": message.medium, **after})


def record_sent(sender, message, **kwargs) -> None:
    _record(message, "message.sent", {"to": message.to, "language": message.regarding.get(
        "language", "")})


def record_failed(sender, message, **kwargs) -> None:
    _record(message, "message.failed", {"to": message.to, "error": message.last_error})
