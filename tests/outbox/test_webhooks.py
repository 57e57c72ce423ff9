"""Outgoing webhooks against a real receiver on 127.0.0.1: booking's events reach the
client's endpoints signed (Stripe's scheme), after commit, retried with a growing wait after a
failure, logged per endpoint, never to another client's endpoints, never to a private address."""

import json
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import Booking
from booking.services.offers import record_outcome
from booking.services.webhooks import create_webhook_endpoint, send_test_event
from outbox import webhooks
from outbox.models import WebhookDelivery, WebhookEndpoint

from ..factories import CourseSessionFactory, make_booking
from ..webhook_receiver import Receiver

EVERY_BOOKING_EVENT = ["booking.created", "booking.confirmed", "booking.cancelled",
                       "booking.outcome_recorded", "payment.succeeded"]


def endpoint_for(receiver, events=EVERY_BOOKING_EVENT):
    return create_webhook_endpoint(receiver.url, events, description="tests", actor="tests")


# --- signing ---------------------------------------------------------------------------------

def test_a_signature_verifies_and_a_changed_body_or_old_time_does_not():
    body = b'{"id":"evt_1"}'
    header = webhooks.sign("whsec_x", body)
    assert header.startswith("t=") and ",v1=" in header
    assert webhooks.verify_signature("whsec_x", header, body)
    assert not webhooks.verify_signature("whsec_x", header, body + b" ")
    assert not webhooks.verify_signature("whsec_other", header, body)
    old = webhooks.sign("whsec_x", body, timestamp=int(time.time()) - 600)
    assert not webhooks.verify_signature("whsec_x", old, body)
    assert not webhooks.verify_signature("whsec_x", "v1=abc", body)


def test_the_signature_is_hmac_sha256_of_time_dot_body():
    import hashlib
    import hmac

    header = webhooks.sign("whsec_x", b"{}", timestamp=1700000000)
    assert header == "t=1700000000,v1=" + hmac.new(b"whsec_x", b"1700000000.{}",
                                                    hashlib.sha256).hexdigest()


# --- addresses -------------------------------------------------------------------------------

@pytest.mark.parametrize("url, code", [
    ("http://example.org/hooks", "not_https"),
    ("ftp://example.org/", "invalid_url"),
    ("https:///nohost", "invalid_url"),
    ("https://user:pw@example.org/", "credentials_in_url"),
    ("https://10.0.0.5/hooks", "private_address"),
    ("https://192.168.1.1/", "private_address"),
    ("https://169.254.169.254/latest/meta-data/", "private_address"),
    ("https://[::ffff:10.0.0.1]/", "private_address"),
    ("https://[fd00::1]/", "private_address"),
    ("https://no-such-host.invalid/", "unknown_host"),
])
def test_unsafe_addresses_are_refused(url, code):
    with pytest.raises(webhooks.UnsafeUrl) as refused:
        webhooks.check_url(url)
    assert refused.value.code == code


def test_loopback_only_where_allowed(settings):
    assert webhooks.check_url("http://127.0.0.1:9/hooks") == ["127.0.0.1"]
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    with pytest.raises(webhooks.UnsafeUrl) as refused:
        webhooks.check_url("http://127.0.0.1:9/hooks")
    assert refused.value.code == "not_https"
    with pytest.raises(webhooks.UnsafeUrl) as refused:
        webhooks.check_url("https://localhost/hooks")
    assert refused.value.code == "private_address"


def test_an_endpoint_with_a_private_address_is_not_saved(in_essex):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        create_webhook_endpoint("https://10.1.2.3/", ["booking.confirmed"], actor="tests")
    assert "url" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        create_webhook_endpoint("https://93.184.215.14/", ["booking.nothing"], actor="tests")
    assert "events" in refused.value.message_dict
    assert not WebhookEndpoint.objects.exists()


def test_an_address_that_became_private_is_not_sent_to(in_essex, settings):
    with Receiver() as receiver:
        endpoint, _secret = endpoint_for(receiver)
        settings.WEBHOOKS_ALLOW_LOOPBACK = False
        with transaction.atomic():
            delivery = webhooks.queue_test_event(endpoint)
        assert webhooks.deliver(delivery.pk) == "retry"
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.response_code is None and "https" in delivery.last_error


# --- delivery --------------------------------------------------------------------------------

def test_a_booking_event_reaches_the_endpoint_signed_after_commit(
        in_essex, django_capture_on_commit_callbacks):
    session = CourseSessionFactory()
    with Receiver() as receiver:
        endpoint, secret = endpoint_for(receiver)
        with django_capture_on_commit_callbacks(execute=True):
            booking = make_booking(session)
        assert booking.status == Booking.Status.CONFIRMED
        delivered = WebhookDelivery.objects.get(endpoint=endpoint)
        assert delivered.status == WebhookDelivery.Status.SUCCEEDED
        assert delivered.response_code == 200 and delivered.attempts == 1
    (request,) = receiver.requests
    assert request["path"] == "/hooks"
    assert webhooks.verify_signature(secret, request["headers"]["Waymark-Signature"],
                                     request["body"])
    event = json.loads(request["body"])
    assert event["type"] == "booking.confirmed" == request["headers"]["Waymark-Event-Type"]
    assert event["id"] == delivered.event_id == request["headers"]["Waymark-Event-Id"]
    assert event["data"]["booking"]["reference"] == booking.reference
    assert event["data"]["booking"]["offer_reference"] == booking.offer.reference
    # References only: the delivery log keeps no personal details.
    assert "Sam" not in request["body"].decode() and "Driver" not in request["body"].decode()


