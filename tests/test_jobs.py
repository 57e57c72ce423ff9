"""Scheduled jobs: each runs in one client's schema, never queues a message twice, and the
dispatcher reaches every live client and nothing else."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from booking import notifications, tasks
from booking.models import DeliveryMode, Hold, Offer, OfferEvent
from outbox.models import OutboundMessage
from outbox.services import RETRY_DELAYS, deliver_message
from tenants.models import ClientOrganisation

from .conftest import deliver_outbox
from .factories import (
    CourseSessionFactory,
    OfferFactory,
    days_from_today,
    local_at,
    make_booking,
)


@pytest.fixture
def eager():
    """Run Celery tasks inline (the test settings may point at a real broker)."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before


def sent(template, **filters):
    return OfferEvent.objects.filter(kind="message.sent", after__template=template, **filters)


def only_what_comes_next():
    """Send what the set-up queued (bookings' own confirmations) and forget it."""
    deliver_outbox()
    mail.outbox.clear()


# --- Reminders --------------------------------------------------------------------------------


def test_reminders_go_once_seven_and_two_days_before(essex):
    with schema_context(essex.schema_name):
        in_7 = make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(7), 9, 30)),
                            email="seven@example.test")
        in_2 = make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(2), 18, 0),
                                                 delivery_mode=DeliveryMode.ONLINE),
                            email="two@example.test")
        make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(5), 9, 30)),
                     email="five@example.test")
        # Waiting for payment: no reminder.
        make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(7), 13, 0)),
                     email="unpaid@example.test", channel="online")
        # The client cancelled the date: no reminder.
        cancelled = make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(2), 9, 0)),
                                 email="cancelled-date@example.test")
        cancelled.session.status = "cancelled"
        cancelled.session.save()
        only_what_comes_next()

        first = tasks.send_reminders()
        assert first["reminder_7"] == {"queued": 1} and first["reminder_2"] == {"queued": 1}
        assert sorted(m.to[0] for m in deliver_outbox()) == ["seven@example.test",
                                                       "two@example.test"]
        assert sent("reminder_7", booking=in_7).count() == 1
        assert sent("reminder_2", booking=in_2).count() == 1

        second = tasks.send_reminders()
        assert second["reminder_7"] == {"already": 1} and second["reminder_2"] == {"already": 1}
        assert len(deliver_outbox()) == 2
        assert sent("reminder_7").count() + sent("reminder_2").count() == 2


def test_a_refused_send_is_retried_by_the_outbox_and_never_queued_twice(essex, monkeypatch):
    with schema_context(essex.schema_name):
        booking = make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(7), 9, 30)))
        only_what_comes_next()
        assert tasks.send_reminders()["reminder_7"] == {"queued": 1}

        def broken_send(self, fail_silently=False):
            raise ConnectionRefusedError("SMTP down")

        with monkeypatch.context() as patch:
            patch.setattr("django.core.mail.EmailMultiAlternatives.send", broken_send)
            assert deliver_outbox() == []
        waiting = OutboundMessage.objects.get(kind="reminder_7")
        assert waiting.status == OutboundMessage.Status.PENDING and waiting.attempts == 1
        assert "SMTP down" in waiting.last_error and not sent("reminder_7").exists()
        # The next run of the job finds it queued; the outbox's retry sends it once it is due.
        assert tasks.send_reminders()["reminder_7"] == {"already": 1}
        assert deliver_message(waiting.pk) == "not_due"
        assert deliver_message(waiting.pk, now=timezone.now() + RETRY_DELAYS[0]) == "sent"
        assert len(mail.outbox) == 1 and sent("reminder_7", booking=booking).count() == 1


# --- Joining instructions ---------------------------------------------------------------------


def test_joining_instructions_only_for_online_sessions_within_48_hours(essex, south_wales):
    now = timezone.now()
    with schema_context(south_wales.schema_name):
        make_booking(CourseSessionFactory(starts_at=now + timedelta(hours=30),
                                          delivery_mode=DeliveryMode.ONLINE,
                                          joining_url="https://meet.example.test/wales"),
                     email="wales@example.test")
    with schema_context(essex.schema_name):
        soon = make_booking(CourseSessionFactory(starts_at=now + timedelta(hours=30),
                                                 delivery_mode=DeliveryMode.ONLINE,
                                                 joining_url="https://meet.example.test/soon"),
                            email="soon@example.test")
        make_booking(CourseSessionFactory(starts_at=now + timedelta(hours=72),
                                          delivery_mode=DeliveryMode.ONLINE,
                                          joining_url="https://meet.example.test/later"),
                     email="later@example.test")
        make_booking(CourseSessionFactory(starts_at=now + timedelta(hours=20)),
                     email="classroom@example.test")
        no_link = make_booking(CourseSessionFactory(starts_at=now + timedelta(hours=40),
                                                    delivery_mode=DeliveryMode.ONLINE),
                               email="nolink@example.test")
        only_what_comes_next()

        assert tasks.send_joining_instructions_task()["joining_instructions"] == {"queued": 1}
        assert [m.to for m in deliver_outbox()] == [["soon@example.test"]]
        assert "https://meet.example.test/soon" in mail.outbox[0].body
        assert sent("joining_instructions", booking=soon).count() == 1

        # Once per booking; a session that gets its link later is picked up then.
        assert tasks.send_joining_instructions_task()["joining_instructions"] == {"already": 1}
        no_link.session.joining_url = "https://meet.example.test/added"
        no_link.session.save()
        result = tasks.send_joining_instructions_task()["joining_instructions"]
        assert result == {"already": 1, "queued": 1}
        assert [m.to[0] for m in deliver_outbox()] == ["soon@example.test", "nolink@example.test"]
    with schema_context(south_wales.schema_name):
        assert not OutboundMessage.objects.filter(kind="joining_instructions").exists()


