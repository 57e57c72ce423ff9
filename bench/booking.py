"""Booking benchmarks: the last seats under concurrency, booking throughput against raw SQL, and
availability search latency with many venues and course dates.

Run it:

    .venv/bin/python bench/booking.py            # the full run (a few minutes)
    .venv/bin/python bench/booking.py --quick    # small sizes, a smoke run (under a minute)
    .venv/bin/python bench/booking.py --keep --explain

Like bench/onboarding.py it never touches development or test data: it creates its OWN database,
by default `waymark_bench_booking` on the server in BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/waymark_bench_booking), dropping it first if it exists, and
drops it again at the end unless --keep is given. Its name must contain "bench". Set-up is the
Makefile's `migrate` target run with call_command (`migrate_schemas --shared`,
`createcachetable`, `ensure_client_template`), then clients onboarded through
`tenants.services.onboard_client`: "bench-booking" for (a) and (b), "bench-search" for (c).
E-mail goes to Django's in-memory backend; DEBUG is switched off after set-up.

What it measures (it prints figures; nothing here is a timed test):

(a) The last seats: one course date with 24 seats, then 50 and 200 concurrent attempts (with
    --quick 20 and 50), each a thread with its own database connection and its own offer,
    released together by a threading.Barrier once every connection is open. Each attempt is
    `place_hold` then `book` (channel "online"; the course's fee is set to zero, so the booking
    confirms at once and takes the seat). Afterwards the database is asked: confirmed bookings,
    live holds, seats_booked; "oversold" = confirmed bookings + live holds over capacity, which
    must be 0, and seats_booked must equal the confirmed bookings. Also the successes, the
    refusals by rule code, any other errors, and per-attempt latency (p50, p95, max). N attempts
    need N connections: when the server cannot serve the largest size (max_connections less
    those in use), the bench starts a private PostgreSQL of its own (Debian's initdb and pg_ctl
    from /usr/lib/postgresql/<version>/bin, a temporary directory, a free loopback port,
    max_connections=300; as root, run as the postgres user through runuser), sets it up the
    same way (migrate, the "bench-booking" client) and runs every size of the race there; it
    is stopped and deleted afterwards, and the report says so. --private-race does this even
    when the server has connections enough. If no private server can be started, a size the
    server cannot serve is reported as not run, never run with fewer connections.

(b) Throughput, sequential, one connection: 2,000 (--quick 200) holds-and-bookings, each on its
    own offer, spread over course dates of 24 seats (20 bookings each), through the service layer
    (`place_hold` + `book`, exactly the online path); then the same number through raw SQL with
    psycopg2 on the same database and schema:
      raw, one transaction (the minimal transaction): lock the session row FOR UPDATE, count live
        holds, insert the hold, insert the booking, delete the hold (the service deletes it on
        confirming, so the seat is not counted twice), update seats_booked, insert the event;
      raw, as the service does it: statement for statement what the two service transactions run
        (lock offer, lock session, count holds, look for an old hold, insert hold, insert event;
        then lock offer, look for an active booking, read hold, lock session, insert booking,
        delete hold, update seats, update offer, insert event), without Django.
    The paths run interleaved: 10 rounds (--quick 4), each doing a tenth of every path's
    operations in turn, the order rotating, so that other load on the machine falls on all
    alike. The goal is service >= 1/4 of raw (judged against the minimal transaction; the
    ratio to the statement-for-statement version is printed too). A further service run with
    TENANT_LIMIT_SET_CALLS=True shows what django-tenants' per-statement `SET search_path`
    costs (the project does not set it; the figure is for a proposal). --profile adds a
    cProfile of 300 service-layer holds + bookings.
    A service run with booking.usage.on_event made a no-op shows what the billing ledger's row
    (written in every confirmed booking's transaction) costs: the goal is at least 90 %. So
    does one with booking.tallies.on_event made a no-op, for the reports' tally rows.

(c) Availability search: in one client 300 venues (placed at random postcode-sector centroids
    across the UK), 20,000 course dates (10% online, 10% Welsh, from 4 weeks ago to 20 weeks
    ahead, some full, a few cancelled) and 1,000 offers (300 of them holding a seat), bulk-created
    and ANALYZEd; then 500 (--quick 100) calls of
    `booking.services.search.search_sessions` mixing: near the offer's postcode sorted by
    distance (35%), near it sorted by date (30%), online (20%), Welsh-language near the postcode
    (15%). Latency is the wall-clock time of the call, results included. Goal: p95 < 50 ms.
    With --explain (or when the goal is missed) the slowest search of each kind is re-run and
    its SQL shown with EXPLAIN (ANALYZE, BUFFERS).

Progress goes to stderr; the figures to stdout. Other work on the same machine or database
server shows up in the figures, so the load average is printed with them.
"""

import argparse
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from harness import (
    admin_connection,
    bench_database,
    database_name,
    log,
    migrate,
    recreate_database,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/waymark_bench_booking"
CAPACITY = 24
GOAL_RATIO = 0.25
GOAL_SEARCH_P95_MS = 50.0
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--keep", action="store_true",
                        help="keep the bench database at the end (default: drop it)")
    parser.add_argument("--explain", action="store_true",
                        help="show EXPLAIN ANALYZE of the slowest search of each kind")
    parser.add_argument("--private-race", action="store_true",
                        help="run (a) on a private PostgreSQL even if the server could")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of 300 service-layer holds + bookings")
    args = parser.parse_args()
    if args.quick:
        args.race_sizes, args.throughput, args.venues, args.sessions = [20, 50], 200, 30, 2000
        args.offers, args.searches, args.rounds = 100, 100, 4
    else:
        args.race_sizes, args.throughput, args.venues, args.sessions = [50, 200], 2000, 300, 20000
        args.offers, args.searches, args.rounds = 1000, 500, 10
    return args


