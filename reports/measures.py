"""The four GOV.UK service measures for one client and period: digital take-up (the online
share of bookings made), completion rate (booking journeys started → bookings made online;
the starts are a bare count per day, so nobody is tracked), cost per transaction by channel
(from the client's finalised invoices), and user satisfaction (the one-question survey)."""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from billing.models import Invoice, InvoiceLine, UsageRecord
from booking.models import JourneyStartDay, SatisfactionResponse

from .bookings import CHANNELS, ONLINE, TELEPHONE, bookings_report
from .periods import Period, add_months

LONDON = ZoneInfo("Europe/London")
LEVELS = tuple(SatisfactionResponse.Level.values)
SATISFIED = tuple(SatisfactionResponse.SATISFIED_LEVELS)
# Invoice lines that only contact-centre bookings and calls bring: the rest of an invoice is
# what every booking costs, whatever its channel.
TELEPHONE_ONLY = (InvoiceLine.Kind.SURCHARGE, InvoiceLine.Kind.CALLS)


@dataclass
class Satisfaction:
    levels: dict  # level → count

    @property
    def responses(self) -> int:
        return sum(self.levels.values())

    @property
    def satisfied_share(self) -> float | None:
        satisfied = sum(self.levels[level] for level in SATISFIED)
        return satisfied / self.responses if self.responses else None


@dataclass
class Completion:
    started: int
    completed: int  # bookings made online

    @property
    def rate(self) -> float | None:
        return min(self.completed / self.started, 1) if self.started else None


@dataclass
class CostPerTransaction:
    """Pence per booking, VAT excluded, over the months with a finalised invoice."""

    invoiced_months: int
    bookings: dict  # channel → bookings the invoices charged for
    shared_pence: int  # what every booking costs: tiers, card fees, minimum, adjustments
    telephone_pence: int  # the contact-centre surcharge and the calls logged

    @property
    def all_bookings(self) -> int:
        return sum(self.bookings.values())

    def per_booking(self, channel: str) -> int | None:
        if not self.bookings.get(channel):
            return None
        shared = self.shared_pence / self.all_bookings
        if channel == TELEPHONE:
            shared += self.telephone_pence / self.bookings[channel]
        return round(shared)


@dataclass
class MonthMeasures:
    month: date
    online: int
    bookings: int
    started: int
    completed: int  # bookings made online, every course and venue (as the starts are)
    satisfied: int
    responses: int

    @property
    def take_up(self) -> float | None:
        return self.online / self.bookings if self.bookings else None

    @property
    def completion(self) -> float | None:
        return min(self.completed / self.started, 1) if self.started else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.responses if self.responses else None


@dataclass
class MeasuresReport:
    period: Period
    take_up: float | None
    previous_take_up: float | None
    completion: Completion
    previous_completion: Completion
    cost: CostPerTransaction
    satisfaction: Satisfaction
    previous_satisfaction: Satisfaction
    months: list[MonthMeasures]


def _month(value) -> date:
    return value.astimezone(LONDON).date().replace(day=1) if hasattr(value, "astimezone") \
        else value.replace(day=1)


def _starts(period: Period) -> dict[date, int]:
    rows = (JourneyStartDay.objects
            .filter(day__gte=period.first, day__lt=add_months(period.last, 1))
            .annotate(month=TruncMonth("day")).values("month")
            .annotate(started=Sum("started")).order_by())
    return {_month(row["month"]): row["started"] for row in rows}


def _satisfaction(period: Period) -> tuple[Satisfaction, dict]:
    rows = (SatisfactionResponse.objects
            .filter(created_at__gte=period.start, created_at__lt=period.end)
            .annotate(month=TruncMonth("created_at", tzinfo=LONDON))
            .values("month", "level").annotate(count=Count("*")).order_by())
    levels, months = dict.fromkeys(LEVELS, 0), {}
    for row in rows:
        levels[row["level"]] += row["count"]
        satisfied, every = months.get(_month(row["month"]), (0, 0))
        months[_month(row["month"])] = (satisfied + (row["count"] if row["level"] in SATISFIED
                                                     else 0), every + row["count"])
    return Satisfaction(levels), months


def cost_per_transaction(client, period: Period) -> CostPerTransaction:
    invoices = Invoice.objects.filter(client=client, status=Invoice.Status.FINALISED,
                                      period__gte=period.first, period__lte=period.last)
    months = list(invoices.values_list("period", flat=True))
    lines = (InvoiceLine.objects.filter(invoice__in=invoices)
             .aggregate(shared=Sum("amount_pence", filter=~Q(kind__in=TELEPHONE_ONLY)),
                        telephone=Sum("amount_pence", filter=Q(kind__in=TELEPHONE_ONLY))))
    bookings = dict.fromkeys(CHANNELS, 0)
    for first in months:
        month = Period(first, first)
        for row in (UsageRecord.objects.filter(client=client,
                                               kind=UsageRecord.Kind.BOOKING_CONFIRMED,
                                               occurred_at__gte=month.start,
                                               occurred_at__lt=month.end)
                    .values("channel").annotate(count=Count("*")).order_by()):
            if row["channel"] in bookings:
                bookings[row["channel"]] += row["count"]
    return CostPerTransaction(invoiced_months=len(months), bookings=bookings,
                              shared_pence=lines["shared"] or 0,
                              telephone_pence=lines["telephone"] or 0)


def measures_report(period: Period, *, client, course_type=None, venue=None) -> MeasuresReport:
    """Take-up follows the course and venue filters; the journey counter, the survey and the
    invoices know no course or venue, so completion, satisfaction and cost are the client's
    whole."""
    bookings = bookings_report(period, course_type=course_type, venue=venue)
    unfiltered = bookings if course_type is None and venue is None else \
        bookings_report(period)
    starts, before_starts = _starts(period), _starts(period.previous())
    satisfaction, satisfied_months = _satisfaction(period)
    previous_satisfaction, _months = _satisfaction(period.previous())
    per_month = {}
    for row in bookings.rows:
        online, every = per_month.get(row.month, (0, 0))
        per_month[row.month] = (online + row.channels[ONLINE].count, every + row.total.count)
    online_per_month = {}
    for row in unfiltered.rows:
        online_per_month[row.month] = online_per_month.get(row.month, 0) \
            + row.channels[ONLINE].count
    months = [MonthMeasures(month, *per_month.get(month, (0, 0)), starts.get(month, 0),
                            online_per_month.get(month, 0), *satisfied_months.get(month, (0, 0)))
              for month in period.months]
    return MeasuresReport(
        period=period,
        take_up=bookings.totals.share(ONLINE), previous_take_up=bookings.previous.share(ONLINE),
        completion=Completion(sum(starts.values()), unfiltered.totals.channels[ONLINE].count),
        previous_completion=Completion(sum(before_starts.values()),
                                       unfiltered.previous.channels[ONLINE].count),
        cost=cost_per_transaction(client, period),
        satisfaction=satisfaction, previous_satisfaction=previous_satisfaction,
        months=months)
