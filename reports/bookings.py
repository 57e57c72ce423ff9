"""Bookings by course type × channel per month, and the channel shift (the online share per
month over a rolling 12 months). A booking counts once, in the Europe/London month it was first
confirmed, at its first date's course and venue: a transfer is the same booking moved, not a
new one, and a booking that never confirmed is not counted. The counts come from booking's
BookingTally, kept as bookings are confirmed, not from the bookings themselves."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Case, CharField, Sum, Value, When
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from booking.models import BookingTally, Channel, CourseType

from .periods import Period, add_months

LONDON = ZoneInfo("Europe/London")
ONLINE, TELEPHONE, STAFF = "online", "telephone", "staff"
CHANNELS = (ONLINE, TELEPHONE, STAFF)
CHANNEL_LABELS = {ONLINE: _("Online"), TELEPHONE: _("Telephone"), STAFF: _("Staff")}
TREND_MONTHS = 12


def booking_channel():
    """Online, by telephone (the contact centre) or by staff (administrators and the API)."""
    return Case(When(channel=Channel.ONLINE, then=Value(ONLINE)),
                When(channel=Channel.TELEPHONE, then=Value(TELEPHONE)),
                default=Value(STAFF), output_field=CharField())


@dataclass
class Cell:
    count: int = 0
    fees_pence: int = 0

    def add(self, count: int, fees_pence: int) -> None:
        self.count += count
        self.fees_pence += fees_pence


@dataclass
class BookingsRow:
    month: date
    course_type: str
    channels: dict = field(default_factory=lambda: {name: Cell() for name in CHANNELS})

    @property
    def total(self) -> Cell:
        total = Cell()
        for cell in self.channels.values():
            total.add(cell.count, cell.fees_pence)
        return total


@dataclass
class ChannelTotals:
    channels: dict
    total: Cell

    def share(self, channel: str) -> float | None:
        return self.channels[channel].count / self.total.count if self.total.count else None


@dataclass
class BookingsReport:
    period: Period
    rows: list[BookingsRow]
    totals: ChannelTotals
    previous: ChannelTotals
    trend: list[tuple[date, int, int, float | None]]  # month, online, all, online share


def tallied(first_month: date, last_month: date, *, course_type=None, venue=None):
    """The bookings made in those months, from booking's tally (booking/models/tallies.py)."""
    query = BookingTally.objects.filter(month__gte=first_month, month__lte=last_month)
    if course_type is not None:
        query = query.filter(course_type=course_type)
    if venue is not None:
        query = query.filter(venue=venue)
    return query.annotate(bucket=booking_channel())


def _grouped(period: Period, **filters):
    return (tallied(period.first, period.last, **filters)
            .values("month", "course_type", "bucket")
            .annotate(count=Sum("bookings"), fees=Sum("fees_pence"))
            .order_by("month", "course_type", "bucket"))


def _by_month(period: Period, **filters) -> dict:
    """Bookings made in the period: {(London month, channel): Cell}."""
    cells = defaultdict(Cell)
    for row in (tallied(period.first, period.last, **filters).values("month", "bucket")
                .annotate(count=Sum("bookings"), fees=Sum("fees_pence")).order_by()):
        cells[row["month"], row["bucket"]].add(row["count"], row["fees"] or 0)
    return cells


def _totals(cells: dict, months) -> ChannelTotals:
    channels = {name: Cell() for name in CHANNELS}
    for month in months:
        for name in CHANNELS:
            cell = cells.get((month, name))
            if cell is not None:
                channels[name].add(cell.count, cell.fees_pence)
    total = Cell()
    for cell in channels.values():
        total.add(cell.count, cell.fees_pence)
    return ChannelTotals(channels, total)


def bookings_report(period: Period, *, course_type=None, venue=None) -> BookingsReport:
    """Two queries of the tally: the period by month × course type × channel, and the months
    before it that the previous period and the trend need by month × channel; every total is
    summed from them, as each is a sum over whole Europe/London months."""
    filters = {"course_type": course_type, "venue": venue}
    language = get_language() or "en"
    names = {course.pk: course.name(language) for course in CourseType.objects.all()}
    rows: dict[tuple, BookingsRow] = {}
    cells = defaultdict(Cell)
    for row in _grouped(period, **filters):
        month = row["month"]
        key = (month, names[row["course_type"]])
        rows.setdefault(key, BookingsRow(*key)).channels[row["bucket"]].add(
            row["count"], row["fees"] or 0)
        cells[month, row["bucket"]].add(row["count"], row["fees"] or 0)
    previous = period.previous()
    trend = _trend_period(period.last)
    before = Period(min(previous.first, trend.first), add_months(period.first, -1))
    cells.update(_by_month(before, **filters))
    return BookingsReport(
        period=period, rows=list(rows.values()),
        totals=_totals(cells, period.months),
        previous=_totals(cells, previous.months),
        trend=_trend(cells, trend))


def _trend_period(last_month: date) -> Period:
    return Period(add_months(last_month, -(TREND_MONTHS - 1)), last_month)


def _trend(cells: dict, trend: Period) -> list[tuple[date, int, int, float | None]]:
    shift = []
    for month in trend.months:
        online = cells[month, ONLINE].count if (month, ONLINE) in cells else 0
        every = sum(cells[month, name].count for name in CHANNELS if (month, name) in cells)
        shift.append((month, online, every, online / every if every else None))
    return shift


def channel_shift(last_month: date, **filters) -> list[tuple[date, int, int, float | None]]:
    """The online share of bookings made in each of the 12 months up to `last_month`."""
    trend = _trend_period(last_month)
    return _trend(_by_month(trend, **filters), trend)
