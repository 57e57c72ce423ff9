"""Forecasts: the model chosen by history length and labelled, ordered non-negative bands, the
back-test on the last 6 months, the channel-shift what-if worked by hand in both tier modes,
and /manage/billing/ showing each client administrator their own organisation's forecast."""

import math
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import forecast as fc
from billing.models import UsageRecord
from billing.pricing import Prices, Usage
from billing.services import plans
from billing.services.forecasts import client_forecast, monthly_history
from billing.services.periods import LONDON, period_of

from .conftest import FROM, SMALL

ESSEX, SOUTH_WALES = "essex.localhost", "south-wales.localhost"
START = fc.add_months(FROM, -30)  # July 2023


def seasonal(months, *, start=START, base=200.0, noise=0.0, seed=1):
    """Bookings peaking each July and lowest each January, rising by 2 a month."""
    import numpy as np

    rng = np.random.default_rng(seed)
    history = []
    for n in range(months):
        period = fc.add_months(start, n)
        season = 1 + 0.4 * math.cos(2 * math.pi * (period.month - 7) / 12)
        online = base * season + 2 * n + rng.normal(0, noise)
        history.append(fc.Month(period, online=max(0, round(online)),
                                telephone=max(0, round(online / 2)), staff=3))
    return history


def assert_bands_sound(result):
    for month in result.months:
        for band in (month.online, month.telephone, month.staff, month.total):
            assert 0 <= band.p10 <= band.p50 <= band.p90


# --- the model ------------------------------------------------------------------------------


def test_two_years_of_seasonal_history_gets_holt_winters():
    history = seasonal(36, noise=5)
    result = fc.forecast(history)
    assert result.model == fc.HOLT_WINTERS and result.history_months == 36
    assert set(result.seasonality) == {"online", "telephone"}  # staff is flat: nothing to fit
    assert [m.period for m in result.months] == [fc.add_months(history[-1].period, n)
                                                  for n in range(1, 13)]
    assert_bands_sound(result)
    # The seasonal pattern is carried forward: next July well above next January.
    by_month = {m.period.month: m.online.p50 for m in result.months}
    assert by_month[7] > 1.5 * by_month[1]
    # Staff is 3 every month: forecast 3, with a Poisson count's band, 3 ± 1.28 × √3 → 1 to 5.
    assert all(m.staff == fc.Band(1, 3, 5) for m in result.months)


def test_under_two_years_is_trend_only_and_under_three_months_is_none():
    short = fc.forecast(seasonal(12, noise=5))
    assert short.model == fc.TREND_ONLY and short.seasonality == {} and len(short.months) == 12
    assert_bands_sound(short)
    assert fc.forecast(seasonal(3)).model == fc.TREND_ONLY
    too_short = fc.forecast(seasonal(2))
    assert too_short.model is None and too_short.months == [] and too_short.backtest is None


def test_bands_never_go_below_zero_on_a_falling_series():
    falling = [fc.Month(fc.add_months(START, n), online=0, telephone=max(0, 60 - 6 * n),
                        staff=0) for n in range(10)]
    result = fc.forecast(falling)
    assert result.model == fc.TREND_ONLY
    assert_bands_sound(result)
    assert result.months[-1].telephone.p50 == 0


# --- the back-test --------------------------------------------------------------------------


def test_mape_by_hand():
    # |100-110|/100 = 10 %, |200-150|/200 = 25 %; the month with 0 actual is left out.
    assert fc.mape([100, 200, 0], [110, 150, 40]) == pytest.approx(17.5)
    assert fc.mape([0, 0], [1, 2]) is None


def test_the_backtest_forecasts_the_last_six_months_and_compares_with_what_happened():
    line = [fc.Month(fc.add_months(START, n), online=100 + 10 * n, telephone=0, staff=0)
            for n in range(12)]
    exact = fc.forecast(line)
    assert exact.backtest.model == fc.TREND_ONLY and exact.backtest.months == 6
    assert exact.backtest.mape == pytest.approx(0, abs=1)  # a straight line, forecast straight
    # Double what actually happened in the last 6 months: the forecast (from the first 6) is
    # now half the actuals, out by 50 % each month.
    doubled = line[:6] + [fc.Month(m.period, m.online * 2, 0, 0) for m in line[6:]]
    assert fc.forecast(doubled).backtest.mape == pytest.approx(50, abs=1)
    assert fc.forecast(line[:8]).backtest is None  # 2 months before the 6: nothing to fit


def test_the_seasonal_backtest_needs_thirty_months_and_says_when_it_stood_in():
    assert fc.forecast(seasonal(27, noise=3)).backtest.model == fc.TREND_ONLY
    full = fc.forecast(seasonal(36, noise=3))
    assert full.backtest.model == fc.HOLT_WINTERS
    history = seasonal(36, noise=3)
    by_hand = fc.forecast(history[:-6], horizon=6)
    assert full.backtest.mape == pytest.approx(
        fc.mape([m.total for m in history[-6:]], [m.total.p50 for m in by_hand.months]))
    assert full.backtest.mape < 10


