"""What booking publishes to billing: which of its events are billable, as billing's
`BillableEvent`, written through billing's ledger inside the event's own transaction.

A booking confirmed is billed once, by the channel it was made through; a transfer is not a
new booking ("booking.transferred" is not billable); a cancellation of a booking that had been
confirmed is a credit (the plan decides whether it is deducted); every logged call is billed;
every card payment taken is recorded with its amount (its processing is passed through)."""

from django.db import connection
from django_tenants.utils import get_public_schema_name

from billing.ledger import BillableEvent, record_usage
from tenants.models import ClientOrganisation

CONFIRMED = "booking_confirmed"
CREDIT = "booking_cancelled_credit"
CALL = "call_logged"
CARD = "card_payment"


def billing_channel(booking_channel: str) -> str:
    if booking_channel in ("online", "telephone"):
        return booking_channel
    return "staff"


def _client_id():
    """The client whose schema is current. A request or a task has set the client itself; a
    command or a test that entered the schema by name (schema_context) has only a stand-in
    without an id, so the client is looked up by its schema's name."""
    schema = connection.schema_name
    if not schema or schema == get_public_schema_name():
        return None
    tenant = getattr(connection, "tenant", None)
    if getattr(tenant, "schema_name", None) == schema and getattr(tenant, "pk", None):
        return tenant.pk
    return (ClientOrganisation.objects.filter(schema_name=schema, is_template=False)
            .values_list("pk", flat=True).first())


def billable(event):
    """The billable form of an OfferEvent, or None."""
    booking = event.booking
    if event.kind == "booking.confirmed" and booking is not None:
        return BillableEvent(f"offer_event:{event.pk}", CONFIRMED,
                             billing_channel(booking.channel), event.occurred_at)
    if (event.kind == "booking.cancelled" and booking is not None
            and booking.confirmed_at is not None):
        return BillableEvent(f"offer_event:{event.pk}", CREDIT, "", event.occurred_at)
    amount = (event.after or {}).get("amount_pence") or 0
    if event.kind == "payment.succeeded" and amount > 0:
        return BillableEvent(f"offer_event:{event.pk}", CARD, "", event.occurred_at,
                             amount_pence=amount)
    return None


def on_event(event) -> None:
    """Called by log_event for every OfferEvent, inside its transaction."""
    usage = billable(event)
    client_id = _client_id() if usage is not None else None
    if client_id is not None:
        record_usage(client_id, usage)


def on_call(call) -> None:
    """Called by create_call for every CallLog, inside its transaction; billed in the month
    the call started."""
    client_id = _client_id()
    if client_id is not None:
        record_usage(client_id, BillableEvent(f"call:{call.pk}", CALL, "", call.started_at))


def billable_ids(start, end) -> set[str]:
    """Every billable event of the current client's schema in [start, end), by the source id
    its usage row carries: what the ledger should hold, recounted from booking's own rows."""
    from booking.models import CallLog, OfferEvent

    ids = set()
    events = (OfferEvent.objects.select_related("booking")
              .filter(kind__in=("booking.confirmed", "booking.cancelled", "payment.succeeded"),
                      occurred_at__gte=start, occurred_at__lt=end))
    for event in events.iterator():
        if billable(event) is not None:
            ids.add(f"offer_event:{event.pk}")
    calls = CallLog.objects.filter(started_at__gte=start, started_at__lt=end)
    ids.update(f"call:{pk}" for pk in calls.values_list("pk", flat=True))
    return ids