# --- Nudges -----------------------------------------------------------------------------------


def test_unbooked_offers_are_nudged_once_before_the_booking_period_ends(essex):
    with schema_context(essex.schema_name):
        due = OfferFactory(email="due@example.test", booking_period_in=3)
        no_email = OfferFactory(email="", booking_period_in=6)
        OfferFactory(email="later@example.test", booking_period_in=10)
        OfferFactory(email="ended@example.test", booking_period_in=-1)
        booked_offer = OfferFactory(email="booked@example.test", booking_period_in=2)
        make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(20), 9, 30)),
                     offer=booked_offer, email="booked@example.test")
        only_what_comes_next()

        result = tasks.nudge_unbooked_offers()["booking_period_nudge"]
        assert result == {"queued": 1, "skipped": 1}
        assert [m.to for m in deliver_outbox()] == [["due@example.test"]]
        assert sent("booking_period_nudge", offer=due, booking__isnull=True).count() == 1
        assert OfferEvent.objects.filter(kind="message.skipped", offer=no_email).count() == 1

        assert tasks.nudge_unbooked_offers()["booking_period_nudge"] == {"already": 2}
        assert len(deliver_outbox()) == 1
        assert OfferEvent.objects.filter(kind="message.skipped", offer=no_email).count() == 1


# --- Expiry and hold collection ---------------------------------------------------------------


def test_expire_task_returns_offers_past_their_critical_date(essex):
    with schema_context(essex.schema_name):
        past = OfferFactory(critical_in=-1, booking_period_in=-10, offence_days_ago=100)
        today = OfferFactory(critical_in=0, booking_period_in=-5, offence_days_ago=100)
        booked = OfferFactory()
        booked.status = Offer.Status.BOOKED
        booked.critical_date = timezone.localdate() - timedelta(days=3)
        booked.save()

        assert tasks.expire_offers_task() == {"schema": essex.schema_name, "expired": 1}
        past.refresh_from_db()
        today.refresh_from_db()
        booked.refresh_from_db()
        assert past.status == Offer.Status.EXPIRED
        assert today.status == Offer.Status.OFFERED
        assert booked.status == Offer.Status.BOOKED
        event = OfferEvent.objects.get(offer=past, kind="offer.expired")
        assert event.actor == "system" and event.after == {"status": "expired"}


def test_hold_collection_deletes_only_long_expired_holds(essex):
    now = timezone.now()
    with schema_context(essex.schema_name):
        session = CourseSessionFactory(starts_at=now + timedelta(days=10))
        holds = {
            name: Hold.objects.create(offer=OfferFactory(), session=session,
                                      expires_at=now + offset)
            for name, offset in (("long_gone", -timedelta(hours=2)),
                                 ("just_gone", -timedelta(minutes=30)),
                                 ("live", timedelta(minutes=10)))
        }
        assert tasks.collect_expired_holds() == {"schema": essex.schema_name, "deleted": 1}
        assert set(Hold.objects.values_list("pk", flat=True)) == {holds["just_gone"].pk,
                                                                 holds["live"].pk}


def test_per_client_tasks_refuse_the_public_schema(db):
    connection.set_schema_to_public()
    for task in (tasks.send_reminders, tasks.collect_expired_holds, tasks.expire_offers_task):
        with pytest.raises(RuntimeError):
            task()


# --- Dispatcher -------------------------------------------------------------------------------


def test_dispatcher_runs_in_every_live_client_and_nowhere_else(essex, south_wales, eager):
    for client in (essex, south_wales):
        with schema_context(client.schema_name):
            OfferFactory(critical_in=-2, booking_period_in=-10, offence_days_ago=100)
    south_wales.status = ClientOrganisation.Status.SUSPENDED
    south_wales.save()
    # The template is never a client, even if its status said live.
    ClientOrganisation.objects.filter(is_template=True).update(
        status=ClientOrganisation.Status.LIVE)

    result = tasks.run_for_every_client.delay(tasks.EXPIRE_OFFERS).get()

    assert connection.schema_name == "public"
    assert "client_essex" in result["dispatched"] and result["failed"] == []
    assert "client_south_wales" not in result["dispatched"]
    assert settings.TENANT_BASE_SCHEMA not in result["dispatched"]
    with schema_context(essex.schema_name):
        assert Offer.objects.get().status == Offer.Status.EXPIRED
    with schema_context(south_wales.schema_name):
        assert Offer.objects.get().status == Offer.Status.OFFERED

    south_wales.status = ClientOrganisation.Status.LIVE
    south_wales.save()
    result = tasks.run_for_every_client.delay(tasks.EXPIRE_OFFERS).get()
    assert {"client_essex", "client_south_wales"} <= set(result["dispatched"])
    with schema_context(south_wales.schema_name):
        assert Offer.objects.get().status == Offer.Status.EXPIRED
        assert OfferEvent.objects.filter(kind="offer.expired").count() == 1


