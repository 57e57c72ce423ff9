"""Report latency on a million bookings: each client report's p50/p95, and the platform report
with 1,000 clients.

Run it:

    .venv/bin/python bench/reports.py                          # 1,000,000 bookings (minutes)
    .venv/bin/python bench/reports.py --bookings 100000 --repeat 10   # a quick run
    .venv/bin/python bench/reports.py --keep --explain

It creates its OWN database (default `waymark_bench_reports` on the server in
BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/waymark_bench_reports), dropped
first and at the end unless --keep (bench/harness.py). Set-up is the Makefile's `migrate` target,
then ONE client onboarded through `tenants.services.onboard_client` (so its schema is the real
one) and loaded with PostgreSQL COPY straight into its schema's tables: 300 venues, 20,000 course
dates (10 % online), `--bookings` booking rows spread over the 36 months before this one (one
in 30 moved once by a transfer: the moved booking is a row of its own, counted once by the
reports), their offers, about 2 events a booking (confirmed, then the outcome or the
cancellation; a transfer adds one), offers that were never booked (7 %: expired or withdrawn),
each offer's referring police force, a card payment for every booking not made by staff (and a
transfer fee for each move), a refund for half of the paid bookings cancelled, a
special-circumstances case on one offer in a hundred (decided within 12 days, or open if raised
in the last week), `--calls` logged calls (one in three about a booking), and the usage rows
billing's ledger would hold for them. Then 999 more clients as public-schema rows only (the
platform report reads the ledger, never a client's schema), each with `--usage-per-client` usage
rows over the same 36 months, as bench/billing.py does. Every table
loaded is VACUUMed and ANALYZEd before it is timed (as autovacuum leaves a table that was
written long ago: visibility map set, so index-only scans need no heap visits).

What it times (warm: two untimed calls first, then `--repeat` timed calls each): for the last 12
whole months, `reports.bookings.bookings_report`, `reports.funnel.funnel_report`,
`reports.remittance.remittance_report`, `reports.cases.cases_report`, `reports.fill.fill_report`
and `reports.calls.calls_report` without filters, with a course-type filter (the busiest course)
and with a venue filter (the remittance also for one force); and `reports.platform.platform_report`.
It prints p50, p95 and max per report, and the number of queries each makes. Goals: every client
report under 500 ms p95, the platform report under 1 s.
With --explain each report's queries are run once more under EXPLAIN (ANALYZE, BUFFERS) and the
plans go to stderr.

Progress goes to stderr; the figures to stdout. Other work on the machine shows up in the
figures, so the load average is printed with them.
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

from harness import bench_database, log, migrate

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/waymark_bench_reports"
MONTHS = 36
VENUES = 300
SESSIONS = 20_000
NEVER_BOOKED = 0.07
TRANSFER_EVERY = 30
OTHER_CLIENTS = 999
CLIENT_GOAL_MS = 500
PLATFORM_GOAL_MS = 1000
CHUNK = 100_000
OUTCOMES = (("completed", "completed", 0.88), ("did_not_attend", "did_not_attend", 0.05),
            ("refused_entry", "refused_entry", 0.01), ("not_completed", "not_completed", 0.02),
            ("cancelled", "expired", 0.04))
CHANNELS = (("online", 0.7), ("telephone", 0.27), ("admin", 0.03))
# The referring forces the offers name ("" is the client's own), for the remittance statement.
FORCES = (("Essex Police", 0.6), ("Kent Police", 0.2), ("Hertfordshire Constabulary", 0.15),
          ("", 0.05))
TRANSFER_FEE_PENCE = 1500
REFUNDED_SHARE = 0.5  # of the cancelled bookings that had paid
CASE_EVERY = 100  # one offer in a hundred has a special-circumstances case
CASE_KINDS = ("part_payment", "instalments", "medical", "compassionate", "interpreter",
              "other")


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00")


def text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


class Copier:
    """Rows for one table, sent with COPY every CHUNK rows so memory stays flat."""

    def __init__(self, table: str, columns: tuple[str, ...]):
        self.table, self.columns = table, columns
        self.buffer, self.rows, self.total = io.StringIO(), 0, 0

    def add(self, *values) -> None:
        self.buffer.write("\t".join(text(value) for value in values))
        self.buffer.write("\n")
        self.rows += 1
        if self.rows >= CHUNK:
            self.flush()

    def flush(self) -> None:
        from django.db import connection

        if not self.rows:
            return
        columns, rows = self.columns, self.buffer
        missing = required_columns(self.table, columns)
        if missing:
            # A column added since this bench was written (COPY skips Django's defaults): its
            # empty value, so the load keeps working as the models grow.
            suffix = "".join("\t" + value for value in missing.values())
            columns = (*columns, *missing)
            rows = io.StringIO("".join(line + suffix + "\n"
                                       for line in self.buffer.getvalue().splitlines()))
        rows.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {self.table} ({', '.join(columns)}) FROM STDIN", rows)
        self.total += self.rows
        self.buffer, self.rows = io.StringIO(), 0


EMPTY_BY_TYPE = {"character varying": "", "text": "", "boolean": "f", "integer": "0",
                 "bigint": "0", "smallint": "0", "jsonb": "{}",
                 "timestamp with time zone": datetime.now(UTC).isoformat()}


def required_columns(table: str, given: tuple[str, ...]) -> dict[str, str]:
    """The NOT NULL columns without a database default that `given` leaves out, with the empty
    value of each one's type."""
    from django.db import connection

    schema, _dot, name = table.rpartition(".")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND is_nullable = 'NO' "
            "AND column_default IS NULL AND is_identity = 'NO' AND is_generated = 'NEVER'",
            [schema.strip('"') or connection.schema_name, name.strip('"')])
        return {column: EMPTY_BY_TYPE.get(kind, "")
                for column, kind in cursor.fetchall() if column not in given}


