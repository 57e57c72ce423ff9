"""Course dates avoid the bank holidays of the client's nation and the client's own closures: a
single date there is refused (naming the field and the day) unless the administrator runs it
anyway, and a weekly series leaves those weeks out, naming each."""

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.roles import Role
from audit.models import AuditEntry
from booking.demo import seed_client_demo
from booking.models import Closure, CourseSession
from booking.services.closures import HOLIDAY_NAMES, OBSERVED, add_closure, closed_days
from booking.services.sessions import (
    ClosedDayError,
    SessionSpec,
    create_series,
    create_sessions,
    weekly_starts,
)

from .factories import CourseTypeFactory, TrainerFactory, VenueFactory
from .manage.conftest import get, make_staff, post

# Fixed, so the service tests do not depend on the day they run.
NOW = timezone.make_aware(datetime(2026, 12, 1, 9, 0))


def at(day: date, hour=9, minute=30) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def course(in_essex):
    nsac = CourseTypeFactory(code="NSAC")
    venue = VenueFactory(name="County Hall")
    trainer = TrainerFactory(full_name="Terry Trainer", course_types=[nsac])
    return SessionSpec(course_type_id=nsac.pk, delivery_mode="classroom", venue_id=venue.pk,
                       capacity=20, trainer_ids=(trainer.pk,))


def create_one(spec, day, organisation, **options):
    return create_sessions(spec, [at(day)], actor="tests", organisation=organisation, now=NOW,
                           **options)


def refusal(spec, day, organisation) -> list[str]:
    with pytest.raises(ClosedDayError) as refused:
        create_one(spec, day, organisation)
    return refused.value.message_dict["start_date"]


def test_christmas_day_is_refused_then_allowed_when_run_anyway(course, essex):
    christmas = date(2026, 12, 25)
    assert refusal(course, christmas, essex) == [
        "25 December 2026 is Christmas Day, a bank holiday in England and Wales."]
    assert not CourseSession.objects.exists()

    [session] = create_one(course, christmas, essex, run_on_closed_days=True)
    assert timezone.localdate(session.starts_at) == christmas
    entry = AuditEntry.objects.get(action="session.created", object_id=str(session.pk))
    assert entry.after["run_on_closed_day"] == {"date": "2026-12-25",
                                                "bank_holiday": "Christmas Day", "closure": ""}


def test_the_substitute_boxing_day_is_refused(course, essex):
    # Boxing Day 2026 is a Saturday, so Monday 28 December is the bank holiday in its place.
    assert refusal(course, date(2026, 12, 26), essex) == [
        "26 December 2026 is Boxing Day, a bank holiday in England and Wales."]
    assert refusal(course, date(2026, 12, 28), essex) == [
        "28 December 2026 is Boxing Day (substitute day), a bank holiday in England and Wales."]
    assert refusal(course, date(2027, 1, 1), essex)
    # An ordinary day around them is not.
    assert len(create_one(course, date(2026, 12, 29), essex)) == 1


def test_every_england_and_wales_holiday_name_is_translatable(in_essex):
    # The package has no Welsh list: each name it gives is shown through our own gettext
    # mapping (whose Welsh the catalogue holds), so a name it adds or renames must be mapped.
    names = {day.holiday.removesuffix(OBSERVED) for day in closed_days(
        date(2026, 1, 1), date(2040, 12, 31), nation="england_wales").values()}
    assert names <= set(HOLIDAY_NAMES)


def test_a_scottish_client_is_refused_on_2_january_and_an_english_one_is_not(course, essex):
    second = date(2027, 1, 2)
    essex.nation = "scotland"
    essex.save(update_fields=["nation"])
    assert refusal(course, second, essex) == [
        "2 January 2027 is 2nd January, a bank holiday in Scotland."]
    # Without the organisation the service reads the nation of the schema it runs in.
    with pytest.raises(ClosedDayError):
        create_sessions(course, [at(second)], actor="tests", now=NOW)

    essex.nation = "england_wales"
    essex.save(update_fields=["nation"])
    assert len(create_one(course, second, essex)) == 1


def test_a_weekly_series_skips_the_bank_holiday_and_names_it(course, essex):
    starts = weekly_starts(date(2026, 12, 21), 0, time(9, 30), 3)  # Mondays 21, 28 Dec, 4 Jan
    series = create_series(course, starts, actor="tests", organisation=essex, now=NOW)
    assert [timezone.localdate(s.starts_at) for s in series.created] == [
        date(2026, 12, 21), date(2027, 1, 4)]
    assert [day.why() for day in series.skipped] == [
        "28 December 2026 is Boxing Day (substitute day), a bank holiday in England and Wales."]


def test_a_closure_refuses_its_days_and_a_series_skips_them(course, essex):
    add_closure(date(2027, 2, 8), date(2027, 2, 10), "Staff training", actor="tests",
                organisation=essex)
    assert refusal(course, date(2027, 2, 9), essex) == [
        "9 February 2027 is a day you are closed: Staff training."]
    assert len(create_one(course, date(2027, 2, 11), essex)) == 1
    series = create_series(course, weekly_starts(date(2027, 2, 1), 1, time(9, 30), 3),
                           actor="tests", organisation=essex, now=NOW)
    assert [timezone.localdate(s.starts_at) for s in series.created] == [
        date(2027, 2, 2), date(2027, 2, 16)]
    assert [day.day for day in series.skipped] == [date(2027, 2, 9)]
    assert AuditEntry.objects.filter(action="closure.added").exists()


