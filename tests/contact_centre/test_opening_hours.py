"""Phone-line opening hours: the client's week, England and Wales bank holidays, UK time."""

import re
from datetime import UTC, date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from tenants import opening_hours
from tenants.opening_hours import bank_holiday, phone_lines, weekly_hours

from .conftest import ESSEX, SOUTH_WALES

UK = ZoneInfo("Europe/London")
DEFAULT = SimpleNamespace(opening_hours={})


def uk(*args) -> datetime:
    return datetime(*args, tzinfo=UK)


@pytest.mark.parametrize(("moment", "is_open"), [
    (uk(2026, 11, 25, 10, 0), True),      # Wednesday mid-morning
    (uk(2026, 11, 25, 8, 0), True),       # opens on the dot
    (uk(2026, 11, 25, 7, 59), False),
    (uk(2026, 11, 25, 16, 59), True),
    (uk(2026, 11, 25, 17, 0), False),     # closes on the dot
    (uk(2026, 11, 27, 12, 0), True),      # Friday
    (uk(2026, 11, 28, 12, 0), False),     # Saturday
    (uk(2026, 11, 29, 12, 0), False),     # Sunday
])
def test_default_hours_are_weekdays_eight_to_five(moment, is_open):
    assert phone_lines(DEFAULT, moment).is_open is is_open


def test_before_opening_says_when_the_lines_open():
    lines = phone_lines(DEFAULT, uk(2026, 11, 25, 7, 30))
    assert lines.reason == "outside_hours" and lines.next_open == uk(2026, 11, 25, 8, 0)
    evening = phone_lines(DEFAULT, uk(2026, 11, 25, 18, 0))
    assert evening.next_open == uk(2026, 11, 26, 8, 0)


def test_weekend_opens_again_on_monday():
    lines = phone_lines(DEFAULT, uk(2026, 11, 28, 12, 0))
    assert lines.reason == "closed_today" and lines.next_open == uk(2026, 11, 30, 8, 0)


def test_christmas_day_is_a_bank_holiday():
    lines = phone_lines(DEFAULT, uk(2026, 12, 25, 10, 0))  # a Friday
    assert not lines.is_open
    assert lines.reason == "bank_holiday" and lines.holiday == "Christmas Day"
    # Boxing Day falls on a Saturday, so Monday 28th is the substitute day: back on Tuesday.
    assert lines.next_open == uk(2026, 12, 29, 8, 0)


def test_the_substitute_boxing_day_is_a_bank_holiday():
    lines = phone_lines(DEFAULT, uk(2026, 12, 28, 10, 0))  # a Monday
    assert not lines.is_open and lines.reason == "bank_holiday"
    assert "Boxing Day" in lines.holiday
    assert phone_lines(DEFAULT, uk(2026, 12, 29, 10, 0)).is_open


@pytest.mark.parametrize(("day", "name"), [
    (date(2026, 4, 3), "Good Friday"), (date(2026, 4, 6), "Easter Monday"),
    (date(2026, 5, 4), "May Day"), (date(2026, 8, 31), "Late Summer Bank Holiday"),
    (date(2027, 12, 27), "Christmas Day (observed)"),
])
def test_england_and_wales_bank_holidays(day, name):
    assert bank_holiday(day) == name
    assert not phone_lines(DEFAULT, datetime.combine(day, datetime.min.time(), UK)
                           .replace(hour=10)).is_open


def test_scottish_holidays_are_not_england_and_wales_ones():
    assert bank_holiday(date(2026, 1, 2)) == ""        # 2 January: Scotland only
    assert bank_holiday(date(2026, 11, 30)) == ""      # St Andrew's Day: Scotland only
    assert phone_lines(DEFAULT, uk(2026, 11, 30, 10, 0)).is_open


def test_hours_follow_uk_time_across_summer_time():
    # 07:30 UTC in July is 08:30 in London (BST): open. 16:30 UTC is 17:30 BST: closed.
    assert phone_lines(DEFAULT, datetime(2026, 7, 1, 7, 30, tzinfo=UTC)).is_open
    assert not phone_lines(DEFAULT, datetime(2026, 7, 1, 16, 30, tzinfo=UTC)).is_open
    # In January London is on GMT: 07:30 UTC is 07:30, still closed; 16:30 UTC is open.
    assert not phone_lines(DEFAULT, datetime(2026, 1, 7, 7, 30, tzinfo=UTC)).is_open
    assert phone_lines(DEFAULT, datetime(2026, 1, 7, 16, 30, tzinfo=UTC)).is_open
    # 23:30 UTC on a Friday in summer is already Saturday in London.
    assert phone_lines(DEFAULT, datetime(2026, 7, 3, 23, 30, tzinfo=UTC)).reason == \
        "closed_today"
    # The day the clocks go forward (Sunday 29 March 2026) the next opening is 08:00 BST Monday.
    assert phone_lines(DEFAULT, uk(2026, 3, 29, 12, 0)).next_open == uk(2026, 3, 30, 8, 0)
    assert uk(2026, 3, 30, 8, 0).utcoffset().total_seconds() == 3600


