"""HTTP load test: the offender's journey, the staff pages and host routing, through gunicorn as
production runs it.

(Not bench/http.py: the scripts here run with bench/ first on sys.path, where a file http.py
would shadow the standard library's http for every one of them.)

Run it:

    .venv/bin/python bench/http_load.py            # the full run (a few minutes)
    .venv/bin/python bench/http_load.py --quick    # small sizes, a smoke run (about 2 minutes)
    make bench-http                           # the full run

Like the other benches it never touches development or test data: it creates its OWN database,
by default `waymark_bench_http` on the server in BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/waymark_bench_http; the name must contain "bench"), dropped
again at the end unless --keep. The servers' Redis is BENCH_REDIS_URL (default
redis://127.0.0.1:6379/10). Set-up (in this process, development settings): the Makefile's
`migrate` with call_command, one client "bench-http" onboarded through onboard_client, card
payments switched on for it (a test Stripe account id, as tests/conftest.py does), a venue, course
dates and offers bulk-created as bench/booking.py does, two staff users with passwords.

Then it starts, on free loopback ports only:
  - localstripe (python -m config.localstripe_server), with a webhook registered to the app's
    /webhooks/stripe/ signed with the app's STRIPE_WEBHOOK_SECRET, as Stripe would;
  - gunicorn as docker/Dockerfile runs it: `config.wsgi:application`, DEBUG off (production
    settings: SECRET_KEY, TRUSTED_PROXY_HOPS=0, STRIPE_* given), its flags (--timeout 30,
    --max-requests 2000 --max-requests-jitter 1000 ...), bound to 127.0.0.1 only, 3
    gthread workers of 4 threads (WEB_CONCURRENCY and GUNICORN_THREADS override).
    PLATFORM_DOMAIN is 127.0.0.1, so localstripe's webhook (sent to
    http://127.0.0.1:port/) reaches the control plane, and the client's domain is
    bench-http.127.0.0.1. The settings module is a two-line wrapper of config.settings whose only
    change is STATIC_ROOT (a temporary directory): production's compressed manifest storage needs
    collectstatic, which is run into it first, so the shared .data/ is not written.
    SECURE_SSL_REDIRECT is off as behind a TLS-terminating proxy; every request carries
    X-Forwarded-Proto: https (and Origin for CSRF), as the proxy would send.

The load is Locust (bench/locustfile.py: FastHttpUser people and staff, headless, bounded in
users and seconds, 127.0.0.1 only), run by this script in a process of its own for each part,
so gevent stays out of this process, which also runs Django for the fixtures and the checks;
each request is timed on its own step (redirects followed by hand) and the times come back in a
file. The load generator shares the machine's cores with the server. First a warm-up (2 paid
bookings per worker, not timed), so that every worker has imported, compiled its templates and
connected. What it measures:

(a) The racing crowd: one 24-seat course date; 60 and 200 people (--quick 30 and 60), each with
    their own offer, released together (a barrier in the Locust process) to walk find -> where
    -> dates, then released together again to post the same date (the hold). Exactly 24 must get the details
    page, the rest the "just filled" page (400); no 5xx; p50/p95 per step; the database is asked
    for live holds on the date afterwards.
(b) Throughput: --threads people at once (default 10) walk the whole journey, each booking on its
    own offer over many 24-seat dates (20 bookings each): find, where, dates, details, check, the
    payment page (which makes the PaymentIntent), a card token from localstripe (what Stripe.js
    does in the browser), the card POST as payment.js sends it (JSON + X-CSRFToken), the
    confirmation page it answers with (the return page only when the card request did not
    settle the payment itself). Confirmed bookings per second (wall clock), p95 of each step and
    of all requests; afterwards the database is asked how many bookings are confirmed and how
    many payment_intent.succeeded webhooks were handled.
(c) Staff pages under the same load: while (b) runs, --staff users (default 2) loop over the
    /manage/ dashboard, an offenders search, the course dates list and the contact centre's home
    page, signed in for real through the sign-in form (client staff need no second factor).
(d) Routing overhead (no Locust: one request at a time, through `requests`, measures latency,
    not load): one client's start page, requested one at a time (400 requests, --quick
    100, after 50 warm-up requests), with 2, 1,000 and 10,000 clients present, then with 2 again
    (to show drift). The extra clients are public-schema rows (ClientOrganisation + Domain,
    bulk-created, no schema: host routing looks up only the domain requested, and
    tenants/routing_cache.py remembers it per process until a domain or client changes;
    bulk_create sends no signals, so the cache is not emptied by adding them), ANALYZEd.

--profile N instead profiles N paid bookings, one at a time, in one gunicorn worker: gunicorn
server hooks (a config file given with -c; the application is not touched) run each request
under cProfile, the webhook's included, and the stats of all are printed together.

Figures go to stdout with MET / NOT MET against issue 13's goals; progress to stderr. Other work
on the machine shows up in the figures, so the load average is printed with them.
"""

