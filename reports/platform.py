"""The control plane's reports (/reports/, provider staff), from the public schema only — the
usage ledger, invoices and Stripe's event log — never by visiting each client's schema: volumes
per client and channel, the channel shift across clients, invoiced revenue, clients whose
volume moved sharply, and the platform's health today."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from billing.models import Invoice, UsageRecord
from tenants.models import ClientOrganisation, StripeEvent

from .periods import Period, add_months, local_midnight

LONDON = ZoneInfo("Europe/London")
CHANNELS = ("online", "telephone", "staff")
SHARP_CHANGE = 0.3  # a month 30 % above or below the three before it


@dataclass
class ClientVolume:
    client: ClientOrganisation
    months: dict  # month → {channel: count}
    total: int
    online: int

    @property
    def online_share(self) -> float | None:
        return self.online / self.total if self.total else None


@dataclass
class Movement:
    client: ClientOrganisation
    last_month: int
    usual: float  # the average of the three months before
    change: float


@dataclass
class PlatformReport:
    period: Period
    clients: list[ClientVolume]
    shift: list[tuple[date, int, int, float | None]]  # month, online, all, share
    revenue: list[tuple[date, int, int]]  # month, invoices, total pence (finalised)
    movements: list[Movement]
    bookings_today: int
    failing_payments: int


def _monthly(start, end):
    return (UsageRecord.objects.filter(kind=UsageRecord.Kind.BOOKING_CONFIRMED,
                                       occurred_at__gte=start, occurred_at__lt=end)
            .annotate(month=TruncMonth("occurred_at", tzinfo=LONDON))
            .values("client", "month", "channel").annotate(count=Count("pk")).order_by())


def _month(value) -> date:
    return value.astimezone(LONDON).date().replace(day=1)


def platform_report(period: Period, *, now=None) -> PlatformReport:
    now = now or timezone.now()
    clients = {client.pk: client for client in
               ClientOrganisation.objects.filter(is_template=False).order_by("name")}
    volumes = {pk: ClientVolume(client, defaultdict(lambda: dict.fromkeys(CHANNELS, 0)), 0, 0)
               for pk, client in clients.items()}
    online, every = defaultdict(int), defaultdict(int)
    counts = defaultdict(lambda: defaultdict(int))  # client → month → bookings
    for row in _monthly(period.start, period.end):
        volume, month = volumes.get(row["client"]), _month(row["month"])
        if volume is None:
            continue
        counts[row["client"]][month] += row["count"]
        volume.months[month][row["channel"]] += row["count"]
        volume.total += row["count"]
        every[month] += row["count"]
        if row["channel"] == "online":
            volume.online += row["count"]
            online[month] += row["count"]
    revenue = {row["period"]: (row["n"], row["total"] or 0)
               for row in (Invoice.objects.filter(status=Invoice.Status.FINALISED,
                                                  period__gte=period.first,
                                                  period__lte=period.last)
                           .values("period").annotate(n=Count("pk"), total=Sum("total_pence"))
                           .order_by())}
    today = local_midnight(timezone.localdate(now))
    return PlatformReport(
        period=period,
        clients=sorted(volumes.values(), key=lambda volume: -volume.total),
        shift=[(month, online[month], every[month],
                online[month] / every[month] if every[month] else None)
               for month in period.months],
        revenue=[(month, *revenue.get(month, (0, 0))) for month in period.months],
        movements=movements(clients, now=now, known=(period, counts)),
        # Every row's client is an organisation: the filter only lets the (client, time)
        # index answer, one short range per client, instead of reading the whole ledger.
        bookings_today=UsageRecord.objects.filter(
            kind=UsageRecord.Kind.BOOKING_CONFIRMED, occurred_at__gte=today,
            client__in=ClientOrganisation.objects.values("pk")).count(),
        failing_payments=StripeEvent.objects.filter(
            Q(outcome=StripeEvent.Outcome.FAILED) | Q(outcome=StripeEvent.Outcome.RECEIVED,
                                                     received_at__lt=now - timedelta(hours=1)),
            received_at__gte=now - timedelta(days=1)).count(),
    )


def movements(clients: dict, *, now, known=None) -> list[Movement]:
    """Clients whose last full month was SHARP_CHANGE above or below the three before it.
    `known` is (period, {client: {month: bookings}}) already counted for those clients: when
    the four months lie inside that period they are not read again."""
    last = add_months(timezone.localdate(now).replace(day=1), -1)
    window = Period(add_months(last, -3), last)
    if known is not None and known[0].first <= window.first and window.last <= known[0].last:
        return _moved(clients, known[1], last)
    counts = defaultdict(lambda: defaultdict(int))
    for row in (UsageRecord.objects.filter(kind=UsageRecord.Kind.BOOKING_CONFIRMED,
                                           occurred_at__gte=window.start,
                                           occurred_at__lt=window.end)
                .annotate(month=TruncMonth("occurred_at", tzinfo=LONDON))
                .values("client", "month").annotate(count=Count("pk")).order_by()):
        counts[row["client"]][_month(row["month"])] += row["count"]
    return _moved(clients, counts, last)


def _moved(clients: dict, counts: dict, last) -> list[Movement]:
    moved = []
    for pk, by_month in counts.items():
        usual = sum(by_month[add_months(last, -n)] for n in (1, 2, 3)) / 3
        if pk in clients and usual and abs(by_month[last] - usual) / usual >= SHARP_CHANGE:
            moved.append(Movement(clients[pk], by_month[last], round(usual, 1),
                                  (by_month[last] - usual) / usual))
    return sorted(moved, key=lambda movement: movement.change)