# --- The bench database -------------------------------------------------------------------

def free_connections(url: str) -> tuple[int, int]:
    """(max_connections less superuser reserve, connections in use) on the server."""
    connection = admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('max_connections')::int"
                           " - current_setting('superuser_reserved_connections')::int,"
                           " (SELECT count(*) FROM pg_stat_activity)")
            return cursor.fetchone()
    finally:
        connection.close()


# --- Figures -------------------------------------------------------------------------------

def percentile(values, share: float) -> float:
    """Nearest-rank percentile of a list of numbers."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, int(round(share * len(ordered) + 0.5 - 1e-9)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# --- Fixtures ------------------------------------------------------------------------------

def onboard(slug: str, name: str):
    from tenants.services import NewClient, onboard_client

    return onboard_client(NewClient(name=name, slug=slug, kind="county_council",
                                    admin_email=f"admin@{slug}.bench.example",
                                    contact_email=f"contact@{slug}.bench.example"),
                          acting_user="bench")


def make_sessions(course_type, venue, count: int, *, starts, capacity=CAPACITY) -> list:
    from booking.models import CourseSession, DeliveryMode

    return CourseSession.objects.bulk_create([
        CourseSession(course_type=course_type, venue=venue, delivery_mode=DeliveryMode.CLASSROOM,
                      starts_at=starts + timedelta(hours=3 * index),
                      ends_at=starts + timedelta(hours=3 * index,
                                                 minutes=course_type.duration_minutes),
                      capacity=capacity)
        for index in range(count)])


def make_offers(course_type, count: int, prefix: str, *, today, rng=None, postcodes=None,
                languages=None, critical_days=(28, 112)) -> list:
    from booking.models import Offer

    rng = rng or random.Random(prefix)
    offers = []
    for number in range(count):
        critical = today + timedelta(days=rng.randint(*critical_days))
        offers.append(Offer(
            reference=f"{prefix}-{number:06d}",
            course_type=course_type if not callable(course_type) else course_type(rng),
            offence_date=critical - timedelta(days=140), booking_period_end=critical,
            critical_date=critical, first_name="Bench", last_name=f"Driver {number}",
            date_of_birth=datetime(1980, 1, 1).date() + timedelta(days=rng.randint(0, 9000)),
            postcode=rng.choice(postcodes) if postcodes else "CM1 1QH",
            language=rng.choice(languages) if languages else "en",
        ))
    return Offer.objects.bulk_create(offers, batch_size=2000)


# --- A private PostgreSQL, for a race the configured server has too few connections for ---

PRIVATE_MAX_CONNECTIONS = 300


def postgres_bin() -> Path:
    """Debian's PostgreSQL binaries (initdb, pg_ctl): version 15 if present, else the newest."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda path: (path.parts[-3] != "15", -int(path.parts[-3])))
    if not found:
        raise RuntimeError("no /usr/lib/postgresql/*/bin/initdb (Debian's postgresql package)")
    return found[0].parent


