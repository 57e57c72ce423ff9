"""Pure forecasting: a client's monthly bookings by channel, 12 months ahead, with p10/p50/p90
bands, the model named, and a back-test of the same rule on the last 6 months. No database.

Holt-Winters (additive trend, additive or multiplicative seasonality over 12 months, whichever
fits better) from 24 months of history — two full years are what statsmodels needs to set the
seasonal starting values; trend-only Holt from 3 months; nothing below that. Bands come from
simulating each fitted model forward (its own residual spread), clipped at zero."""

import warnings
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from threadpoolctl import threadpool_limits

from billing.pricing import Prices, Usage, price

CHANNELS = ("online", "telephone", "staff")
HORIZON = 12
SEASON = 12
SEASONAL_FROM = 2 * SEASON  # months of history for Holt-Winters
TREND_FROM = 3  # months of history for trend-only
BACKTEST_MONTHS = 6
SIMULATIONS = 500
SEED = 20261203  # fixed, so the same history always gives the same bands

MODEL_VERSION = 1  # part of the cache key: bump when the model changes
HOLT_WINTERS = "holt_winters"
TREND_ONLY = "trend_only"


@dataclass(frozen=True)
class Month:
    """One month of history: a period (its first day) and confirmed bookings by channel."""

    period: date
    online: int
    telephone: int
    staff: int

    @property
    def total(self) -> int:
        return self.online + self.telephone + self.staff


@dataclass(frozen=True)
class Band:
    p10: int
    p50: int
    p90: int


@dataclass(frozen=True)
class ForecastMonth:
    period: date
    online: Band
    telephone: Band
    staff: Band
    total: Band

    def usage(self, quantile: str = "p50") -> Usage:
        return Usage(online=getattr(self.online, quantile),
                     telephone=getattr(self.telephone, quantile),
                     staff=getattr(self.staff, quantile))


@dataclass(frozen=True)
class Backtest:
    model: str
    months: int
    mape: float | None  # percent, on total bookings; None when every actual was 0
    by_channel: dict = field(default_factory=dict)  # channel → percent or None


@dataclass(frozen=True)
class Forecast:
    model: str | None  # HOLT_WINTERS, TREND_ONLY, or None (too little history)
    history_months: int
    months: list = field(default_factory=list)  # [ForecastMonth]
    seasonality: dict = field(default_factory=dict)  # channel → "additive" | "multiplicative"
    backtest: Backtest | None = None


def model_for(months: int) -> str | None:
    if months >= SEASONAL_FROM:
        return HOLT_WINTERS
    if months >= TREND_FROM:
        return TREND_ONLY
    return None