def test_nothing_is_queued_for_events_the_endpoint_did_not_choose(in_essex):
    session = CourseSessionFactory()
    with Receiver() as receiver:
        endpoint_for(receiver, ["payment.refunded"])
        make_booking(session)
    assert not WebhookDelivery.objects.exists()


def test_a_rolled_back_change_sends_nothing(in_essex, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        endpoint, _secret = endpoint_for(receiver)
        with django_capture_on_commit_callbacks(execute=True):
            try:
                with transaction.atomic():
                    webhooks.queue_event("booking.confirmed", {"booking": None})
                    raise RuntimeError("the change fails")
            except RuntimeError:
                pass
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_a_500_is_retried_later_with_a_growing_wait_then_given_up(in_essex):
    with Receiver(statuses=[500, 200]) as receiver:
        endpoint, secret = endpoint_for(receiver)
        with transaction.atomic():
            (delivery,) = webhooks.queue_event("booking.confirmed", {"booking": None})
        now = timezone.now()
        assert webhooks.deliver(delivery.pk, now=now) == "retry"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.response_code, delivery.attempts) == (
            "pending", 500, 1)
        assert delivery.next_attempt_at == now + timedelta(minutes=1)
        assert "500" in delivery.last_error
        # Not before its time.
        assert webhooks.deliver(delivery.pk, now=now + timedelta(seconds=30)) == "not_due"
        assert webhooks.deliver(delivery.pk, now=now + timedelta(seconds=61)) == "succeeded"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.response_code, delivery.attempts) == (
            "succeeded", 200, 2)
    first, second = receiver.requests
    assert first["body"] == second["body"]  # the same event, signed afresh each time
    assert all(webhooks.verify_signature(secret, r["headers"]["Waymark-Signature"], r["body"])
               for r in receiver.requests)
    assert [webhooks.retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(minutes=1), timedelta(minutes=3), timedelta(minutes=9)]


def test_a_delivery_is_given_up_after_the_last_attempt(in_essex):
    with Receiver(statuses=[503] * webhooks.MAX_ATTEMPTS) as receiver:
        endpoint, _secret = endpoint_for(receiver)
        with transaction.atomic():
            (delivery,) = webhooks.queue_event("booking.confirmed", {"booking": None})
        when = timezone.now()
        results = []
        for _attempt in range(webhooks.MAX_ATTEMPTS):
            results.append(webhooks.deliver(delivery.pk, now=when))
            delivery.refresh_from_db()
            when = delivery.next_attempt_at
    assert results == ["retry"] * (webhooks.MAX_ATTEMPTS - 1) + ["failed"]
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        "failed", webhooks.MAX_ATTEMPTS, 503)
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS


def test_a_refused_connection_is_logged_and_retried(in_essex):
    with Receiver() as receiver:
        url = receiver.url
    endpoint, _secret = create_webhook_endpoint(url, ["booking.confirmed"], actor="tests")
    with transaction.atomic():
        (delivery,) = webhooks.queue_event("booking.confirmed", {"booking": None})
    assert webhooks.deliver(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.response_code is None and "Connection" in delivery.last_error


def test_the_sweep_hands_over_due_deliveries_and_reclaims_stopped_ones(in_essex):
    with Receiver() as receiver:
        endpoint, _secret = endpoint_for(receiver)
        with transaction.atomic():
            (due,) = webhooks.queue_event("booking.confirmed", {"booking": None})
            (stuck,) = webhooks.queue_event("booking.cancelled", {"booking": None})
        WebhookDelivery.objects.filter(pk=stuck.pk).update(
            status="sending", attempts=1, last_attempt_at=timezone.now() - timedelta(hours=1))
        report = webhooks.sweep()
    assert report == {"due": 2, "reclaimed": 1}
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert len(receiver.requests) == 2


def test_an_outcome_is_announced(in_essex, django_capture_on_commit_callbacks):
    session = CourseSessionFactory(starts_at=timezone.now() - timedelta(hours=4))
    booking = make_booking(session)
    with Receiver() as receiver:
        endpoint_for(receiver, ["booking.outcome_recorded"])
        with django_capture_on_commit_callbacks(execute=True):
            record_outcome(booking.pk, Booking.Status.COMPLETED, actor="tests", channel="admin")
    (request,) = receiver.requests
    event = json.loads(request["body"])
    assert event["type"] == "booking.outcome_recorded"
    assert event["data"]["outcome"] == "completed"
    assert event["data"]["booking"]["status"] == "completed"


def test_a_test_event_goes_to_that_endpoint_only(in_essex, django_capture_on_commit_callbacks):
    with Receiver() as one, Receiver() as other:
        endpoint, secret = endpoint_for(one)
        endpoint_for(other)
        with django_capture_on_commit_callbacks(execute=True):
            delivery = send_test_event(endpoint.pk, actor="tests")
    assert len(one.requests) == 1 and other.requests == []
    assert json.loads(one.requests[0]["body"])["type"] == "webhook.test"
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


def test_a_clients_endpoints_are_never_told_of_another_clients_events(
        essex, south_wales, django_capture_on_commit_callbacks):
    with Receiver() as essex_receiver:
        with schema_context(essex.schema_name):
            endpoint_for(essex_receiver)
        with schema_context(south_wales.schema_name):
            session = CourseSessionFactory()
            with django_capture_on_commit_callbacks(execute=True):
                make_booking(session)
            assert not WebhookDelivery.objects.exists()
        with schema_context(essex.schema_name):
            assert not WebhookDelivery.objects.exists()
    assert essex_receiver.requests == []
    assert connection.schema_name == "public"
