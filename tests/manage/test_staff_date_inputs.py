"""Staff date and time fields follow the GOV.UK patterns: a date is day, month and year in a
fieldset with a legend and a hint; a time is one text box with an example. Errors name the
field and the missing part, and the error summary links to the part to fix."""

import inspect
import re
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from django import forms
from django.utils import timezone

import accounts.forms
import booking.manage.accessibility_forms
import booking.manage.forms
import booking.manage.privacy_forms
import usergroup.forms
from accounts.roles import Role
from audit.models import AuditEntry
from govuk_forms.fields import DateInputField, TimeInputField

from ..govuk_dates import date_parts
from .conftest import get, make_session, post

ROOT = Path(__file__).resolve().parents[2]
STAFF_FORM_MODULES = (booking.manage.forms, booking.manage.accessibility_forms,
                      booking.manage.privacy_forms, accounts.forms,
                      usergroup.forms)
BROWSER_PICKERS = (forms.DateInput, forms.TimeInput, forms.DateTimeInput)


def staff_forms():
    for module in STAFF_FORM_MODULES:
        for _, form in inspect.getmembers(module, inspect.isclass):
            if issubclass(form, forms.BaseForm) and form.__module__ == module.__name__:
                yield form


@pytest.mark.parametrize("form", list(staff_forms()), ids=lambda form: form.__name__)
def test_no_staff_form_asks_for_a_date_or_time_with_the_browser_picker(form):
    for name, field in form.base_fields.items():
        assert not isinstance(field.widget, BROWSER_PICKERS), f"{form.__name__}.{name}"
        if isinstance(field, forms.DateField | forms.TimeField | forms.DateTimeField):
            assert isinstance(field, TimeInputField), f"{form.__name__}.{name}"


def test_no_template_draws_a_browser_date_or_time_picker():
    found = [str(path.relative_to(ROOT)) for folder in ("templates", "booking", "platform",
                                                        "usergroup", "reports", "billing")
             for path in (ROOT / folder).rglob("*.html")
             if re.search(r'type="(date|time|datetime-local|month)"', path.read_text())]
    assert found == []


