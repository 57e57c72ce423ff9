"""One paid booking's journey in process, step by step: SQL statements, Stripe calls and time
per request, and a cProfile of the whole journey (issue 13's profile of the hot path).

    .venv/bin/python bench/profile_journey.py              # 5 journeys measured, after 2 warm
    .venv/bin/python bench/profile_journey.py --journeys 20 --top 40

Its own database (BENCH_DATABASE_URL, default .../waymark_bench_profile; the name must contain
"bench"), dropped at the end; Redis BENCH_REDIS_URL (default redis://127.0.0.1:6379/10) as the
cache, as production has. localstripe runs on a free loopback port. The requests go through
Django's test client (every middleware, DEBUG off) on the client's host; the webhook Stripe would
send for the PaymentIntent is built from localstripe's own PaymentIntent and signed with the
app's webhook secret, as localstripe signs it, then posted to the control plane's endpoint.

Printed: per step, statements / Stripe calls / milliseconds of wall time and of this process's
CPU time (the mean over the measured journeys; CPU is what the app server pays, whatever else
the machine runs), the totals per booking, then the cProfile of the measured journeys
(--no-cprofile leaves it out, and its overhead out of the timings).
"""

import argparse
import cProfile
import hashlib
import hmac
import io
import json
import os
import pstats
import secrets
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta

os.environ.setdefault("REDIS_URL", os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"))

from harness import ROOT, bench_database, log, migrate  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/waymark_bench_profile"
WEBHOOK_SECRET = "whsec_bench_profile"
POSTCODE = "CM1 1QH"


def start_localstripe():
    import socket

    import requests

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "config.localstripe_server", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}/platform:{ROOT}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(base + "/js.stripe.com/v3/", timeout=1)
            return process, base
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("localstripe did not start")


class Counter:
    """Statements (every cursor.execute through Django) and Stripe calls, per step."""

    def __init__(self):
        self.statements = 0
        self.stripe = 0
        self.sql: list[str] = []

    def execute_wrapper(self, execute, sql, params, many, context):
        self.statements += 1
        self.sql.append(sql)
        return execute(sql, params, many, context)


def signed_webhook(intent: dict, account: str) -> tuple[bytes, str]:
    event = {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "type": "payment_intent.succeeded",
        "account": account,
        "created": int(time.time()),
        "data": {"object": intent},
    }
    payload = json.dumps(event).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={stamp},v1={signature}"


def journey(
    client,
    host: str,
    platform_host: str,
    reference: str,
    dob: str,
    session_id: int,
    stripe_base: str,
    counter_for,
    account: str,
):
    """One paid booking, step by step; `counter_for(step)` is a context manager per request."""
    import re

    from integrations import stripe_gateway as gateway

    year, month, day = dob.split("-")
    kw = {"HTTP_HOST": host, "HTTP_X_FORWARDED_PROTO": "https"}

    def go(step, method, path, data=None, **extra):
        with counter_for(step):
            response = getattr(client, method)(path, data=data, **kw, **extra)
        if response.status_code >= 400:
            raise RuntimeError(f"{step}: {response.status_code} {response.content[:300]!r}")
        return response

    go("find (GET)", "get", "/book/find/")
    go(
        "find (POST)",
        "post",
        "/book/find/",
        {"reference": reference, "date_of_birth_0": day, "date_of_birth_1": month, "date_of_birth_2": year},
    )
    go("where (GET)", "get", "/book/where/")
    go("where (POST)", "post", "/book/where/", {"mode": "classroom", "postcode": POSTCODE})
    go("dates (GET)", "get", "/book/dates/")
    go("hold (POST dates)", "post", "/book/dates/", {"session": str(session_id)})
    go("details (GET)", "get", "/book/details/")
    go(
        "details (POST)",
        "post",
        "/book/details/",
        {"email": f"{reference.lower()}@bench.example", "phone": "07700 900982", "language": "en"},
    )
    page = go("check (GET)", "get", "/book/check/").content.decode()
    key = re.search(r'type="hidden" name="(request_key[^"]*)" value="([^"]+)"', page)
    response = go("book (POST check)", "post", "/book/check/", {key.group(1): key.group(2)} if key else {})
    if response.status_code != 302:
        raise RuntimeError(f"book: {response.status_code} {response.content[:2000]!r}")
    pay_path = response["Location"]
    go("pay page (GET)", "get", pay_path)
    from http_load import card_token

    token = card_token(stripe_base)
    answer = go(
        "card (POST)", "post", pay_path + "card/", json.dumps({"token": token}), content_type="application/json"
    ).json()
    if answer.get("status") != "succeeded":
        raise RuntimeError(f"card: {answer}")
    done = answer["redirect"]  # settled by the card request: straight to the confirmation
    go("confirmation (GET)", "get", done)
    from booking.models import Payment

    intent_id = Payment.objects.filter(booking__reference=pay_path.strip("/").split("/")[-1]).values_list(
        "stripe_payment_intent_id", flat=True
    )[0]
    intent = gateway._client().payment_intents.retrieve(intent_id, options={"stripe_account": account}).to_dict()
    payload, signature = signed_webhook(intent, account)
    with counter_for("webhook (POST)"):
        response = client.post(
            "/webhooks/stripe/",
            payload,
            content_type="application/json",
            HTTP_HOST=platform_host,
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_STRIPE_SIGNATURE=signature,
        )
    if response.status_code != 200 or b'"handled"' not in response.content:
        raise RuntimeError(f"webhook: {response.status_code} {response.content[:300]!r}")