# --- the channel-shift what-if, worked by hand --------------------------------------------


def prices(mode, **extra):
    return Prices(mode=mode, tiers=SMALL, telephone_surcharge_pence=150, **extra)


def test_what_if_in_graduated_tiers():
    usage = Usage(online=5, telephone=10, staff=0)
    # 15 bookings: 2 × £5.00 + 13 × £3.00 = £49.00; 10 × £1.50 surcharge = £15.00 → £64.00
    assert fc.cost_pence(prices("graduated"), usage) == 6400
    # 10 %: 1 booking moves online; the count (so the tiers) stays, one surcharge goes.
    assert fc.shifted_online(usage, 10) == Usage(online=6, telephone=9, staff=0)
    assert fc.channel_shift_saving([(prices("graduated"), usage)], 10) == 150
    # 25 % of 10 is 2.5, rounded half up to 3 → £4.50; over two months £9.00.
    assert fc.channel_shift_saving([(prices("graduated"), usage)] * 2, 25) == 900
    # A £60.00 minimum: 50 % moved (5) would bring £64.00 to £56.50, but the minimum tops it
    # up to £60.00, so only £4.00 is saved.
    assert fc.channel_shift_saving(
        [(prices("graduated", monthly_minimum_pence=6000), usage)], 50) == 400
    assert fc.channel_shift_saving([(prices("graduated"), usage)], 0) == 0
    assert fc.channel_shift_saving([(None, usage)], 50) == 0  # no plan: nothing to price


def test_what_if_in_volume_tiers():
    tiers = [SMALL[0], {**SMALL[1], "flat_pence": 1000}]
    volume = Prices(mode="volume", tiers=tiers, telephone_surcharge_pence=150)
    usage = Usage(online=5, telephone=10, staff=2)
    # 17 bookings, all at tier 2's £3.00 = £51.00, + £10.00 flat, + £15.00 surcharge = £76.00
    assert fc.cost_pence(volume, usage) == 7600
    # 100 %: all 10 move online; 17 bookings still, so the same tier: £61.00, £15.00 saved.
    assert fc.cost_pence(volume, fc.shifted_online(usage, 100)) == 6100
    assert fc.channel_shift_saving([(volume, usage)], 100) == 1500
    assert fc.channel_shift_saving([(volume, usage), (volume, Usage(telephone=1))], 30) == 450


# --- the chart and the cache ---------------------------------------------------------------


def test_the_chart_tells_the_lines_apart_without_colour():
    from billing.forecast_chart import chart

    drawn = chart(fc.forecast(seasonal(36, noise=5)).months)
    lines = drawn["series"]
    assert [line["label"] for line in lines] == ["All bookings", "Online", "Contact centre",
                                                 "Staff"]
    assert len({line["dash"] for line in lines}) == 4  # four line patterns
    assert {line["marker"] for line in lines} == {"none", "circle", "square", "triangle"}
    labels = sorted(line["label_y"] for line in lines)
    assert all(lower - upper >= 16 for upper, lower in zip(labels, labels[1:], strict=False))
    assert drawn["y_ticks"][0][1] == 0 and chart([]) is None


def test_the_forecast_is_cached_by_its_history(monkeypatch):
    from django.core.cache import cache

    from billing.services import forecasts

    cache.clear()
    fitted = []
    real = fc.forecast
    monkeypatch.setattr(forecasts.model, "forecast", lambda history: fitted.append(1)
                        or real(history))
    history = seasonal(12)
    first = forecasts.cached_forecast(history)
    assert forecasts.cached_forecast(list(history)) == first and len(fitted) == 1
    late = history[:-1] + [fc.Month(history[-1].period, history[-1].online + 1, 0, 3)]
    assert forecasts.cached_forecast(late) != first and len(fitted) == 2  # a late event


# --- from the ledger, on the page ---------------------------------------------------------


def write_history(client, months, *, scale=1, prefix="h"):
    """`months` of seasonal history ending with last month (bulk-created ledger rows)."""
    current = period_of(timezone.now())
    history = seasonal(months, start=fc.add_months(current, -months), base=20 * scale)
    rows = []
    for month in history:
        at = datetime(month.period.year, month.period.month, 15, 12, tzinfo=LONDON)
        for channel in fc.CHANNELS:
            rows += [UsageRecord(client=client, source_event_id=f"{prefix}:{month.period}:"
                                 f"{channel}:{n}", kind="booking_confirmed", channel=channel,
                                 occurred_at=at) for n in range(getattr(month, channel))]
    UsageRecord.objects.bulk_create(rows)
    return history