def test_closures_of_another_client_never_apply(course, essex, south_wales):
    with schema_context(south_wales.schema_name):
        add_closure(date(2027, 3, 1), date(2027, 3, 5), "Office move", actor="tests",
                    organisation=south_wales)
        assert date(2027, 3, 3) in closed_days(date(2027, 3, 1), date(2027, 3, 31),
                                               nation=south_wales.nation)
    connection.set_tenant(essex)
    assert not Closure.objects.exists()
    assert closed_days(date(2027, 3, 1), date(2027, 3, 5), nation=essex.nation) == {}
    assert len(create_one(course, date(2027, 3, 3), essex)) == 1


def test_the_demo_seed_puts_nothing_on_a_bank_holiday(essex):
    # Seeded as if on 14 December: its six weeks run over Christmas and New Year.
    seed_client_demo(essex, today=date(2026, 12, 14))
    with schema_context(essex.schema_name):
        days = {timezone.localdate(s.starts_at) for s in CourseSession.objects.all()}
        assert max(days) >= date(2027, 1, 4) and min(days) <= date(2026, 12, 1)
        closed = closed_days(min(days), max(days), nation=essex.nation)
    assert {date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)} <= set(closed)
    assert days.isdisjoint(closed)


# --- The pages --------------------------------------------------------------------------------


def next_christmas() -> date:
    today = timezone.localdate()
    christmas = date(today.year, 12, 25)
    return christmas if christmas > today + timedelta(days=1) else date(today.year + 1, 12, 25)


@pytest.fixture
def admin(essex, client, in_essex):
    user = make_staff("scheduler@essex.test", essex, Role.CLIENT_ADMIN)
    client.force_login(user)
    return user


def test_the_page_refuses_christmas_and_offers_run_it_anyway(course, admin, client):
    christmas = next_christmas()
    data = {"course_type": course.course_type_id, "delivery_mode": "classroom",
            "venue": course.venue_id, "start_date": christmas.isoformat(), "start_time": "09:30",
            "capacity": "20", "language": "en", "trainers": list(course.trainer_ids)}
    blank = get(client, "/manage/sessions/new/").content.decode()
    assert 'name="run_anyway"' not in blank

    response = post(client, "/manage/sessions/new/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="#id_start_date_day"' in page
    assert (f"25 December {christmas.year} is Christmas Day, a bank holiday in England and "
            "Wales.") in page
    assert 'name="run_anyway"' in page and "Run it anyway" in page
    assert not CourseSession.objects.exists()

    response = post(client, "/manage/sessions/new/", dict(data, run_anyway="on"))
    assert response.status_code == 302
    session = CourseSession.objects.get()
    assert AuditEntry.objects.get(action="session.created", object_id=str(session.pk)).after[
        "run_on_closed_day"]["bank_holiday"] == "Christmas Day"


def test_the_series_page_names_the_weeks_left_out(course, admin, client):
    christmas = next_christmas()
    data = {"course_type": course.course_type_id, "delivery_mode": "classroom",
            "venue": course.venue_id, "start_date": (christmas - timedelta(days=7)).isoformat(),
            "weekday": str(christmas.weekday()), "count": "3", "start_time": "09:30",
            "capacity": "20", "language": "en", "trainers": list(course.trainer_ids)}
    response = post(client, "/manage/sessions/series/new/", data, follow=True)
    page = response.content.decode()
    # Christmas Day and New Year's Day fall on the same weekday, a week apart.
    assert "1 course date created." in page
    assert (f"Not scheduled: 25 December {christmas.year} is Christmas Day, a bank holiday in "
            "England and Wales.") in page
    assert (f"Not scheduled: 1 January {christmas.year + 1} is New Year&#x27;s Day, a bank "
            "holiday in England and Wales.") in page
    assert CourseSession.objects.count() == 1


def test_closures_are_listed_added_and_removed(admin, client, in_essex):
    response = post(client, "/manage/configure/closures/",
                    {"action": "add", "first_day": "2027-02-10", "last_day": "2027-02-08",
                     "reason": "Staff training"})
    assert response.status_code == 200
    assert 'href="#id_last_day_day"' in response.content.decode()
    response = post(client, "/manage/configure/closures/",
                    {"action": "add", "first_day": "2027-02-08", "last_day": "2027-02-10",
                     "reason": ""})
    assert 'href="#id_reason"' in response.content.decode()
    assert not Closure.objects.exists()

    response = post(client, "/manage/configure/closures/",
                    {"action": "add", "first_day": "2027-02-08", "last_day": "2027-02-10",
                     "reason": "Staff training"})
    assert response.status_code == 302
    closure = Closure.objects.get()
    page = get(client, "/manage/configure/closures/").content.decode()
    assert "Staff training" in page and "Bank holidays in England and Wales" in page
    assert post(client, "/manage/configure/closures/",
                {"action": "remove", "closure": str(closure.pk)}).status_code == 302
    assert not Closure.objects.exists()
    assert list(AuditEntry.objects.filter(action__startswith="closure.")
                .values_list("action", flat=True).order_by("pk")) == [
        "closure.added", "closure.removed"]
