"""The public site's "not taking bookings online yet" gate, remembered per client in the shared
cache (booking/services/setup_checklist.py, issue 13): asked once, not on every page, and yet a
checklist newly done opens the journey at the next request and one newly undone closes it, once
the change has committed. Staff still preview under the banner; a cache that is away changes
nothing but the speed."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_redis.cache import RedisCache
from django_tenants.utils import schema_context

from booking.models import CourseSession, Trainer
from booking.services import setup_checklist

from ..conftest import enable_card_payments
from ..journey_data import make_journey_data

ESSEX = {"HTTP_HOST": "essex.localhost"}
NOT_TAKING = "Essex Driver Awareness is not taking bookings online yet"
CHECKLIST_TABLES = ("booking_trainer", "booking_coursetype", "booking_venue", "accounts_membership")


@pytest.fixture(autouse=True)
def gate_cache_on(settings, essex):
    """On, as in production (the suite's settings switch it off), and forgotten: an answer an
    earlier test left may describe rows its rollback removed without a signal."""
    settings.TAKING_BOOKINGS_CACHE_SECONDS = 60
    setup_checklist.forget_taking_bookings(essex.schema_name)
    yield
    setup_checklist.forget_taking_bookings(essex.schema_name)


def takes_bookings(client) -> bool:
    page = client.get("/", **ESSEX).content.decode()
    assert ("Start now" in page) != (NOT_TAKING in page)
    return NOT_TAKING not in page


def checklist_statements(client, path="/") -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, **ESSEX).status_code == 200
    return [q["sql"] for q in queries if any(table in q["sql"] for table in CHECKLIST_TABLES)]


def without_merchant_account(essex):
    essex.stripe_account_id, essex.stripe_charges_enabled = "", False
    essex.save(update_fields=["stripe_account_id", "stripe_charges_enabled"])


def test_the_answer_is_asked_once_not_on_every_page(essex, client):
    make_journey_data(essex)
    assert checklist_statements(client), "the first page asks the checklist"
    assert checklist_statements(client) == []
    assert checklist_statements(client, "/book/find/") == []
    assert takes_bookings(client)


def test_a_checklist_newly_done_opens_the_journey_at_once(essex, client,
                                                          django_capture_on_commit_callbacks):
    make_journey_data(essex)
    with django_capture_on_commit_callbacks(execute=True):
        without_merchant_account(essex)
    assert not takes_bookings(client)
    assert not takes_bookings(client)  # remembered
    with django_capture_on_commit_callbacks(execute=True):
        enable_card_payments(essex)
    assert takes_bookings(client)


@pytest.mark.parametrize("undo", ["merchant_account", "trainer", "date"])
def test_a_checklist_newly_undone_closes_the_journey_at_once(essex, client, undo,
                                                             django_capture_on_commit_callbacks):
    make_journey_data(essex)
    assert takes_bookings(client)
    assert takes_bookings(client)  # remembered
    with django_capture_on_commit_callbacks(execute=True):
        if undo == "merchant_account":
            without_merchant_account(essex)
        elif undo == "trainer":
            with schema_context(essex.schema_name):
                for trainer in Trainer.objects.all():
                    trainer.is_active = False
                    trainer.save()
        else:
            with schema_context(essex.schema_name):
                for session in CourseSession.objects.all():
                    session.status = CourseSession.Status.CANCELLED
                    session.save()
    assert not takes_bookings(client)


def test_a_change_is_forgotten_only_once_it_has_committed(essex, client,
                                                          django_capture_on_commit_callbacks):
    """Before the commit another request could still read the old rows and keep their answer
    under a new token; the token is replaced after the commit."""
    make_journey_data(essex)
    assert takes_bookings(client)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        without_merchant_account(essex)
    assert takes_bookings(client)  # not committed: the remembered answer stands
    for callback in callbacks:
        callback()
    assert not takes_bookings(client)


def test_a_yes_is_kept_no_longer_than_the_last_date_is_ahead(essex):
    make_journey_data(essex)
    now = timezone.now()
    with schema_context(essex.schema_name):
        last = CourseSession.objects.order_by("-starts_at").first()
        CourseSession.objects.exclude(pk=last.pk).delete()
        CourseSession.objects.filter(pk=last.pk).update(starts_at=now + timedelta(seconds=30),
                                                        ends_at=now + timedelta(hours=3))
        answer, seconds = setup_checklist._answer(essex, now)
    assert answer is True and 0 < seconds <= 30


def test_staff_still_preview_under_the_banner(essex, client, essex_admin,
                                              django_capture_on_commit_callbacks):
    make_journey_data(essex)
    with django_capture_on_commit_callbacks(execute=True):
        without_merchant_account(essex)
    assert not takes_bookings(client)  # the public's answer, remembered
    client.force_login(essex_admin)
    page = client.get("/", **ESSEX).content.decode()
    assert "Start now" in page and 'data-setup="preview"' in page and "Preview for staff" in page


def test_with_the_cache_away_the_checklist_is_asked_every_time(essex, client, monkeypatch):
    away = RedisCache("redis://127.0.0.1:9/0", {
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}})
    monkeypatch.setattr(setup_checklist, "caches", {"default": away, "database": caches["database"]})
    make_journey_data(essex)
    assert takes_bookings(client)
    assert checklist_statements(client), "asked again: nothing could be remembered"
