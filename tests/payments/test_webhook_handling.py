"""A Stripe webhook is never lost: recorded with its body, claimed under a lock, marked handled,
ignored or failed; a failure answers 5xx and is handled again by Stripe's redelivery or the
retry job; a handling that died mid-way is taken over once its claim is stale."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import Booking, OfferEvent
from tenants import webhooks
from tenants.models import StripeEvent
from tenants.tasks import retry_stripe_events

from ..conftest import enable_card_payments
from ..test_payments import _paid_outside_our_flow, deliver, pending_booking
from .conftest import at_once

SUCCEEDED = "payment_intent.succeeded"


class WorkerKilled(BaseException):
    """The process stopped mid-handling (killed, or its database went away with it): nothing
    of ours runs after it, not even the failure's bookkeeping."""


def flaky(monkeypatch, failures):
    """Make the payment handler raise each of `failures` in turn, then work as before."""
    real = webhooks._HANDLERS[SUCCEEDED]
    left = list(failures)
    calls = []

    def handler(obj, **kwargs):
        calls.append(obj["id"])
        if left:
            raise left.pop(0)
        return real(obj, **kwargs)

    monkeypatch.setitem(webhooks._HANDLERS, SUCCEEDED, handler)
    return calls


@pytest.fixture
def paid(essex, stripe_api):
    """A booking Stripe has been paid for and we have not heard about yet."""
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex, reference="ESX-920001")
    return booking, _paid_outside_our_flow(stripe_api, essex, booking)


def booking_status(essex, booking):
    with schema_context(essex.schema_name):
        return Booking.objects.get(pk=booking.pk).status


def test_a_failure_is_kept_answered_5xx_and_handled_when_stripe_sends_it_again(
        essex, paid, client, monkeypatch):
    booking, payment = paid
    calls = flaky(monkeypatch, [OperationalError("the database went away")])
    first = deliver(client, "evt_fail_once", SUCCEEDED, payment.stripe_payment_intent_id)
    assert first.status_code == 500  # so Stripe sends it again
    event = StripeEvent.objects.get(event_id="evt_fail_once")
    assert event.outcome == "failed" and event.attempts == 1 and event.handled_at is None
    assert event.last_error.startswith("OperationalError: the database went away")
    assert event.next_attempt_at > timezone.now() and '"evt_fail_once"' in event.payload
    assert booking_status(essex, booking) == "pending_payment"

    again = deliver(client, "evt_fail_once", SUCCEEDED, payment.stripe_payment_intent_id)
    assert again.status_code == 200 and again.json()["detail"] == "confirmed"
    event.refresh_from_db()
    assert (event.outcome, event.attempts, event.last_error) == ("handled", 2, "")
    assert event.handled_at is not None and event.organisation_id == essex.pk
    assert booking_status(essex, booking) == "confirmed"
    # Handled now: a third delivery is a duplicate, and the handler is not called again.
    third = deliver(client, "evt_fail_once", SUCCEEDED, payment.stripe_payment_intent_id)
    assert third.json() == {"received": True, "duplicate": True}
    assert len(calls) == 2 and StripeEvent.objects.filter(event_id="evt_fail_once").count() == 1


def test_a_redelivery_while_the_first_is_in_flight_is_not_taken_for_done(
        essex, paid, client, monkeypatch):
    """The duplicate arrives while the first delivery is still handling the event, which then
    fails: the duplicate must not have been answered "done", and the event is not lost."""
    booking, payment = paid
    intent = payment.stripe_payment_intent_id
    answers = []

    def handler(obj, **kwargs):
        answers.append(deliver(client, "evt_in_flight", SUCCEEDED, intent))
        raise OperationalError("server closed the connection unexpectedly")

    real = webhooks._HANDLERS[SUCCEEDED]
    monkeypatch.setitem(webhooks._HANDLERS, SUCCEEDED, handler)
    assert deliver(client, "evt_in_flight", SUCCEEDED, intent).status_code == 500
    assert answers[0].status_code == 409 and answers[0].json()["in_progress"] is True
    assert StripeEvent.objects.get(event_id="evt_in_flight").outcome == "failed"

    monkeypatch.setitem(webhooks._HANDLERS, SUCCEEDED, real)
    assert deliver(client, "evt_in_flight", SUCCEEDED, intent).json()["outcome"] == "handled"
    assert booking_status(essex, booking) == "confirmed"


