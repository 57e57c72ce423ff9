"""Failover drill: people book and pay through HAProxy, two gunicorn web hosts, PgBouncer
(session mode) and a primary PostgreSQL with a streaming replica; the primary is killed mid-load,
the replica promoted and PgBouncer re-pointed at it; then the database is asked whether any
booking was lost or doubled, and the web hosts whether they kept anything.

Run it:

    .venv/bin/python bench/scale_drill.py            # about 600 bookings (several minutes)
    .venv/bin/python bench/scale_drill.py --short    # 200 bookings, for CI
    .venv/bin/python bench/scale_drill.py --loopback # every process on this machine's loopback
    make scale-drill                                 # the full run, installing what is missing

Hosts mode (the default, as root): every host is a network namespace of its own on this machine
(bench/netns_hosts.py: veths into a bridge in a "switch" namespace, 10.87.0.0/24, nothing bound
in the root namespace): lb (HAProxy on :80), web1 and web2 (one gunicorn each, the production
settings, DEBUG off, each with its own empty MEDIA_ROOT and TMPDIR), worker (Celery worker and
beat), db (the primary and PgBouncer), db2 (the replica), svc (a private redis-server for the
cache and the broker, localstripe, and moto_server as the S3-compatible object store the logos
go to through django-storages), client (this script again, `--in-hosts`: the set-up, the people,
the staff members and the checks). localstripe's webhook goes to the LB's address, as Stripe
would reach the public endpoint; PLATFORM_DOMAIN is that address, so the drill's client is
drill.10.87.0.2. Without root or `ip` the drill says so and runs in loopback mode.

Loopback mode (--loopback, or the fallback): the same processes on free loopback ports, in a
temporary directory removed at the end. Redis is BENCH_REDIS_URL if set, else a private
redis-server on a free loopback port.

Either way: a private PostgreSQL 15 primary (Debian's binaries, fsync on, synchronous
replication to the replica unless --async), its replica (pg_basebackup -R), PgBouncer in session
mode in front of the primary (the app's DATABASE_URL), the replica as DATABASE_REPLICA_URL (the
report pages' reads). Set-up is bench/http_load.py's: one client, card payments on, 24-seat
course dates, an offer for each person.

Statelessness, before the load: a client administrator signs in on web1's address directly and
the same session cookie is used on web2's; the administrator uploads a logo through the LB (the
branding page), and web1 and web2 must each serve those same bytes. After the drill, every web
host's MEDIA_ROOT must still be empty.

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
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import http_load  # noqa: I001 - sets PLATFORM_DOMAIN before harness sets Django up
import netns_hosts
from harness import ROOT, bench_database, log

sys.path.insert(0, str(ROOT))
from tests.private_services import (  # noqa: E402
    PGBOUNCER,
    PrivatePgBouncer,
    PrivatePostgres,
    free_port,
    give_to_postgres,
    wait_for_port,
)

DATABASE = "waymark_bench_drill"
CAPACITY = http_load.CAPACITY
RETRY_FOR = 60.0
PAUSE = 0.25
GOAL_REFUSAL_SECONDS = 30.0
# The drill's own, kept between runs so collectstatic copies only what changed; not
# bench/http_load.py's, which another bench may be rewriting (its manifest with it) meanwhile.
STATIC_CACHE = Path(tempfile.gettempdir()) / "waymark-scale-drill-static"
BUCKET = "waymark-drill-media"
S3_REGION = "eu-west-2"
S3_KEY, S3_SECRET = "drill", "drill-not-a-secret"  # noqa: S105 - moto accepts any pair
LOGO_PAGE = "/manage/configure/branding/"
ADMIN_EMAIL = "client-admin@drill.example"
# localstripe's own module binds 127.0.0.1; on a host of its own it must bind that host's
# address, so aiohttp's run_app is given it (the module itself is left as it is).
LOCALSTRIPE = (
    "import sys; from aiohttp import web; run = web.run_app; "
    "web.run_app = lambda app, **kw: run(app, **{**kw, 'host': sys.argv[1]}); "
    "from config.localstripe_server import serve; serve(int(sys.argv[2]), None)"
)


def parse_args(argv=None):
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
    parser.add_argument(
        "--loopback", action="store_true", help="every process on this machine's loopback, no namespaces"
    )
    # The hosts mode's second half: this script again, run on the client host.
    parser.add_argument("--in-hosts", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fallback", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.bookings = args.bookings or (200 if args.short else 600)
    return args


def ensure_packages() -> None:
    """PgBouncer, HAProxy and redis-server from Debian, installed when missing (as root), as
    .ci/run does for chromium."""
    missing = [
        name
        for name, path in (("pgbouncer", PGBOUNCER), ("haproxy", "haproxy"), ("redis-server", "redis-server"))
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


class Place:
    """Where a process runs: an address to bind and reach it on, and the command prefix that
    puts it there (nothing on loopback; `ip netns exec wm-<host>` on a host)."""

    def __init__(self, name: str, address: str, on: list[str], namespace: str = ""):
        self.name, self.address, self.on, self.namespace = name, address, on, namespace


class Topology:
    """The places of every part of the drill. Loopback: all 127.0.0.1, free ports. Hosts: one
    namespace each (bench/netns_hosts.py), each service on its usual port."""

    ROLES = {
        "lb": "HAProxy",
        "web1": "gunicorn",
        "web2": "gunicorn",
        "worker": "Celery worker and beat",
        "db": "PostgreSQL primary, PgBouncer",
        "db2": "PostgreSQL streaming replica",
        "svc": "redis-server, localstripe, moto_server (S3)",
        "client": "the people, the staff members, the checks",
    }

    def __init__(self, hosts: "netns_hosts.Hosts | None"):
        self.hosts = hosts
        if hosts is None:
            self.places = {name: Place(name, "127.0.0.1", []) for name in self.ROLES}
        else:
            self.places = {
                name: Place(name, hosts.addresses[name], hosts.run_on(name), hosts.namespace(name))
                for name in self.ROLES
            }
        self.ports: dict[str, int] = {}

    @property
    def mode(self) -> str:
        return "hosts" if self.hosts else "loopback"

    def __getitem__(self, name: str) -> Place:
        return self.places[name]

    def port(self, service: str, usual: int) -> int:
        # On loopback every service shares one address, so each takes a free port.
        self.ports[service] = usual if self.hosts else free_port()
        return self.ports[service]

    def base(self, place: str, port: int) -> str:
        address = self[place].address
        return f"http://{address}" if port == 80 else f"http://{address}:{port}"

    def describe(self) -> list[str]:
        if self.hosts is None:
            return ["every process on 127.0.0.1 (loopback mode)"]
        return [
            f"{place.namespace:<10} {place.address:<11} {self.ROLES[name]}" for name, place in self.places.items()
        ] + [f"{netns_hosts.SWITCH:<10} {'(none)':<11} the bridge {netns_hosts.BRIDGE}, one veth per host"]


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
    bind {address}:{port}
    default_backend app
backend app
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz hdr Host {check_host}
{servers}
"""


