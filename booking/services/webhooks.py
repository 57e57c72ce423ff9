"""The client's outgoing webhooks: which of booking's events an integrator can be told of, what
each carries, and the endpoints' management (each change one durable transaction with its audit
row). Signing, sending and retrying are the outbox's (outbox/webhooks.py).

Every event reaches webhooks from one place: `announce`, called by events.log_event for each
event it appends, inside the change's transaction. A delivery therefore exists exactly when
its change does, and since the endpoints live in the client's schema, a client's endpoints
are told of that client's events only.

Payloads name the booking and offer by reference and carry no personal details (no name,
contact details or date of birth): the delivery log keeps them, and erasure does not reach it.
An integrator with the `bookings.view` scope reads the rest from the API.
"""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from audit.services import record
from booking.models import Booking, OfferEvent
from outbox import webhooks
from outbox.models import WebhookDelivery, WebhookEndpoint
from tenants.models import ClientOrganisation

# Event type → what it means, for people choosing what to be told of.
EVENT_TYPES = {
    "booking.created": _("A booking was made and waits for its payment"),
    "booking.confirmed": _("A booking was confirmed"),
    "booking.transferred": _("A booking moved to another course date"),
    "booking.cancelled": _("A booking was cancelled"),
    "booking.outcome_recorded": _("An attendance outcome was recorded"),
    "payment.succeeded": _("A payment succeeded"),
    "payment.refunded": _("A payment was refunded"),
}


def booking_facts(booking: Booking) -> dict:
    session = booking.session
    return {
        "reference": booking.reference,
        "offer_reference": booking.offer.reference,
        "status": booking.status,
        "channel": booking.channel,
        "course_date": session.pk,
        "course_type": session.course_type.code,
        "venue": session.venue_id,
        "starts_at": session.starts_at.isoformat(),
        "fee_pence": booking.fee_pence,
        "transferred_from": booking.transferred_from.reference
        if booking.transferred_from_id else None,
    }


def event_data(event: OfferEvent) -> dict:
    data = {"booking": booking_facts(event.booking) if event.booking_id else None,
            "channel": event.channel, "occurred_at": event.occurred_at.isoformat()}
    after = event.after or {}
    if event.kind.startswith("payment.") and "amount_pence" in after:
        data["amount_pence"] = after["amount_pence"]
    if event.kind == "booking.outcome_recorded":
        data["outcome"] = after.get("booking")
    return data


def announce(event: OfferEvent) -> None:
    """Queue the event for every endpoint of this client that wants it (called by log_event,
    inside the change's transaction)."""
    if event.kind in EVENT_TYPES:
        webhooks.queue_event(event.kind, event_data(event), now=event.occurred_at)


# --- endpoints -------------------------------------------------------------------------------

def _organisation():
    return ClientOrganisation.objects.filter(schema_name=connection.schema_name).first()


def _audit_actor(actor):
    """Staff users as themselves; an API key's principal (and anything else) by its label."""
    return actor if hasattr(actor, "email") else str(actor)


def _label(actor) -> str:
    actor = _audit_actor(actor)
    return actor if isinstance(actor, str) else actor.email


def create_webhook_endpoint(url: str, events, *, description: str = "", actor,
                            ip_address=None) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of the current client, and its secret (shown once)."""
    with transaction.atomic(durable=True):
        endpoint, secret = webhooks.create_endpoint(
            url, events, known_events=EVENT_TYPES, description=description or "",
            created_by=_label(actor))
        record(actor=_audit_actor(actor), action="webhook_endpoint.created", obj=endpoint,
               organisation=_organisation(), ip_address=ip_address,
               after={"url": endpoint.url, "events": endpoint.events})
    return endpoint, secret


def delete_webhook_endpoint(endpoint_id: int, *, actor, ip_address=None) -> None:
    with transaction.atomic(durable=True):
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        if endpoint is None:
            raise ValidationError(_("There is no such webhook endpoint."), code="not_found")
        record(actor=_audit_actor(actor), action="webhook_endpoint.deleted", obj=endpoint,
               organisation=_organisation(), ip_address=ip_address,
               before={"url": endpoint.url, "events": endpoint.events})
        endpoint.delete()


def send_test_event(endpoint_id: int, *, actor, ip_address=None) -> WebhookDelivery:
    """A `webhook.test` event to this endpoint only, sent after commit."""
    with transaction.atomic(durable=True):
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:
            raise ValidationError(_("There is no such webhook endpoint."), code="not_found")
        delivery = webhooks.queue_test_event(endpoint)
        record(actor=_audit_actor(actor), action="webhook_endpoint.tested", obj=endpoint,
               organisation=_organisation(), ip_address=ip_address,
               after={"event_id": delivery.event_id})
    return delivery
