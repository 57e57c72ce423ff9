"""When the client's phone lines are open: the client's own weekly hours (default Monday to
Friday, 08:00 to 17:00), closed on England and Wales bank holidays, always in UK time.

Bank holidays come from the maintained `holidays` package (England and Wales share one list,
substitute days included), never from a list kept by hand here. The public site shows a banner
while the lines are closed (see `phone_lines_banner`, a template context processor).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Phone lines follow the clock in the UK whatever the server's own time zone is.
UK = ZoneInfo("Europe/London")
# The days of the week as every part of Waymark stores them (phone-line hours, trainers'
# working days), Monday first as date.weekday() counts.
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = dict(zip(DAYS, (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"),
                            _("Friday"), _("Saturday"), _("Sunday")), strict=True))
# The hours a client keeps until it sets its own, in the shape ClientOrganisation stores.
DEFAULT_HOURS = {day: ["08:00", "17:00"] for day in DAYS[:5]}
# How far ahead to look for the next opening (a long Christmas break fits easily).
LOOK_AHEAD_DAYS = 21
# Pages for staff never show the public banner.
STAFF_PATHS = ("/manage/", "/contact-centre/", "/accounts/", "/api/", "/admin/")


@lru_cache(maxsize=32)
def _bank_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("GB", subdiv="ENG", years=year, language="en_GB"))


def bank_holiday(day: date) -> str:
    """The England and Wales bank holiday on `day` (its English name), or ""."""
    return _bank_holidays(day.year).get(day, "")


def _parse(value) -> time | None:
    try:
        hour, minute = str(value).split(":")
        return time(int(hour), int(minute))
    except (TypeError, ValueError):
        return None


def weekly_hours(organisation) -> dict[str, tuple[time, time]]:
    """The client's hours per weekday. Unset (empty) hours mean the default; within set hours a
    missing day, or one that makes no sense (closing before opening), is closed."""
    raw = getattr(organisation, "opening_hours", None) or DEFAULT_HOURS
    hours = {}
    for day in DAYS:
        pair = raw.get(day) if isinstance(raw, dict) else None
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        opens, closes = _parse(pair[0]), _parse(pair[1])
        if opens is not None and closes is not None and opens < closes:
            hours[day] = (opens, closes)
    return hours


@dataclass(frozen=True)
class OpeningDay:
    name: str
    # None on a day the lines are closed.
    hours: tuple[time, time] | None


def opening_week(organisation) -> list[OpeningDay]:
    """The client's week as its contact page lists it, Monday first: the hours the banner and
    the contact centre judge by."""
    hours = weekly_hours(organisation)
    return [OpeningDay(DAY_NAMES[day], hours.get(day)) for day in DAYS]


@dataclass(frozen=True)
class PhoneLines:
    is_open: bool
    # Why the lines are closed: "bank_holiday", "closed_today" or "outside_hours" ("" if open).
    reason: str = ""
    holiday: str = ""
    # The next time (UK) the lines open, if any within LOOK_AHEAD_DAYS.
    next_open: datetime | None = None
    closes_at: datetime | None = None


def _opening_on(day: date, hours) -> tuple[datetime, datetime] | None:
    if bank_holiday(day):
        return None
    pair = hours.get(DAYS[day.weekday()])
    if pair is None:
        return None
    return datetime.combine(day, pair[0], tzinfo=UK), datetime.combine(day, pair[1], tzinfo=UK)


def _now() -> datetime:
    return timezone.now()


def phone_lines(organisation, at: datetime | None = None) -> PhoneLines:
    """Are the client's phone lines open at `at` (default now)? When closed, says why and when
    they open next."""
    moment = (at or _now()).astimezone(UK)
    hours = weekly_hours(organisation)
    today = moment.date()
    opening = _opening_on(today, hours)
    if opening and opening[0] <= moment < opening[1]:
        return PhoneLines(is_open=True, closes_at=opening[1])
    holiday = bank_holiday(today)
    if holiday:
        reason = "bank_holiday"
    elif DAYS[today.weekday()] not in hours:
        reason = "closed_today"
    else:
        reason = "outside_hours"
    next_open = None
    for offset in range(LOOK_AHEAD_DAYS + 1):
        candidate = _opening_on(today + timedelta(days=offset), hours)
        if candidate and candidate[0] > moment:
            next_open = candidate[0]
            break
    return PhoneLines(is_open=False, reason=reason, holiday=holiday, next_open=next_open)


def is_public_page(request) -> bool:
    return not request.path.startswith(STAFF_PATHS)


def phone_lines_banner(request) -> dict:
    """Context processor: `phone_lines_closed` (a PhoneLines) on the public pages of a client
    site while its phone lines are closed; None otherwise (set, not left out: the base layout
    asks on every page, and a name missing from the context costs a failed lookup)."""
    organisation = getattr(request, "tenant", None)
    if organisation is None or not is_public_page(request):
        return {"phone_lines_closed": None}
    lines = phone_lines(organisation)
    if lines.is_open:
        return {"phone_lines_closed": None}
    return {"phone_lines_closed": lines}
