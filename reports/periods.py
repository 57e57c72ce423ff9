"""Report periods: whole Europe/London calendar months, from the first month to the last, and the
period of the same length just before (shown beside it)."""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.utils import timezone


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_start(moment_or_day) -> date:
    day = timezone.localdate(moment_or_day) if isinstance(moment_or_day, datetime) \
        else moment_or_day
    return day.replace(day=1)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Period:
    first: date  # the first day of the first month
    last: date  # the first day of the last month (included)

    @property
    def months(self) -> list[date]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month
        return [add_months(self.first, n) for n in range(count + 1)]

    @property
    def start(self) -> datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> datetime:
        """The moment after the period (exclusive)."""
        return local_midnight(add_months(self.last, 1))

    def previous(self) -> "Period":
        length = len(self.months)
        return Period(add_months(self.first, -length), add_months(self.first, -1))

    @classmethod
    def last_months(cls, count: int, *, now=None) -> "Period":
        this_month = month_start(now or timezone.now())
        return cls(add_months(this_month, -(count - 1)), this_month)
