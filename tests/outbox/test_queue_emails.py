"""Queueing many e-mails in one go (a release telling thousands): each dedupe key goes once,
whether queued before, twice in the batch, or by another transaction meanwhile."""

import pytest
from django.db import transaction

from outbox import services
from outbox.models import OutboundMessage


def email(key, to="sam@example.com"):
    return {"kind": "test", "to": to, "subject": "Hello", "text": "Hi", "dedupe_key": key}


def test_many_are_queued_once_each_and_handed_over_after_commit(
        db, django_capture_on_commit_callbacks):
    with transaction.atomic():
        services.queue_email(**email("k:1"))
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        queued = services.queue_emails([email("k:1"), email("k:2"), email("k:2"),
                                        email("k:3"), email(None), email(None)])
    assert [m.dedupe_key for m in queued] == ["k:2", "k:3", None, None]
    assert OutboundMessage.objects.filter(kind="test").count() == 5
    assert len(callbacks) == 1  # one hand-over for the batch


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses():
    with pytest.raises(RuntimeError):
        services.queue_emails([email("k:9")])


def test_a_key_queued_meanwhile_falls_back_to_one_at_a_time(db, monkeypatch):
    with transaction.atomic():
        services.queue_email(**email("race:1"))
    # As if the check for keys already queued ran before another transaction committed one.
    real_filter = OutboundMessage.objects.filter
    monkeypatch.setattr(OutboundMessage.objects, "filter",
                        lambda *a, **k: real_filter(pk=-1) if "dedupe_key__in" in k
                        else real_filter(*a, **k))
    with transaction.atomic():
        queued = services.queue_emails([email("race:1"), email("race:2")])
    assert [m.dedupe_key for m in queued] == ["race:2"]
    assert OutboundMessage.objects.filter(dedupe_key="race:1").count() == 1