import argparse
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

# Before harness sets Django up: the platform domain is the loopback address (see above).
os.environ["PLATFORM_DOMAIN"] = "127.0.0.1"

from harness import ROOT, bench_database, database_name, log, migrate  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/waymark_bench_http"
DEFAULT_REDIS = "redis://127.0.0.1:6379/10"
CAPACITY = 24
WEBHOOK_SECRET = "whsec_bench_http"
GOAL_BOOKINGS_PER_SECOND = 50.0
GOAL_BOOKING_P95_MS = 300.0
GOAL_RACE_P95_MS = 1000.0
GOAL_ROUTING_OVERHEAD = 0.10
DOB = "1985-03-27"
POSTCODE = "CM1 1QH"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REQUEST_KEY_INPUT = re.compile(r'type="hidden" name="(request_key[^"]*)" value="([^"]+)"')
# The image's defaults (docker/Dockerfile): 3 gthread workers of 4 threads on 2 cores.
DEFAULT_WORKERS = 3
THREADS_PER_WORKER = int(os.environ.get("GUNICORN_THREADS", "4"))
# GUNICORN_WORKER_CLASS=sync (with WEB_CONCURRENCY=5, GUNICORN_THREADS=1) for the old set-up.
WORKER_CLASS = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
STAFF_PASSWORD = "bench-http-staff-password-1"  # noqa: S105 - a throwaway bench account


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--threads", type=int, default=10, help="people at once in (b)")
    parser.add_argument("--staff", type=int, default=2, help="staff users during (b)")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="instead of (a)-(d): cProfile N paid bookings, one at a time, in "
                             "one gunicorn worker (server hooks; the webhook included)")
    args = parser.parse_args()
    if args.quick:
        args.crowds, args.bookings, args.seconds, args.routing, args.clients = (
            [30, 40], 20, 15, 80, [2, 1000])
    else:
        args.crowds, args.bookings, args.seconds, args.routing, args.clients = (
            [60, 200], 1200, 120, 400, [2, 1000, 10000])
    return args


# --- Figures -------------------------------------------------------------------------------

