"""Course dates: single dates and weekly series, all or nothing; a trainer is never
double-booked; cancelling a date keeps the bookings, tells the people and makes moving free."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEntry
from booking.models import Booking, CourseSession, OfferEvent, Trainer
from booking.services.bookings import book, place_hold
from booking.services.changes import transfer_booking
from booking.services.rules import transfer_fee
from booking.services.sessions import cancel_session

from ..factories import TrainerFactory, book_offer
from ..govuk_dates import anchor, date_parts
from .conftest import make_offer, make_session, post


@pytest.fixture
def admin(staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    return staff[Role.CLIENT_ADMIN]


def session_form(world, **change):
    day = timezone.localdate() + timedelta(days=30)
    data = {"course_type": world["nsac"].pk, "delivery_mode": "classroom",
            "venue": world["venue"].pk, **date_parts("start_date", day), "start_time": "09:30",
            "capacity": "20", "language": "en", "trainers": [world["trainer"].pk],
            "joining_url": ""}
    if "start_date" in change:
        day = change.pop("start_date")
        data.update(date_parts("start_date", date.fromisoformat(str(day))))
    data.update(change)
    return data


def test_create_one_date(world, admin, client):
    before = CourseSession.objects.count()
    response = post(client, "/manage/sessions/new/", session_form(world))
    assert response.status_code == 302
    session = CourseSession.objects.latest("pk")
    assert CourseSession.objects.count() == before + 1
    start = timezone.localtime(session.starts_at)
    assert (start.hour, start.minute) == (9, 30)
    assert session.ends_at - session.starts_at == timedelta(minutes=165)
    assert list(session.trainers.all()) == [world["trainer"]]
    assert AuditEntry.objects.filter(action="session.created", object_id=str(session.pk)).exists()


def test_create_a_weekly_series(world, admin, client):
    first = timezone.localdate() + timedelta(days=20)
    data = session_form(world, start_date=first.isoformat(), weekday="1", count="4",
                        start_time="18:00")
    response = post(client, "/manage/sessions/series/new/", data)
    assert response.status_code == 302
    created = list(CourseSession.objects.filter(
        venue=world["venue"], starts_at__gte=timezone.now() + timedelta(days=19))
        .order_by("starts_at"))
    assert len(created) == 4
    days = [timezone.localtime(s.starts_at) for s in created]
    assert all(d.weekday() == 1 and d.hour == 18 for d in days)
    assert days[0].date() >= first and days[0].date() - first < timedelta(days=7)
    assert [(b - a).days for a, b in zip(days, days[1:], strict=False)] == [7, 7, 7]


def test_a_trainer_is_never_double_booked(world, admin, client):
    upcoming = world["upcoming"]
    clash_start = timezone.localtime(upcoming.starts_at) + timedelta(hours=1)
    before = CourseSession.objects.count()
    # A series whose second week lands on the trainer's existing date: nothing is created.
    data = session_form(world, start_date=(clash_start - timedelta(weeks=1)).date().isoformat(),
                        weekday=str(clash_start.weekday()),
                        start_time=clash_start.strftime("%H:%M"), count="3")
    response = post(client, "/manage/sessions/series/new/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="#id_trainers"' in page
    assert "Terry Trainer is already teaching NSAC on" in page and "Chelmsford" in page
    assert CourseSession.objects.count() == before
    # Another trainer at the same time is fine.
    other = TrainerFactory(full_name="Olive Other", email="olive@essex.test",
                           course_types=[world["nsac"]])
    data["trainers"] = [other.pk]
    assert post(client, "/manage/sessions/series/new/", data).status_code == 302
    assert CourseSession.objects.count() == before + 3


def test_adding_a_busy_trainer_to_a_date_is_refused(world, admin, client):
    other = world["other"]
    busy = world["upcoming"]
    other.starts_at, other.ends_at = busy.starts_at, busy.ends_at
    other.save()
    response = post(client, f"/manage/sessions/{other.pk}/",
                    {"capacity": "20", "trainers": [world["trainer"].pk]})
    assert response.status_code == 200 and b"already teaching" in response.content
    assert not other.trainers.exists()


@pytest.mark.parametrize("change, field, message", [
    ({"capacity": "50"}, "capacity", b"holds at most 24"),
    ({"start_date": date(2001, 1, 1)}, "start_date", b"must be in the future"),
    ({"start_date": date(9999, 12, 31)}, "start_date", b"at most two years ahead"),
    ({"start_date_day": "not a day"}, "start_date",
     b"The date of the course must be a real date"),
    ({"start_date_month": ""}, "start_date_month",
     b"The date of the course must include a month"),
    ({"delivery_mode": "online"}, "venue", b"online course has no venue"),
    ({"venue": ""}, "venue", b"Choose the venue"),
    ({"course_type": "99999"}, "course_type", b"Select a valid choice"),
    ({"trainers": ["99999"]}, "trainers", b"Select a valid choice"),
    ({"delivery_mode": "practical"}, "delivery_mode", b"not delivered that way"),
])
def test_bad_dates_are_field_errors(world, admin, client, change, field, message):
    before = CourseSession.objects.count()
    response = post(client, "/manage/sessions/new/", session_form(world, **change))
    assert response.status_code == 200
    assert anchor(field, {"start_date"}).encode() in response.content
    assert message in response.content
    assert CourseSession.objects.count() == before


def test_an_unqualified_trainer_is_refused(world, admin, client):
    TrainerFactory(full_name="Una Qualified", email="una@essex.test")
    una = Trainer.objects.get(full_name="Una Qualified")
    response = post(client, "/manage/sessions/new/", session_form(world, trainers=[una.pk]))
    assert b"Una Qualified is not qualified to teach NSAC" in response.content


def test_capacity_never_below_the_seats_taken(world, admin, client):
    upcoming = world["upcoming"]
    for n in range(3):
        offer = make_offer(f"ESX-80000{n}")
        book_offer(offer, upcoming, channel="admin", actor="setup")
    held = make_offer("ESX-800009")
    place_hold(held.pk, upcoming.pk, channel="online", actor="online")
    response = post(client, f"/manage/sessions/{upcoming.pk}/",
                    {"capacity": "3", "trainers": [world["trainer"].pk]})
    assert b"4 seats are already taken" in response.content
    assert post(client, f"/manage/sessions/{upcoming.pk}/",
                {"capacity": "4", "trainers": [world["trainer"].pk]}).status_code == 302
    upcoming.refresh_from_db()
    assert upcoming.capacity == 4


def test_cancelling_a_date(world, admin, client, django_capture_on_commit_callbacks):
    upcoming = world["upcoming"]
    confirmed_offer = make_offer("ESX-900001", email="kim@example.com", first_name="Kim")
    confirmed = book_offer(confirmed_offer, upcoming, channel="admin", actor="setup")
    unpaid_offer = make_offer("ESX-900002")
    place_hold(unpaid_offer.pk, upcoming.pk, channel="online", actor="online")
    unpaid = book(unpaid_offer.pk, channel="online", actor="online")
    assert unpaid.status == "pending_payment"
    url = f"/manage/sessions/{upcoming.pk}/cancel/"
    no_reason = post(client, url, {"reason": ""})
    assert b'href="#id_reason"' in no_reason.content
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, url, {"reason": "Venue flooded"})
    assert response.status_code == 302
    upcoming.refresh_from_db()
    assert upcoming.status == "cancelled"
    confirmed.refresh_from_db()
    unpaid.refresh_from_db()
    assert confirmed.status == "confirmed" and unpaid.status == "cancelled"
    assert unpaid.offer.status == "offered"
    event = OfferEvent.objects.get(booking=confirmed, kind="session.cancelled")
    assert event.after["reason"] == "Venue flooded" and event.after["free_transfer"]
    assert AuditEntry.objects.filter(action="session.cancelled",
                                     object_id=str(upcoming.pk)).exists()
    # The person is told, once, that moving is free.
    notices = [m for m in mail.outbox if "kim@example.com" in m.to]
    assert len(notices) == 1 and "free" in (notices[0].subject + notices[0].body).lower()
    assert OfferEvent.objects.filter(booking=confirmed, kind="message.sent").exists()
    # Moving is free even inside the usual cut-off, and the rules allow it.
    late = upcoming.starts_at - timedelta(hours=2)
    assert transfer_fee(confirmed, late) == 0
    later = make_session(world["nsac"], world["venue"], upcoming.starts_at + timedelta(days=5))
    moved = transfer_booking(confirmed.pk, later.pk, channel="online", actor="online", now=late)
    assert moved.fee_snapshot["transfer_fee_pence"] == 0
    # A cancelled date cannot be cancelled again.
    again = post(client, url, {"reason": "Twice"})
    assert again.status_code == 200 and b"cancel" in again.content.lower()


def test_a_started_date_cannot_be_cancelled(world, staff):
    with pytest.raises(Exception) as caught:
        cancel_session(world["started"].pk, reason="x",
                       actor=staff[Role.CLIENT_ADMIN])
    assert "already started" in str(caught.value)
    assert Booking.objects.get(pk=world["booking"].pk).status == "confirmed"