def test_a_handling_that_died_mid_way_is_taken_over_once_its_claim_is_stale(
        essex, paid, client, monkeypatch):
    booking, payment = paid
    intent = payment.stripe_payment_intent_id
    flaky(monkeypatch, [WorkerKilled()])
    with pytest.raises(WorkerKilled):
        deliver(client, "evt_died", SUCCEEDED, intent)
    event = StripeEvent.objects.get(event_id="evt_died")
    assert event.outcome == "received" and event.attempts == 1
    # Stripe's retry soon after: the claim may still be live, so it is not answered as done.
    soon = deliver(client, "evt_died", SUCCEEDED, intent)
    assert soon.status_code == 409 and booking_status(essex, booking) == "pending_payment"
    # Later the claim is stale, and the next delivery handles the event.
    StripeEvent.objects.filter(pk=event.pk).update(
        claimed_at=timezone.now() - webhooks.CLAIM_TIMEOUT - timedelta(seconds=1))
    later = deliver(client, "evt_died", SUCCEEDED, intent)
    assert later.status_code == 200 and later.json()["detail"] == "confirmed"
    event.refresh_from_db()
    assert event.outcome == "handled" and event.attempts == 2
    assert booking_status(essex, booking) == "confirmed"


def test_the_retry_job_handles_failed_and_stale_events_from_their_body_with_backoff(
        essex, paid, client, monkeypatch):
    booking, payment = paid
    intent = payment.stripe_payment_intent_id
    calls = flaky(monkeypatch, [OperationalError("down"), OperationalError("still down")])
    assert deliver(client, "evt_retry", SUCCEEDED, intent).status_code == 500
    failed_at = StripeEvent.objects.get(event_id="evt_retry").next_attempt_at - timedelta(
        minutes=1)

    assert webhooks.retry_due_events(now=failed_at + timedelta(seconds=30)) == {}  # not yet
    assert webhooks.retry_due_events(now=failed_at + timedelta(minutes=2)) == {"failed": 1}
    event = StripeEvent.objects.get(event_id="evt_retry")
    assert event.attempts == 2 and event.last_error == "OperationalError: still down"
    # The second failure waits longer (5 minutes) than the first (1 minute).
    assert event.next_attempt_at == failed_at + timedelta(minutes=7)
    assert webhooks.retry_due_events(now=failed_at + timedelta(minutes=6)) == {}
    assert webhooks.retry_due_events(now=failed_at + timedelta(minutes=8)) == {"handled": 1}
    assert booking_status(essex, booking) == "confirmed"
    assert webhooks.retry_due_events(now=failed_at + timedelta(hours=9)) == {}
    assert len(calls) == 3
    with schema_context(essex.schema_name):
        assert OfferEvent.objects.filter(booking=booking, kind="booking.confirmed").count() == 1


def test_the_beat_job_takes_over_a_stale_claim(essex, paid, client, monkeypatch):
    booking, payment = paid
    flaky(monkeypatch, [WorkerKilled()])
    with pytest.raises(WorkerKilled):
        deliver(client, "evt_stale", SUCCEEDED, payment.stripe_payment_intent_id)
    assert retry_stripe_events.delay().get() == {}  # the claim is still fresh
    StripeEvent.objects.filter(event_id="evt_stale").update(
        claimed_at=timezone.now() - timedelta(minutes=11))
    assert retry_stripe_events.delay().get() == {"handled": 1}
    assert booking_status(essex, booking) == "confirmed"


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_handle_the_event_once(essex, stripe_api, monkeypatch):
    """Under the row lock, only one of two simultaneous deliveries claims the event."""
    from django.test import Client

    running = []

    def slow_handler(obj, **kwargs):
        running.append(threading.get_ident())
        time.sleep(0.5)
        return "done"

    monkeypatch.setitem(webhooks._HANDLERS, "waymark.test_event", slow_handler)
    responses = at_once(*[
        (lambda: deliver(Client(), "evt_twice_at_once", "waymark.test_event", "pi_x"))
        for _ in range(2)])
    assert sorted(r.status_code for r in responses) == [200, 409], responses
    assert len(running) == 1
    assert StripeEvent.objects.get(event_id="evt_twice_at_once").outcome == "handled"