def add_months(period: date, n: int) -> date:
    index = period.year * 12 + period.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _fit(values: np.ndarray, model: str, seasonality: str | None = None):
    """(fitted results or None for a flat series, seasonality used). A series that never
    changes (often staff bookings: all zero) has nothing to fit; it is forecast as it is."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    if np.ptp(values) == 0:
        return None, None
    with warnings.catch_warnings():
        # Convergence and log-of-zero warnings on small or tidy series: the fit is still used.
        warnings.simplefilter("ignore")
        if model == TREND_ONLY:
            return ExponentialSmoothing(values, trend="add").fit(use_brute=False), None
        forms = [seasonality] if seasonality else (
            ["additive", "multiplicative"] if values.min() > 0 else ["additive"])
        fits = [(ExponentialSmoothing(values, trend="add", seasonal=form[:3],
                                      seasonal_periods=SEASON).fit(use_brute=False), form)
                for form in forms]
        return min(fits, key=lambda pair: pair[0].aic if np.isfinite(pair[0].aic) else np.inf)


def _paths(values: np.ndarray, model: str, horizon: int, seed: int,
           seasonality: str | None = None):
    """(point forecast, simulated paths [horizon × SIMULATIONS], seasonality), all ≥ 0."""
    fitted, form = _fit(values, model, seasonality)
    if fitted is None:
        point = np.full(horizon, float(values[-1]))
        return point, np.repeat(point[:, None], SIMULATIONS, axis=1), None
    point = np.asarray(fitted.forecast(horizon), dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = np.asarray(fitted.simulate(horizon, repetitions=SIMULATIONS, error="add",
                                           anchor="end", random_state=seed), dtype=float)
    paths = paths.reshape(horizon, SIMULATIONS)
    bad = ~np.isfinite(paths)
    if bad.any():  # a diverging simulation is replaced by the point forecast
        paths[bad] = np.broadcast_to(point[:, None], paths.shape)[bad]
    return np.clip(point, 0, None), np.clip(paths, 0, None), form


Z90 = 1.2816  # the standard normal's 90th percentile


def _band(point: float, paths_row: np.ndarray) -> Band:
    """The simulated 10th and 90th percentiles, never narrower than a Poisson count's: a
    short history fits a trend almost exactly, and a band of nothing would claim certainty."""
    p10, p90 = np.percentile(paths_row, [10, 90])
    spread = Z90 * np.sqrt(max(point, 0.0))
    p50 = round(point)
    return Band(p10=max(0, min(round(p10), round(point - spread), p50)), p50=p50,
                p90=max(round(p90), round(point + spread), p50))


def _project(history: list[Month], model: str, horizon: int, seasonality: dict | None = None):
    points, paths, forms = {}, {}, {}
    for index, channel in enumerate(CHANNELS):
        values = np.array([getattr(month, channel) for month in history], dtype=float)
        points[channel], paths[channel], forms[channel] = _paths(
            values, model, horizon, SEED + index, (seasonality or {}).get(channel))
    total_paths = sum(paths.values())
    start = add_months(history[-1].period, 1)
    months = [ForecastMonth(
        period=add_months(start, step),
        **{channel: _band(points[channel][step], paths[channel][step]) for channel in CHANNELS},
        total=_band(sum(points[channel][step] for channel in CHANNELS), total_paths[step]))
        for step in range(horizon)]
    return months, {channel: form for channel, form in forms.items() if form}


def mape(actual, predicted) -> float | None:
    """Mean absolute percentage error, in percent, over the months whose actual is not 0."""
    pairs = [(a, p) for a, p in zip(actual, predicted, strict=True) if a]
    if not pairs:
        return None
    return 100 * sum(abs(a - p) / abs(a) for a, p in pairs) / len(pairs)


def backtest(history: list[Month], *, months: int = BACKTEST_MONTHS,
             seasonality: dict | None = None) -> Backtest | None:
    """Fit the rule on all but the last `months`, forecast them, and compare with what
    happened. The model is what the shorter history allows (with 24–29 months of history the
    seasonal model cannot be back-tested, so its trend-only stand-in is, and says so).
    `seasonality` reuses the full fit's choice of additive or multiplicative per channel."""
    training, actual = history[:-months], history[-months:]
    model = model_for(len(training))
    if model is None:
        return None
    predicted, _forms = _project(training, model, months, seasonality)
    return Backtest(
        model=model, months=months,
        mape=mape([m.total for m in actual], [p.total.p50 for p in predicted]),
        by_channel={channel: mape([getattr(m, channel) for m in actual],
                                  [getattr(p, channel).p50 for p in predicted])
                    for channel in CHANNELS})


def forecast(history: list[Month], *, horizon: int = HORIZON) -> Forecast:
    """`horizon` months after the last month of `history` (consecutive months, oldest first)."""
    history = sorted(history, key=lambda month: month.period)
    model = model_for(len(history))
    if model is None:
        return Forecast(model=None, history_months=len(history))
    # One BLAS thread: the matrices are tiny, and a thread pool spinning up for each of the
    # optimiser's steps made a forecast 10 times slower on a busy 2-core machine.
    with threadpool_limits(limits=1):
        months, forms = _project(history, model, horizon)
        tested = backtest(history, seasonality=forms)
    return Forecast(model=model, history_months=len(history), months=months, seasonality=forms,
                    backtest=tested)


# --- cost, and the channel-shift what-if --------------------------------------------------


def shifted_online(usage: Usage, percent: int) -> Usage:
    """`percent` % of the contact-centre bookings made online instead (rounded half up)."""
    moved = (usage.telephone * percent * 2 + 100) // 200
    return Usage(online=usage.online + moved, telephone=usage.telephone - moved,
                 staff=usage.staff, cancelled_credits=usage.cancelled_credits, calls=usage.calls)


def cost_pence(prices: Prices | None, usage: Usage) -> int | None:
    """The month's cost before VAT through the plan's prices (tiers, surcharge, minimum)."""
    if prices is None:
        return None
    return price(prices, usage, 0).subtotal_pence


def channel_shift_saving(months: list, percent: int) -> int:
    """Pence saved over `months` ([(Prices | None, Usage)]) if `percent` % of each month's
    contact-centre bookings were made online instead, each month re-priced in its own tiers."""
    saving = 0
    for prices, usage in months:
        if prices is not None:
            saving += cost_pence(prices, usage) - cost_pence(prices, shifted_online(usage, percent))
    return saving
