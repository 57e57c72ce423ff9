"""Failover drill: people book and pay through HAProxy, two gunicorn web processes, PgBouncer
(session mode) and a primary PostgreSQL with a streaming replica; the primary is killed mid-load,
the replica promoted and PgBouncer re-pointed at it; then the database is asked whether any
booking was lost or doubled.

Run it:

    .venv/bin/python bench/scale_drill.py            # about 600 bookings (several minutes)
    .venv/bin/python bench/scale_drill.py --short    # 200 bookings: 7.6 min measured at load 10-12
    make scale-drill                                 # the full run, installing what is missing

Everything runs on loopback ports from a temporary directory, removed at the end: a private
PostgreSQL 15 primary (Debian's binaries, fsync on, synchronous replication to the replica
unless --async), its replica (pg_basebackup -R), PgBouncer in session mode in front of the
primary (the app's DATABASE_URL), the replica as DATABASE_REPLICA_URL (the report pages'
reads), localstripe, two gunicorn processes as docker/Dockerfile runs them (DEBUG off) behind
HAProxy, and a Celery worker. The Redis is the machine's, database BENCH_REDIS_URL (default
redis://127.0.0.1:6379/12), emptied first. Set-up is bench/http_load.py's: one client, card
payments on, 24-seat course dates, an offer for each person.

The load: PEOPLE threads walk the whole journey (find, where, dates, details, check, pay page,
a card token from localstripe as Stripe.js would get it, the card POST, the return page, the
confirmation page) through HAProxy, one offer each in turn; a report page is read by a staff
member meanwhile. A request answered 5xx, or not answered, is sent again after 0.25 s, as a
person pressing "try again" would, for up to 60 s; any other unexpected answer starts that
person's journey again (at most 3 times). When a third of the bookings are confirmed the
primary is stopped with `pg_ctl -m immediate` (a crash: no shutdown checkpoint), and after
--detect seconds (what a health check would take to notice) the replica is promoted (pg_ctl
promote) and PgBouncer re-pointed at it (RELOAD). Afterwards the jobs beat would run
(settle_pending_payments, retry_due_events) run once, and the new primary is checked: every
payment localstripe took is recorded and ended as a confirmed booking (or a refund), one
payment and one confirmation per booking, each date's seat count equal to its bookings.

Why PgBouncer is re-pointed rather than the app given a libpq multi-host string
(host=a,b target_session_attrs=read-write) through two PgBouncers: PgBouncer 1.18 keeps the
parameters the server reported when its pool first connected, so after the promotion it still
tells libpq in_hot_standby=on and every read-write connection is refused ("session is
read-only"). --multihost runs the drill with the app on a multi-host string straight to the two
PostgreSQL servers instead (no PgBouncer), which libpq handles itself.

Figures go to stdout, progress to stderr.
"""

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import http_load  # noqa: I001 - sets PLATFORM_DOMAIN before harness sets Django up
from harness import ROOT, bench_database, log

sys.path.insert(0, str(ROOT))
from tests.private_services import (  # noqa: E402
    PGBOUNCER,
    PrivatePgBouncer,
    PrivatePostgres,
    free_port,
    wait_for_port,
)

DATABASE = "waymark_bench_drill"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
CAPACITY = http_load.CAPACITY
RETRY_FOR = 60.0
PAUSE = 0.25
GOAL_REFUSAL_SECONDS = 30.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="about 200 bookings, for CI")
    parser.add_argument("--bookings", type=int, help="bookings to attempt (600; --short 200)")
    parser.add_argument("--people", type=int, default=8, help="people booking at once")
    parser.add_argument("--workers", type=int, default=2, help="sync workers per gunicorn")
    parser.add_argument(
        "--detect", type=float, default=2.0, help="seconds between the primary's crash and the promotion"
    )
    parser.add_argument(
        "--async",
        dest="asynchronous",
        action="store_true",
        help="asynchronous replication (the default is synchronous)",
    )
    parser.add_argument(
        "--multihost",
        action="store_true",
        help="the app on host=primary,replica target_session_attrs=read-write, no PgBouncer",
    )
    args = parser.parse_args()
    args.bookings = args.bookings or (200 if args.short else 600)
    return args