def test_the_clients_own_hours():
    client = SimpleNamespace(opening_hours={"mon": ["09:30", "16:00"], "sat": ["09:00", "12:00"]})
    assert not phone_lines(client, uk(2026, 11, 30, 9, 0)).is_open    # Monday, before 09:30
    assert phone_lines(client, uk(2026, 11, 30, 9, 30)).is_open
    assert not phone_lines(client, uk(2026, 12, 1, 10, 0)).is_open    # Tuesday: not listed
    assert phone_lines(client, uk(2026, 11, 28, 11, 0)).is_open       # Saturday morning
    assert phone_lines(client, uk(2026, 12, 1, 10, 0)).next_open == uk(2026, 12, 5, 9, 0)


def test_nonsense_hours_close_that_day_without_failing():
    client = SimpleNamespace(opening_hours={"mon": ["17:00", "08:00"], "tue": "all day",
                                            "wed": ["8am", "5pm"], "thu": ["08:00", "17:00"]})
    assert set(weekly_hours(client)) == {"thu"}
    assert not phone_lines(client, uk(2026, 11, 30, 10, 0)).is_open
    assert phone_lines(client, uk(2026, 12, 3, 10, 0)).is_open
    never = SimpleNamespace(opening_hours={"mon": None})
    assert phone_lines(never, uk(2026, 11, 30, 10, 0)).next_open is None


# --- the banner on the public site ----------------------------------------------------------


@pytest.fixture
def closed(monkeypatch):
    monkeypatch.setattr(opening_hours, "_now", lambda: uk(2026, 12, 25, 10, 0))


@pytest.fixture
def open_now(monkeypatch):
    monkeypatch.setattr(opening_hours, "_now", lambda: uk(2026, 11, 25, 10, 0))


def test_public_pages_show_the_banner_while_lines_are_closed(essex, taking_bookings, closed,
                                                             client):
    for path in ("/", "/contact/", "/book/find/"):
        page = client.get(path, **ESSEX).content.decode()
        assert 'data-phone-lines="closed"' in page, path
        assert "Our phone lines are closed." in page
        assert "Online booking is open 24 hours a day, 7 days a week." in page
        assert "Phone lines open again on Tuesday 29 December at 08:00." in page


def test_no_banner_while_lines_are_open(essex, open_now, client):
    assert 'data-phone-lines' not in client.get("/", **ESSEX).content.decode()


def test_staff_pages_never_show_the_banner(essex, essex_admin, closed, client):
    assert 'data-phone-lines' not in client.get("/accounts/sign-in/", **ESSEX).content.decode()
    client.force_login(essex_admin)
    for path in ("/manage/", "/contact-centre/"):
        response = client.get(path, **ESSEX)
        assert response.status_code == 200
        assert 'data-phone-lines' not in response.content.decode(), path
    # The console tells the agent instead.
    assert "Phone lines closed" in client.get("/contact-centre/", **ESSEX).content.decode()


def test_the_banner_speaks_welsh_on_the_welsh_site(south_wales, taking_bookings, closed, client):
    client.cookies["waymark_language"] = "cy"
    page = client.get("/", **SOUTH_WALES).content.decode()
    assert 'data-phone-lines="closed"' in page
    assert "Mae archebu ar-lein ar gael 24 awr y dydd, 7 diwrnod yr wythnos." in page


# --- one definition of the hours: banner, contact page, console, branding form --------------


@pytest.fixture
def without_hours(essex):
    """A client that never set its hours: it keeps the default ones, everywhere."""
    essex.opening_hours = {}
    essex.save(update_fields=["opening_hours"])
    return essex


def test_a_client_without_hours_lists_the_default_ones_on_its_contact_page(without_hours,
                                                                           open_now, client):
    page = client.get("/contact/", **ESSEX).content.decode()
    assert 'data-phone-lines' not in page  # Wednesday 10:00: open, so no banner
    rows = re.findall(r'summary-list__key">([^<]+)</dt>\s*<dd class="govuk-summary-list__value">'
                      r'([^<]+)</dd>', page)
    assert rows == [("Monday", "08:00 to 17:00"), ("Tuesday", "08:00 to 17:00"),
                    ("Wednesday", "08:00 to 17:00"), ("Thursday", "08:00 to 17:00"),
                    ("Friday", "08:00 to 17:00"), ("Saturday", "Closed"), ("Sunday", "Closed")]


def test_the_banner_the_console_and_the_contact_page_agree(without_hours, open_now, client,
                                                            essex_admin):
    assert phone_lines(without_hours).is_open
    client.force_login(essex_admin)
    assert "Phone lines closed" not in client.get("/contact-centre/", **ESSEX).content.decode()
    branding = client.get("/manage/configure/branding/", **ESSEX).content.decode()
    inputs = dict(re.findall(r'<input[^>]*name="(\w+_(?:opens|closes))"[^>]*?(?: value="([^"]*)")?>',
                             branding))
    assert (inputs["mon_opens"], inputs["fri_closes"], inputs["sat_opens"]) == ("08:00", "17:00", "")


def test_the_contact_page_lists_the_clients_own_hours(essex, client):
    essex.opening_hours = {"mon": ["09:30", "16:00"], "sat": ["09:00", "12:00"]}
    essex.save(update_fields=["opening_hours"])
    page = client.get("/contact/", **ESSEX).content.decode()
    assert "09:30 to 16:00" in page and "09:00 to 12:00" in page
    assert page.count("Closed") == 5
