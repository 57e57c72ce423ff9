"""The usage ledger: a row exists exactly when its billable event does."""

from datetime import UTC, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.ledger import BillableEvent, record_usage
from billing.models import UsageRecord
from booking.models import CallLog, OfferEvent
from booking.services.calls import log_call
from booking.services.changes import cancel_booking, transfer_booking

from ..booking.conftest import (
    admin_booking,
    make_offer,
    make_session,
    paid_booking,
    pending_booking,
)

pytestmark = pytest.mark.usefixtures("in_essex")


def usage(**filters):
    return list(UsageRecord.objects.filter(**filters).order_by("pk"))


def test_a_confirmed_booking_writes_one_row_by_its_channel(essex):
    now = timezone.now()
    session = make_session(now=now)
    staff = admin_booking(make_offer(now=now), session, now=now)
    online = paid_booking(make_offer(now=now), session, now=now, channel="online")
    phone = paid_booking(make_offer(now=now), session, now=now, channel="telephone")
    rows = usage(client=essex, kind="booking_confirmed")
    assert [row.channel for row in rows] == ["staff", "online", "telephone"]
    events = OfferEvent.objects.filter(kind="booking.confirmed",
                                       booking__in=[staff, online, phone]).order_by("pk")
    assert [row.source_event_id for row in rows] == [f"offer_event:{e.pk}" for e in events]


def test_a_pending_booking_is_not_billed_until_it_is_confirmed(essex):
    now = timezone.now()
    pending_booking(make_offer(now=now), make_session(now=now), now=now)
    assert usage(client=essex) == []


def test_a_transfer_is_not_a_new_booking_and_a_cancellation_is_a_credit(essex):
    now = timezone.now()
    booking = admin_booking(make_offer(now=now), make_session(now=now), now=now)
    moved = transfer_booking(booking.pk, make_session(starts_in=timedelta(days=20), now=now).pk,
                             channel="online", actor="online", now=now)
    assert [row.kind for row in usage(client=essex)] == ["booking_confirmed"]
    cancel_booking(moved.pk, channel="online", actor="online", now=now)
    assert [row.kind for row in usage(client=essex)] == ["booking_confirmed",
                                                          "booking_cancelled_credit"]


def test_every_logged_call_is_a_row(essex):
    offer = make_offer()
    log_call(actor="agent", call_type="enquiry", outcome="information_given",
             duration_minutes=3, offer_id=offer.pk)
    log_call(actor="agent", call_type="enquiry", outcome="information_given",
             duration_minutes=1)
    rows = usage(client=essex, kind="call_logged")
    assert len(rows) == 2 and all(row.source_event_id.startswith("call:") for row in rows)


def test_a_rolled_back_event_leaves_no_row(essex):
    now = timezone.now()
    session, offer = make_session(now=now), make_offer(now=now)
    with pytest.raises(RuntimeError), transaction.atomic():
        admin_booking(offer, session, now=now)
        assert len(usage(client=essex)) == 1
        raise RuntimeError("the booking's transaction fails after its event")
    assert usage(client=essex) == []
    assert not OfferEvent.objects.filter(kind="booking.confirmed").exists()


def test_a_second_row_for_one_event_is_impossible(essex):
    event = BillableEvent("offer_event:1", "booking_confirmed", "online", timezone.now())
    with transaction.atomic():
        record_usage(essex.pk, event)
    with pytest.raises(IntegrityError), transaction.atomic():
        record_usage(essex.pk, event)
    assert len(usage(client=essex)) == 1


def test_a_booking_row_needs_a_channel_and_rows_are_never_changed(essex):
    with pytest.raises(IntegrityError), transaction.atomic():
        record_usage(essex.pk, BillableEvent("x:1", "booking_confirmed", "", timezone.now()))
    with transaction.atomic():
        row = record_usage(essex.pk, BillableEvent("x:2", "call_logged", "", timezone.now()))
    with pytest.raises(ValidationError):
        row.save()
    with pytest.raises(ValidationError):
        row.delete()