@contextmanager
def private_postgres():
    """A PostgreSQL server of the bench's own: a new cluster in a temporary directory, on a free
    loopback port, max_connections=300, trust authentication for the postgres user, stopped
    and deleted on the way out. PostgreSQL refuses to run as root, so as root the cluster is
    made and run as the postgres user (runuser)."""
    binaries = postgres_bin()
    home = Path(tempfile.mkdtemp(prefix="waymark-bench-pg-"))
    data, log_file = home / "data", home / "server.log"
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(home, user="postgres", group="postgres")
        home.chmod(0o700)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run([*as_postgres, str(binaries / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--locale=C"], check=True,
                   stdout=subprocess.DEVNULL)
    options = (f"-p {port} -c listen_addresses=127.0.0.1 -k {home} "
               f"-c max_connections={PRIVATE_MAX_CONNECTIONS} -c shared_buffers=128MB "
               "-c fsync=on")
    subprocess.run([*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-l",
                    str(log_file), "-o", options, "-w", "start"], check=True,
                   stdout=subprocess.DEVNULL)
    log(f"started a private PostgreSQL ({binaries.parent.name}, max_connections="
        f"{PRIVATE_MAX_CONNECTIONS}) on 127.0.0.1:{port} in {home}")
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/waymark_bench_booking_race"
    finally:
        subprocess.run([*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "-w", "stop"], check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(home, ignore_errors=True)
        log("stopped and removed the private PostgreSQL")


@contextmanager
def django_on(url: str):
    """Django's default database moved to `url` for the block (every thread's new connection
    reads the same settings dict), and back afterwards."""
    import dj_database_url
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    settings_dict = connections.settings["default"]
    keys = ("NAME", "USER", "PASSWORD", "HOST", "PORT")
    before = {key: settings_dict.get(key) for key in keys}
    connections.close_all()
    settings_dict.update({key: dj_database_url.parse(url).get(key) or "" for key in keys})
    ContentType.objects.clear_cache()  # ids differ between the two databases
    try:
        yield
    finally:
        connections.close_all()
        settings_dict.update(before)
        ContentType.objects.clear_cache()


def prepare_booking_client(organisation) -> None:
    from django.db import connection

    from booking.models import CourseType, Venue

    connection.set_tenant(organisation)
    # Zero fee, so that place_hold + book confirms at once and takes the seat.
    CourseType.objects.filter(code="NSAC").update(provider_fee_pence=0,
                                                  police_cost_recovery_pence=0)
    Venue.objects.create(name="Bench Hall", address="1 Bench Street", town="Chelmsford",
                         postcode="CM1 1QH", latitude=51.73709, longitude=0.47302,
                         capacity=CAPACITY)


def races(sizes: list[int], organisation, url: str, *, private: bool = False) -> list[dict]:
    """(a) on the configured server when it has connections enough for the largest race, else
    every size on a private PostgreSQL of the bench's own, set up the same way."""
    limit, in_use = free_connections(url)
    if max(sizes) + 2 <= limit - in_use and not private:
        return [run_race(organisation, attempts, url) for attempts in sizes]
    log(f"(a) the server allows {limit} connections and {in_use} are in use (enough for "
        f"{max(sizes)} concurrent attempts: {max(sizes) + 2 <= limit - in_use}); the race "
        "runs on a private PostgreSQL")
    try:
        server = private_postgres()
        private_url = server.__enter__()
    except (OSError, subprocess.CalledProcessError, RuntimeError) as error:
        log(f"    could not start one: {error}")
        return [run_race(organisation, attempts, url) for attempts in sizes]
    try:
        recreate_database(private_url)
        with django_on(private_url):
            migrate()
            private_client = onboard("bench-booking", "Bench Booking")
            prepare_booking_client(private_client)
            results = [run_race(private_client, attempts, private_url) for attempts in sizes]
    finally:
        server.__exit__(None, None, None)
    for result in results:
        result["server"] = (f"a private PostgreSQL (max_connections={PRIVATE_MAX_CONNECTIONS}); "
                            f"the configured server allows {limit}, {in_use} in use")
    return results


def run_race(organisation, attempts: int, url: str) -> dict:
    log(f"(a) {attempts} concurrent attempts on {CAPACITY} seats")
    result = race(organisation, attempts, url)
    log(f"    {result}")
    return result


# --- (a) The last seats --------------------------------------------------------------------

def race(organisation, attempts: int, url: str) -> dict:
    from django.db import connection
    from django.utils import timezone

    from booking.models import Booking, CourseType, Hold, Venue
    from booking.services.bookings import book, place_hold
    from booking.services.rules import BookingRefused

    limit, in_use = free_connections(url)
    if attempts + 2 > limit - in_use:
        return {"attempts": attempts, "skipped": f"needs {attempts} connections; the server "
                f"allows {limit} and {in_use} are in use (max_connections)"}
    nsac = CourseType.objects.get(code="NSAC")
    venue = Venue.objects.first()
    now = timezone.now()
    [session] = make_sessions(nsac, venue, 1, starts=now + timedelta(days=10, hours=attempts))
    offers = make_offers(nsac, attempts, f"RACE{attempts}", today=timezone.localdate())
    barrier = threading.Barrier(attempts)
    results: list = [None] * attempts

    def attempt(index: int) -> None:
        try:
            connection.set_tenant(organisation)
            with connection.cursor() as cursor:  # connect (and set the schema) before the start
                cursor.execute("SELECT 1")
            barrier.wait(timeout=300)
        except Exception as error:  # noqa: BLE001 - reported, and the others released
            barrier.abort()
            results[index] = (f"setup: {type(error).__name__}: {error}", 0.0)
            connection.close()
            return
        start = time.perf_counter()
        try:
            place_hold(offers[index].pk, session.pk, channel="online", actor="bench")
            book(offers[index].pk, channel="online", actor="bench")
            outcome = "booked"
        except BookingRefused as refused:
            outcome = f"refused: {refused.code}"
        except Exception as error:  # noqa: BLE001 - every other outcome is an error to report
            outcome = f"error: {type(error).__name__}: {str(error).splitlines()[0][:120]}"
        results[index] = (outcome, time.perf_counter() - start)
        connection.close()

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(attempts)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started

    session.refresh_from_db()
    confirmed = Booking.objects.filter(session=session, status=Booking.Status.CONFIRMED).count()
    live_holds = Hold.objects.filter(session=session, expires_at__gt=timezone.now()).count()
    outcomes: dict[str, int] = {}
    for outcome, _seconds in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    latencies = [seconds for outcome, seconds in results if not outcome.startswith("setup")]
    return {
        "attempts": attempts, "capacity": session.capacity, "confirmed": confirmed,
        "live_holds": live_holds, "seats_booked": session.seats_booked,
        "oversold": max(0, confirmed + live_holds - session.capacity),
        "seats_consistent": session.seats_booked == confirmed,
        "successes": outcomes.get("booked", 0), "outcomes": outcomes,
        "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95),
        "max": max(latencies) if latencies else float("nan"), "wall": wall,
    }


# --- (b) Throughput ------------------------------------------------------------------------

def service_run(offers, sessions) -> list[float]:
    from booking.services.bookings import book, place_hold

    times = []
    for index, offer in enumerate(offers):
        session = sessions[index % len(sessions)]
        start = time.perf_counter()
        place_hold(offer.pk, session.pk, channel="online", actor="bench")
        booking = book(offer.pk, channel="online", actor="bench")
        times.append(time.perf_counter() - start)
        assert booking.status == "confirmed", booking.status
    return times


class RawBooking:
    """Hold + booking with psycopg2 alone, on its own connection to the same schema."""

    FEES = json.dumps({"course_pence": 0, "police_cost_recovery_pence": 0, "vat_pence": 0,
                       "total_pence": 0})
    POLICY = json.dumps({"free_transfer_notice_days": 7, "late_transfer_fee_pence": 1500,
                         "transfer_cutoff_hours": 24, "max_transfers": 2})
    OFFER_COLUMNS = ("o.id, o.status, o.critical_date, o.booking_period_end, o.course_type_id, "
                     "t.online_booking_lead_hours, t.provider_fee_pence, "
                     "t.police_cost_recovery_pence")
    SESSION_COLUMNS = ("s.id, s.course_type_id, s.status, s.starts_at, s.ends_at, s.capacity, "
                       "s.seats_booked, t.code, v.id")

    def __init__(self, url: str, schema: str):
        import psycopg2

        self.connection = psycopg2.connect(url)
        self.cursor = self.connection.cursor()
        self.cursor.execute(f'SET search_path = "{schema}", public')
        self.connection.commit()

    def close(self):
        self.connection.close()

    @staticmethod
    def reference() -> str:
        return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))

    def _take_seat(self, offer_id: int, session_id: int, hold_id: int, now) -> int:
        """The confirmed booking replaces the hold, and the seat is counted once."""
        self.cursor.execute(
            "INSERT INTO booking_booking (reference, offer_id, session_id, channel, status, "
            "fee_pence, fee_snapshot, policy_snapshot, transfer_count, made_by, created_at, "
            "confirmed_at) VALUES (%s, %s, %s, 'online', 'confirmed', 0, %s, %s, 0, 'bench', "
            "%s, %s) RETURNING id",
            [self.reference(), offer_id, session_id, self.FEES, self.POLICY, now, now])
        booking_id = self.cursor.fetchone()[0]
        self.cursor.execute("DELETE FROM booking_hold WHERE id = %s", [hold_id])
        self.cursor.execute("UPDATE booking_coursesession SET seats_booked = seats_booked + 1 "
                            "WHERE id = %s", [session_id])
        return booking_id

    def minimal(self, offer_id: int, session_id: int, now) -> None:
        """The minimal transaction: one round trip per statement, one commit."""
        cursor = self.cursor
        cursor.execute("SELECT capacity, seats_booked FROM booking_coursesession "
                       "WHERE id = %s FOR UPDATE", [session_id])
        capacity, seats_booked = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM booking_hold WHERE session_id = %s "
                       "AND expires_at > %s", [session_id, now])
        if capacity - seats_booked - cursor.fetchone()[0] <= 0:
            self.connection.rollback()
            raise RuntimeError("session full")
        cursor.execute("INSERT INTO booking_hold (offer_id, session_id, expires_at, created_at) "
                       "VALUES (%s, %s, %s, %s) RETURNING id",
                       [offer_id, session_id, now + timedelta(minutes=15), now])
        hold_id = cursor.fetchone()[0]
        booking_id = self._take_seat(offer_id, session_id, hold_id, now)
        cursor.execute(
            "INSERT INTO booking_offerevent (offer_id, booking_id, kind, channel, actor, after, "
            "occurred_at) VALUES (%s, %s, 'booking.confirmed', 'online', 'bench', %s, %s)",
            [offer_id, booking_id, json.dumps({"session": session_id, "status": "confirmed"}),
             now])
        self.connection.commit()

    def _lock_offer(self, offer_id, today):
        self.cursor.execute(f"SELECT {self.OFFER_COLUMNS} FROM booking_offer o JOIN "
                            "booking_coursetype t ON t.id = o.course_type_id WHERE o.id = %s "
                            "FOR UPDATE OF o", [offer_id])
        offer = self.cursor.fetchone()
        if offer[1] != "offered" or offer[2] < today or offer[3] < today:
            raise RuntimeError("offer not bookable")
        return offer

    def _lock_session(self, session_id, offer, now):
        self.cursor.execute(f"SELECT {self.SESSION_COLUMNS} FROM booking_coursesession s JOIN "
                            "booking_coursetype t ON t.id = s.course_type_id LEFT JOIN "
                            "booking_venue v ON v.id = s.venue_id WHERE s.id = %s "
                            "FOR UPDATE OF s", [session_id])
        session = self.cursor.fetchone()
        if (session[1] != offer[4] or session[2] != "scheduled"
                or session[3] < now + timedelta(hours=offer[5])):
            raise RuntimeError("session does not fit")
        return session

    def as_the_service(self, offer_id: int, session_id: int, now, today) -> None:
        """Statement for statement the service's two transactions, without Django."""
        cursor = self.cursor
        offer = self._lock_offer(offer_id, today)
        session = self._lock_session(session_id, offer, now)
        cursor.execute("SELECT count(*) FROM booking_hold WHERE session_id = %s AND "
                       "expires_at > %s AND offer_id <> %s", [session_id, now, offer_id])
        if session[5] - session[6] - cursor.fetchone()[0] <= 0:
            self.connection.rollback()
            raise RuntimeError("session full")
        cursor.execute("SELECT id FROM booking_hold WHERE offer_id = %s FOR UPDATE", [offer_id])
        assert cursor.fetchone() is None
        expires = now + timedelta(minutes=15)
        cursor.execute("INSERT INTO booking_hold (offer_id, session_id, expires_at, created_at) "
                       "VALUES (%s, %s, %s, %s) RETURNING id", [offer_id, session_id, expires,
                                                                now])
        cursor.fetchone()
        cursor.execute(
            "INSERT INTO booking_offerevent (offer_id, kind, channel, actor, after, occurred_at) "
            "VALUES (%s, 'hold.placed', 'online', 'bench', %s, %s)",
            [offer_id, json.dumps({"session": session_id, "expires_at": expires.isoformat()}),
             now])
        self.connection.commit()

        offer = self._lock_offer(offer_id, today)
        cursor.execute("SELECT 1 FROM booking_booking WHERE offer_id = %s AND status IN "
                       "('pending_payment', 'confirmed') LIMIT 1", [offer_id])
        assert cursor.fetchone() is None
        cursor.execute("SELECT id, session_id, expires_at FROM booking_hold WHERE offer_id = %s "
                       "ORDER BY id LIMIT 1", [offer_id])
        hold_id, _session, _expires = cursor.fetchone()
        session = self._lock_session(session_id, offer, now)
        booking_id = self._take_seat(offer_id, session_id, hold_id, now)
        cursor.execute("UPDATE booking_offer SET status = 'booked', updated_at = %s "
                       "WHERE id = %s", [now, offer_id])
        cursor.execute(
            "INSERT INTO booking_offerevent (offer_id, booking_id, kind, channel, actor, after, "
            "occurred_at) VALUES (%s, %s, 'booking.confirmed', 'online', 'bench', %s, %s)",
            [offer_id, booking_id, json.dumps({"session": session_id, "status": "confirmed",
                                               "fee_pence": 0}), now])
        self.connection.commit()


