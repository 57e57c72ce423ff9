"""The usage ledger's one way in. Booking calls `record_usage` (through booking.usage) inside
the transaction that writes the client's event, so the row commits or rolls back with it; the
unique (client, source_event_id) constraint makes a second row for one event impossible."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from billing.models import UsageRecord


@dataclass(frozen=True)
class BillableEvent:
    source_event_id: str
    kind: str  # UsageRecord.Kind
    channel: str  # UsageRecord.Channel, or "" for calls, credits and card payments
    occurred_at: datetime
    amount_pence: int = 0  # a card payment's amount


def record_usage(client_id: int, event: BillableEvent) -> UsageRecord:
    if not connection.in_atomic_block:
        raise RuntimeError("record_usage must run inside the event's transaction")
    if event.kind not in UsageRecord.Kind.values:
        raise ValueError(f"unknown usage kind {event.kind!r}")
    return UsageRecord.objects.create(
        client_id=client_id, source_event_id=event.source_event_id, kind=event.kind,
        channel=event.channel, occurred_at=event.occurred_at, amount_pence=event.amount_pence)


_recounters = []


def register_recount(function) -> None:
    """The app that owns the events registers how to recount them: `function(start, end)`,
    run in a client's schema, returns the source ids of its billable events in [start, end)."""
    if function not in _recounters:
        _recounters.append(function)


def recounters() -> list:
    return list(_recounters)


def record_history(client_id: int, events: list[BillableEvent]) -> int:
    """Usage rows for events that were loaded in bulk as history (the demo's past years), whose
    events never passed through `record_usage`. A row already there is left as it is."""
    rows = UsageRecord.objects.bulk_create(
        [UsageRecord(client_id=client_id, source_event_id=event.source_event_id,
                     kind=event.kind, channel=event.channel, occurred_at=event.occurred_at,
                     amount_pence=event.amount_pence)
         for event in events], ignore_conflicts=True, batch_size=2000)
    return len(rows)