def main():  # noqa: PLR0915 - one run, in the order it reports
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=5)
    parser.add_argument("--top", type=int, default=30, help="cProfile rows")
    parser.add_argument("--sql", action="store_true", help="print each step's statements")
    # cProfile roughly doubles the CPU a request takes; off, the ms columns are the real costs.
    parser.add_argument("--no-cprofile", action="store_true", help="time without cProfile")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    stripe_process, stripe_base = start_localstripe()
    try:
        with bench_database(url, keep=False):
            run(args, stripe_base)
    finally:
        stripe_process.terminate()
        stripe_process.wait(timeout=10)


def run(args, stripe_base):  # noqa: C901, PLR0915
    from contextlib import contextmanager

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from http_load import make_dates, make_offers, onboard

    from booking.models import CourseType, Trainer, Venue
    from integrations import stripe_gateway as gateway

    migrate()
    settings.DEBUG = False
    settings.STRIPE_API_BASE = stripe_base
    settings.STRIPE_SECRET_KEY = "sk_test_bench_profile"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_bench_profile"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.SECURE_SSL_REDIRECT = False
    organisation = onboard("bench-profile", "Bench Profile")
    account = "acct_test_bench_profile"
    organisation.stripe_account_id = account
    organisation.stripe_charges_enabled = True
    organisation.status = "live"
    organisation.save(update_fields=["stripe_account_id", "stripe_charges_enabled", "status"])
    host = organisation.domains.get(is_primary=True).domain
    connection.set_tenant(organisation)
    nsac = CourseType.objects.get(code="NSAC")
    # The set-up checklist's last item a booking needs (booking/site/taking_bookings.py).
    Trainer.objects.create(full_name="Bench Trainer", email="trainer@bench.example")
    venue = Venue.objects.create(
        name="Bench Hall",
        address="1 Bench Street",
        town="Chelmsford",
        postcode=POSTCODE,
        latitude=51.73709,
        longitude=0.47302,
        capacity=24,
    )
    starts = (timezone.now() + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    total = args.journeys + 2
    dates = make_dates(nsac, venue, total, starts=starts)
    offers = make_offers(nsac, total, "PROF")
    connection.set_schema_to_public()

    counters: dict[str, list[Counter]] = defaultdict(list)
    seconds: dict[str, list[float]] = defaultdict(list)
    # This process's CPU time (time.process_time): what the request costs the app server,
    # whatever else the machine is running (wall time includes waiting for PostgreSQL,
    # localstripe and other processes' load).
    cpu_seconds: dict[str, list[float]] = defaultdict(list)
    measuring = [False]
    current: list[Counter | None] = [None]
    real_call = gateway._call

    def counting_call(function, *a, **kw):
        if current[0] is not None:
            current[0].stripe += 1
        return real_call(function, *a, **kw)

    gateway._call = counting_call

    @contextmanager
    def counter_for(step):
        counter = Counter()
        current[0] = counter
        start, cpu_start = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(counter.execute_wrapper):
            yield
        if measuring[0]:
            seconds[step].append(time.perf_counter() - start)
            cpu_seconds[step].append(time.process_time() - cpu_start)
            counters[step].append(counter)
        current[0] = None

    profile = cProfile.Profile()
    # One client (one handler, so the middleware is built once, as in a server process; a new
    # one would make WhiteNoise index every static file again), a new person's cookies each time.
    client = Client()
    for number, (offer, date) in enumerate(zip(offers, dates, strict=True)):
        measuring[0] = number >= 2
        client.cookies.clear()
        if measuring[0] and not args.no_cprofile:
            profile.enable()
        journey(
            client,
            host,
            settings.PLATFORM_DOMAIN,
            offer["reference"],
            offer["dob"],
            date,
            stripe_base,
            counter_for,
            account,
        )
        if measuring[0] and not args.no_cprofile:
            profile.disable()
        connection.set_schema_to_public()
    log(f"{args.journeys} journeys measured")

    print(
        f"One paid booking in process (bench/profile_journey.py): mean of {args.journeys} "
        "journeys after 2 warm-up; Django test client, DEBUG off, Redis cache; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    widths = (22, 11, 8, 8, 8)
    print(
        "  "
        + " | ".join(
            h.rjust(w) if i else h.ljust(w)
            for i, (h, w) in enumerate(zip(("step", "statements", "Stripe", "ms", "CPU ms"), widths, strict=True))
        )
    )
    sums = [0.0, 0.0, 0.0, 0.0]
    for step, rows in counters.items():
        n = len(rows)
        cells = (sum(c.statements for c in rows) / n, sum(c.stripe for c in rows) / n,
                 sum(seconds[step]) / n * 1000, sum(cpu_seconds[step]) / n * 1000)
        sums = [s + c for s, c in zip(sums, cells, strict=True)]
        print(
            "  "
            + " | ".join(
                v.rjust(w) if i else v.ljust(w)
                for i, (v, w) in enumerate(
                    zip((step, *(f"{cell:.1f}" for cell in cells)), widths, strict=True)
                )
            )
        )
    print(
        "  "
        + " | ".join(
            v.rjust(w) if i else v.ljust(w)
            for i, (v, w) in enumerate(
                zip(("per booking", *(f"{cell:.1f}" for cell in sums)), widths, strict=True)
            )
        )
    )
    if args.sql:
        for step, rows in counters.items():
            print(f"\n-- {step}")
            for sql in rows[-1].sql:
                print("   ", sql[:220])
    print()
    if args.no_cprofile:
        return
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(r"/work/main/(?!\.venv)", args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