class Stack:
    """Redis (unless given), moto_server, localstripe, two gunicorn processes, HAProxy, and a
    Celery worker and beat, each at its place."""

    def __init__(self, topology: Topology, work: Path, env: dict, workers: int):
        self.topology, self.work, self.env, self.workers = topology, work, env, workers
        self.processes: list[subprocess.Popen] = []
        self.media: dict[str, Path] = {}
        self.tmp: dict[str, Path] = {}

    def _start(self, name: str, place: Place, command: list[str], env: dict | None = None) -> subprocess.Popen:
        output = open(self.work / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [*place.on, *command], cwd=ROOT, env=env or self.env, stdout=output, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        return process

    def start_services(self, redis_url: str | None) -> str:
        """The svc host's: a private redis-server unless `redis_url` is given, and the object
        store with its bucket. Returns the Redis URL."""
        svc = self.topology["svc"]
        if not redis_url:
            port = self.topology.port("redis", 6379)
            (self.work / "redis").mkdir()
            self._start(
                "redis",
                svc,
                [
                    "redis-server",
                    "--bind",
                    svc.address,
                    "--port",
                    str(port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--protected-mode",
                    "no",
                    "--dir",
                    str(self.work / "redis"),
                ],
            )
            wait_for_port(port, host=svc.address)
            redis_url = f"redis://{svc.address}:{port}/0"
        port = self.topology.port("s3", 5000)
        self._start(
            "moto", svc, [str(Path(sys.executable).parent / "moto_server"), "-H", svc.address, "-p", str(port)]
        )
        self.s3_endpoint = self.topology.base("svc", port)
        wait_for_port(port, seconds=60, host=svc.address)
        self.s3().create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
        self.env.update(
            AWS_STORAGE_BUCKET_NAME=BUCKET,
            AWS_S3_ENDPOINT_URL=self.s3_endpoint,
            AWS_ACCESS_KEY_ID=S3_KEY,
            AWS_SECRET_ACCESS_KEY=S3_SECRET,
            AWS_S3_REGION_NAME=S3_REGION,
        )
        return redis_url

    def s3(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            region_name=S3_REGION,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
        )

    def bucket_keys(self) -> list[str]:
        return [item["Key"] for item in self.s3().list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    def start(self) -> tuple[str, str, list[str]]:
        python = sys.executable
        bin_dir = Path(python).parent
        top = self.topology
        svc, lb = top["svc"], top["lb"]
        stripe_port = top.port("localstripe", 8420)
        stripe_base = top.base("svc", stripe_port)
        self.env["STRIPE_API_BASE"] = stripe_base
        log(f"collectstatic (the manifest storage) into {STATIC_CACHE}")
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True
        )
        self._start("localstripe", svc, [python, "-c", LOCALSTRIPE, svc.address, str(stripe_port)])
        http_load.wait_for(stripe_base + "/v1/tokens")
        web_bases = []
        for number in (1, 2):
            name = f"web{number}"
            place, port = top[name], top.port(name, 8000)
            # Nothing a web host keeps may matter: each has its own, empty, media and temporary
            # directories, checked again after the drill.
            self.media[name], self.tmp[name] = self.work / name / "media", self.work / name / "tmp"
            self.media[name].mkdir(parents=True)
            self.tmp[name].mkdir()
            env = {**self.env, "MEDIA_ROOT": str(self.media[name]), "TMPDIR": str(self.tmp[name])}
            self._start(
                name,
                place,
                [
                    str(bin_dir / "gunicorn"),
                    "config.wsgi:application",
                    "--bind",
                    f"{place.address}:{port}",
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
                env=env,
            )
            web_bases.append(top.base(name, port))
        worker = top["worker"]
        self._start(
            "worker",
            worker,
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
        self._start(
            "beat",
            worker,
            [
                str(bin_dir / "celery"),
                "-A",
                "config.celery",
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(self.work / "beat-schedule"),
            ],
        )
        check_host = self.env["PLATFORM_DOMAIN"]
        for web in web_bases:
            http_load.wait_for(f"{web}/healthz", headers={"Host": check_host, "X-Forwarded-Proto": "https"})
        servers = "\n".join(
            f"    server web{n} {top[f'web{n}'].address}:{top.ports[f'web{n}']} check inter 2s fall 3 rise 1"
            for n in (1, 2)
        )
        front = top.port("lb", 80)
        config = self.work / "haproxy.cfg"
        config.write_text(
            HAPROXY_CONFIG.format(address=lb.address, port=front, check_host=check_host, servers=servers)
        )
        self._start("haproxy", lb, ["haproxy", "-db", "-f", str(config)])
        wait_for_port(front, host=lb.address)
        base = top.base("lb", front)
        http_load.wait_for(base + "/healthz", headers={"Host": check_host})
        import requests

        requests.post(
            f"{stripe_base}/_config/webhooks/drill",
            timeout=5,
            data={"url": f"{base}/webhooks/stripe/", "secret": http_load.WEBHOOK_SECRET},
        )
        log(
            f"HAProxy on {base} -> gunicorn on {web_bases} ({self.workers} workers each); "
            f"localstripe on {stripe_base}; object store on {self.s3_endpoint}; a Celery worker and "
            f"beat; logs in {self.work}"
        )
        return base, stripe_base, web_bases

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def left_on_web_hosts(self) -> dict[str, tuple[int, int]]:
        """Files under each web host's MEDIA_ROOT and TMPDIR."""

        def files(path: Path) -> int:
            return sum(1 for p in path.rglob("*") if p.is_file())

        return {name: (files(self.media[name]), files(self.tmp[name])) for name in self.media}


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
    last = ""
    while time.monotonic() < deadline:
        try:
            response = call()
        except requests.RequestException as error:
            load.failed()
            last = f"{type(error).__name__}: {str(error)[:160]}"
            time.sleep(PAUSE)
            continue
        if response.status_code >= 500:
            load.failed()
            last = f"{response.status_code} {response.request.method} {response.request.path_url}"
            time.sleep(PAUSE)
            continue
        try:
            finished = done(response)
        except ValueError:  # not the JSON the card step answers with
            finished = False
        if finished:
            return response
        raise Restart(f"{response.status_code} {response.headers.get('Location', '')}")
    raise Restart(f"gave up after 60 s (the last: {last})")


def redirect_to(prefix):
    return lambda r: r.status_code == 302 and r.headers.get("Location", "").startswith(prefix)


def ok(response):
    return response.status_code == 200


def journey(load: Load, browser, offer: dict, session_id: int, stripe_base: str) -> None:

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
        token = http_load.card_token(stripe_base)
        return browser.request(
            "card", "POST", pay_path + "card/", json={"token": token}, headers={"X-CSRFToken": browser.csrf}
        )

    response = step(load, card, lambda r: r.status_code == 200 and r.json().get("status") == "succeeded")
    done = response.json()["redirect"]
    if not done.startswith("/book/confirmation/"):  # not settled by the card request itself
        done = step(load, lambda: browser.get("return", done), redirect_to("/book/confirmation/")).headers["Location"]
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


def logo_png() -> bytes:
    from PIL import Image

    data = io.BytesIO()
    Image.new("RGB", (120, 40), "#6a1b5d").save(data, "PNG")
    return data.getvalue()


def stateless_checks(base: str, web_bases: list[str], host: str) -> dict:
    """A session made on web1 used on web2; a logo uploaded through the LB served by both."""
    timings = http_load.Timings()  # not the load's figures
    on_web1 = http_load.Browser(web_bases[0], host, timings)
    http_load.sign_in(on_web1, ADMIN_EMAIL)
    on_web2 = http_load.Browser(web_bases[1], host, timings)
    on_web2.cookies = dict(on_web1.cookies)
    signed_in_web2 = on_web2.get("session on web2", "/manage/")
    through_lb = http_load.Browser(base, host, timings)
    through_lb.cookies = dict(on_web1.cookies)
    through_lb.get("branding page", LOGO_PAGE)
    png = logo_png()
    upload = through_lb.http.post(
        base + LOGO_PAGE,
        data={"csrfmiddlewaretoken": through_lb.csrf, "action": "logo"},
        files={"logo": ("drill-logo.png", png, "image/png")},
        headers={
            "Host": host,
            "X-Forwarded-Proto": "https",
            "Referer": f"https://{host}{LOGO_PAGE}",
            "Origin": f"https://{host}",
            "Connection": "close",
        },
        cookies=dict(through_lb.cookies),
        allow_redirects=False,
        timeout=60,
    )
    served = []
    for web in web_bases:
        response = http_load.Browser(web, host, timings).get("logo", "/branding/logo/")
        served.append((response.status_code, response.content))
    return {
        "session": signed_in_web2.status_code == 200,
        "session status": signed_in_web2.status_code,
        "upload status": upload.status_code,
        "served": [(status, len(body), body == png) for status, body in served],
        "logo": upload.status_code == 302 and all(status == 200 and body == png for status, body in served),
        "png bytes": len(png),
    }


def run_drill(args, topology: Topology):  # noqa: C901, PLR0912, PLR0915 - one drill, in order
    began = time.perf_counter()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        # SystemExit unwinds the try/finally below, which stops every server.
        signal.signal(sig, lambda number, _frame: sys.exit(128 + number))
    db, db2 = topology["db"], topology["db2"]
    network = f"{netns_hosts.SUBNET}.0/24" if topology.hosts else None
    given_redis = None if topology.hosts else os.environ.get("BENCH_REDIS_URL")
    root = Path(tempfile.mkdtemp(prefix="waymark-drill-"))
    give_to_postgres(root)  # PostgreSQL, run as postgres, must reach its directories inside
    for place in ("db", "db2"):
        (root / place).mkdir()
    primary = PrivatePostgres(
        root / "db",
        name="primary",
        max_connections=200,
        durable=True,
        address=db.address,
        port=topology.port("primary", 5432),
        on=db.on,
        allow=network,
    )
    replica = PrivatePostgres(
        root / "db2",
        name="replica",
        max_connections=200,
        durable=True,
        address=db2.address,
        port=topology.port("replica", 5432),
        on=db2.on,
        allow=network,
    )
    bouncer, stack, left = None, None, {}
    try:
        work = root / "stack"
        work.mkdir()
        (work / "settings").mkdir()
        (work / "settings" / "bench_http_settings.py").write_text(http_load.SETTINGS_WRAPPER)
        # The platform's own domain is the LB's address, where localstripe sends its webhook.
        os.environ["PLATFORM_DOMAIN"] = topology["lb"].address
        env = http_load.server_environment("", "", "", str(STATIC_CACHE), str(work / "settings"), "")
        env["PLATFORM_DOMAIN"] = topology["lb"].address
        stack = Stack(topology, work, env, args.workers)
        redis_url = stack.start_services(given_redis)
        env["REDIS_URL"] = redis_url
        # This process's Django uses the same Redis, so what it changes reaches the servers' caches.
        os.environ["REDIS_URL"] = redis_url
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        primary.init()
        primary.start()
        with bench_database(primary.url(DATABASE), keep=True):
            from django.db import connection, connections
            from django.utils import timezone

            from accounts.models import Membership, User
            from accounts.roles import Role
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
            admin = User.objects.create_user(email=ADMIN_EMAIL, password=http_load.STAFF_PASSWORD)
            Membership.objects.create(user=admin, organisation=organisation, role=Role.CLIENT_ADMIN)
            connections.close_all()

            log("replica: pg_basebackup -R from the primary")
            replica.init_replica_of(primary)
            replica.start()
            replica.wait_until_replayed(primary)
            if not args.asynchronous:
                # Only now: with no standby yet, every commit would wait for one.
                primary.psql("ALTER SYSTEM SET synchronous_standby_names = '*'")
                primary.psql("SELECT pg_reload_conf()")
            if args.multihost:
                # libpq's multi-host string; the settings' DATABASE_URL names only the database.
                app_url = f"postgres://postgres@/{DATABASE}"
                via = (
                    f"libpq host={primary.address},{replica.address} port={primary.port},{replica.port} "
                    "target_session_attrs=read-write (no PgBouncer)"
                )
                env.update(
                    PGHOST=f"{primary.address},{replica.address}",
                    PGPORT=f"{primary.port},{replica.port}",
                    PGTARGETSESSIONATTRS="read-write",
                    PGCONNECT_TIMEOUT="3",
                )
            else:
                bouncer = PrivatePgBouncer(
                    root / "db",
                    primary.port,
                    pool_mode="session",
                    pool_size=60,
                    query_wait_timeout=10,
                    address=db.address,
                    port=topology.port("pgbouncer", 6432),
                    server_host=primary.address,
                    on=db.on,
                )
                bouncer.start()
                app_url = bouncer.url(DATABASE)
                via = f"PgBouncer 1.18 session mode on {db.address}:{bouncer.port}, re-pointed on failover"
            env["DATABASE_URL"] = app_url
            env["DATABASE_REPLICA_URL"] = replica.url(DATABASE)
            base, stripe_base, web_bases = stack.start()

            log("statelessness: a session from web1 on web2; a logo through the LB from both")
            stateless = stateless_checks(base, web_bases, host)
            bucket = stack.bucket_keys()
            log(f"  {stateless}; bucket {bucket}")

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
                raise SystemExit(
                    f"warm-up failed: {warm.outcomes} {dict(warm.timings.statuses)} {warm.timings.errors[:3]}"
                )

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
                bouncer.repoint(replica.port, replica.address)
            timeline["promoted"] = time.monotonic()
            log(
                f"replica promoted in {timeline['promoted'] - timeline['promote']:.1f} s"
                + ("; PgBouncer re-pointed" if bouncer else "")
            )
            # This process's own connection follows, for the checks.
            connections["default"].settings_dict.update(HOST=replica.address, PORT=replica.port)
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
            if stack.media:
                left = stack.left_on_web_hosts()
        if bouncer is not None:
            bouncer.stop()
        for server in (primary, replica):
            try:
                server.stop()
            except subprocess.CalledProcessError:
                pass  # already stopped, or never started
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
        f"Failover drill (bench/scale_drill.py), {topology.mode} mode"
        + (" --short" if args.short else "")
        + (" --async" if args.asynchronous else "")
        + (" --multihost" if args.multihost else "")
    )
    if args.fallback:
        print(f"  hosts mode not possible here ({args.fallback}): ran in loopback mode instead")
    print(
        f"  HAProxy -> 2 gunicorn ({args.workers} sync workers each, DEBUG off) -> {via}; "
        f"primary + streaming replica (PostgreSQL 15, "
        f"{'asynchronous' if args.asynchronous else 'synchronous'} replication, fsync on); "
        f"a Celery worker and beat; {os.cpu_count()} CPUs; load average "
        f"{'/'.join(f'{v:.2f}' for v in os.getloadavg())}; total "
        f"{(time.perf_counter() - began) / 60:.1f} min"
    )
    print("  hosts:")
    for line in topology.describe():
        print(f"    {line}")
    print(
        f"  LB {base}; web {', '.join(web_bases)}; Redis {redis_url}; object store "
        f"{stack.s3_endpoint} (bucket {BUCKET}); localstripe {stripe_base}, its webhook to "
        f"{base}/webhooks/stripe/"
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
        f"  refusal: requests failed (5xx or unanswered) {len(load.failures)} of "
        f"{len(timings.all())} requests, the last {refusal:.1f} s after the crash; "
        f"first booking confirmed after the crash {first}"
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
    served = "; ".join(
        f"web{n} {status}, {size} bytes, {'identical' if same else 'DIFFERENT'}"
        for n, (status, size, same) in enumerate(stateless["served"], 1)
    )
    print(
        f"  statelessness: signed in on web1, the same cookie on web2's /manage/ answered "
        f"{stateless['session status']}; logo ({stateless['png bytes']} bytes) uploaded through "
        f"the LB answered {stateless['upload status']}, then served by {served}; in the bucket: "
        f"{', '.join(bucket) or 'nothing'}"
    )
    print(
        "  left on the web hosts after the drill (files in MEDIA_ROOT, in TMPDIR): "
        + ", ".join(f"{name} {media}, {tmp}" for name, (media, tmp) in left.items())
    )
    media_empty = bool(left) and all(media == 0 for media, _tmp in left.values())
    print()
    print(f"  0 bookings lost: {http_load.verdict(lost == 0)} ({lost})")
    print(f"  0 bookings doubled: {http_load.verdict(doubled == 0)} ({doubled})")
    print(f"  seat counts exact: {http_load.verdict(not checked['seats wrong'])}")
    print(
        f"  refusal under {GOAL_REFUSAL_SECONDS:.0f} s: "
        f"{http_load.verdict(refusal < GOAL_REFUSAL_SECONDS)} ({refusal:.1f} s)"
    )
    print(f"  a session made on web1 works on web2: {http_load.verdict(stateless['session'])}")
    print(
        f"  the logo uploaded through the LB served identically by web1 and web2: "
        f"{http_load.verdict(stateless['logo'])}"
    )
    print(f"  every web host's MEDIA_ROOT empty after the drill: {http_load.verdict(media_empty)}")
    exact = lost == 0 and doubled == 0 and not checked["seats wrong"]
    if not (exact and stateless["session"] and stateless["logo"] and media_empty):
        sys.exit(1)


def hosts_mode(args) -> int:
    """Builds the hosts, runs this script again on the client host, and always removes them."""
    hosts = netns_hosts.Hosts()
    try:
        hosts.up()
    except (subprocess.CalledProcessError, RuntimeError, OSError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        hosts.down()
        return fallback(args, f"the namespaces could not be made: {detail.strip()}")
    log("hosts: " + "; ".join(hosts.describe()))
    inner = None
    try:
        inner = subprocess.Popen(
            [*hosts.run_on("client"), sys.executable, str(Path(__file__).resolve()), "--in-hosts", *sys.argv[1:]],
            cwd=ROOT,
        )
        return inner.wait()
    finally:
        if inner is not None and inner.poll() is None:
            # Interrupted: the drill's own finally stops its servers; whatever it leaves, the
            # namespaces' teardown kills.
            inner.terminate()
            try:
                inner.wait(timeout=60)
            except subprocess.TimeoutExpired:
                inner.kill()
        hosts.down()


def fallback(args, reason: str) -> int:
    log(f"HOSTS MODE NOT POSSIBLE: {reason}. Running the drill in loopback mode instead.")
    return subprocess.call(
        [sys.executable, str(Path(__file__).resolve()), "--loopback", "--fallback", reason, *sys.argv[1:]],
        cwd=ROOT,
    )


def main():
    args = parse_args()
    if args.in_hosts:
        run_drill(args, Topology(netns_hosts.Hosts()))
    elif args.loopback:
        ensure_packages()
        run_drill(args, Topology(None))
    else:
        reason = netns_hosts.unavailable()
        if reason:
            sys.exit(fallback(args, reason))
        ensure_packages()
        sys.exit(hosts_mode(args))


if __name__ == "__main__":
    main()
