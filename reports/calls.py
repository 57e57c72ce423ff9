"""Contact-centre calls in the period, from the calls agents log (booking.models.CallLog), each
counted at the Europe/London time it started: by call type and outcome, by hour of day and
weekday, calls per booking made, the share that ended in a booking, the calls taken while the
client's phone lines were closed, and the calls that could have been done online.

- Ended in a booking: the agent recorded the outcome "booked".
- Calls per booking made: calls ÷ bookings first confirmed in the period (a transfer is not a
  new booking), for all channels and for the telephone alone.
- Out of hours: the call started when the client's lines were closed by its own weekly hours
  or on an England and Wales bank holiday (tenants.opening_hours), judged in SQL from the UK
  wall-clock time.
- Could have been online: the call was about something the public site lets a person do
  themselves — book a course, move a booking to another date, cancel it, or pay
  (ONLINE_CALL_TYPES). Enquiries, complaints, special circumstances and other calls need a
  person, so they are not counted.
- The course filter keeps the calls about an offer of that course; the venue filter keeps the
  calls about a booking at that venue. Calls about neither are left out when either is set.

Two grouped statements per period: the calls by type, outcome, hour and weekday with the
out-of-hours count (from the UK wall-clock columns the database keeps on each call, read from
one index), and the bookings made by channel (booking's tally)."""

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.utils import timezone

from booking.models import CallLog, Channel
from tenants.opening_hours import DAYS, bank_holiday, weekly_hours

from .bookings import tallied
from .periods import Period

LONDON = ZoneInfo("Europe/London")
T = CallLog.Type
ONLINE_CALL_TYPES = (T.NEW_BOOKING, T.TRANSFER, T.CANCELLATION, T.PAYMENT)
HOURS = range(24)


def calls_in(start, end, *, course_type=None, venue=None):
    query = CallLog.objects.filter(started_at__gte=start, started_at__lt=end)
    if course_type is not None:
        query = query.filter(course_type=course_type)  # the offer's, copied onto the call
    if venue is not None:
        query = query.filter(booking__session__venue=venue)
    return query


def lines_open(organisation, start, end) -> Q:
    """True of a call (by its UK `local_date`, `local_time` and `iso_weekday`) that started
    while the client's phone lines were open."""
    # Never true (every call has its hour): with no open hours every call is out of hours.
    is_open = Q(local_hour__isnull=True)
    for day, (opens, closes) in weekly_hours(organisation).items():
        is_open |= Q(iso_weekday=DAYS.index(day) + 1, local_time__gte=opens,
                     local_time__lt=closes)
    first, last = start.astimezone(LONDON).date(), end.astimezone(LONDON).date()
    holidays = [first + timedelta(days=n) for n in range((last - first).days + 1)
                if bank_holiday(first + timedelta(days=n))]
    return is_open & ~Q(local_date__in=holidays) if holidays else is_open


@dataclass
class CallSummary:
    calls: int
    minutes: int
    ended_in_booking: int
    out_of_hours: int
    could_be_online: int
    bookings_made: int
    telephone_bookings: int

    def share(self, count: int) -> float | None:
        return count / self.calls if self.calls else None

    @property
    def per_booking(self) -> float | None:
        return round(self.calls / self.bookings_made, 2) if self.bookings_made else None

    @property
    def per_telephone_booking(self) -> float | None:
        return round(self.calls / self.telephone_bookings, 2) if self.telephone_bookings \
            else None


@dataclass
class CallsReport:
    period: Period
    # (call type, outcome) → (calls, minutes); only the pairs that happened
    by_type_and_outcome: dict
    by_type: dict  # call type → calls
    by_hour: list[int]  # calls in each hour of the day, 0–23
    by_weekday: list[int]  # calls on each weekday, Monday first
    out_of_hours_by_hour: list[int]
    total: CallSummary
    previous: CallSummary


def _grouped(organisation, start, end, filters) -> list[dict]:
    """The period's calls by type, outcome, UK hour and weekday: how many, their minutes and
    how many came while the lines were closed."""
    return list(calls_in(start, end, **filters)
                .values("call_type", "outcome", "local_hour", "iso_weekday")
                .annotate(calls=Count("started_at"), minutes=Sum("duration_minutes"),
                          closed=Count("started_at",
                                       filter=~lines_open(organisation, start, end)))
                .order_by())


def _bookings_made(start, end, *, course_type=None, venue=None) -> dict:
    """Bookings first confirmed in the whole Europe/London months from `start` to `end`, by
    channel, from booking's tally."""
    months = tallied(timezone.localdate(start, LONDON),
                     timezone.localdate(end - timedelta(microseconds=1), LONDON).replace(day=1),
                     course_type=course_type, venue=venue)
    return {row["channel"]: row["count"] for row in
            months.values("channel").annotate(count=Sum("bookings")).order_by()}


def _summary(organisation, start, end, filters, grouped=None) -> CallSummary:
    grouped = grouped if grouped is not None else _grouped(organisation, start, end, filters)
    made = _bookings_made(start, end, **filters)
    return CallSummary(
        calls=sum(row["calls"] for row in grouped),
        minutes=sum(row["minutes"] or 0 for row in grouped),
        ended_in_booking=sum(row["calls"] for row in grouped
                             if row["outcome"] == CallLog.Outcome.BOOKED),
        out_of_hours=sum(row["closed"] for row in grouped),
        could_be_online=sum(row["calls"] for row in grouped
                            if row["call_type"] in ONLINE_CALL_TYPES),
        bookings_made=sum(made.values()),
        telephone_bookings=made.get(Channel.TELEPHONE, 0))


def calls_report(period: Period, *, organisation, course_type=None, venue=None) -> CallsReport:
    filters = {"course_type": course_type, "venue": venue}
    grouped = _grouped(organisation, period.start, period.end, filters)
    by_hour, closed_by_hour, by_weekday = [0] * 24, [0] * 24, [0] * 7
    by_type: dict = {}
    by_type_and_outcome: dict = {}
    for row in grouped:
        by_hour[row["local_hour"]] += row["calls"]
        closed_by_hour[row["local_hour"]] += row["closed"]
        by_weekday[row["iso_weekday"] - 1] += row["calls"]
        by_type[row["call_type"]] = by_type.get(row["call_type"], 0) + row["calls"]
        pair = (row["call_type"], row["outcome"])
        calls, minutes = by_type_and_outcome.get(pair, (0, 0))
        by_type_and_outcome[pair] = (calls + row["calls"], minutes + (row["minutes"] or 0))
    previous = period.previous()
    return CallsReport(
        period=period, by_type_and_outcome=by_type_and_outcome,
        by_type=by_type, by_hour=by_hour, by_weekday=by_weekday,
        out_of_hours_by_hour=closed_by_hour,
        total=_summary(organisation, period.start, period.end, filters, grouped),
        previous=_summary(organisation, previous.start, previous.end, filters))
