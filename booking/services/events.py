"""Appending to an offer's timeline. Called inside the service's transaction."""

from django.utils import timezone

from booking import tallies, usage
from booking.models import OfferEvent

from . import webhooks


def actor_label(actor) -> tuple[str, int | None]:
    """A staff user by e-mail and id; anyone else (an API key's principal, "offender",
    "stripe") by its label."""
    if getattr(actor, "is_authenticated", False) and hasattr(actor, "email"):
        return actor.email, actor.pk
    return str(actor), None


def log_event(offer, kind: str, *, channel: str, actor, booking=None, before=None, after=None,
              now=None) -> OfferEvent:
    label, user_id = actor_label(actor)
    event = OfferEvent.objects.create(
        offer=offer, booking=booking, kind=kind, channel=channel, actor=label,
        actor_user_id=user_id, before=before, after=after, occurred_at=now or timezone.now(),
    )
    usage.on_event(event)  # a billable event's usage row, in the same transaction
    tallies.on_event(event)  # the reports' counts, likewise
    webhooks.announce(event)  # deliveries to the client's webhook endpoints, sent after commit
    return event