def percentile(values, share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, int(round(share * len(ordered) + 0.5 - 1e-9)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


class Timings:
    """Request times by step, and status codes, shared by the threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.steps: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[int, int] = defaultdict(int)
        self.errors: list[str] = []

    def add(self, step: str, seconds: float, status: int) -> None:
        with self.lock:
            self.steps[step].append(seconds)
            self.statuses[status] += 1

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def all(self) -> list[float]:
        return [t for times in self.steps.values() for t in times]

    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


# --- Servers -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, headers=None, seconds=60) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, headers=headers or {}, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def server_environment(database_url: str, redis_url: str, stripe_base: str, static_root: str,
                       settings_dir: str, media_root: str) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DEBUG", "DJANGO_SETTINGS_MODULE", "EMAIL_URL")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "bench_http_settings",
        "PYTHONPATH": os.pathsep.join([settings_dir, str(ROOT / "platform"), str(ROOT)]),
        "BENCH_STATIC_ROOT": static_root, "MEDIA_ROOT": media_root,
        "DEBUG": "0", "SECRET_KEY": "bench-http-only-not-a-secret-" + "x" * 32,
        "TRUSTED_PROXY_HOPS": "0", "SECURE_SSL_REDIRECT": "0",
        "PLATFORM_DOMAIN": "127.0.0.1", "PUBLIC_SCHEME": "https",
        "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "STRIPE_SECRET_KEY": "sk_test_bench_http", "STRIPE_PUBLISHABLE_KEY": "pk_test_bench_http",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": stripe_base,
        "EMAIL_URL": "locmem://",
    })
    return env


SETTINGS_WRAPPER = '''"""Production settings, but static files collected into the bench's own directory."""
import os

from config.settings import *  # noqa: F403

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
STORAGES = {**STORAGES, "staticfiles": {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
'''
# Kept between runs, so collectstatic copies only what changed.
STATIC_CACHE = Path(tempfile.gettempdir()) / "waymark-bench-http-static"

PROFILE_HOOKS = '''"""gunicorn server hooks: each request under cProfile while the file PROFILE_ON exists,
its stats dumped to PROFILE_DIR/<pid>-<n>-<path>.prof. The application is not touched."""
import cProfile
import itertools
import os

_DIR = os.environ["BENCH_PROFILE_DIR"]
_count = itertools.count()


def pre_request(worker, req):
    if os.path.exists(os.path.join(_DIR, "PROFILE_ON")):
        worker.bench_profile = cProfile.Profile()
        worker.bench_profile.enable()


def post_request(worker, req, environ, resp):
    profile = getattr(worker, "bench_profile", None)
    if profile is not None:
        profile.disable()
        worker.bench_profile = None
        name = req.path.strip("/").replace("/", "_") or "root"
        profile.dump_stats(os.path.join(_DIR, f"{os.getpid()}-{next(_count)}-{name[:60]}.prof"))
'''


@contextmanager
def servers(database_url: str, redis_url: str, workers: int, *, profile_dir: str | None = None):
    """localstripe and gunicorn on free loopback ports; yields (app base URL, stripe base URL,
    work directory). With `profile_dir`, gunicorn gets hooks that profile each request while
    profile_dir/PROFILE_ON exists."""
    work = Path(tempfile.mkdtemp(prefix="waymark-bench-http-"))
    (work / "settings").mkdir()
    (work / "settings" / "bench_http_settings.py").write_text(SETTINGS_WRAPPER)
    hooks = []
    if profile_dir:
        (work / "profile_hooks.py").write_text(PROFILE_HOOKS)
        hooks = ["-c", str(work / "profile_hooks.py")]
    stripe_port, app_port = free_port(), free_port()
    stripe_base, app_base = f"http://127.0.0.1:{stripe_port}", f"http://127.0.0.1:{app_port}"
    env = server_environment(database_url, redis_url, stripe_base, str(STATIC_CACHE),
                             str(work / "settings"), str(work / "media"))
    if profile_dir:
        env["BENCH_PROFILE_DIR"] = profile_dir
    python = sys.executable
    log(f"collectstatic (the manifest storage) into {STATIC_CACHE}")
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                   env=env, check=True)
    processes = []
    try:
        stripe_log = open(work / "localstripe.log", "w")  # noqa: SIM115 - closed with the process
        processes.append(subprocess.Popen(
            [python, "-m", "config.localstripe_server", "--port", str(stripe_port)], cwd=ROOT,
            env=env, stdout=stripe_log, stderr=subprocess.STDOUT))
        wait_for(stripe_base + "/v1/tokens")
        gunicorn_log = open(work / "gunicorn.log", "w")  # noqa: SIM115
        gunicorn = str(Path(python).with_name("gunicorn"))
        processes.append(subprocess.Popen(
            [gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{app_port}",
             "--workers", str(workers), "--worker-class", WORKER_CLASS,
             "--threads", str(THREADS_PER_WORKER), "--timeout", "30",
             "--graceful-timeout", "30", "--max-requests", "2000",
             "--max-requests-jitter", "1000",
             "--worker-tmp-dir", "/dev/shm", "--no-control-socket",
             "--error-logfile", "-", *hooks],
            cwd=ROOT, env=env, stdout=gunicorn_log, stderr=subprocess.STDOUT))
        wait_for(app_base + "/healthz", headers={"Host": "127.0.0.1",
                                                 "X-Forwarded-Proto": "https"})
        import requests

        requests.post(f"{stripe_base}/_config/webhooks/bench-http", timeout=5, data={
            "url": f"{app_base}/webhooks/stripe/", "secret": WEBHOOK_SECRET})
        log(f"localstripe on {stripe_base}, gunicorn ({workers} workers) on {app_base}; logs "
            f"in {work}")
        yield app_base, stripe_base, work
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        errors = (work / "gunicorn.log").read_text() if (work / "gunicorn.log").exists() else ""
        tracebacks = errors.count("Traceback")
        if tracebacks:
            log(f"gunicorn logged {tracebacks} tracebacks; kept {work}/gunicorn.log")
        else:
            shutil.rmtree(work, ignore_errors=True)


# --- One person's browser ------------------------------------------------------------------

class Browser:
    """A person's browser on one host: own connection pool and cookies (sent although they are
    Secure: the TLS proxy is simulated by X-Forwarded-Proto), redirects not followed."""

    def __init__(self, base: str, host: str, timings: Timings):
        import requests

        self.http = requests.Session()
        self.base, self.host, self.timings = base, host, timings
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, step: str, method: str, path: str, *, data=None, json=None,
                headers=None):
        # A connection per request, as sync workers gave (they close each one): with gthread's
        # keep-alive (2 s), a person waiting at the race's barrier would post on a connection
        # gunicorn closed meanwhile. (A load balancer must likewise drop idle connections to
        # gunicorn before gunicorn does.)
        all_headers = {"Host": self.host, "X-Forwarded-Proto": "https",
                       "Referer": f"https://{self.host}{path}", "Connection": "close"}
        if method != "GET":
            all_headers["Origin"] = f"https://{self.host}"
        all_headers.update(headers or {})
        start = time.perf_counter()
        response = self.http.request(method, self.base + path, data=data, json=json,
                                     headers=all_headers, cookies=dict(self.cookies),
                                     allow_redirects=False, timeout=60)
        self.timings.add(step, time.perf_counter() - start, response.status_code)
        self.cookies.update(response.cookies.get_dict())
        self.http.cookies.clear()
        found = CSRF_INPUT.search(response.text) if "text/html" in response.headers.get(
            "Content-Type", "") else None
        if found:
            self.csrf = found.group(1)
        return response

    def get(self, step, path, **kwargs):
        return self.request(step, "GET", path, **kwargs)

    def post(self, step, path, fields=None, **kwargs):
        if fields is not None:
            fields = {"csrfmiddlewaretoken": self.csrf, **fields}
        return self.request(step, "POST", path, data=fields, **kwargs)


def expect_redirect(response, step: str, starts: str) -> str:
    location = response.headers.get("Location", "")
    if response.status_code != 302 or not location.startswith(starts):
        raise RuntimeError(f"{step}: {response.status_code} {location or response.text[:200]!r}")
    return location


# --- (a)-(c): Locust ------------------------------------------------------------------------

LOCUSTFILE = ROOT / "bench" / "locustfile.py"
PER_DATE = 20  # paid bookings per course date in (b)


def run_locust(base: str, plan: dict, users: int, seconds: float) -> dict:
    """Locust headless on `plan` (bench/locustfile.py), in a process of its own, bounded by
    `seconds` (+ a minute); returns what its users recorded, with the steps as Timings."""
    work = Path(tempfile.mkdtemp(prefix="waymark-bench-locust-"))
    try:
        (work / "plan.json").write_text(json.dumps(plan))
        env = {**os.environ, "WAYMARK_LOAD_PLAN": str(work / "plan.json"),
               "WAYMARK_LOAD_RESULT": str(work / "result.json")}
        locust = str(Path(sys.executable).with_name("locust"))
        finished = subprocess.run(
            [locust, "-f", str(LOCUSTFILE), "--headless", "--host", base, "-u", str(users),
             "-r", str(users), "--run-time", f"{int(seconds) + 60}s", "--stop-timeout", "30",
             "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 180)
        if finished.returncode != 0 or not (work / "result.json").exists():
            raise SystemExit(f"locust failed ({finished.returncode}): {finished.stderr[-2000:]}")
        result = json.loads((work / "result.json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for role in ("people", "staff"):
        timings = Timings()
        timings.steps.update(result[role]["steps"])
        timings.statuses.update({int(status): n for status, n in result[role]["statuses"].items()})
        timings.errors = result[role]["errors"]
        result[role] = timings
    return result


def racing_crowd(base, host, stripe_base, offers, session_id) -> dict:
    """(a): every person released together onto one date; then the database is asked."""
    result = run_locust(base, {"mode": "race", "host": host, "stripe_base": stripe_base,
                               "offers": offers, "session_id": session_id},
                        users=len(offers), seconds=300)
    from django.utils import timezone

    from booking.models import Hold

    live_holds = Hold.objects.filter(session_id=session_id, expires_at__gt=timezone.now()).count()
    return {"people": len(offers), "outcomes": result["outcomes"], "live_holds": live_holds,
            "timings": result["people"], "wall": result["wall"]}


def throughput(base, host, stripe_base, offers, session_ids, people: int, seconds: float,
               staff=()) -> dict:
    """(b) and, with `staff` ((e-mail, [(step, path)]) per staff member), (c)."""
    plan = {"mode": "journey", "host": host, "stripe_base": stripe_base, "offers": offers,
            "session_ids": session_ids, "per_date": PER_DATE, "people": people,
            "seconds": seconds, "staff": list(staff), "staff_password": STAFF_PASSWORD}
    result = run_locust(base, plan, users=people + len(staff), seconds=seconds)
    return {"confirmed": result["confirmed"], "wall": result["wall"],
            "timings": result["people"], "journeys": result["journeys"], "threads": people,
            "staff_timings": result["staff"]}


def card_token(stripe_base: str) -> str:
    """A token for a card that pays, from localstripe, as Stripe.js makes one in the browser
    (the drill's people and bench/profile_journey.py; Locust's people make theirs alike)."""
    import requests

    return requests.post(stripe_base + "/v1/tokens", timeout=30, data={
        "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2030",
        "card[cvc]": "123", "key": "pk_test_bench_http"}).json()["id"]


def sign_in(browser: Browser, email: str) -> None:
    browser.get("sign-in", "/accounts/sign-in/")
    response = browser.post("sign-in", "/accounts/sign-in/",
                            {"email": email, "password": STAFF_PASSWORD})
    if response.status_code != 302 or "sign-in" in response.headers.get("Location", ""):
        raise RuntimeError(f"sign-in as {email}: {response.status_code} "
                           f"{response.headers.get('Location', '')}")


# --- (d) Routing overhead ------------------------------------------------------------------

ROUTING_NUMBERS = iter(range(10**9))


def add_clients(target: int) -> int:
    """Make the number of clients (rows, not the template) `target`, adding or removing rows
    of clients named routing-N, each with its domain."""
    from django.db import connection

    from tenants.models import ClientOrganisation, Domain

    connection.set_schema_to_public()
    extra = ClientOrganisation.objects.filter(slug__startswith="routing-")
    present = ClientOrganisation.objects.filter(is_template=False).count()
    if target > present:
        numbers = [next(ROUTING_NUMBERS) for _ in range(target - present)]
        made = ClientOrganisation.objects.bulk_create([
            ClientOrganisation(name=f"Routing {n}", slug=f"routing-{n}", kind="county_council",
                               status="live", schema_name=f"client_routing_{n}",
                               display_name_en=f"Routing {n}") for n in numbers],
            batch_size=2000)
        Domain.objects.bulk_create([Domain(domain=f"{o.slug}.127.0.0.1", tenant=o,
                                           is_primary=True) for o in made], batch_size=2000)
    elif target < present:
        gone = list(extra.order_by("-pk").values_list("pk", flat=True)[: present - target])
        Domain.objects.filter(tenant_id__in=gone).delete()
        doomed = ClientOrganisation.objects.filter(pk__in=gone)
        doomed._raw_delete(doomed.db)  # rows only: these clients have no schema to drop
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tenants_clientorganisation")
        cursor.execute("ANALYZE tenants_domain")
    return ClientOrganisation.objects.filter(is_template=False).count()


def routing(base, host, requests_count: int, warm: int = 20) -> list[float]:
    timings = Timings()
    browser = Browser(base, host, timings)
    for _ in range(warm):
        browser.get("warm", "/")
    for _ in range(requests_count):
        response = browser.get("start page", "/")
        if response.status_code != 200:
            raise RuntimeError(f"start page: {response.status_code}")
    return timings.steps["start page"]


# --- Fixtures ------------------------------------------------------------------------------

def onboard(slug: str, name: str):
    from tenants.services import NewClient, onboard_client

    return onboard_client(NewClient(name=name, slug=slug, kind="county_council",
                                    admin_email=f"admin@{slug}.bench.example",
                                    contact_email=f"contact@{slug}.bench.example"),
                          acting_user="bench")


def make_dates(course_type, venue, count: int, *, starts) -> list[int]:
    from booking.models import CourseSession, DeliveryMode

    made = CourseSession.objects.bulk_create([
        CourseSession(course_type=course_type, venue=venue, delivery_mode=DeliveryMode.CLASSROOM,
                      starts_at=starts + timedelta(hours=3 * index),
                      ends_at=starts + timedelta(hours=3 * index,
                                                 minutes=course_type.duration_minutes),
                      capacity=CAPACITY)
        for index in range(count)])
    return [session.pk for session in made]


def make_offers(course_type, count: int, prefix: str) -> list[dict]:
    from datetime import date

    from django.utils import timezone

    from booking.models import Offer

    today = timezone.localdate()
    critical = today + timedelta(days=150)
    Offer.objects.bulk_create([
        Offer(reference=f"{prefix}-{number:06d}", course_type=course_type,
              offence_date=critical - timedelta(days=140), booking_period_end=critical,
              critical_date=critical, first_name="Bench", last_name=f"Driver {number}",
              date_of_birth=date.fromisoformat(DOB), postcode=POSTCODE, language="en")
        for number in range(count)], batch_size=2000)
    return [{"reference": f"{prefix}-{number:06d}", "dob": DOB} for number in range(count)]


def make_staff(organisation) -> list[str]:
    from accounts.models import Membership, User
    from accounts.roles import Role

    emails = []
    for role in (Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT):
        email = f"{role.value.replace('_', '-')}@bench-http.example"
        user = User.objects.create_user(email=email, password=STAFF_PASSWORD)
        Membership.objects.create(user=user, organisation=organisation, role=role)
        emails.append(email)
    return emails


# --- Report --------------------------------------------------------------------------------

def step_table(timings: Timings, title: str) -> None:
    print(f"    {title}")
    widths = (40, 8, 8, 8, 8)
    print("    " + " | ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(
        zip(("step", "requests", "p50 ms", "p95 ms", "max ms"), widths, strict=True))))
    for step, times in list(timings.steps.items()) + [("all requests", timings.all())]:
        cells = (step, str(len(times)), ms(percentile(times, .5)), ms(percentile(times, .95)),
                 ms(max(times)))
        print("    " + " | ".join(c.rjust(w) if i else c.ljust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths, strict=True))))
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(timings.statuses.items()))
    print(f"    HTTP statuses: {statuses}; 5xx: {timings.server_errors()}")
    if timings.errors:
        print(f"    errors ({len(timings.errors)}), first: {timings.errors[:3]}")


def profile_bookings(args, url, redis_url, host, warm_offers, warm_dates, offers, dates) -> None:
    import pstats

    profile_dir = Path(tempfile.mkdtemp(prefix="waymark-bench-http-profile-"))
    with servers(url, redis_url, 1, profile_dir=str(profile_dir)) as (base, stripe_base, _work):
        log("profile: warm-up, 4 paid bookings in one worker")
        throughput(base, host, stripe_base, warm_offers[:4], warm_dates, 1, 120)
        (profile_dir / "PROFILE_ON").touch()
        log(f"profile: {len(offers)} paid bookings, one at a time")
        run = throughput(base, host, stripe_base, offers, dates, 1, 600)
        time.sleep(3)  # the last webhook
        (profile_dir / "PROFILE_ON").unlink()
        time.sleep(1)
    files = sorted(profile_dir.glob("*.prof"))
    per_path: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0, 0])
    for file in files:
        name = file.stem.split("-", 2)[2]  # the path, "/" as "_"
        kind = "/".join("<ref>" if re.fullmatch(r"[A-Z0-9]{6,}", part) else part
                        for part in name.split("_"))
        one = pstats.Stats(str(file))
        calls = {key[2]: value[1] for key, value in one.stats.items() if key[0] == "~"}
        row = per_path[kind]
        row[0] += 1
        row[1] += one.total_tt
        row[2] += calls.get("<method 'execute' of 'psycopg2.extensions.cursor' objects>", 0)
        row[3] += calls.get("<method 'commit' of 'psycopg2.extensions.connection' objects>", 0)
    stats = pstats.Stats(*map(str, files))
    print(f"cProfile of {run['confirmed']} paid bookings over HTTP (one gunicorn worker, the "
          f"webhook included): {len(files)} requests, {stats.total_tt:.2f} s of profiled "
          f"server time, {stats.total_tt / max(1, run['confirmed']) * 1000:.0f} ms per booking; "
          f"load average {os.getloadavg()[0]:.2f}; errors {run['timings'].errors[:2] or 'none'}")
    print("  by request kind: requests, profiled server time per request, SQL statements "
          "(cursor.execute) and commits per request")
    for path, (count, seconds, statements, commits) in sorted(per_path.items(),
                                                                 key=lambda item: -item[1][1]):
        print(f"    {path:<32} {count:>4} {seconds / count * 1000:>8.1f} ms "
              f"{statements / count:>6.1f} statements {commits / count:>4.1f} commits")
    print()
    stats.files = []  # not the list of every request's file
    stats.sort_stats("cumulative").print_stats(r"/work/main/(?!\.venv)", 40)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(25)
    shutil.rmtree(profile_dir, ignore_errors=True)


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def main():  # noqa: C901, PLR0915 - one run, in the order it reports
    args = parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    workers = int(os.environ.get("WEB_CONCURRENCY", DEFAULT_WORKERS))
    began, load_start = time.perf_counter(), os.getloadavg()
    with bench_database(url, keep=args.keep):
        from django.conf import settings

        from booking.models import Booking, CourseType, Trainer, Venue
        from tenants.models import StripeEvent

        migrate()
        organisation = onboard("bench-http", "Bench HTTP")
        organisation.stripe_account_id = "acct_test_bench_http"
        organisation.stripe_charges_enabled = True
        organisation.status = "live"
        organisation.save(update_fields=["stripe_account_id", "stripe_charges_enabled",
                                         "status"])
        host = organisation.domains.get(is_primary=True).domain
        settings.DEBUG = False
        from django.db import connection
        from django.utils import timezone

        connection.set_tenant(organisation)
        nsac = CourseType.objects.get(code="NSAC")
        # The set-up checklist's last item a booking needs (booking/site/taking_bookings.py).
        Trainer.objects.create(full_name="Bench Trainer", email="trainer@bench.example")
        venue = Venue.objects.create(name="Bench Hall", address="1 Bench Street",
                                     town="Chelmsford", postcode=POSTCODE, latitude=51.73709,
                                     longitude=0.47302, capacity=CAPACITY)
        starts = (timezone.now() + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
        race_dates = make_dates(nsac, venue, len(args.crowds), starts=starts)
        crowds = [make_offers(nsac, people, f"RACE{people}") for people in args.crowds]
        booking_dates = make_dates(nsac, venue, math.ceil(args.bookings / PER_DATE),
                                   starts=starts + timedelta(days=2))
        booking_offers = make_offers(nsac, args.bookings, "HTTP")
        warm_dates = make_dates(nsac, venue, 1, starts=starts + timedelta(days=1))
        warm_offers = make_offers(nsac, 2 * workers, "WARM")
        connection.set_schema_to_public()
        staff_emails = make_staff(organisation)
        connection.set_tenant(organisation)
        fee = nsac.provider_fee_pence + nsac.police_cost_recovery_pence
        setup = time.perf_counter() - began

        if args.profile:
            profile_bookings(args, url, redis_url, host, warm_offers, warm_dates,
                             booking_offers[: args.profile], booking_dates)
            return
        with servers(url, redis_url, workers) as (base, stripe_base, _work):
            # Every worker has imported, compiled its templates and connected before timing.
            log(f"warm-up: {len(warm_offers)} paid bookings, {workers} at once")
            warm = throughput(base, host, stripe_base, warm_offers, warm_dates, workers, 120)
            if warm["timings"].errors:
                raise SystemExit(f"warm-up failed: {warm['timings'].errors[:3]}")
            race_results = []
            for offers, session_id in zip(crowds, race_dates, strict=True):
                log(f"(a) racing crowd of {len(offers)}")
                race_results.append(racing_crowd(base, host, stripe_base, offers, session_id))
                log(f"    {race_results[-1]['outcomes']}")

            log(f"(b)+(c) {args.bookings} paid bookings, {args.threads} at once, at most "
                f"{args.seconds} s; {args.staff} staff users")
            officer, agent = staff_emails
            roles = [(officer, [("/manage/ dashboard", "/manage/"),
                                ("offenders search", "/manage/offenders/?q=Driver+1"),
                                ("course dates", "/manage/sessions/")]),
                     (agent, [("contact centre home", "/contact-centre/"),
                              ("contact centre offer", "/contact-centre/offers/HTTP-000001/")])]
            run = throughput(base, host, stripe_base, booking_offers, booking_dates,
                             args.threads, args.seconds,
                             staff=[roles[n % 2] for n in range(args.staff)])
            staff_timings = run["staff_timings"]
            time.sleep(2)  # the last webhooks
            connection.set_tenant(organisation)
            confirmed_db = Booking.objects.filter(session_id__in=booking_dates,
                                                  status=Booking.Status.CONFIRMED).count()
            connection.set_schema_to_public()
            webhooks = StripeEvent.objects.filter(type="payment_intent.succeeded")
            handled = webhooks.filter(outcome="handled").count()
            webhook_total = webhooks.count()

            log("(d) routing overhead")
            # Rounds, each size in turn (the order rotating), so other load on the machine
            # falls on every size alike.
            route: dict[int, list[float]] = defaultdict(list)
            rounds = 4
            for number in range(rounds):
                shift = number % len(args.clients)
                for target in args.clients[shift:] + args.clients[:shift]:
                    present = add_clients(target)
                    log(f"    round {number + 1}: {present} clients")
                    if present != target:
                        raise SystemExit(f"(d) wanted {target} clients, found {present}")
                    route[target].extend(routing(base, host, args.routing // rounds))
            add_clients(args.clients[0])
            route = sorted(route.items())
            connection.set_tenant(organisation)

    # --- the report ---
    print("HTTP load test (bench/http_load.py)" + (" --quick" if args.quick else ""))
    print(f"  database {database_name(url)} on {urlparse(url).hostname}:{urlparse(url).port}; "
          f"Redis {redis_url}; gunicorn {workers} {WORKER_CLASS} workers x {THREADS_PER_WORKER} "
          "threads, DEBUG off, 127.0.0.1 only; "
          f"{os.cpu_count()} CPUs; load average (1/5/15 min) "
          f"{'/'.join(f'{v:.2f}' for v in load_start)} at the start, "
          f"{'/'.join(f'{v:.2f}' for v in os.getloadavg())} at the end; set-up {setup:.0f} s, "
          f"total {(time.perf_counter() - began) / 60:.1f} min")
    print()
    print(f"(a) Racing crowd: one {CAPACITY}-seat date; N people walk find -> where -> dates "
          "(released together), then post the date together")
    summary = []
    for result in race_results:
        timings = result["timings"]
        held = result["outcomes"].get("held", 0)
        filled = result["outcomes"].get("just filled", 0)
        print(f"  {result['people']} people: {held} held, {filled} saw 'just filled', other "
              f"outcomes {({k: v for k, v in result['outcomes'].items() if k not in ('held', 'just filled')}) or '-'}; "  # noqa: E501
              f"live holds on the date afterwards {result['live_holds']}; wall "
              f"{result['wall']:.1f} s")
        step_table(timings, "per step:")
        seats = min(CAPACITY, result["people"])
        exact = (held == seats and filled == result["people"] - seats
                 and result["live_holds"] == seats and timings.server_errors() == 0)
        p95 = percentile(timings.all(), .95) * 1000
        summary.append((f"racing crowd of {result['people']}: exact, 0 5xx",
                        f"{held} held, {filled} filled, {timings.server_errors()} 5xx",
                        f"{seats} held, 0 5xx", verdict(exact)))
        summary.append((f"racing crowd of {result['people']}: p95 (all requests)",
                        f"{p95:.0f} ms", f"< {GOAL_RACE_P95_MS:.0f} ms",
                        verdict(p95 < GOAL_RACE_P95_MS)))
    print()
    rate = run["confirmed"] / run["wall"]
    timings = run["timings"]
    p95_all = percentile(timings.all(), .95) * 1000
    print(f"(b) Throughput: {run['threads']} people at once, whole journey with card payment "
          f"(fee {fee / 100:.2f}); {run['confirmed']} confirmed in {run['wall']:.1f} s = "
          f"{rate:.2f} confirmed bookings/s; journey p50 {ms(percentile(run['journeys'], .5))} "
          f"ms, p95 {ms(percentile(run['journeys'], .95))} ms (14 requests + the token)")
    print(f"    database afterwards: {confirmed_db} confirmed bookings on these dates; "
          f"payment_intent.succeeded webhooks received {webhook_total}, handled {handled}")
    step_table(timings, "per step:")
    summary.append(("confirmed bookings per second", f"{rate:.2f}/s",
                    f">= {GOAL_BOOKINGS_PER_SECOND:.0f}/s",
                    verdict(rate >= GOAL_BOOKINGS_PER_SECOND)))
    summary.append(("booking journey: p95 of each request", f"{p95_all:.0f} ms",
                    f"< {GOAL_BOOKING_P95_MS:.0f} ms", verdict(p95_all < GOAL_BOOKING_P95_MS)))
    summary.append(("booking journey: 5xx", str(timings.server_errors()), "0",
                    verdict(timings.server_errors() == 0 and not timings.errors)))
    print()
    if args.staff:
        print(f"(c) Staff pages during (b): {args.staff} staff users (booking officer and "
              "contact-centre agent), signed in through the sign-in form")
        step_table(staff_timings, "per page:")
        staff_p95 = percentile([t for s, v in staff_timings.steps.items() if s != "sign-in"
                                for t in v], .95) * 1000
        summary.append(("staff pages under load: p95", f"{staff_p95:.0f} ms",
                        f"< {GOAL_BOOKING_P95_MS:.0f} ms (the journey's)",
                        verdict(staff_p95 < GOAL_BOOKING_P95_MS
                                and staff_timings.server_errors() == 0)))
        print()
    print(f"(d) Routing overhead: the client's start page, one request at a time; 4 rounds, "
          f"each of {args.routing // 4} requests per size (after 20 warm-up), sizes in "
          "rotating order")
    widths = (10, 8, 8, 8, 10)
    print("    " + " | ".join(h.rjust(w) for h, w in zip(
        ("clients", "p50 ms", "p95 ms", "mean ms", "vs first"), widths, strict=True)))
    base_mean = sum(route[0][1]) / len(route[0][1])
    for present, times in route:
        mean = sum(times) / len(times)
        cells = (f"{present:,}", ms(percentile(times, .5)), ms(percentile(times, .95)),
                 ms(mean), f"{mean / base_mean - 1:+.1%}")
        print("    " + " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
    at_1000 = next((times for present, times in route if present == 1000), None)
    if at_1000 is not None:
        overhead = percentile(at_1000, .5) / percentile(route[0][1], .5) - 1
        summary.append(("routing overhead, 1,000 clients vs 2 (p50)", f"{overhead:+.1%}",
                        f"<= +{GOAL_ROUTING_OVERHEAD:.0%}",
                        verdict(overhead <= GOAL_ROUTING_OVERHEAD)))
    print()
    print("Summary")
    widths = (44, 34, 28, 8)
    print(" | ".join(h.ljust(w) for h, w in zip(("measure", "figure", "goal", "verdict"),
                                                 widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in summary:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