@pytest.fixture
def admin(staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    return staff[Role.CLIENT_ADMIN]


def session_data(world, **parts):
    day = timezone.localdate() + timedelta(days=30)
    data = {"course_type": world["nsac"].pk, "delivery_mode": "classroom",
            "venue": world["venue"].pk, **date_parts("start_date", day), "start_time": "09:30",
            "capacity": "20", "language": "en", "trainers": [world["trainer"].pk],
            "joining_url": ""}
    data.update(parts)
    return data


def inputs_in_error(page: str) -> list[str]:
    return re.findall(r'class="govuk-input govuk-date-input__input[^"]*govuk-input--error"'
                      r' id="([^"]+)"', page)


def test_the_new_date_page_asks_day_month_year_and_a_time_with_an_example(world, admin, client):
    page = get(client, "/manage/sessions/new/").content.decode()
    assert '<div class="govuk-date-input" id="id_start_date">' in page
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Date</legend>' in page
    for part in ("day", "month", "year"):
        assert f'name="start_date_{part}"' in page
    assert 'id="id_start_date-hint" class="govuk-hint">For example, 27 3 2027' in page
    assert re.search(r'name="start_time" type="text"', page)
    assert "For example, 09:30 or 14:00" in page


@pytest.mark.parametrize("parts, message, in_error", [
    ({"start_date_month": ""}, "The date of the course must include a month",
     ["id_start_date_month"]),
    ({"start_date_day": "", "start_date_month": "", "start_date_year": ""},
     "Enter the date of the course", ["id_start_date_day", "id_start_date_month",
                                      "id_start_date_year"]),
    ({"start_date_day": "31", "start_date_month": "2"}, "The date of the course must be a real date",
     ["id_start_date_day", "id_start_date_month", "id_start_date_year"]),
    ({"start_date_year": "27"}, "Year must include 4 numbers",
     ["id_start_date_day", "id_start_date_month", "id_start_date_year"]),
])
def test_a_bad_course_date_is_named_and_linked_to_its_part(world, admin, client, parts, message,
                                                           in_error):
    response = post(client, "/manage/sessions/new/", session_data(world, **parts))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<li><a href="#{in_error[0]}">{message}</a></li>' in page
    assert inputs_in_error(page) == in_error
    # What was typed comes back, so only the wrong part needs typing again.
    assert f'value="{session_data(world, **parts)["start_date_day"]}"' in page


def test_a_bad_time_is_an_error_and_a_good_one_reads_either_way(world, admin, client):
    bad = post(client, "/manage/sessions/new/", session_data(world, start_time="25:00"))
    assert '<li><a href="#id_start_time">Enter a time like 09:30</a></li>' in bad.content.decode()
    good = post(client, "/manage/sessions/new/", session_data(world, start_time="9.30"))
    assert good.status_code == 302
    entry = AuditEntry.objects.filter(action="session.created").latest("pk")
    assert entry is not None


def test_the_series_and_closures_and_time_away_use_the_date_input(world, admin, client):
    series = post(client, "/manage/sessions/series/new/",
                  {"start_date_day": "4", "start_date_year": "2027"}).content.decode()
    assert "The date the series starts must include a month" in series
    closures = post(client, "/manage/configure/closures/",
                    {"action": "add", **date_parts("first_day", date(2027, 2, 8)),
                     "last_day_day": "8", "last_day_month": "13", "last_day_year": "2027",
                     "reason": "Training"}).content.decode()
    assert '<a href="#id_last_day_day">The last day closed must be a real date</a>' in closures
    away = post(client, f"/manage/configure/trainers/{world['trainer_id']}/",
                {"action": "absence_add", "first_day_month": "3", "first_day_year": "2027",
                 **date_parts("last_day", date(2027, 3, 5))}).content.decode()
    assert '<a href="#id_first_day_day">The first day away must include a day</a>' in away


def test_the_extension_page_shows_the_date_it_was_given(world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    url = f"/manage/offenders/{world['unbooked'].reference}/critical-date/"
    page = post(client, url, {**date_parts("critical_date", date(2099, 1, 2)),
                              "reason": ""}).content.decode()
    assert 'name="critical_date_day" type="text" inputmode="numeric" autocomplete="off" value="2"' \
        in page
    assert 'name="critical_date_year" type="text" inputmode="numeric" autocomplete="off" ' \
           'value="2099"' in page


def test_the_audit_filter_works_by_url_in_parts_and_as_one_date(world, staff, client):
    client.force_login(staff[Role.AUDITOR])
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    by_parts = get(client, "/manage/audit/", data=date_parts("date_from", tomorrow)).content
    assert b"No entries." in by_parts
    assert f'name="date_from_day" type="text" inputmode="numeric" autocomplete="off" ' \
           f'value="{tomorrow.day}"'.encode() in by_parts
    whole = get(client, "/manage/audit/", data={"date_from": tomorrow.isoformat()}).content
    assert b"No entries." in whole
    since_yesterday = get(client, "/manage/audit/",
                          data=date_parts("date_from", today - timedelta(days=1))).content
    assert b"No entries." not in since_yesterday
    half = get(client, "/manage/audit/", data={"date_to_day": "3", "date_to_month": "4"}).content
    assert b'<a href="#id_date_to_year">The end date must include a year</a>' in half


def test_the_sign_in_report_filters_by_day_month_and_year(world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    page = get(client, "/manage/sign-ins/", data={"date_from_day": "40", "date_from_month": "1",
                                                  "date_from_year": "2026"}).content.decode()
    assert '<a href="#id_date_from_day">The start date must be a real date</a>' in page


def test_a_date_field_given_a_date_shows_its_parts_and_a_time_its_hours_and_minutes():
    class Example(forms.Form):
        day = DateInputField(label="Day", messages={"required": "Enter the day",
                                                    "incomplete": "Day must include a %(part)s",
                                                    "invalid": "Day must be a real date"})
        at = TimeInputField(label="At")

    form = Example(initial={"day": date(2027, 3, 9), "at": time(9, 5)})
    assert [part["value"] for part in form["day"].parts] == ["9", "3", "2027"]
    assert form["at"].value() == "09:05"
    assert Example({"day_day": "9", "day_month": "3", "day_year": "2027", "at": "09:05"}).is_valid()


def test_the_schedule_keeps_its_dates_when_the_page_is_redrawn(world, admin, client):
    later = make_session(world["nsac"], world["venue"], timezone.now() + timedelta(days=50))
    page = get(client, f"/manage/sessions/{later.pk}/").content.decode()
    assert 'type="date"' not in page and 'type="time"' not in page
