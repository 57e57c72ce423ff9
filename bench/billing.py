"""Month close for many clients: wall-clock time and queries per client.

Run it:

    .venv/bin/python bench/billing.py                         # 500 clients × 2,000 bookings
    .venv/bin/python bench/billing.py --clients 50 --bookings 200 --keep

It creates its OWN database (default `waymark_bench_billing` on the server in
BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/waymark_bench_billing), dropped
first and at the end unless --keep (bench/harness.py). The clients are public-schema rows only
(month close reads the ledger, never a client's schema), made by bulk_create; each gets the
graduated demo plan and `--bookings` usage rows in October 2026 (a mix of channels, credits and
calls), written with COPY. Then `billing.services.invoices.close_month` runs for October, twice:
the first run drafts every invoice, the second (idempotent) finds them all. The goal is under
60 s for 500 × 2,000 and a constant number of queries per client.

Booking throughput with the ledger's write and without it is measured by bench/booking.py (b);
the forecast error against a seasonal-naive baseline by bench/billing_forecast.py.
"""

import argparse
import io
import os
import sys
import time
from datetime import date, datetime, timedelta

from harness import bench_database, log, migrate

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/waymark_bench_billing"
OCTOBER = date(2026, 10, 1)


def populate(clients: int, bookings: int) -> None:
    from django.db import connection

    from billing.demo import PLANS
    from billing.models import ClientPlan, PricePlan
    from billing.services import plans
    from tenants.models import ClientOrganisation

    spec = dict(PLANS["standard"])
    plan = plans.create_plan(code="standard", name=spec.pop("name"), acting_user="bench")
    plans.add_version(plan, valid_from=date(2026, 1, 1), acting_user="bench", **spec)
    rows = ClientOrganisation.objects.bulk_create([
        ClientOrganisation(schema_name=f"client_bench_{n}", name=f"Bench {n}", slug=f"bench-{n}",
                           kind="county_council", status="live", display_name_en=f"Bench {n}")
        for n in range(clients)])
    ClientPlan.objects.bulk_create([ClientPlan(client=row, plan=plan,
                                               valid_from=date(2026, 1, 1)) for row in rows])
    PricePlan.objects.get(pk=plan.pk)
    start = datetime(2026, 10, 1, 8, 0).astimezone()
    kinds = (["booking_confirmed\tonline"] * 7 + ["booking_confirmed\ttelephone"] * 2
             + ["booking_confirmed\tstaff", "booking_cancelled_credit\t", "call_logged\t"])
    log(f"populating {clients} clients × {bookings} usage rows")
    for row in rows:
        buffer = io.StringIO()
        for n in range(bookings):
            at = start + timedelta(minutes=20 * n)
            buffer.write(f"{row.pk}\tevent:{n}\t{kinds[n % len(kinds)]}\t{at.isoformat()}\t"
                         f"{at.isoformat()}\n")
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_from(buffer, "billing_usagerecord", columns=(
                "client_id", "source_event_id", "kind", "channel", "occurred_at", "recorded_at"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_usagerecord")


def measure() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.models import Invoice
    from billing.services import invoices
    from tenants.models import ClientOrganisation

    now = datetime(2026, 11, 2, 9, 0).astimezone()
    one = ClientOrganisation.objects.filter(is_template=False).order_by("pk").first()
    with CaptureQueriesContext(connection) as first_queries:
        invoices.close_client(one, OCTOBER, now=now, acting_user="bench")
    began = time.perf_counter()
    done = invoices.close_month(OCTOBER, acting_user="bench", now=now)
    first = time.perf_counter() - began
    last = ClientOrganisation.objects.filter(is_template=False).order_by("-pk").first()
    with CaptureQueriesContext(connection) as again_queries:
        invoices.close_client(last, OCTOBER, now=now, acting_user="bench")
    began = time.perf_counter()
    invoices.close_month(OCTOBER, acting_user="bench", now=now)
    second = time.perf_counter() - began
    count = Invoice.objects.count()
    print(f"month close, {len(done)} clients: first run {first:.2f} s "
          f"({first / max(1, len(done)) * 1000:.1f} ms a client), re-run {second:.2f} s")
    print(f"queries for one client's new invoice: {len(first_queries)}; "
          f"for one already drafted: {len(again_queries)}")
    print(f"invoices: {count} (one per client: {'yes' if count == len(done) else 'NO'})")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("BENCH_DATABASE_URL must name a database containing 'bench'")
    with bench_database(url, keep=args.keep):
        migrate()
        from django.conf import settings

        settings.DEBUG = False
        populate(args.clients, args.bookings)
        measure()
    return 0


if __name__ == "__main__":
    sys.exit(main())