def ensure_packages() -> None:
    """PgBouncer and HAProxy from Debian, installed when missing (as root), as .ci/run does for
    chromium."""
    missing = [
        name
        for name, path in (("pgbouncer", PGBOUNCER), ("haproxy", "haproxy"))
        if not shutil.which(path) and not Path(path).exists()
    ]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"missing {', '.join(missing)}: apt-get install -y {' '.join(missing)}")
    log(f"installing {', '.join(missing)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL)


HAPROXY_CONFIG = """global
    maxconn 1000
defaults
    mode http
    timeout connect 2s
    timeout client 90s
    timeout server 90s
    # A busy 2-core machine answers a health check slowly: a web process is down after three
    # missed checks, not one.
    timeout check 5s
    retries 2
    option redispatch
frontend web
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz hdr Host 127.0.0.1
{servers}
"""


class Stack:
    """localstripe, two gunicorn processes, HAProxy and a Celery worker, on loopback ports."""

    def __init__(self, work: Path, env: dict, workers: int):
        self.work, self.env, self.workers = work, env, workers
        self.processes: list[subprocess.Popen] = []

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        output = open(self.work / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def start(self) -> tuple[str, str]:
        python = sys.executable
        bin_dir = Path(python).parent
        stripe_port, front = free_port(), free_port()
        stripe_base = f"http://127.0.0.1:{stripe_port}"
        self.env["STRIPE_API_BASE"] = stripe_base
        log(f"collectstatic (the manifest storage) into {http_load.STATIC_CACHE}")
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True
        )
        self._start("localstripe", [python, "-m", "config.localstripe_server", "--port", str(stripe_port)])
        http_load.wait_for(stripe_base + "/v1/tokens")
        web_ports = [free_port(), free_port()]
        for number, port in enumerate(web_ports, 1):
            self._start(
                f"web{number}",
                [
                    str(bin_dir / "gunicorn"),
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(self.workers),
                    "--timeout",
                    "30",
                    "--graceful-timeout",
                    "30",
                    "--max-requests",
                    "1000",
                    "--max-requests-jitter",
                    "100",
                    "--worker-tmp-dir",
                    "/dev/shm",
                    "--no-control-socket",
                    "--error-logfile",
                    "-",
                ],
            )
        self._start(
            "worker",
            [
                str(bin_dir / "celery"),
                "-A",
                "config.celery",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )
        for port in web_ports:
            http_load.wait_for(
                f"http://127.0.0.1:{port}/healthz", headers={"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
            )
        servers = "\n".join(
            f"    server web{n} 127.0.0.1:{port} check inter 2s fall 3 rise 1" for n, port in enumerate(web_ports, 1)
        )
        config = self.work / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=front, servers=servers))
        self._start("haproxy", ["haproxy", "-db", "-f", str(config)])
        wait_for_port(front)
        base = f"http://127.0.0.1:{front}"
        http_load.wait_for(base + "/healthz", headers={"Host": "127.0.0.1"})
        import requests

        requests.post(
            f"{stripe_base}/_config/webhooks/drill",
            timeout=5,
            data={"url": f"{base}/webhooks/stripe/", "secret": http_load.WEBHOOK_SECRET},
        )
        log(
            f"HAProxy on {base} -> gunicorn on {web_ports} ({self.workers} workers each); "
            f"localstripe on {stripe_base}; a Celery worker; logs in {self.work}"
        )
        return base, stripe_base

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


class Load:
    """What the people saw: every request's time and outcome, with when it was answered."""

    def __init__(self):
        self.lock = threading.Lock()
        self.timings = http_load.Timings()
        self.failures: list[float] = []  # monotonic times of 5xx or unanswered requests
        self.confirmed_at: list[float] = []
        self.journeys: list[float] = []
        self.outcomes = Counter()
        self.seen_confirmed: list[str] = []

    def failed(self) -> None:
        with self.lock:
            self.failures.append(time.monotonic())


class Restart(Exception):
    """An answer that is neither the next page nor a failure: the journey starts again."""


def step(load: Load, call, done):
    """Send the request until `done` says it was answered as expected; 5xx and unanswered
    requests are sent again (a person pressing "try again")."""
    import requests

    deadline = time.monotonic() + RETRY_FOR
    while time.monotonic() < deadline:
        try:
            response = call()
        except requests.RequestException:
            load.failed()
            time.sleep(PAUSE)
            continue
        if response.status_code >= 500:
            load.failed()
            time.sleep(PAUSE)
            continue
        try:
            finished = done(response)
        except ValueError:  # not the JSON the card step answers with
            finished = False
        if finished:
            return response
        raise Restart(f"{response.status_code} {response.headers.get('Location', '')}")
    raise Restart("gave up after 60 s")


def redirect_to(prefix):
    return lambda r: r.status_code == 302 and r.headers.get("Location", "").startswith(prefix)


def ok(response):
    return response.status_code == 200


def journey(load: Load, browser, offer: dict, session_id: int, stripe_base: str) -> None:
    import requests

    year, month, day = offer["dob"].split("-")
    step(load, lambda: browser.get("find", "/book/find/"), ok)
    step(
        load,
        lambda: browser.post(
            "find",
            "/book/find/",
            {
                "reference": offer["reference"],
                "date_of_birth_0": str(int(day)),
                "date_of_birth_1": str(int(month)),
                "date_of_birth_2": year,
            },
        ),
        redirect_to("/book/where/"),
    )
    step(load, lambda: browser.get("where", "/book/where/"), ok)
    step(
        load,
        lambda: browser.post("where", "/book/where/", {"mode": "classroom", "postcode": http_load.POSTCODE}),
        redirect_to("/book/dates/"),
    )
    step(load, lambda: browser.get("dates", "/book/dates/"), ok)
    step(
        load,
        lambda: browser.post("dates", "/book/dates/", {"session": str(session_id)}),
        redirect_to("/book/details/"),
    )
    step(load, lambda: browser.get("details", "/book/details/"), ok)
    step(
        load,
        lambda: browser.post(
            "details",
            "/book/details/",
            {"email": f"{offer['reference'].lower()}@drill.example", "phone": "07700 900982", "language": "en"},
        ),
        redirect_to("/book/check/"),
    )
    page = step(load, lambda: browser.get("check", "/book/check/"), ok).text
    key = http_load.REQUEST_KEY_INPUT.search(page)
    response = step(
        load,
        lambda: browser.post("check", "/book/check/", {key.group(1): key.group(2)} if key else {}),
        redirect_to("/book/pay/"),
    )
    pay_path = response.headers["Location"]
    step(load, lambda: browser.get("pay page", pay_path), ok)

    def card():
        token = requests.post(
            stripe_base + "/v1/tokens",
            timeout=30,
            data={
                "card[number]": "4242424242424242",
                "card[exp_month]": "12",
                "card[exp_year]": "2030",
                "card[cvc]": "123",
                "key": "pk_test_bench_http",
            },
        ).json()
        return browser.request(
            "card", "POST", pay_path + "card/", json={"token": token["id"]}, headers={"X-CSRFToken": browser.csrf}
        )

    response = step(load, card, lambda r: r.status_code == 200 and r.json().get("status") == "succeeded")
    done = step(
        load, lambda: browser.get("return", response.json()["redirect"]), redirect_to("/book/confirmation/")
    ).headers["Location"]
    step(load, lambda: browser.get("confirmation", done), ok)


def person(load: Load, base, host, stripe_base, offers: queue.Queue, stop: threading.Event):
    while not stop.is_set():
        try:
            offer, session_id = offers.get_nowait()
        except queue.Empty:
            return
        began = time.perf_counter()
        for _attempt in range(3):
            browser = http_load.Browser(base, host, load.timings)
            try:
                journey(load, browser, offer, session_id, stripe_base)
            except Exception as restart:  # noqa: BLE001 - Restart, or an answer not understood
                with load.lock:
                    load.outcomes["journeys started again"] += 1
                    load.timings.errors.append(f"{offer['reference']}: {restart}")
                continue
            with load.lock:
                load.outcomes["confirmed (seen by the person)"] += 1
                load.confirmed_at.append(time.monotonic())
                load.journeys.append(time.perf_counter() - began)
                load.seen_confirmed.append(offer["reference"])
            break
        else:
            with load.lock:
                load.outcomes["gave up"] += 1


def report_reader(load: Load, base, host, email, stop: threading.Event) -> None:
    """A staff member reading the bookings report (the replica's reads) during the load."""
    browser = http_load.Browser(base, host, load.timings)
    http_load.sign_in(browser, email)
    while not stop.is_set():
        try:
            browser.get("bookings report (replica)", "/manage/reports/bookings/")
        except Exception:  # noqa: BLE001 - the outage shows as failures, counted elsewhere
            load.failed()
        stop.wait(1.0)


def stripe_payments(stripe_base: str) -> list[str]:
    import requests

    succeeded, after = [], None
    while True:
        params = {"limit": 100, **({"starting_after": after} if after else {})}
        page = requests.get(
            f"{stripe_base}/v1/payment_intents",
            params=params,
            timeout=30,
            headers={"Authorization": "Bearer sk_test_bench_http"},
        ).json()
        succeeded += [i["id"] for i in page["data"] if i["status"] == "succeeded"]
        if not page.get("has_more") or not page["data"]:
            return succeeded
        after = page["data"][-1]["id"]


def check_database(organisation, session_ids, seen_confirmed) -> dict:
    from django.db import connection
    from django.utils import timezone

    from booking.models import Booking, CourseSession, OfferEvent, Payment
    from booking.services.payments import settle_pending_payments
    from tenants.webhooks import retry_due_events

    connection.set_tenant(organisation)
    settled = settle_pending_payments(organisation=organisation, now=timezone.now() + timedelta(minutes=3))
    retried = retry_due_events(now=timezone.now() + timedelta(hours=1))
    connection.set_tenant(organisation)
    bookings = Booking.objects.filter(session_id__in=session_ids)
    confirmed = bookings.filter(status="confirmed")
    succeeded = Payment.objects.filter(booking__in=bookings, status="succeeded")
    unrefunded = succeeded.filter(refunds__isnull=True)
    doubled = [b.reference for b in confirmed if unrefunded.filter(booking=b).count() != 1]
    confirmations = Counter(
        OfferEvent.objects.filter(booking__in=bookings, kind="booking.confirmed").values_list("booking_id", flat=True)
    )
    paid_unplaced = [p.pk for p in unrefunded.select_related("booking") if p.booking.status != "confirmed"]
    per_offer = Counter(confirmed.values_list("offer__reference", flat=True))
    seats_wrong = [
        s.pk
        for s in CourseSession.objects.filter(pk__in=session_ids)
        if s.seats_booked != confirmed.filter(session=s).count()
    ]
    lost_seen = sorted(set(seen_confirmed) - set(per_offer))
    return {
        "settled": settled,
        "retried": retried,
        "confirmed": confirmed.count(),
        "recorded": set(succeeded.values_list("stripe_payment_intent_id", flat=True)),
        "refunded": succeeded.filter(refunds__isnull=False).distinct().count(),
        "doubled": doubled,
        "offers booked twice": [r for r, n in per_offer.items() if n > 1],
        "confirmations not one": [b for b, n in confirmations.items() if n != 1],
        "paid not placed": paid_unplaced,
        "seats wrong": seats_wrong,
        "seen confirmed, missing": lost_seen,
    }


def main():  # noqa: C901, PLR0915 - one drill, in the order it runs
    args = parse_args()
    ensure_packages()
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    began = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="waymark-drill-"))
    primary = PrivatePostgres(root, name="primary", max_connections=200, durable=True)
    replica = PrivatePostgres(root, name="replica", max_connections=200, durable=True)
    bouncer, stack = None, None
    try:
        primary.init()
        primary.start()
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        with bench_database(primary.url(DATABASE), keep=True):
            from django.db import connection, connections
            from django.utils import timezone

            from booking.models import CourseType, Trainer, Venue

            http_load.migrate()
            organisation = http_load.onboard("drill", "Drill County")
            organisation.stripe_account_id = "acct_test_drill"
            organisation.stripe_charges_enabled = True
            organisation.status = "live"
            organisation.save(update_fields=["stripe_account_id", "stripe_charges_enabled", "status"])
            host = organisation.domains.get(is_primary=True).domain
            connection.set_tenant(organisation)
            nsac = CourseType.objects.get(code="NSAC")
            venue = Venue.objects.create(
                name="Drill Hall",
                address="1 Drill Street",
                town="Chelmsford",
                postcode=http_load.POSTCODE,
                latitude=51.73709,
                longitude=0.47302,
                capacity=CAPACITY,
            )
            # A client takes bookings once its set-up checklist's essentials are done.
            Trainer.objects.create(full_name="Drill Trainer", email="trainer@drill.example")
            starts = (timezone.now() + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
            session_ids = http_load.make_dates(nsac, venue, -(-args.bookings // CAPACITY), starts=starts)
            offers = http_load.make_offers(nsac, args.bookings, "DRILL")
            warm_dates = http_load.make_dates(nsac, venue, 1, starts=starts - timedelta(days=1))
            warm_offers = http_load.make_offers(nsac, 2 * args.workers * 2, "WARM")
            connection.set_schema_to_public()
            staff_email = http_load.make_staff(organisation)[0]
            connections.close_all()

            log("replica: pg_basebackup -R from the primary")
            replica.init_replica_of(primary)
            replica.start()
            replica.wait_until_replayed(primary)
            if not args.asynchronous:
                # Only now: with no standby yet, every commit would wait for one.
                primary.psql("ALTER SYSTEM SET synchronous_standby_names = '*'")
                primary.psql("SELECT pg_reload_conf()")
            work = root / "stack"
            work.mkdir()
            (work / "settings").mkdir()
            (work / "settings" / "bench_http_settings.py").write_text(http_load.SETTINGS_WRAPPER)
            if args.multihost:
                # libpq's multi-host string; the settings' DATABASE_URL names only the database.
                app_url = f"postgres://postgres@/{DATABASE}"
                via = (
                    f"libpq host=127.0.0.1,127.0.0.1 port={primary.port},{replica.port} "
                    "target_session_attrs=read-write (no PgBouncer)"
                )
            else:
                bouncer = PrivatePgBouncer(
                    root, primary.port, pool_mode="session", pool_size=60, query_wait_timeout=10
                )
                bouncer.start()
                app_url = bouncer.url(DATABASE)
                via = f"PgBouncer 1.18 session mode on :{bouncer.port}, re-pointed on failover"
            env = http_load.server_environment(
                app_url, redis_url, "", str(http_load.STATIC_CACHE), str(work / "settings"), str(work / "media")
            )
            env["DATABASE_REPLICA_URL"] = replica.url(DATABASE)
            if args.multihost:
                env.update(
                    PGHOST="127.0.0.1,127.0.0.1",
                    PGPORT=f"{primary.port},{replica.port}",
                    PGTARGETSESSIONATTRS="read-write",
                    PGCONNECT_TIMEOUT="3",
                )
            stack = Stack(work, env, args.workers)
            base, stripe_base = stack.start()

            log(f"warm-up: {len(warm_offers)} paid bookings")
            warm = Load()
            warm_queue: queue.Queue = queue.Queue()
            for offer in warm_offers:
                warm_queue.put((offer, warm_dates[0]))
            never = threading.Event()
            threads = [
                threading.Thread(target=person, args=(warm, base, host, stripe_base, warm_queue, never))
                for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if warm.outcomes["confirmed (seen by the person)"] != len(warm_offers):
                raise SystemExit(f"warm-up failed: {warm.outcomes} {warm.timings.errors[:3]}")

            load = Load()
            work_queue: queue.Queue = queue.Queue()
            for index, offer in enumerate(offers):
                work_queue.put((offer, session_ids[index // CAPACITY]))
            stop = threading.Event()
            crowd = [
                threading.Thread(target=person, args=(load, base, host, stripe_base, work_queue, stop))
                for _ in range(args.people)
            ]
            reader = threading.Thread(target=report_reader, args=(load, base, host, staff_email, stop))
            timeline = {}
            log(
                f"load: {args.bookings} bookings, {args.people} people at once; the primary "
                f"is stopped after {args.bookings // 3} are confirmed"
            )
            load_began = time.monotonic()
            for thread in [*crowd, reader]:
                thread.start()
            while len(load.confirmed_at) < args.bookings // 3:
                if not any(thread.is_alive() for thread in crowd):
                    break
                time.sleep(0.05)
            before_crash = len(load.confirmed_at)
            timeline["crash"] = time.monotonic()
            primary.stop("immediate")
            log(f"primary stopped (immediate) after {before_crash} confirmed bookings")
            time.sleep(args.detect)
            timeline["promote"] = time.monotonic()
            replica.promote()
            if bouncer is not None:
                bouncer.repoint(replica.port)
            timeline["promoted"] = time.monotonic()
            log(
                f"replica promoted in {timeline['promoted'] - timeline['promote']:.1f} s"
                + ("; PgBouncer re-pointed" if bouncer else "")
            )
            # This process's own connection follows, for the checks.
            connections["default"].settings_dict.update(PORT=replica.port)
            for thread in crowd:
                thread.join(timeout=600)
            stop.set()
            reader.join(timeout=30)
            load_seconds = time.monotonic() - load_began
            time.sleep(2)  # the last webhooks
            connections.close_all()
            checked = check_database(organisation, session_ids, load.seen_confirmed)
            taken = stripe_payments(stripe_base)
            from booking.models import Payment

            connection.set_tenant(organisation)
            warm_recorded = set(
                Payment.objects.filter(booking__session_id__in=warm_dates).values_list(
                    "stripe_payment_intent_id", flat=True
                )
            )
            taken_drill = set(taken) - warm_recorded
            connections.close_all()
    finally:
        if stack is not None:
            stack.stop()
        if bouncer is not None:
            bouncer.stop()
        for server in (primary, replica):
            try:
                server.stop()
            except subprocess.CalledProcessError:
                pass  # already stopped
        errors = sum(
            (root / "stack" / f"web{n}.log").read_text().count("Traceback")
            for n in (1, 2)
            if (root / "stack" / f"web{n}.log").exists()
        )
        kept = os.environ.get("DRILL_KEEP_LOGS")
        if kept:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    # --- the figures ---
    crash, promoted = timeline["crash"], timeline["promoted"]
    after = [t for t in load.failures if t >= crash]
    refusal = (max(after) - crash) if after else 0.0
    first_confirmed = next((t - crash for t in sorted(load.confirmed_at) if t > crash), None)
    timings = load.timings
    p95 = http_load.percentile(timings.all(), 0.95) * 1000
    attempted = args.bookings
    confirmed = checked["confirmed"]
    lost = (
        len(checked["seen confirmed, missing"])
        + len(checked["paid not placed"])
        + len(taken_drill - checked["recorded"])
    )
    doubled = len(checked["doubled"]) + len(checked["offers booked twice"]) + len(checked["confirmations not one"])
    print(
        "Failover drill (bench/scale_drill.py)"
        + (" --short" if args.short else "")
        + (" --async" if args.asynchronous else "")
        + (" --multihost" if args.multihost else "")
    )
    print(
        f"  HAProxy -> 2 gunicorn ({args.workers} sync workers each, DEBUG off) -> {via}; "
        f"primary + streaming replica (PostgreSQL 15, "
        f"{'asynchronous' if args.asynchronous else 'synchronous'} replication, fsync on); "
        f"a Celery worker; {os.cpu_count()} CPUs; load average "
        f"{'/'.join(f'{v:.2f}' for v in os.getloadavg())}; total "
        f"{(time.perf_counter() - began) / 60:.1f} min"
    )
    print(
        f"  {args.people} people at once; the primary killed (pg_ctl -m immediate) after "
        f"{before_crash} confirmed bookings; promoted {args.detect:.0f} s later "
        f"(pg_ctl promote took {promoted - timeline['promote']:.1f} s)"
    )
    print()
    print(
        f"  bookings attempted {attempted}; confirmed in the database {confirmed}; seen "
        f"confirmed by the people {len(load.seen_confirmed)}; gave up "
        f"{load.outcomes['gave up']}; journeys started again "
        f"{load.outcomes['journeys started again']}"
    )
    print(
        f"  payments taken by Stripe {len(taken_drill)}, recorded {len(checked['recorded'])}, "
        f"refunded {checked['refunded']}; settled by the job afterwards "
        f"{json.dumps(checked['settled'])}; webhook events retried "
        f"{json.dumps(checked['retried'])}"
    )
    print(
        f"  lost {lost} (seen confirmed but missing {len(checked['seen confirmed, missing'])}, "
        f"paid but not placed {len(checked['paid not placed'])}, taken but not recorded "
        f"{len(taken_drill - checked['recorded'])}); doubled {doubled}; dates whose seat "
        f"count differs from their bookings {len(checked['seats wrong'])}"
    )
    first = f"{first_confirmed:.1f} s" if first_confirmed is not None else "none"
    print(
        f"  refusal: requests failed (5xx or unanswered) {len(load.failures)}, the last "
        f"{refusal:.1f} s after the crash; first booking confirmed after the crash {first}"
    )
    print(
        f"  {confirmed / load_seconds:.2f} confirmed bookings/s over the {load_seconds:.0f} s "
        f"of load; p95 of every request {p95:.0f} ms; journey p50 "
        f"{http_load.ms(http_load.percentile(load.journeys, 0.5))} ms, p95 "
        f"{http_load.ms(http_load.percentile(load.journeys, 0.95))} ms; server tracebacks "
        f"logged {errors}"
    )
    http_load.step_table(timings, "per step (the retries included):")
    print()
    exact = lost == 0 and doubled == 0 and not checked["seats wrong"]
    print(f"  0 bookings lost or doubled, seats exact: {http_load.verdict(exact)}")
    print(
        f"  refusal under {GOAL_REFUSAL_SECONDS:.0f} s: "
        f"{http_load.verdict(refusal < GOAL_REFUSAL_SECONDS)} ({refusal:.1f} s)"
    )
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
