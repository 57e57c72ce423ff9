"""A client's 12-month forecast from its usage ledger: bookings by channel with bands, each
month costed through the client's own plan, and what moving contact-centre bookings online
would save over the year."""

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncMonth

from billing import forecast as model
from billing.models import ClientPlan, UsageRecord
from billing.pricing import Prices

from .periods import LONDON, bounds, next_month

DEFAULT_SHIFT_PERCENT = 10
CACHE_SECONDS = 24 * 60 * 60


@dataclass
class CostedMonth:
    month: model.ForecastMonth
    prices: Prices | None
    cost_pence: int | None  # p50 bookings through the month's prices, before VAT


@dataclass
class ClientForecast:
    forecast: model.Forecast
    months: list = field(default_factory=list)  # [CostedMonth]

    @property
    def total_cost_pence(self) -> int | None:
        costs = [month.cost_pence for month in self.months]
        return None if not costs or None in costs else sum(costs)

    def channel_shift_saving(self, percent: int) -> int:
        """Pence saved over the 12 months if `percent` % of the forecast contact-centre
        bookings were made online instead, each month re-priced in the client's tiers."""
        return model.channel_shift_saving(
            [(month.prices, month.month.usage()) for month in self.months], percent)


def monthly_history(client, *, before: date) -> list[model.Month]:
    """Confirmed bookings by channel for every Europe/London month from the client's first
    up to (not including) the period `before`, months with none as 0: one grouped query."""
    rows = (UsageRecord.objects
            .filter(client=client, kind=UsageRecord.Kind.BOOKING_CONFIRMED,
                    occurred_at__lt=bounds(before)[0])
            .annotate(month=TruncMonth("occurred_at", tzinfo=LONDON))
            .values_list("month", "channel").annotate(bookings=Count("pk")).order_by())
    counts: dict[date, dict] = {}
    for month, channel, bookings in rows:
        counts.setdefault(month.astimezone(LONDON).date(), {})[channel] = bookings
    if not counts:
        return []
    history, period = [], min(counts)
    while period < before:
        found = counts.get(period, {})
        history.append(model.Month(period, **{channel: found.get(channel, 0)
                                              for channel in model.CHANNELS}))
        period = next_month(period)
    return history


def _plans(client) -> list[ClientPlan]:
    """The client's plans, newest first, with their versions: two queries."""
    return list(ClientPlan.objects.filter(client=client).order_by("-valid_from")
                .select_related("plan").prefetch_related("plan__versions"))


def _prices_by_month(assigned: list[ClientPlan], periods: list[date]) -> dict:
    """Each period's Prices (the plan and version in effect on its last day, as month close
    will bill it), or None without a plan."""
    found = {}
    for period in periods:
        last_day = next_month(period) - timedelta(days=1)
        row = next((row for row in assigned if row.valid_from <= last_day), None)
        versions = sorted((version for version in row.plan.versions.all()
                           if version.valid_from <= last_day),
                          key=lambda version: version.valid_from) if row else []
        found[period] = Prices.of(versions[-1]) if versions else None
    return found


def cached_forecast(history: list[model.Month]) -> model.Forecast:
    """The forecast is a pure function of the history, so the history is its cache key: a
    late event changes the history and so the key, and a cached forecast is never stale."""
    key = "billing:forecast:" + hashlib.sha256(
        repr((model.MODEL_VERSION, history)).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = model.forecast(history)
        cache.set(key, found, CACHE_SECONDS)
    return found


def client_forecast(client, *, period: date) -> ClientForecast:
    """The forecast for the 12 months from `period` (the running month, whose own bookings
    are not history yet), from every complete month before it."""
    assigned = _plans(client)
    history = monthly_history(client, before=period)
    billed_from = assigned[-1].valid_from if assigned else None
    if (history and billed_from and billed_from.day > 1
            and history[0].period == billed_from.replace(day=1)):
        # Onboarded part-way through its first month: that month would look like a slump.
        history = history[1:]
    result = cached_forecast(history)
    prices = _prices_by_month(assigned, [month.period for month in result.months])
    return ClientForecast(forecast=result, months=[
        CostedMonth(month=month, prices=prices[month.period],
                    cost_pence=model.cost_pence(prices[month.period], month.usage()))
        for month in result.months])