def test_the_nightly_check_finds_no_difference_and_would_notice_one(essex, south_wales):
    from django.db import connection

    from billing.services.check import check_ledger

    now = timezone.now()
    booking = admin_booking(make_offer(now=now), make_session(now=now), now=now)
    log_call(actor="agent", call_type="enquiry", outcome="information_given",
             duration_minutes=2, booking_id=booking.pk)
    connection.set_schema_to_public()
    assert check_ledger(now=now) == []
    # A usage row whose event never happened, and an event whose row is missing.
    with transaction.atomic():
        record_usage(essex.pk, BillableEvent("offer_event:999999", "booking_confirmed",
                                             "online", now))
    connection.set_tenant(essex)
    CallLog.objects.create(call_type="enquiry", outcome="information_given", duration_minutes=1,
                           agent_label="bypassed the service", started_at=now)
    connection.set_schema_to_public()
    [difference] = check_ledger(now=now)
    assert difference.client == essex
    assert difference.unknown == {"offer_event:999999"}
    assert len(difference.missing) == 1 and next(iter(difference.missing)).startswith("call:")


def test_the_database_refuses_to_change_or_delete_a_usage_row(essex):
    with transaction.atomic():
        record_usage(essex.pk, BillableEvent("z:1", "call_logged", "", timezone.now()))
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        UsageRecord.objects.filter(source_event_id="z:1").update(kind="booking_cancelled_credit")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        UsageRecord.objects.filter(source_event_id="z:1").delete()
    assert UsageRecord.objects.filter(source_event_id="z:1").count() == 1


def test_an_event_in_a_schema_entered_by_name_is_billed_to_its_client(essex):
    """Commands and the demo seed enter a client's schema by name (schema_context), where the
    connection holds a stand-in without the client's id: the row is still written."""
    from django.db import connection
    from django_tenants.utils import schema_context

    connection.set_schema_to_public()
    with schema_context(essex.schema_name):
        now = timezone.now()
        booking = admin_booking(make_offer(now=now), make_session(now=now), now=now)
        event = OfferEvent.objects.get(kind="booking.confirmed", booking=booking)
    assert usage(client=essex, source_event_id=f"offer_event:{event.pk}")


def test_a_card_payment_is_recorded_with_its_amount_and_billed(essex):
    """payment.succeeded (settle_payment's event, every card payment once) writes a
    card_payment row with its amount; month close passes it through at the plan's rate."""
    from datetime import date, datetime

    from django.db import connection

    from billing.services import invoices, plans
    from booking.services.events import log_event

    from .conftest import FROM, make_plan

    now = datetime(2026, 10, 5, 12, tzinfo=UTC)
    booking = paid_booking(make_offer(now=now), make_session(now=now), now=now)
    with transaction.atomic():
        event = log_event(booking.offer, "payment.succeeded", channel="online", actor="stripe",
                          booking=booking, now=now,
                          after={"payment_intent": "pi_x", "amount_pence": 9900})
        log_event(booking.offer, "payment.declined", channel="online", actor="stripe",
                  booking=booking, now=now, after={"amount_pence": 9900})
    [row] = usage(client=essex, kind="card_payment")
    assert (row.source_event_id, row.amount_pence) == (f"offer_event:{event.pk}", 9900)
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageRecord.objects.create(client=essex, source_event_id="bad", kind="card_payment",
                                   amount_pence=0, occurred_at=now)

    connection.set_schema_to_public()
    plans.assign_plan(essex, make_plan("cards", "graduated", card_rate_basis_points=150),
                      valid_from=FROM, acting_user="tests")
    [invoice] = invoices.close_month(date(2026, 10, 1), acting_user="tests",
                                     now=datetime(2026, 11, 2, tzinfo=UTC))
    card = invoice.lines.get(kind="card_fees")
    assert card.amount_pence == 149  # 1.5 % of £99.00 = 148.5p, half up
