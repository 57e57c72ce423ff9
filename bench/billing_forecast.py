"""Forecast error: our model (billing.forecast) against a seasonal-naive baseline.

Run it:

    .venv/bin/python bench/billing_forecast.py                 # 10 seeds × 36 months
    .venv/bin/python bench/billing_forecast.py --seeds 20 --months 48

No database: the forecast is a pure function of the monthly history. For each seed a synthetic
client is made: a level of 300–1,500 bookings a month, a trend of 0.5–2 % of it a month, a
seasonal shape (a summer peak and a December dip, 15–35 % deep), multiplicative noise of 4–8 %,
and a channel shift from about 55 % online towards 75 % (staff a steady 5 %). Then, for a
horizon of 6 and of 12 months, the model is fitted on all but the last `horizon` months and its
p50 is compared with the actuals (MAPE on all bookings, and on the online channel), against
the seasonal-naive forecast: each month the same as the same month a year before. The goal
(issue 10) is a lower MAPE than the baseline. Also timed: one whole forecast from `--months` of
history (the 12-month forecast with its bands and the 6-month back-test), as the page runs it.
"""

import argparse
import math
import os
import statistics
import sys
import time
from datetime import date

from harness import log


def synthetic(seed: int, months: int):
    import numpy as np

    from billing.forecast import Month, add_months

    rng = np.random.default_rng(seed)
    level = rng.uniform(300, 1500)
    trend = rng.uniform(0.005, 0.02) * level
    depth = rng.uniform(0.15, 0.35)
    noise = rng.uniform(0.04, 0.08)
    start = date(2023, 1, 1)
    history = []
    for n in range(months):
        period = add_months(start, n)
        season = (1 + depth * math.cos(2 * math.pi * (period.month - 7) / 12)
                  - (0.5 * depth if period.month == 12 else 0))
        total = max(0.0, (level + trend * n) * season * (1 + rng.normal(0, noise)))
        online_share = 0.55 + 0.20 * n / max(months - 1, 1)
        online = round(total * online_share)
        staff = round(total * 0.05)
        history.append(Month(period, online=online, telephone=max(0, round(total) - online - staff),
                             staff=staff))
    return history


def errors(history, horizon: int) -> dict:
    from billing.forecast import forecast, mape

    training, actual = history[:-horizon], history[-horizon:]
    ours = forecast(training, horizon=horizon)
    naive = [training[len(training) - 12 + (step % 12)] for step in range(horizon)]
    return {
        "model": ours.model,
        "ours_total": mape([m.total for m in actual], [p.total.p50 for p in ours.months]),
        "naive_total": mape([m.total for m in actual], [m.total for m in naive]),
        "ours_online": mape([m.online for m in actual], [p.online.p50 for p in ours.months]),
        "naive_online": mape([m.online for m in actual], [m.online for m in naive]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()
    if args.months < 24 + 12:
        sys.exit("--months must be at least 36: the 12-month test needs 24 months to fit on.")

    from billing.forecast import forecast

    log(f"{args.seeds} seeds × {args.months} months")
    series = [synthetic(seed, args.months) for seed in range(args.seeds)]
    forecast(series[0])  # import and first-call costs are not the forecast's
    for horizon in (6, 12):
        rows = [errors(history, horizon) for history in series]
        print(f"last {horizon} months (fitted on {args.months - horizon}, model "
              f"{rows[0]['model']}):")
        print("  seed  ours total  naive total  ours online  naive online")
        for seed, row in enumerate(rows):
            print(f"  {seed:4d}  {row['ours_total']:9.1f}%  {row['naive_total']:10.1f}%  "
                  f"{row['ours_online']:10.1f}%  {row['naive_online']:11.1f}%")
        mean = {key: statistics.mean(row[key] for row in rows) for key in rows[0] if key != "model"}
        wins = sum(row["ours_total"] < row["naive_total"] for row in rows)
        print(f"  mean  {mean['ours_total']:9.1f}%  {mean['naive_total']:10.1f}%  "
              f"{mean['ours_online']:10.1f}%  {mean['naive_online']:11.1f}%   "
              f"(ours lower on all bookings for {wins} of {len(rows)} seeds; goal: lower mean: "
              f"{'met' if mean['ours_total'] < mean['naive_total'] else 'NOT met'})")
    wall, cpu = [], []
    for history in series:
        started, started_cpu = time.perf_counter(), time.process_time()
        forecast(history)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    # CPU time too: on a shared machine the wall clock also counts other people's work.
    print(f"one forecast from {args.months} months (12 months ahead, bands, back-test): "
          f"median {statistics.median(wall) * 1000:.0f} ms wall "
          f"({statistics.median(cpu) * 1000:.0f} ms CPU), max {max(wall) * 1000:.0f} ms wall")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