def next_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return cursor.fetchone()[0]


def reset_sequences(tables: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")


def usage_copier() -> Copier:
    """COPY into the usage ledger; a card payment's amount (0 for these kinds) where the ledger
    has one (COPY skips Django's defaults)."""
    from billing.models import UsageRecord

    columns = ("client_id", "source_event_id", "kind", "channel", "occurred_at", "recorded_at")
    has_amount = any(field.name == "amount_pence" for field in UsageRecord._meta.fields)
    copier = Copier("public.billing_usagerecord",
                    columns + (("amount_pence",) if has_amount else ()))
    copier.extra = (0,) if has_amount else ()
    return copier


def onboard():
    from tenants.services import NewClient, onboard_client

    return onboard_client(NewClient(name="Bench Reports", slug="bench-reports",
                                    kind="county_council",
                                    admin_email="admin@bench-reports.bench.example",
                                    contact_email="contact@bench-reports.bench.example"),
                          acting_user="bench")


def populate_client(organisation, bookings: int, *, now: datetime, seed: int) -> dict:
    """The client's venues, course dates, offers, bookings and events (COPY into its schema),
    and its usage rows (public schema)."""
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    from booking.models import CourseType
    from booking.services.rules import fee_breakdown, policy_snapshot

    schema = organisation.schema_name
    rng = random.Random(seed)
    first = add_months(now.date().replace(day=1), -MONTHS)
    begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    span = (now - begin).total_seconds()
    with schema_context(schema):
        courses = list(CourseType.objects.order_by("code"))
    weights = [6.0 if course.code == "NSAC" else 1.0 for course in courses]
    fees = {course.pk: (fee_breakdown(course)["total_pence"],
                        json.dumps(fee_breakdown(course)), json.dumps(policy_snapshot(course)))
            for course in courses}

    def table(name):
        return f'"{schema}".{name}'

    with transaction.atomic():
        ids = {name: next_id(table(name)) for name in
               ("booking_venue", "booking_coursesession", "booking_offer", "booking_booking",
                "booking_offerevent", "booking_payment", "booking_refund",
                "booking_specialcircumstancescase")}
        log(f"loading {VENUES} venues and {SESSIONS} course dates")
        venues = Copier(table("booking_venue"), (
            "id", "name", "address", "town", "postcode", "latitude", "longitude", "capacity",
            "step_free", "hearing_loop", "parking", "directions_en", "directions_cy",
            "is_active"))
        venue_ids = []
        for n in range(VENUES):
            pk = ids["booking_venue"] + n
            venue_ids.append(pk)
            venues.add(pk, f"Venue {n}", f"{n} High Street", f"Town {n % 97}",
                       f"CM{n % 30} {n % 9}AB", 51.5 + rng.random(), -1 + rng.random(), 80,
                       "t", "f", "t", "", "", "t")
        venues.flush()
        # Course dates from the first month to two months ahead, in time order, so a
        # booking's date is found by its position.
        sessions = Copier(table("booking_coursesession"), (
            "id", "course_type_id", "venue_id", "delivery_mode", "starts_at", "ends_at",
            "capacity", "seats_booked", "language", "status", "joining_url"))
        session_rows = []  # (id, course type id, starts_at)
        session_span = span + 60 * 86400
        for n in range(SESSIONS):
            pk = ids["booking_coursesession"] + n
            course = rng.choices(courses, weights=weights)[0]
            starts = begin + timedelta(seconds=session_span * n / SESSIONS, hours=9)
            online = rng.random() < 0.1
            session_rows.append((pk, course.pk, starts))
            sessions.add(pk, course.pk, None if online else rng.choice(venue_ids),
                         "online" if online else "classroom", stamp(starts),
                         stamp(starts + timedelta(minutes=course.duration_minutes)), 200, 0,
                         "cy" if rng.random() < 0.1 else "en",
                         "completed" if starts < now else "scheduled", "")
        sessions.flush()

        log(f"loading {bookings} bookings, their offers and events")
        offers = Copier(table("booking_offer"), (
            "id", "reference", "course_type_id", "offence_date", "booking_period_end",
            "critical_date", "first_name", "last_name", "date_of_birth", "address", "postcode",
            "email", "phone", "phone_e164", "licence_number", "language",
            "access_requirements", "access_notes", "source", "status", "created_at",
            "updated_at", "police_force"))
        booking_copy = Copier(table("booking_booking"), (
            "id", "reference", "offer_id", "session_id", "channel", "status", "fee_pence",
            "fee_snapshot", "policy_snapshot", "transfer_count", "transferred_from_id",
            "made_by", "created_at", "confirmed_at", "ended_at"))
        events = Copier(table("booking_offerevent"), (
            "id", "offer_id", "booking_id", "kind", "channel", "actor", "actor_user_id",
            "before", "after", "occurred_at"))
        payments = Copier(table("booking_payment"), (
            "id", "booking_id", "kind", "stripe_payment_intent_id", "amount_pence", "currency",
            "status", "channel", "moto", "last_error", "created_at", "succeeded_at"))
        refunds = Copier(table("booking_refund"), (
            "id", "payment_id", "stripe_refund_id", "amount_pence", "reason", "created_at"))
        cases = Copier(table("booking_specialcircumstancescase"), (
            "id", "offer_id", "kind", "notes", "status", "offer_status_before", "raised_by",
            "assigned_to", "decision_note", "decided_by", "decided_at", "created_at",
            "updated_at"))
        usage = []  # (source event id, kind, channel, occurred_at)
        counter = {"offer": ids["booking_offer"], "booking": ids["booking_booking"],
                   "event": ids["booking_offerevent"], "payment": ids["booking_payment"],
                   "refund": ids["booking_refund"], "case": ids["booking_specialcircumstancescase"]}
        force_names = [name for name, _share in FORCES]
        force_weights = [share for _name, share in FORCES]

        def new_offer(course_id, arrived, status):
            pk = counter["offer"]
            counter["offer"] += 1
            day = arrived.date()
            offers.add(pk, f"BENCH-{pk:08d}", course_id, day - timedelta(days=10),
                       day + timedelta(days=90), day + timedelta(days=110), "Alex", "Jones",
                       date(1980, 1 + pk % 12, 1 + pk % 28), "", "", f"p{pk}@example.com",
                       "", "", "", "en", "[]", "", "csv", status, stamp(arrived),
                       stamp(arrived), rng.choices(force_names, weights=force_weights)[0])
            if pk % CASE_EVERY == 0:
                new_case(pk, arrived + timedelta(days=rng.randint(0, 20)), status)
            return pk

        def new_case(offer_id, raised, offer_status):
            pk = counter["case"]
            counter["case"] += 1
            decided = (None if raised > now - timedelta(days=7)
                       else raised + timedelta(hours=rng.randint(2, 24 * 12)))
            verdict = ("open" if decided is None else
                       "approved" if rng.random() < 0.7 else "declined")
            cases.add(pk, offer_id, rng.choice(CASE_KINDS), "bench", verdict, offer_status,
                      "bench", "", "", "" if decided is None else "bench",
                      stamp(decided) if decided else None, stamp(raised), stamp(raised))

        def payment(booking_id, kind, amount, channel, at):
            pk = counter["payment"]
            counter["payment"] += 1
            payments.add(pk, booking_id, kind, f"pi_bench_{pk}", amount, "gbp", "succeeded",
                         channel, "f", "", stamp(at), stamp(at))
            return pk

        def refund(payment_id, amount, at):
            pk = counter["refund"]
            counter["refund"] += 1
            refunds.add(pk, payment_id, f"re_bench_{pk}", amount, "bench", stamp(at))

        def event(offer_id, booking_id, kind, channel, at):
            pk = counter["event"]
            counter["event"] += 1
            events.add(pk, offer_id, booking_id, kind, channel, "bench", None, None,
                       '{"bench": true}', stamp(at))
            return pk

        def booking_row(offer_id, session, channel, status, confirmed, ended, moved_from):
            pk = counter["booking"]
            counter["booking"] += 1
            fee, fee_json, policy_json = fees[session[1]]
            booking_copy.add(pk, f"B{pk:010d}", offer_id, session[0], channel, status, fee,
                             fee_json, policy_json, 1 if moved_from else 0, moved_from,
                             "bench", stamp(confirmed), stamp(confirmed),
                             stamp(ended) if ended else None)
            return pk

        def outcome(confirmed):
            if confirmed > now - timedelta(days=30):
                return "confirmed", "booked"
            draw, total = rng.random(), 0.0
            for booking_status, offer_status, share in OUTCOMES:
                total += share
                if draw < total:
                    return booking_status, offer_status
            return OUTCOMES[0][:2]

        channel_names = [name for name, _share in CHANNELS]
        channel_weights = [share for _name, share in CHANNELS]
        made = 0
        while made < bookings:
            confirmed = begin + timedelta(seconds=rng.random() * span)
            position = min(SESSIONS - 1, int((confirmed - begin).total_seconds()
                                             / session_span * SESSIONS) + rng.randint(20, 400))
            session = session_rows[position]
            channel = rng.choices(channel_names, weights=channel_weights)[0]
            status, offer_status = outcome(confirmed)
            moves = made % TRANSFER_EVERY == 0 and status != "cancelled" and made + 1 < bookings
            offer_id = new_offer(session[1], confirmed - timedelta(days=rng.randint(1, 30)),
                                 offer_status)
            ended = session[2] + timedelta(hours=3) if status != "confirmed" else None
            first_id = booking_row(offer_id, session, channel,
                                   "transferred" if moves else status, confirmed,
                                   confirmed + timedelta(days=3) if moves else ended, None)
            confirmed_event = event(offer_id, first_id, "booking.confirmed", channel, confirmed)
            # Staff bookings are the fee waived; the rest paid by card when they were made.
            paid = (payment(first_id, "booking_fee", fees[session[1]][0], channel, confirmed)
                    if channel != "admin" and fees[session[1]][0] else None)
            usage.append((f"offer_event:{confirmed_event}", "booking_confirmed",
                          "online" if channel == "online" else
                          "telephone" if channel == "telephone" else "staff", confirmed))
            last_id = first_id
            made += 1
            if moves:
                moved_at = confirmed + timedelta(days=3)
                later = session_rows[min(SESSIONS - 1, position + 20)]
                later = (later[0], session[1], later[2])  # the same course, a later date
                ended = later[2] + timedelta(hours=3) if status != "confirmed" else None
                last_id = booking_row(offer_id, later, channel, status, moved_at, ended,
                                      first_id)
                event(offer_id, last_id, "booking.transferred", channel, moved_at)
                if channel != "admin":
                    payment(last_id, "transfer_fee", TRANSFER_FEE_PENCE, channel, moved_at)
                made += 1
            if status == "cancelled":
                at = ended or confirmed
                cancelled = event(offer_id, last_id, "booking.cancelled", channel, at)
                if paid is not None and rng.random() < REFUNDED_SHARE:
                    refund(paid, fees[session[1]][0], at)
                usage.append((f"offer_event:{cancelled}", "booking_cancelled_credit", "", at))
            elif status != "confirmed":
                event(offer_id, last_id, "booking.outcome_recorded", "admin", ended)
        for _n in range(round(bookings * NEVER_BOOKED)):
            arrived = begin + timedelta(seconds=rng.random() * span)
            new_offer(rng.choices(courses, weights=weights)[0].pk, arrived,
                      "withdrawn" if rng.random() < 0.25 else "expired")
        for copier in (offers, booking_copy, events, payments, refunds, cases):
            copier.flush()
        reset_sequences([table(name) for name in ids])

    log(f"loading {len(usage)} usage rows for the client")
    ledger = usage_copier()
    with transaction.atomic():
        for source, kind, channel, at in usage:
            ledger.add(organisation.pk, source, kind, channel, stamp(at), stamp(at),
                       *ledger.extra)
        ledger.flush()
    log("VACUUM ANALYZE")
    with connection.cursor() as cursor:
        for name in ("booking_venue", "booking_coursesession", "booking_offer",
                     "booking_booking", "booking_offerevent", "booking_payment", "booking_refund",
                     "booking_specialcircumstancescase"):
            cursor.execute(f"VACUUM ANALYZE {table(name)}")
    # COPY went past log_event, which keeps the reports' tallies: count them from the rows.
    from booking import tallies

    log("counting the report tallies")
    began = time.perf_counter()
    with schema_context(organisation.schema_name):
        tallies.rebuild()
    recount = time.perf_counter() - began
    with connection.cursor() as cursor:
        for name in ("booking_bookingtally", "booking_funneltally", "booking_funnelentry",
                     "booking_sessionfill", "booking_remittancetally"):
            cursor.execute(f"VACUUM ANALYZE {table(name)}")
    return {"offers": offers.total, "bookings": booking_copy.total, "events": events.total,
            "payments": payments.total, "refunds": refunds.total, "cases": cases.total,
            "usage": ledger.total, "courses": courses,
            "venue": venue_ids[0], "recount_seconds": recount}


def populate_others(count: int, per_client: int, *, now: datetime, seed: int) -> int:
    """Public-schema clients with usage rows only, as bench/billing.py makes them."""
    from django.db import connection, transaction

    from tenants.models import ClientOrganisation

    rng = random.Random(seed)
    rows = ClientOrganisation.objects.bulk_create([
        ClientOrganisation(schema_name=f"client_bench_other_{n}", name=f"Bench other {n}",
                           slug=f"bench-other-{n}", kind="county_council", status="live",
                           display_name_en=f"Bench other {n}")
        for n in range(count)])
    first = add_months(now.date().replace(day=1), -MONTHS)
    begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    span = (now - begin).total_seconds()
    kinds = ([("booking_confirmed", "online")] * 7 + [("booking_confirmed", "telephone")] * 2
             + [("booking_confirmed", "staff"), ("booking_cancelled_credit", ""),
                ("call_logged", "")])
    log(f"loading {count} more clients × {per_client} usage rows")
    ledger = usage_copier()
    with transaction.atomic():
        for row in rows:
            for n in range(per_client):
                at = stamp(begin + timedelta(seconds=rng.random() * span))
                kind, channel = kinds[n % len(kinds)]
                ledger.add(row.pk, f"event:{n}", kind, channel, at, at, *ledger.extra)
        ledger.flush()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE public.billing_usagerecord")
        cursor.execute("ANALYZE public.tenants_clientorganisation")
    return ledger.total


CALL_TYPES = (("new_booking", "booked", 0.35), ("transfer", "transferred", 0.15),
         ("cancellation", "cancelled", 0.05), ("payment", "payment_taken", 0.1),
         ("enquiry", "information_given", 0.25), ("complaint", "referred", 0.03),
         ("special_circumstances", "referred", 0.04), ("other", "not_resolved", 0.03))


def populate_calls(organisation, count: int, *, now: datetime, seed: int) -> int:
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    rng = random.Random(seed)
    first = add_months(now.date().replace(day=1), -MONTHS)
    begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    span_days = (now - begin).days
    schema = organisation.schema_name
    with schema_context(schema):
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT booking.id, booking.offer_id, offer.course_type_id '
                           f'FROM "{schema}".booking_booking AS booking '
                           f'JOIN "{schema}".booking_offer AS offer ON offer.id = booking.offer_id '
                           "ORDER BY random() LIMIT %s", [count // 3])
            about = cursor.fetchall()
        copier = Copier(f'"{schema}".booking_calllog', (
            "call_type", "outcome", "duration_minutes", "notes", "offer_id", "booking_id",
            "agent_user_id", "agent_label", "started_at", "logged_at", "course_type_id"))
        with transaction.atomic():
            for n in range(count):
                call_type, outcome, _weight = rng.choices(CALL_TYPES, weights=[t[2] for t in CALL_TYPES])[0]
                # Mostly 07:00–18:00 UTC, some at any hour.
                hour = rng.randint(7, 17) if rng.random() < 0.9 else rng.randint(0, 23)
                started = begin + timedelta(days=rng.randrange(span_days), hours=hour,
                                            minutes=rng.randrange(60))
                booking_id, offer_id, course_id = about[n] if n < len(about) else (None,) * 3
                copier.add(call_type, outcome, rng.randint(1, 20), "", offer_id, booking_id,
                           None, "agent@bench.example", stamp(started), stamp(started),
                           course_id)
            copier.flush()
        with connection.cursor() as cursor:
            cursor.execute(f'VACUUM ANALYZE "{schema}".booking_calllog')
    return copier.total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(call, repeat: int) -> tuple[list[float], int, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()
    with CaptureQueriesContext(connection) as queries:
        call()
    times = []
    for _n in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return times, len(queries), [query["sql"] for query in queries]


def explain(name: str, statements: list[str]) -> None:
    from django.db import connection

    for sql in statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        log(f"--- {name}\n{sql}\n{plan}\n")


def measure(organisation, loaded: dict, *, now: datetime, repeat: int,
            show_plans: bool) -> None:
    from django_tenants.utils import schema_context

    from booking.models import CourseType, Venue
    from reports.bookings import bookings_report
    from reports.calls import calls_report
    from reports.cases import cases_report
    from reports.fill import fill_report
    from reports.funnel import funnel_report
    from reports.periods import Period
    from reports.platform import platform_report
    from reports.remittance import remittance_report

    period = Period(add_months(now.date().replace(day=1), -12),
                    add_months(now.date().replace(day=1), -1))
    results = []
    with schema_context(organisation.schema_name):
        course = CourseType.objects.get(code="NSAC")
        venue = Venue.objects.get(pk=loaded["venue"])
        cases = [
            ("bookings_report", lambda: bookings_report(period)),
            ("bookings_report, course filter", lambda: bookings_report(period, course_type=course)),
            ("bookings_report, venue filter", lambda: bookings_report(period, venue=venue)),
            ("funnel_report", lambda: funnel_report(period)),
            ("funnel_report, course filter", lambda: funnel_report(period, course_type=course)),
            ("funnel_report, venue filter", lambda: funnel_report(period, venue=venue)),
            ("remittance_report", lambda: remittance_report(period)),
            ("remittance_report, course filter",
             lambda: remittance_report(period, course_type=course)),
            ("remittance_report, venue filter", lambda: remittance_report(period, venue=venue)),
            ("remittance_report, one force",
             lambda: remittance_report(period, force=FORCES[0][0])),
            ("cases_report", lambda: cases_report(period)),
            ("cases_report, course filter", lambda: cases_report(period, course_type=course)),
            ("cases_report, venue filter", lambda: cases_report(period, venue=venue)),
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
            times, queries, statements = timed(call, repeat)
            results.append((name, times, queries, CLIENT_GOAL_MS))
            if show_plans:
                explain(name, statements)
    log("timing platform_report")
    times, queries, statements = timed(lambda: platform_report(period, now=now), repeat)
    results.append(("platform_report, 1,000 clients", times, queries, PLATFORM_GOAL_MS))
    if show_plans:
        explain("platform_report", statements)

    print(f"client: {loaded['bookings']:,} bookings, {loaded['offers']:,} offers, "
          f"{loaded['events']:,} events, {loaded['payments']:,} payments, "
          f"{loaded['refunds']:,} refunds, {loaded['cases']:,} special-circumstances cases, "
          f"{loaded['calls']:,} calls, "
          f"{SESSIONS:,} course dates, {VENUES} venues; "
          f"usage rows: {loaded['usage']:,} for it, {loaded['other_usage']:,} for "
          f"{OTHER_CLIENTS} other clients")
    print(f"period {period.first:%Y-%m} to {period.last:%Y-%m}; {repeat} timed calls each, "
          "warm")
    print(f"the report tallies counted from scratch (booking.tallies.rebuild) in "
          f"{loaded['recount_seconds']:.1f} s; kept up to date by log_event and a fold every "
          "minute after that")
    print(f"{'report':<34} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  goal")
    for name, times, queries, goal in results:
        p95 = percentile(times, 0.95)
        print(f"{name:<34} {queries:>7} {statistics.median(times):>8.1f} {p95:>8.1f} "
              f"{max(times):>8.1f}  <{goal} ms p95: {'met' if p95 < goal else 'MISSED'}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--usage-per-client", type=int, default=1000,
                        help="usage rows for each of the 999 other clients")
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN (ANALYZE, BUFFERS) each report's queries (to stderr)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("BENCH_DATABASE_URL must name a database containing 'bench'")
    with bench_database(url, keep=args.keep):
        migrate()
        from django.conf import settings
        from django.utils import timezone

        settings.DEBUG = False
        now = timezone.now()
        began = time.perf_counter()
        organisation = onboard()
        loaded = populate_client(organisation, args.bookings, now=now, seed=args.seed)
        loaded["calls"] = populate_calls(organisation, args.calls, now=now, seed=args.seed)
        loaded["other_usage"] = populate_others(OTHER_CLIENTS, args.usage_per_client, now=now,
                                                seed=args.seed)
        log(f"loaded in {time.perf_counter() - began:.0f} s")
        measure(organisation, loaded, now=now, repeat=args.repeat, show_plans=args.explain)
    return 0


if __name__ == "__main__":
    sys.exit(main())
