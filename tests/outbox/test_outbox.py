"""The outbox: a message exists exactly when its change does, goes once, never under a lock,
is retried when the mail service refuses, and is given up on visibly."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from outbox import services
from outbox.models import OutboundMessage
from outbox.signals import message_failed, message_sent


def queue(**extra):
    fields = {"kind": "test", "to": "sam@example.com", "subject": "Hello", "text": "Hi Sam",
              **extra}
    return services.queue_email(**fields)


@pytest.mark.django_db(transaction=True)
def test_a_message_is_queued_only_inside_the_change_it_tells_about():
    with pytest.raises(RuntimeError):
        services.queue_email(kind="test", to="sam@example.com", subject="s", text="t")


def test_the_same_message_is_queued_once(db):
    with transaction.atomic():
        first = queue(dedupe_key="welcome:1")
        second = queue(dedupe_key="welcome:1")
        other = queue(dedupe_key="welcome:2")
    assert first is not None and second is None and other is not None
    assert OutboundMessage.objects.filter(dedupe_key="welcome:1").count() == 1


def test_a_rolled_back_change_leaves_no_message(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                queue()
                raise ValueError("the change failed")
        except ValueError:
            pass
    assert not OutboundMessage.objects.filter(kind="test").exists() and callbacks == []


def test_sent_once_through_a_real_mail_server(db, smtp_server, django_capture_on_commit_callbacks):
    sent = []

    def receiver(message, **kwargs):
        sent.append(message.pk)

    message_sent.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            message = queue(html="<p>Hi Sam</p>", attachments=[
                ("a.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")])
        # The task ran after commit (eager in tests without a broker, or here by hand).
        services.deliver_message(message.pk)
        assert services.deliver_message(message.pk) == "not_due"
    finally:
        message_sent.disconnect(receiver)
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT and message.sent_at is not None
    assert len(smtp_server.received) == 1 and sent == [message.pk]
    assert "Hi Sam" in smtp_server.received[0] and "a.ics" in smtp_server.received[0]


def test_a_refusing_mail_server_is_retried_then_given_up_visibly(db, refusing_smtp_server):
    failed = []

    def receiver(message, **kwargs):
        failed.append(message.pk)

    message_failed.connect(receiver)
    with transaction.atomic():
        message = queue()
    now = timezone.now()
    outcomes = []
    try:
        for delay in (timedelta(0), *services.RETRY_DELAYS):
            now += delay
            assert services.deliver_message(message.pk, now=now - timedelta(seconds=1)) in (
                "not_due", "sent", "retry", "failed")
            outcomes.append(services.deliver_message(message.pk, now=now))
    finally:
        message_failed.disconnect(receiver)
    assert outcomes == ["retry"] * (services.MAX_ATTEMPTS - 1) + ["failed"]
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.FAILED and "554" in message.last_error
    assert message.attempts == services.MAX_ATTEMPTS == refusing_smtp_server.refused
    assert failed == [message.pk]


def test_a_stopped_sender_is_never_sent_again(db, smtp_server, monkeypatch):
    monkeypatch.setattr(services, "dispatch", lambda *args, **kwargs: None)
    with transaction.atomic():
        message = queue()
    claimed = timezone.now() - services.CLAIM_TIMEOUT - timedelta(minutes=1)
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=OutboundMessage.Status.SENDING, attempts=1, next_attempt_at=claimed)
    assert services.sweep()["abandoned"] == 1
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.FAILED and "not sent again" in message.last_error
    assert services.deliver_message(message.pk) == "not_due" and smtp_server.received == []


def test_the_sweep_hands_over_what_is_due(db, monkeypatch):
    handed = []
    monkeypatch.setattr(services, "dispatch", lambda pk, schema, **kw: handed.append(pk))
    with transaction.atomic():
        due, later = queue(), queue()
    OutboundMessage.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5))
    services.sweep()
    assert due.pk in handed and later.pk not in handed


@pytest.mark.django_db(transaction=True)
def test_never_sent_inside_a_transaction_or_twice_under_a_race(settings, monkeypatch):
    """Five workers race for one message: one sends it, outside any transaction (so under no
    row lock); the others find it taken."""
    settings.EMAIL_BACKEND = "tests.outbox.test_outbox.WatchingBackend"
    monkeypatch.setattr(services, "dispatch", lambda *args, **kwargs: None)  # the workers here
    WatchingBackend.seen.clear()
    with transaction.atomic():
        message = queue()
    results, start = [], threading.Barrier(5)

    def worker():
        start.wait()
        try:
            results.append(services.deliver_message(message.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["not_due"] * 4 + ["sent"]
    assert WatchingBackend.seen == [False]


class WatchingBackend:
    """Records whether each send happened inside a database transaction."""

    seen: list = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        WatchingBackend.seen.append(connection.in_atomic_block)
        return len(messages)


def test_a_clients_messages_stay_in_its_schema(essex, south_wales, smtp_server):
    with schema_context(essex.schema_name), transaction.atomic():
        queue(dedupe_key="welcome:1", to="essex@example.com")
    with schema_context(south_wales.schema_name):
        with transaction.atomic():
            # Its own table, so its own key space: the same key is a different message.
            wales = queue(dedupe_key="welcome:1", to="wales@example.com")
        assert list(OutboundMessage.objects.values_list("to", flat=True)) == ["wales@example.com"]
        assert services.deliver_message(wales.pk) == "sent"
    with schema_context(essex.schema_name):
        assert OutboundMessage.objects.get().status == OutboundMessage.Status.PENDING
    assert len(smtp_server.received) == 1 and "wales@example.com" in smtp_server.received[0]