def test_monthly_history_is_one_grouped_query_in_london_months(essex):
    rows = [("a", datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "online"),  # 00:30 BST 1 July
            ("b", datetime(2026, 5, 10, 9, tzinfo=LONDON), "telephone"),
            ("c", datetime(2026, 5, 11, 9, tzinfo=LONDON), "telephone")]
    UsageRecord.objects.bulk_create([UsageRecord(client=essex, source_event_id=sid,
                                                 kind="booking_confirmed", channel=channel,
                                                 occurred_at=at) for sid, at, channel in rows])
    UsageRecord.objects.create(client=essex, source_event_id="call", kind="call_logged",
                               occurred_at=datetime(2026, 5, 12, tzinfo=LONDON))
    with CaptureQueriesContext(connection) as queries:
        history = monthly_history(essex, before=datetime(2026, 8, 1).date())
    assert len(queries) == 1
    assert history == [fc.Month(datetime(2026, 5, 1).date(), 0, 2, 0),
                       fc.Month(datetime(2026, 6, 1).date(), 0, 0, 0),
                       fc.Month(datetime(2026, 7, 1).date(), 1, 0, 0)]


def test_a_first_month_begun_part_way_through_is_not_history(essex, graduated_plan):
    current = period_of(timezone.now())
    write_history(essex, 5)
    onboarded = fc.add_months(current, -5).replace(day=20)
    plans.assign_plan(essex, graduated_plan, valid_from=onboarded, acting_user="tests")
    assert client_forecast(essex, period=current).forecast.history_months == 4
    assert len(monthly_history(essex, before=current)) == 5


@pytest.fixture
def two_clients_with_history(essex_on_graduated, south_wales, volume_plan):
    plans.assign_plan(south_wales, volume_plan, valid_from=FROM, acting_user="tests")
    write_history(essex_on_graduated, 30, prefix="e")
    write_history(south_wales, 10, scale=3, prefix="s")
    return essex_on_graduated, south_wales


def test_each_client_admin_sees_their_own_forecast(client, two_clients_with_history,
                                                   essex_admin, south_wales_admin):
    from billing.templatetags.billing_format import gbp

    essex, wales = two_clients_with_history
    period = period_of(timezone.now())
    client_forecast(essex, period=period)  # fitted once; the page below reads the cache
    with CaptureQueriesContext(connection) as queries:
        essex_forecast = client_forecast(essex, period=period)
    assert len(queries) == 3  # the grouped history, the plans, their versions
    wales_forecast = client_forecast(wales, period=period)
    assert essex_forecast.forecast.model == fc.HOLT_WINTERS
    assert wales_forecast.forecast.model == fc.TREND_ONLY
    essex_total, wales_total = (gbp(essex_forecast.total_cost_pence),
                                gbp(wales_forecast.total_cost_pence))
    assert essex_total != wales_total

    client.force_login(essex_admin)
    text = client.get("/manage/billing/", HTTP_HOST=ESSEX).content.decode()
    assert "Seasonal model (Holt-Winters" in text and "Trend-only model" not in text
    assert 'role="img"' in text and "forecast-table" in text
    assert essex_total in text and wales_total not in text
    saving = gbp(essex_forecast.channel_shift_saving(10))
    assert f"If 10% of your contact-centre bookings were made online instead, your cost over " \
           f"the next 12 months would be {saving} lower" in text
    assert f"out by {essex_forecast.forecast.backtest.mape:.1f}%" in text

    client.force_login(south_wales_admin)
    text = client.get("/manage/billing/", HTTP_HOST=SOUTH_WALES).content.decode()
    assert "Trend-only model (Holt" in text and "Seasonal model" not in text
    assert wales_total in text and essex_total not in text
    chosen = client.get("/manage/billing/", {"shift_percent": "50"},
                        HTTP_HOST=SOUTH_WALES).content.decode()
    assert gbp(wales_forecast.channel_shift_saving(50)) + " lower" in chosen


@pytest.mark.parametrize("bad", ["150", "-1", "ten", ""])
def test_a_bad_what_if_percentage_is_refused_naming_the_field(client, two_clients_with_history,
                                                              essex_admin, bad):
    client.force_login(essex_admin)
    page = client.get("/manage/billing/", {"shift_percent": bad}, HTTP_HOST=ESSEX)
    assert page.status_code == 200
    text = page.content.decode()
    assert "There is a problem" in text
    assert ("Enter the percentage of contact-centre bookings made online instead as a whole "
            "number from 0 to 100") in text
    assert 'href="#id_shift_percent"' in text and "would be" not in text


def test_too_little_history_says_so(client, essex_on_graduated, essex_admin):
    write_history(essex_on_graduated, 2)
    client.force_login(essex_admin)
    text = client.get("/manage/billing/", HTTP_HOST=ESSEX).content.decode()
    assert "There is not enough history for a forecast yet" in text
    assert "Complete months so far: 2." in text and "forecast-table" not in text
