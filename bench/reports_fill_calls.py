"""Latency of the fill and calls reports on the same client bench/reports.py builds (1,000,000
bookings over 36 months, 20,000 course dates, 300 venues) plus 200,000 logged calls.

    .venv/bin/python bench/reports_fill_calls.py                              # full size
    .venv/bin/python bench/reports_fill_calls.py --bookings 100000 --calls 20000 --repeat 10

Its own database (default `waymark_bench_reports_fill_calls` on the server in
BENCH_DATABASE_URL), dropped first and at the end unless --keep. The bookings, course dates and
venues are loaded by bench/reports.py's populate_client; the calls are COPYed in, spread over
the same 36 months at UK office hours and beyond, one in three about a booking. Times, warm,
`fill_report` and `calls_report` for the last 12 whole months without filters, with the busiest
course and with one venue, and prints p50/p95/max and the number of queries (goal: under
500 ms p95)."""

import argparse
import importlib.util
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

from harness import bench_database, log, migrate

spec = importlib.util.spec_from_file_location("bench_reports",
                                              Path(__file__).with_name("reports.py"))
base = importlib.util.module_from_spec(spec)
spec.loader.exec_module(base)


class _NoLedger(base.Copier):
    """These reports never read billing's usage ledger, so populate_client's usage rows are
    not loaded (which also keeps this bench apart from changes to the ledger's columns)."""

    def flush(self) -> None:
        if self.table == "public.billing_usagerecord":
            self.buffer, self.rows = base.io.StringIO(), 0
            return
        super().flush()


base.Copier = _NoLedger

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/waymark_bench_reports_fill_calls"
def measure(organisation, loaded: dict, calls: int, *, now: datetime, repeat: int) -> None:
    from django_tenants.utils import schema_context

    from booking.models import CourseType, Venue
    from reports.calls import calls_report
    from reports.fill import fill_report
    from reports.periods import Period

    period = Period(base.add_months(now.date().replace(day=1), -12),
                    base.add_months(now.date().replace(day=1), -1))
    results = []
    with schema_context(organisation.schema_name):
        course = CourseType.objects.get(code="NSAC")
        venue = Venue.objects.get(pk=loaded["venue"])
        cases = [
            ("fill_report", lambda: fill_report(period)),
            ("fill_report, course filter", lambda: fill_report(period, course_type=course)),
            ("fill_report, venue filter", lambda: fill_report(period, venue=venue)),
            ("calls_report", lambda: calls_report(period, organisation=organisation)),
            ("calls_report, course filter",
             lambda: calls_report(period, organisation=organisation, course_type=course)),
            ("calls_report, venue filter",
             lambda: calls_report(period, organisation=organisation, venue=venue)),
        ]
        for name, call in cases:
            log(f"timing {name}")
            times, queries, _statements = base.timed(call, repeat)
            results.append((name, times, queries))
    print(f"client: {loaded['bookings']:,} bookings, {base.SESSIONS:,} course dates, "
          f"{base.VENUES} venues, {calls:,} calls")
    print(f"period {period.first:%Y-%m} to {period.last:%Y-%m}; {repeat} timed calls each, warm")
    print(f"{'report':<30} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  goal")
    for name, times, queries in results:
        p95 = base.percentile(times, 0.95)
        print(f"{name:<30} {queries:>7} {statistics.median(times):>8.1f} {p95:>8.1f} "
              f"{max(times):>8.1f}  <{base.CLIENT_GOAL_MS} ms p95: "
              f"{'met' if p95 < base.CLIENT_GOAL_MS else 'MISSED'}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    with bench_database(url, keep=args.keep):
        migrate()
        from django.conf import settings
        from django.utils import timezone

        settings.DEBUG = False
        now = timezone.now()
        began = time.perf_counter()
        organisation = base.onboard()
        loaded = base.populate_client(organisation, args.bookings, now=now, seed=args.seed)
        calls = base.populate_calls(organisation, args.calls, now=now, seed=args.seed)
        log(f"loaded in {time.perf_counter() - began:.0f} s")
        measure(organisation, loaded, calls, now=now, repeat=args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