def throughput(organisation, count: int, url: str, *, rounds: int, profile: bool) -> dict:
    """The four paths interleaved: `rounds` rounds, each running count/rounds operations of
    every path in turn (the order rotating each round), so that other load on the machine
    falls on all of them alike."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from booking.models import Booking, CourseType, Venue
    from booking.services.bookings import book, place_hold

    nsac = CourseType.objects.get(code="NSAC")
    venue = Venue.objects.first()
    today = timezone.localdate()
    per_session = 20
    starts = timezone.now() + timedelta(days=12)

    def fixtures(label: str, n: int, offset_days: int):
        sessions = make_sessions(nsac, venue, -(-n // per_session),
                                 starts=starts + timedelta(days=offset_days))
        offers = make_offers(nsac, n, f"TP{label}", today=today, critical_days=(90, 112))
        return offers, sessions

    def service(offer_id, session_id):
        place_hold(offer_id, session_id, channel="online", actor="bench")
        booking = book(offer_id, channel="online", actor="bench")
        if booking.status != "confirmed":
            raise RuntimeError(f"booking {booking.status}")

    limit_set_calls = getattr(settings, "TENANT_LIMIT_SET_CALLS", None)

    def service_limited(offer_id, session_id):
        settings.TENANT_LIMIT_SET_CALLS = True
        try:
            service(offer_id, session_id)
        finally:
            if limit_set_calls is None:
                del settings.TENANT_LIMIT_SET_CALLS
            else:
                settings.TENANT_LIMIT_SET_CALLS = limit_set_calls

    from booking import usage

    record_usage = usage.on_event

    def service_without_ledger(offer_id, session_id):
        # The billing ledger's row per confirmed booking left out, to price it (issue 10).
        usage.on_event = lambda event: None
        try:
            service(offer_id, session_id)
        finally:
            usage.on_event = record_usage

    from booking import tallies

    keep_tallies = tallies.on_event

    def service_without_tallies(offer_id, session_id):
        # The reports' tally rows per event left out, to price them (issue 12).
        tallies.on_event = lambda event: None
        try:
            service(offer_id, session_id)
        finally:
            tallies.on_event = keep_tallies

    raw = RawBooking(url, organisation.schema_name)
    paths = {
        "service": service,
        "service_without_ledger": service_without_ledger,
        "service_without_tallies": service_without_tallies,
        "service_limit_set_calls": service_limited,
        "raw_minimal": lambda offer_id, session_id: raw.minimal(offer_id, session_id,
                                                                timezone.now()),
        "raw_as_service": lambda offer_id, session_id: raw.as_the_service(
            offer_id, session_id, timezone.now(), today),
    }
    runs: dict = {}
    try:
        # Warm-up (not counted): imports, caches, both connections.
        offers, sessions = fixtures("WARM", 40 * len(paths), 0)
        for index, offer in enumerate(offers[:-1]):
            list(paths.values())[index % len(paths)](offer.pk, sessions[index % len(sessions)].pk)
        with CaptureQueriesContext(connection) as captured:
            service(offers[-1].pk, sessions[0].pk)
        statements = [query["sql"] for query in captured.captured_queries]
        runs["statements"] = {
            "all": len(statements),
            "set_search_path": sum(sql.startswith("SET search_path") for sql in statements),
            "savepoints": sum("SAVEPOINT" in sql for sql in statements),
        }

        # The offset keeps the labels apart: service_without_ledger and _tallies share 9 letters.
        data = {name: fixtures(f"{offset}{name.upper().replace('_', '')[:9]}", count, offset)
                for offset, name in enumerate(paths, start=1)}
        times: dict[str, list[float]] = {name: [] for name in paths}
        # This process's CPU per operation: on a shared machine the wall clock counts others'
        # work too, while this counts only Django's and psycopg2's (not the server's).
        cpu_times: dict[str, list[float]] = {name: [] for name in paths}
        per_round = -(-count // rounds)
        names = list(paths)
        for round_number in range(rounds):
            order = names[round_number % len(names):] + names[:round_number % len(names)]
            for name in order:
                offers, sessions = data[name]
                run = paths[name]
                for index in range(round_number * per_round,
                                   min(count, (round_number + 1) * per_round)):
                    start, cpu = time.perf_counter(), time.process_time()
                    run(offers[index].pk, sessions[index % len(sessions)].pk)
                    times[name].append(time.perf_counter() - start)
                    cpu_times[name].append(time.process_time() - cpu)
            log(f"  round {round_number + 1}/{rounds}: "
                + ", ".join(f"{name} {rate(times[name]):.0f}/s" for name in names))
        runs.update(times)
        runs["cpu"] = cpu_times
    finally:
        raw.close()
    runs["bookings"] = Booking.objects.count()

    if profile:
        import cProfile
        import io
        import pstats

        offers, sessions = fixtures("PROF", 300, 6)
        profiler = cProfile.Profile()
        profiler.enable()
        for index, offer in enumerate(offers):
            service(offer.pk, sessions[index % len(sessions)].pk)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats("booking/services|django/db/models|"
                                                   "django_tenants|psycopg2", 30)
        runs["profile"] = out.getvalue()
    return runs


# --- (c) Availability search ---------------------------------------------------------------

SEARCH_KINDS = [  # (label, share)
    ("near, by distance", 35),
    ("near, by date", 30),
    ("online", 20),
    ("Welsh, near", 15),
]


def build_search_data(organisation, *, venues: int, sessions: int, offers: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from booking.models import CourseSession, CourseType, DeliveryMode, Hold, Venue
    from integrations import postcodes

    rng = random.Random(20260401)
    sectors = sorted(postcodes._sectors().items())
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    venue_rows = []
    for index, (sector, (latitude, longitude)) in enumerate(rng.sample(sectors, venues)):
        venue_rows.append(Venue(
            name=f"Bench venue {index}", address=f"{index} Bench Street",
            town=sector.split(" ")[0], postcode=f"{sector}{rng.choice(letters)}"
            f"{rng.choice(letters)}", latitude=latitude, longitude=longitude,
            capacity=24, step_free=rng.random() < 0.7, hearing_loop=rng.random() < 0.4,
            parking=rng.random() < 0.5))
    venue_rows = Venue.objects.bulk_create(venue_rows)
    course_types = {course_type.code: course_type for course_type in CourseType.objects.all()}
    weights = {"NSAC": 60, "NMAC": 12, "WDU": 10, "NDAC": 8, "D4C": 5, "RiDE": 5}
    codes, code_weights = list(weights), list(weights.values())
    now = timezone.now()
    today = timezone.localdate(now)
    rows = []
    for _ in range(sessions):
        course_type = course_types[rng.choices(codes, code_weights)[0]]
        online = "online" in course_type.delivery_modes and rng.random() < 0.1
        day = today + timedelta(days=rng.randint(-28, 140))
        starts_at = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(
            hours=rng.choice([9, 13.5, 18]))
        capacity = rng.randint(20, 24)
        roll = rng.random()
        seats_booked = capacity if roll < 0.15 else rng.randint(0, capacity - 1)
        status = (CourseSession.Status.COMPLETED if starts_at < now
                  else CourseSession.Status.CANCELLED if rng.random() < 0.03
                  else CourseSession.Status.SCHEDULED)
        rows.append(CourseSession(
            course_type=course_type, venue=None if online else rng.choice(venue_rows),
            delivery_mode=DeliveryMode.ONLINE if online else DeliveryMode.CLASSROOM,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=course_type.duration_minutes),
            capacity=capacity, seats_booked=seats_booked,
            language="cy" if rng.random() < 0.1 else "en", status=status,
            joining_url="https://online.example.org/bench" if online else ""))
    rows = CourseSession.objects.bulk_create(rows, batch_size=2000)
    offer_weights = {"NSAC": 70, "NMAC": 12, "WDU": 10, "NDAC": 8}
    offer_rows = make_offers(
        lambda r: course_types[r.choices(list(offer_weights), list(offer_weights.values()))[0]],
        offers, "SEARCH", today=today, rng=rng,
        postcodes=[f"{sector}{rng.choice(letters)}{rng.choice(letters)}"
                   for sector, _centroid in rng.sample(sectors, 2000)],
        languages=["en"] * 9 + ["cy"])
    bookable = [row for row in rows if row.status == CourseSession.Status.SCHEDULED
                and row.seats_booked < row.capacity]
    Hold.objects.bulk_create([
        Hold(offer=offer, session=rng.choice(bookable), expires_at=now + timedelta(hours=3))
        for offer in offer_rows[: min(300, len(offer_rows))]])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE booking_venue, booking_coursesession, booking_offer, "
                       "booking_hold")
    return {"venues": len(venue_rows), "sessions": len(rows), "offers": len(offer_rows),
            "holds": min(300, len(offer_rows)),
            "online": sum(row.delivery_mode == "online" for row in rows),
            "welsh": sum(row.language == "cy" for row in rows)}


def run_search(offer, kind: str):
    from booking.services.search import search_sessions

    if kind == "near, by distance":
        return search_sessions(offer, near_postcode=offer.postcode, sort="distance")
    if kind == "near, by date":
        return search_sessions(offer, near_postcode=offer.postcode, sort="date")
    if kind == "online":
        return search_sessions(offer, online=True)
    return search_sessions(offer, near_postcode=offer.postcode, welsh_only=True)


def searches(count: int) -> dict:
    from booking.models import Offer

    rng = random.Random(7)
    offers = list(Offer.objects.select_related("course_type").filter(
        reference__startswith="SEARCH"))
    labels, shares = [kind for kind, _ in SEARCH_KINDS], [share for _, share in SEARCH_KINDS]
    for _ in range(20):  # warm-up: the postcode data, the query plans
        run_search(rng.choice(offers), rng.choice(labels))
    results = {label: [] for label in labels}
    for _ in range(count):
        kind = rng.choices(labels, shares)[0]
        offer = rng.choice(offers)
        start = time.perf_counter()
        found = run_search(offer, kind)
        results[kind].append((time.perf_counter() - start, len(found), offer))
    return results


def explain(results) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lines = []
    for kind, runs in results.items():
        if not runs:
            continue
        seconds, found, offer = max(runs, key=lambda run: run[0])
        with CaptureQueriesContext(connection) as captured:
            run_search(offer, kind)
        sessions_sql = [query["sql"] for query in captured.captured_queries
                        if '"booking_coursesession"' in query["sql"]
                        and query["sql"].startswith("SELECT")]
        lines.append(f"--- slowest '{kind}' search: {ms(seconds)} ms, {found} results, offer "
                     f"{offer.reference} ({offer.course_type.code}, {offer.postcode}); "
                     f"{len(captured.captured_queries)} statements, re-run now:")
        for sql in sessions_sql:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                lines.extend("    " + row[0] for row in cursor.fetchall())
    return lines


# --- Report --------------------------------------------------------------------------------

def rate(times: list[float]) -> float:
    return len(times) / sum(times)


def report(args, url, race_results, runs, search_data, search_results, explained, timings):
    print("Booking benchmarks (bench/booking.py)" + (" --quick" if args.quick else ""))
    print(f"  database {database_name(url)} on {urlparse(url).hostname}:{urlparse(url).port}; "
          f"{os.cpu_count()} CPUs; load average (1 min) {timings['load'][0]:.2f} at the start, "
          f"{os.getloadavg()[0]:.2f} at the end; set-up {timings['setup']:.1f} s, "
          f"total {(time.perf_counter() - timings['began']) / 60:.1f} min")
    print()
    print(f"(a) The last seats: one course date of {CAPACITY} seats, N concurrent place_hold + "
          "book attempts (own thread, connection and offer each; zero fee, so each booking "
          "confirms)")
    if race_results and race_results[0].get("server"):
        print(f"    run on {race_results[0]['server']}")
    header = ("attempts", "successes", "oversold", "seats_booked", "live holds", "p50 ms",
              "p95 ms", "max ms", "wall s", "other outcomes")
    widths = (8, 9, 8, 12, 10, 7, 7, 7, 6, 40)
    print(" | ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for result in race_results:
        if "skipped" in result:
            print(f"{result['attempts']:>8} | not run: {result['skipped']}")
            continue
        others = ", ".join(f"{outcome} x{n}" for outcome, n in sorted(result["outcomes"].items())
                           if outcome != "booked")
        row = (str(result["attempts"]), str(result["successes"]), str(result["oversold"]),
               f"{result['seats_booked']}/{result['capacity']}"
               + ("" if result["seats_consistent"] else " (!= bookings)"),
               str(result["live_holds"]), ms(result["p50"]), ms(result["p95"]), ms(result["max"]),
               f"{result['wall']:.2f}", others or "-")
        print(" | ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    print()

    service, raw_min, raw_svc, unbilled, untallied = (
        runs["service"], runs["raw_minimal"], runs["raw_as_service"],
        runs["service_without_ledger"], runs["service_without_tallies"])
    print(f"(b) Throughput: {len(service):,} holds + bookings per path, one after another, each "
          f"on its own offer, {CAPACITY}-seat course dates; the paths interleaved in "
          f"{args.rounds} rounds (Django's connection for the service, one psycopg2 connection "
          "for raw SQL)")
    statements = runs["statements"]
    print(f"    the service runs {statements['all']} statements per hold + booking, of which "
          f"{statements['set_search_path']} are django-tenants' SET search_path and "
          f"{statements['savepoints']} savepoint statements (BEGIN and COMMIT included); "
          "raw SQL, one transaction: 7 statements + BEGIN/COMMIT; raw SQL as the service: 15 "
          "+ 2 x BEGIN/COMMIT")
    header = ("path", "per second", "p50 ms", "p95 ms", "vs raw 1-tx", "vs raw as-service",
              "CPU ms")
    widths = (48, 10, 7, 7, 11, 17, 6)
    print(" | ".join(h.rjust(w) if i else h.ljust(w)
                     for i, (h, w) in enumerate(zip(header, widths, strict=True))))
    print("-+-".join("-" * w for w in widths))
    for label, name in (("service layer (place_hold + book)", "service"),
                        ("service layer without the billing ledger's row",
                         "service_without_ledger"),
                        ("service layer without the reports' tallies", "service_without_tallies"),
                        ("service layer, TENANT_LIMIT_SET_CALLS=True", "service_limit_set_calls"),
                        ("raw SQL, one transaction (psycopg2)", "raw_minimal"),
                        ("raw SQL, as the service does it (psycopg2)", "raw_as_service")):
        times = runs[name]
        cells = (label, f"{rate(times):.1f}", ms(percentile(times, 0.5)),
                 ms(percentile(times, 0.95)), f"{rate(times) / rate(raw_min):.2f}",
                 f"{rate(times) / rate(raw_svc):.2f}", ms(statistics.mean(runs["cpu"][name])))
        print(" | ".join(c.rjust(w) if i else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))))
    print("    CPU ms: this process's mean CPU time per hold + booking (time.process_time; "
          "the database server's is not in it)")
    print(f"    with the ledger's row, the service runs at {rate(service) / rate(unbilled):.0%} of "
          "its rate without it (goal: at least 90%)")
    print(f"    with the reports' tallies, the service runs at "
          f"{rate(service) / rate(untallied):.0%} of its rate without them (goal: at least 90%)")
    print()

    print(f"(c) Availability search: {search_data['venues']} venues, {search_data['sessions']:,} "
          f"course dates ({search_data['online']:,} online, {search_data['welsh']:,} Welsh), "
          f"{search_data['offers']:,} offers, {search_data['holds']} live holds, one client; "
          f"{sum(len(r) for r in search_results.values())} searches")
    header = ("kind", "searches", "p50 ms", "p95 ms", "max ms", "mean results")
    widths = (20, 8, 7, 7, 7, 12)
    print(" | ".join(h.rjust(w) if i else h.ljust(w)
                     for i, (h, w) in enumerate(zip(header, widths, strict=True))))
    print("-+-".join("-" * w for w in widths))
    every = []
    for kind, kind_runs in search_results.items():
        times = [run[0] for run in kind_runs]
        every.extend(times)
        cells = (kind, str(len(times)), ms(percentile(times, 0.5)), ms(percentile(times, 0.95)),
                 ms(max(times)), f"{statistics.mean(run[1] for run in kind_runs):.1f}")
        print(" | ".join(c.rjust(w) if i else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))))
    cells = ("all", str(len(every)), ms(percentile(every, 0.5)), ms(percentile(every, 0.95)),
             ms(max(every)), "")
    print(" | ".join(c.rjust(w) if i else c.ljust(w)
                     for i, (c, w) in enumerate(zip(cells, widths, strict=True))))
    print()

    print("Summary")
    rows = []
    for result in race_results:
        if "skipped" in result:
            rows.append((f"oversold, {result['attempts']} concurrent attempts", "not run", "0",
                         "NOT MEASURED"))
            continue
        ok = result["oversold"] == 0 and result["seats_consistent"] and not any(
            outcome.startswith(("error", "setup")) for outcome in result["outcomes"])
        rows.append((f"oversold, {result['attempts']} concurrent attempts",
                     f"{result['oversold']} ({result['successes']} booked, "
                     f"{result['seats_booked']}/{result['capacity']} seats)", "0, no errors",
                     "MET" if ok else "NOT MET"))
    ratio = rate(service) / rate(raw_min)
    rows.append(("service / raw SQL (one transaction)",
                 f"{ratio:.2f} ({rate(service):.0f} vs {rate(raw_min):.0f}/s)",
                 f">= {GOAL_RATIO:.2f}", "MET" if ratio >= GOAL_RATIO else "NOT MET"))
    ratio_svc = rate(service) / rate(raw_svc)
    rows.append(("service / raw SQL (as the service)",
                 f"{ratio_svc:.2f} ({rate(service):.0f} vs {rate(raw_svc):.0f}/s)",
                 f">= {GOAL_RATIO:.2f}", "MET" if ratio_svc >= GOAL_RATIO else "NOT MET"))
    p95 = percentile(every, 0.95) * 1000
    rows.append(("availability search p95", f"{p95:.1f} ms", f"< {GOAL_SEARCH_P95_MS:.0f} ms",
                 "MET" if p95 < GOAL_SEARCH_P95_MS else "NOT MET"))
    widths = (38, 36, 14, 12)
    print(" | ".join(h.ljust(w) for h, w in zip(("measure", "figure", "goal", "verdict"), widths,
                                                 strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    if runs.get("profile"):
        print()
        print("cProfile of 300 service-layer holds + bookings (--profile):")
        print(runs["profile"])
    if explained:
        print()
        print("EXPLAIN (ANALYZE, BUFFERS) of the slowest search of each kind:")
        for line in explained:
            print(line)


def main():
    args = parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    timings = {"began": time.perf_counter(), "load": os.getloadavg()}
    with bench_database(url, keep=args.keep):
        from django.conf import settings
        from django.db import connection

        start = time.perf_counter()
        migrate()
        booking_client = onboard("bench-booking", "Bench Booking")
        search_client = onboard("bench-search", "Bench Search")
        settings.DEBUG = False  # no query log, as in production
        prepare_booking_client(booking_client)
        timings["setup"] = time.perf_counter() - start

        race_results = races(args.race_sizes, booking_client, url, private=args.private_race)
        connection.set_tenant(booking_client)

        log(f"(b) throughput, {args.throughput} each")
        runs = throughput(booking_client, args.throughput, url, rounds=args.rounds,
                          profile=args.profile)

        log(f"(c) search data: {args.venues} venues, {args.sessions} sessions, "
            f"{args.offers} offers")
        connection.set_tenant(search_client)
        search_data = build_search_data(search_client, venues=args.venues,
                                        sessions=args.sessions, offers=args.offers)
        log(f"(c) {args.searches} searches")
        search_results = searches(args.searches)
        every = [run[0] for kind_runs in search_results.values() for run in kind_runs]
        explained = []
        if args.explain or percentile(every, 0.95) * 1000 >= GOAL_SEARCH_P95_MS:
            explained = explain(search_results)
        report(args, url, race_results, runs, search_data, search_results, explained, timings)


if __name__ == "__main__":
    main()
