"""The offer funnel, by the Europe/London month each offer arrived: offered → booked → how it
ended (completed, did not attend, refused entry, left early, expired and returned to the
police, withdrawn), and the median whole days from offer to first booking. The counts come
from booking's FunnelTally (booking/tallies.py); with a venue, the offers whose first booking
was at that venue."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from booking import tallies
from booking.models import FunnelTally, Offer

from .periods import Period

S = Offer.Status
# (key, label, the offer statuses it counts)
ENDINGS = (
    ("completed", _("Completed"), (S.COMPLETED,)),
    ("did_not_attend", _("Did not attend"), (S.DID_NOT_ATTEND,)),
    ("refused_entry", _("Refused entry"), (S.REFUSED_ENTRY,)),
    ("left_early", _("Left early or not completed"), (S.NOT_COMPLETED,)),
    ("expired", _("Expired (returned to police)"), (S.EXPIRED,)),
    ("withdrawn", _("Withdrawn"), (S.WITHDRAWN,)),
)


@dataclass
class FunnelRow:
    month: date
    offered: int
    booked: int
    endings: dict
    median_days_to_book: float | None

    @property
    def booked_share(self) -> float | None:
        return self.booked / self.offered if self.offered else None


@dataclass
class FunnelReport:
    period: Period
    rows: list[FunnelRow]
    total: FunnelRow
    previous: FunnelRow


def median(histogram: dict) -> float | None:
    """The median of values given as {value: how many}, interpolated as PERCENTILE_CONT(0.5)."""
    count = sum(histogram.values())
    if not count:
        return None
    values = sorted(histogram.items())

    def at(position: int):
        seen = 0
        for value, times in values:
            seen += times
            if position < seen:
                return value
        return values[-1][0]

    middle = (count - 1) / 2
    low, high = at(int(middle)), at(int(middle) + (middle % 1 > 0))
    return low + (high - low) * (middle % 1)


@dataclass
class _Measures:
    offered: int = 0
    statuses: dict = field(default_factory=dict)
    days: dict = field(default_factory=dict)  # whole days to first booking → offers

    def add(self, status: str, days: int | None, offers: int) -> None:
        self.offered += offers
        self.statuses[status] = self.statuses.get(status, 0) + offers
        if days is not None:
            self.days[days] = self.days.get(days, 0) + offers

    def merge(self, other: "_Measures") -> None:
        self.offered += other.offered
        for status, offers in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + offers
        for days, offers in other.days.items():
            self.days[days] = self.days.get(days, 0) + offers

    def row(self, month) -> FunnelRow:
        return FunnelRow(
            month=month, offered=self.offered, booked=sum(self.days.values()),
            endings={key: sum(self.statuses.get(status, 0) for status in statuses)
                     for key, _label, statuses in ENDINGS},
            median_days_to_book=median(self.days))


def _tallied(first_month, last_month, *, course_type=None, venue=None):
    """Offers that arrived in those months, from booking's FunnelTally: for one venue, the
    offers whose first booking was there."""
    query = FunnelTally.objects.filter(month__gte=first_month, month__lte=last_month)
    query = query.filter(venue=venue) if venue is not None else query.filter(all_venues=True)
    if course_type is not None:
        query = query.filter(course_type=course_type)
    return (query.values("month", "status", "days_to_book")
            .annotate(offers=Sum("offers")).order_by())


def funnel_report(period: Period, *, course_type=None, venue=None) -> FunnelReport:
    tallies.fold()  # count the offers that changed since the last count (none, usually)
    previous = period.previous()
    months = {month: _Measures() for month in (*previous.months, *period.months)}
    for row in _tallied(previous.first, period.last, course_type=course_type, venue=venue):
        months[row["month"]].add(row["status"], row["days_to_book"], row["offers"])
    total, before = _Measures(), _Measures()
    for month in period.months:
        total.merge(months[month])
    for month in previous.months:
        before.merge(months[month])
    return FunnelReport(
        period=period, rows=[months[month].row(month) for month in period.months],
        total=total.row(period.first), previous=before.row(previous.first))
