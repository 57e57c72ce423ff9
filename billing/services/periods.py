"""Europe/London calendar months. A period is named by its first day."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(period: date) -> date:
    return date(period.year + (period.month == 12), period.month % 12 + 1, 1)


def bounds(period: date) -> tuple[datetime, datetime]:
    """The period's first and after-last instants, aware, in London time."""
    return (datetime.combine(period, time.min, tzinfo=LONDON),
            datetime.combine(next_month(period), time.min, tzinfo=LONDON))


def period_of(moment: datetime) -> date:
    return month_start(moment.astimezone(LONDON).date())
