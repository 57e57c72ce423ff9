"""Trainer availability: the days of the week they work and their time away. No course date is
given to a trainer on a day off or while away, and time away cannot be booked over dates they
are already teaching."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEntry
from booking.models import CourseSession, TrainerAbsence
from booking.services.catalogue import add_trainer_absence, save_trainer
from booking.services.sessions import update_session
from tenants.opening_hours import bank_holiday

from .conftest import get, make_session, post
from .test_sessions import session_form


@pytest.fixture
def admin(staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    return staff[Role.CLIENT_ADMIN]


def next_weekday(weekday: int, after_days: int = 20):
    day = timezone.localdate() + timedelta(days=after_days)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    # Not a bank holiday (no date can be added there), whenever the suite runs.
    while bank_holiday(day):
        day += timedelta(weeks=1)
    return day


def trainer_url(world):
    return f"/manage/configure/trainers/{world['trainer'].pk}/"


def trainer_form(world, **change):
    trainer = world["trainer"]
    data = {"full_name": trainer.full_name, "email": trainer.email, "user_id": str(trainer.user_id),
            "course_types": [str(world["nsac"].pk)], "is_active": "on",
            "working_days": ["mon", "tue", "wed", "thu", "fri"]}
    data.update(change)
    return data


def test_no_course_date_on_a_day_the_trainer_does_not_work(world, admin, client):
    assert post(client, trainer_url(world), trainer_form(world)).status_code == 302
    saturday = next_weekday(5)
    before = CourseSession.objects.count()
    refused = post(client, "/manage/sessions/new/",
                   session_form(world, start_date=saturday.isoformat()))
    assert refused.status_code == 200
    assert "Terry Trainer does not work on Saturday" in refused.content.decode()
    assert CourseSession.objects.count() == before
    monday = next_weekday(0)
    assert post(client, "/manage/sessions/new/",
                session_form(world, start_date=monday.isoformat())).status_code == 302


def test_a_trainer_must_work_some_day(world, admin, client):
    response = post(client, trainer_url(world), trainer_form(world, working_days=[]))
    assert response.status_code == 200 and 'href="#id_working_days' in response.content.decode()


def test_time_away_blocks_dates_and_a_series_is_all_or_nothing(world, admin, client):
    first = next_weekday(0, after_days=30)
    response = post(client, trainer_url(world), {
        "action": "absence_add", "first_day": first.isoformat(),
        "last_day": (first + timedelta(days=4)).isoformat(), "reason": "annual leave"})
    assert response.status_code == 302
    absence = TrainerAbsence.objects.get(trainer=world["trainer"])
    assert AuditEntry.objects.get(action="trainer.absence_added").after["reason"] == "annual leave"
    page = get(client, trainer_url(world)).content.decode()
    assert "annual leave" in page and first.strftime("%-d %B %Y") in page

    before = CourseSession.objects.count()
    # A weekly series on Wednesdays whose third date falls in the time away: none is created.
    series = session_form(world, start_date=(first - timedelta(days=14)).isoformat(),
                          weekday="2", count="4", start_time="18:00")
    refused = post(client, "/manage/sessions/series/new/", series)
    assert refused.status_code == 200
    assert "Terry Trainer is away from" in refused.content.decode()
    assert "(annual leave)" in refused.content.decode()
    assert CourseSession.objects.count() == before

    assert post(client, trainer_url(world), {"action": "absence_remove",
                                             "absence": str(absence.pk)}).status_code == 302
    assert not TrainerAbsence.objects.exists()
    assert AuditEntry.objects.filter(action="trainer.absence_removed").exists()
    assert post(client, "/manage/sessions/series/new/", series).status_code == 302
    assert CourseSession.objects.count() == before + 4


def test_time_away_cannot_cover_a_date_they_teach(world, admin, client):
    taught = world["upcoming"]  # the fixture's trainer teaches it, in ten days
    day = timezone.localdate(taught.starts_at)
    response = post(client, trainer_url(world), {
        "action": "absence_add", "first_day": (day - timedelta(days=1)).isoformat(),
        "last_day": (day + timedelta(days=1)).isoformat(), "reason": ""})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Terry Trainer is teaching NSAC on" in page and 'href="#id_first_day_day"' in page
    assert not TrainerAbsence.objects.exists()


@pytest.mark.parametrize("change, field", [
    ({"last_day": "2026-01-01"}, "last_day"),
    ({"first_day": ""}, "first_day"),
    ({"first_day": "31/02/2027"}, "first_day"),
    ({"first_day_day": "31", "first_day_month": "2", "first_day_year": "2027"}, "first_day"),
])
def test_bad_time_away_is_a_field_error(world, admin, client, change, field):
    data = {"action": "absence_add", "first_day": "2027-03-01", "last_day": "2027-03-05"}
    data.update(change)
    response = post(client, trainer_url(world), data)
    assert response.status_code == 200 and f'href="#id_{field}_day"' in response.content.decode()
    assert not TrainerAbsence.objects.exists()


def test_adding_an_away_trainer_to_a_date_is_refused(world, admin, essex, client):
    later = make_session(world["nsac"], world["venue"], timezone.now() + timedelta(days=40))
    day = timezone.localdate(later.starts_at)
    add_trainer_absence(world["trainer"].pk, day, day, "training", actor="test")
    with pytest.raises(ValidationError) as refused:
        update_session(later.pk, capacity=20, trainer_ids=[world["trainer"].pk],
                       actor="test")
    assert "is away from" in str(refused.value)
    assert not later.trainers.exists()


def test_removing_another_trainers_time_away_does_nothing(world, admin, client):
    other = save_trainer(
        None, {"full_name": "Olive Other", "email": "olive@essex.test", "user_id": None,
               "is_active": True, "working_days": ["mon"]}, [], actor="test", organisation=None)
    day = next_weekday(0, after_days=60)
    absence = add_trainer_absence(other.pk, day, day, actor="test")
    post(client, trainer_url(world), {"action": "absence_remove", "absence": str(absence.pk)})
    assert TrainerAbsence.objects.filter(pk=absence.pk).exists()


def test_the_auditor_sees_time_away_but_cannot_add_it(world, staff, client):
    client.force_login(staff[Role.AUDITOR])
    page = get(client, trainer_url(world)).content.decode()
    assert "Time away" in page and "Add time away" not in page
    assert post(client, trainer_url(world), {"action": "absence_add", "first_day": "2027-03-01",
                                             "last_day": "2027-03-02"}).status_code == 403
    assert not TrainerAbsence.objects.exists()