def test_dispatcher_sends_reminders_to_each_clients_own_offenders(essex, south_wales, eager):
    for client, email in ((essex, "essex@example.test"), (south_wales, "wales@example.test")):
        with schema_context(client.schema_name):
            make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(7), 9, 30)),
                         email=email, language="cy" if client is south_wales else "en")

    for client in (essex, south_wales):
        with schema_context(client.schema_name):
            only_what_comes_next()
    tasks.run_for_every_client.delay(tasks.SEND_REMINDERS).get()
    tasks.run_for_every_client.delay(tasks.SEND_REMINDERS).get()
    for client in (essex, south_wales):
        with schema_context(client.schema_name):
            deliver_outbox()

    by_address = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 2
    assert sorted(by_address) == ["essex@example.test", "wales@example.test"]
    assert "Essex Driver Awareness" in by_address["essex@example.test"].from_email
    assert "Ymwybyddiaeth Gyrwyr De Cymru" in by_address["wales@example.test"].from_email
    assert by_address["wales@example.test"].extra_headers["Content-Language"] == "cy"


def test_dispatcher_refuses_unknown_task_names(db, eager):
    for name in ("tenants.worker_echo", "booking.run_for_every_client", "os.system", ""):
        with pytest.raises(ValueError):
            tasks.run_for_every_client.delay(name)
        with pytest.raises(ValueError):
            tasks.run_for_every_client(name)


# --- Messages sent after commit ---------------------------------------------------------------


def test_a_message_is_handed_over_after_commit_in_its_own_schema(
        essex, django_capture_on_commit_callbacks):
    with schema_context(essex.schema_name):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            booking = make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(10), 9, 30)))
        assert mail.outbox == []
    # The hand-over names the schema itself, whatever the connection is in when it runs.
    connection.set_schema_to_public()
    for callback in callbacks:
        callback()
    [message] = mail.outbox
    assert message.attachments[0][0] == f"{booking.reference}.ics"
    with schema_context(essex.schema_name):
        assert sent("booking_confirmation", booking=booking).count() == 1
        # Queued again (a webhook and the return page both confirming): nothing more goes.
        assert notifications.queue_booking_confirmation(booking) is None
    assert len(mail.outbox) == 1


# --- Beat -------------------------------------------------------------------------------------


def test_beat_schedule_calls_the_dispatcher_with_allowed_tasks():
    from config.celery import app

    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
    assert app.conf.timezone == "Europe/London"
    # The outbox sweeps every schema itself and Stripe's events, billing and the user group's
    # digest live in the public schema (billing's entries: tests/billing/test_stripe_invoices.py,
    # the digest's: tests/usergroup); everything else goes through the dispatcher.
    schedule = {name: entry for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
                if entry["task"] not in ("outbox.sweep", "tenants.retry_stripe_events",
                                         "tenants.record_availability")
                and not entry["task"].startswith(("billing.", "usergroup."))}
    assert settings.CELERY_BEAT_SCHEDULE["sweep-outbox"]["schedule"].minute == set(range(60))
    assert settings.CELERY_BEAT_SCHEDULE["retry-stripe-events"]["schedule"].minute == set(
        range(60))
    # The status pages' sample, one a minute, in the public schema (tenants/status.py).
    assert settings.CELERY_BEAT_SCHEDULE["record-availability"]["schedule"].minute == set(
        range(60))
    assert {entry["args"][0] for entry in schedule.values()} == set(tasks.PER_CLIENT_TASKS)
    for entry in schedule.values():
        assert entry["task"] == tasks.run_for_every_client.name
    crons = {entry["args"][0]: entry["schedule"] for entry in schedule.values()}
    assert (crons[tasks.EXPIRE_OFFERS].hour, crons[tasks.EXPIRE_OFFERS].minute) == ({0}, {15})
    assert (crons[tasks.SEND_REMINDERS].hour, crons[tasks.SEND_REMINDERS].minute) == ({9}, {0})
    assert crons[tasks.SEND_JOINING_INSTRUCTIONS].hour == set(range(24))
    assert crons[tasks.SEND_JOINING_INSTRUCTIONS].minute == {0}
    assert crons[tasks.NUDGE_UNBOOKED_OFFERS].hour == {10}
    assert crons[tasks.COLLECT_EXPIRED_HOLDS].minute == {0, 15, 30, 45}
