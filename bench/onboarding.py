"""Onboarding time for a new client with 1, 100 and 1,000 clients already present.

Run it:

    make bench                                  # sets up the venv, then runs this file
    .venv/bin/python bench/onboarding.py        # the Makefile exports PYTHONPATH and
                                                # DJANGO_SETTINGS_MODULE; bench/harness.py also
                                                # sets them if they are missing
    .venv/bin/python bench/onboarding.py --sizes 1,100 --repeat 3 --keep

It never touches development or test data. It creates its OWN database, by default
`waymark_bench` on the server in BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/waymark_bench), dropping it first if it exists, and drops it
again at the end unless --keep is given. Its name must contain "bench", so a mistyped URL can
never drop a real database. Set-up is the Makefile's `migrate` target, run with call_command:
`migrate_schemas --shared`, `createcachetable`, `ensure_client_template`.

What it measures: the wall-clock time of
`tenants.services.onboard_client(NewClient(...), acting_user="bench")`, the path production takes:
validation, then one durable transaction that saves the ClientOrganisation (its create_schema
checks the template schema `TENANT_BASE_SCHEMA` has every tenant migration and copies it with
tenants.schema_clone.clone_template, whose copied django_migrations rows make django-tenants'
`migrate_schemas --tenant --fake` unnecessary; django-tenants' own clone and fake migrate run only
if the template holds objects the fast clone does not copy) on the new
schema, because TENANT_CREATION_FAKES_MIGRATIONS is on), the domain, the national course types,
the invited administrator, the membership and the audit entry, then the invitation e-mail on
commit. E-mail goes to Django's in-memory backend (EMAIL_URL=locmem://) so nothing is written
under .data/ and no mail is printed; DEBUG is switched off after set-up so the query log does not
count.

For each size N it first brings the number of client organisations (the template not counted)
up to N, then onboards --repeat new clients one after the other; so the runs see N, N+1, ...,
N+repeat-1 clients present, and the measured clients stay and count towards the next size.
Present clients are populated by default with `--populate dump`: the first one through the
real service; its schema (a clone of the template) is then dumped once with pg_dump (which must be
on PATH) and the dump replayed under each further client's own schema name, with that client's
public rows (organisation, domain, administrator, membership, audit entry) made by bulk_create.
So every present client is a real schema with real tables and rows, made in about 0.07 s
instead of a clone each (a clone takes seconds once hundreds of schemas exist). `--populate
service` uses the real service for every one of them: with 1,000 that takes far longer than the
whole bench. At the end every client's schema is checked against the template (tables,
relations, triggers, constraints; migration rows and course types for a sample); a PROBLEM line
there means the figures are suspect, e.g. a migration was added to the tree mid-run.

Besides the table it prints where the time goes: the schema clone
(tenants.schema_clone.clone_template, plus django_tenants.clone.CloneSchema.clone_schema and
within it re-creating the clone_schema SQL functions if that fallback runs), the check that the
template has every tenant migration, the fake `migrate_schemas` call (fallback only; call_command
as django_tenants.models calls it, and within it Django's system checks and the pre/post-migrate
signals), and the rest of the service (within it validate_new_client, the COMMIT and the
invitation e-mail).
The timers wrap those functions for every measured run; they add microseconds.

Progress goes to stderr; the figures to stdout. Other work on the same machine or database
server shows up in the figures, so the load average is printed with them.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from urllib.parse import urlparse

from harness import bench_database, log, migrate

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/waymark_bench"
GOAL_SECONDS = 1.0
GOAL_PRESENT = 1000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100,1000",
                        help="clients present before each set of onboardings (default 1,100,1000)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="onboardings measured per size (default 5)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the bench database at the end (default: drop it)")
    parser.add_argument("--populate", choices=("dump", "service"), default="dump",
                        help="how present clients are made (default dump; see the docstring)")
    args = parser.parse_args()
    args.sizes = sorted({int(size) for size in args.sizes.split(",") if size.strip()})
    if not args.sizes or args.sizes[0] < 0 or args.repeat < 1:
        parser.error("--sizes needs non-negative integers and --repeat at least 1")
    return args


# --- Timers -------------------------------------------------------------------------------

class Timers:
    """Accumulates time spent inside wrapped functions, per label, while enabled."""

    def __init__(self):
        self.totals: dict[str, float] = {}
        self.enabled = False

    def reset(self):
        self.totals = {}

    def wrap(self, label, function):
        timers = self

        def timed(*args, **kwargs):
            if not timers.enabled:
                return function(*args, **kwargs)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timers.totals[label] = timers.totals.get(label, 0.0) + time.perf_counter() - start

        timed.__wrapped__ = function
        return timed


TIMERS = Timers()
LOAD: dict[int, tuple[float, float]] = {}  # size -> load average before and after measuring
PARTS = [
    # (label, description)
    ("clone", "schema clone (schema_clone.clone_template)"),
    ("clone_functions", "  of which re-creating the clone_schema SQL functions"),
    ("template_check", "template has every tenant migration (check)"),
    ("migrate", "fake migrate_schemas (call_command)"),
    ("checks", "  of which Django system checks"),
    ("signals", "  of which pre/post-migrate signals"),
    ("rest", "rest of onboard_client (validation, rows, commit, e-mail)"),
    ("validation", "  of which validate_new_client"),
    ("commit", "  of which COMMIT"),
    ("email", "  of which the invitation e-mail (on commit)"),
]


def install_timers():
    """Wrap the calls whose time the breakdown reports. django_tenants.models imported
    call_command by name, so that name is the one to wrap."""
    import django_tenants.models as tenant_models
    from django.core.management.base import BaseCommand
    from django.core.management.commands import migrate
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django_tenants.clone import CloneSchema

    import tenants.schema_clone as schema_clone
    import tenants.services as services

    # ClientOrganisation.create_schema looks these up in schema_clone at call time.
    schema_clone.clone_template = TIMERS.wrap("clone", schema_clone.clone_template)
    schema_clone.require_template_migrated = TIMERS.wrap(
        "template_check", schema_clone.require_template_migrated)
    # django-tenants' own clone, used only if the template holds what the fast clone does not copy.
    CloneSchema.clone_schema = TIMERS.wrap("clone", CloneSchema.clone_schema)
    CloneSchema._create_clone_schema_function = TIMERS.wrap(
        "clone_functions", CloneSchema._create_clone_schema_function)
    tenant_models.call_command = TIMERS.wrap("migrate", tenant_models.call_command)
    BaseCommand.check = TIMERS.wrap("checks", BaseCommand.check)
    migrate.emit_pre_migrate_signal = TIMERS.wrap("signals", migrate.emit_pre_migrate_signal)
    migrate.emit_post_migrate_signal = TIMERS.wrap("signals", migrate.emit_post_migrate_signal)
    # onboard_client looks these up in its module at call time.
    services.validate_new_client = TIMERS.wrap("validation", services.validate_new_client)
    services.queue_invitation = TIMERS.wrap("email", services.queue_invitation)
    BaseDatabaseWrapper.commit = TIMERS.wrap("commit", BaseDatabaseWrapper.commit)


# --- Clients ------------------------------------------------------------------------------

KINDS = ["county_council", "unitary_council", "police_force", "road_safety_partnership"]


def new_client(number: int, prefix: str):
    from tenants.services import NewClient

    slug = f"{prefix}{number:05d}"
    return NewClient(
        name=f"Bench {prefix} {number}",
        slug=slug,
        kind=KINDS[number % len(KINDS)],
        admin_email=f"admin@{slug}.bench.example",
        admin_name=f"Admin {number}",
        contact_phone="0300 123 4567",
        contact_email=f"contact@{slug}.bench.example",
    )


def present_count() -> int:
    from tenants.models import ClientOrganisation

    return ClientOrganisation.objects.filter(is_template=False).count()


class Population:
    """Brings the number of clients present up to a target.

    "dump": the first client is onboarded through the real service; its schema is dumped once
    with pg_dump and replayed, under each new schema name, for every further client, with that
    client's public rows (organisation, domain, administrator, membership, audit entry) created
    with bulk_create, 5 clients per transaction. "service": the real service for every client.
    """

    # Each schema's DDL holds a few hundred locks until its transaction commits: 50 schemas at once
    # overflowed a default server's lock table (max_locks_per_transaction 64) and failed other
    # sessions on the server.
    BATCH = 5

    def __init__(self, method: str, url: str):
        self.method = method
        self.url = url
        self.made_by_service = 0
        self.made_from_dump = 0
        self.measured = 0
        self.seconds = 0.0
        self.next_number = 1
        self.source_schema = None
        self.dump_sql = None

    def grow_to(self, target: int) -> None:
        have = present_count()
        need = target - have
        if need <= 0:
            return
        log(f"populating {need} clients ({have} -> {target}), method {self.method}")
        start = time.perf_counter()
        done = 0
        while done < need:
            if self.method == "service" or self.source_schema is None:
                self._onboard()
                done += 1
            else:
                batch = min(self.BATCH, need - done)
                self._replay(batch)
                done += batch
            if done % self.BATCH == 0 or done == need:
                elapsed = time.perf_counter() - start
                rate = elapsed / done
                log(f"  {done}/{need} populated, {rate:.3f} s each, "
                    f"about {rate * (need - done) / 60:.1f} min left")
        self.seconds += time.perf_counter() - start

    def _take_number(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def _onboard(self) -> None:
        from tenants.services import onboard_client

        organisation = onboard_client(new_client(self._take_number(), "pop"), acting_user="bench")
        self.made_by_service += 1
        if self.source_schema is None:
            # The first client also warms up imports, the migration loader and the clone
            # functions before anything is measured.
            self.source_schema = organisation.schema_name

    def _load_dump(self) -> str:
        parsed = urlparse(self.url)
        env = dict(os.environ)
        if parsed.password:
            env["PGPASSWORD"] = parsed.password
        command = ["pg_dump", "--inserts", "--schema", self.source_schema,
                   "--host", parsed.hostname or "127.0.0.1", "--port", str(parsed.port or 5432),
                   "--username", parsed.username or "postgres", parsed.path.lstrip("/")]
        try:
            output = subprocess.run(command, env=env, check=True, capture_output=True,
                                    text=True).stdout
        except FileNotFoundError:
            sys.exit("pg_dump is not installed: install the PostgreSQL client, or use "
                     "--populate service")
        # psql meta-commands (\restrict ...) and comments are not SQL.
        lines = [line for line in output.splitlines()
                 if not line.startswith("\\") and not line.startswith("--")]
        return "\n".join(lines)

    def _replay(self, count: int) -> None:
        from dataclasses import asdict

        import psycopg2
        from django.db import transaction

        from accounts.models import Membership, User
        from accounts.roles import Role
        from audit.models import AuditEntry
        from tenants.models import ClientOrganisation, Domain

        if self.dump_sql is None:
            self.dump_sql = self._load_dump()
            self.pattern = re.compile(r"\b" + re.escape(self.source_schema) + r"\b")
        clients = [new_client(self._take_number(), "pop") for _ in range(count)]
        ddl = psycopg2.connect(self.url)
        try:
            with ddl.cursor() as cursor:
                for client in clients:
                    cursor.execute(self.pattern.sub(client.schema_name(), self.dump_sql))
            with transaction.atomic():
                organisations = ClientOrganisation.objects.bulk_create([
                    ClientOrganisation(
                        schema_name=client.schema_name(), name=client.name, slug=client.slug,
                        kind=client.kind, status=ClientOrganisation.Status.LIVE,
                        display_name_en=client.name, primary_colour=client.primary_colour,
                        contact_phone=client.contact_phone, contact_email=client.contact_email,
                        languages=client.languages, opening_hours=client.opening_hours,
                    ) for client in clients])
                Domain.objects.bulk_create([
                    Domain(domain=client.hostname(), tenant=organisation, is_primary=True)
                    for client, organisation in zip(clients, organisations, strict=True)])
                users = []
                for client in clients:
                    user = User(email=client.admin_email, full_name=client.admin_name)
                    user.set_unusable_password()
                    users.append(user)
                users = User.objects.bulk_create(users)
                Membership.objects.bulk_create([
                    Membership(user=user, organisation=organisation, role=Role.CLIENT_ADMIN)
                    for user, organisation in zip(users, organisations, strict=True)])
                AuditEntry.objects.bulk_create([
                    AuditEntry(actor_label="bench", organisation=organisation,
                               action="organisation.onboarded",
                               object_type=organisation._meta.label,
                               object_id=str(organisation.pk),
                               object_repr=str(organisation)[:200], after=asdict(client))
                    for client, organisation in zip(clients, organisations, strict=True)])
                ddl.commit()  # the schemas commit with their rows
        finally:
            ddl.close()
        self.made_from_dump += count

    def describe(self) -> str:
        parts = []
        if self.made_by_service:
            parts.append(f"{self.made_by_service} through onboard_client")
        if self.made_from_dump:
            parts.append(f"{self.made_from_dump} by replaying a pg_dump of {self.source_schema} "
                         "(itself a clone of the template) under their own schema names, public "
                         "rows by bulk_create")
        if self.measured:
            parts.append(f"{self.measured} are the measured onboardings themselves")
        return "; ".join(parts) + f"; populating took {self.seconds / 60:.1f} min"


def measure(size: int, repeat: int, population: Population, start_number: int):
    from django.db import connection

    from tenants.services import onboard_client

    runs = []
    for index in range(repeat):
        present = present_count()
        client = new_client(start_number + index, "new")
        connection.set_schema_to_public()
        TIMERS.reset()
        TIMERS.enabled = True
        start = time.perf_counter()
        try:
            onboard_client(client, acting_user="bench")
        finally:
            elapsed = time.perf_counter() - start
            TIMERS.enabled = False
        parts = dict(TIMERS.totals)
        parts["rest"] = (elapsed - parts.get("clone", 0.0) - parts.get("template_check", 0.0)
                         - parts.get("migrate", 0.0))
        runs.append({"present": present, "seconds": elapsed, "parts": parts})
        population.measured += 1
        log(f"  {size} present (actually {present}): onboarding {index + 1}/{repeat} "
            f"took {elapsed:.3f} s (clone {parts.get('clone', 0):.3f}, "
            f"fake migrate {parts.get('migrate', 0):.3f}, rest {parts['rest']:.3f})")
    return runs


# --- Checks and report --------------------------------------------------------------------

def check_schemas():
    """Every client is a real schema with the template's relations (tables, indexes,
    sequences), triggers and constraints; a sample also has its migration rows and course
    types."""
    from django.conf import settings
    from django.db import connection

    template = settings.TENANT_BASE_SCHEMA
    shape = (
        "SELECT n.nspname,"
        " (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind = 'r'),"
        " (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid),"
        " (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        "   WHERE c.relnamespace = n.oid AND NOT t.tgisinternal),"
        " (SELECT count(*) FROM pg_constraint k WHERE k.connamespace = n.oid)"
        " FROM pg_namespace n WHERE n.nspname = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name, slug FROM tenants_clientorganisation "
                       "WHERE NOT is_template ORDER BY slug")
        clients = cursor.fetchall()
        cursor.execute(shape, [[template]])
        expected = cursor.fetchone()[1:]
        cursor.execute(shape, [[schema for schema, _ in clients]])
        shapes = {row[0]: row[1:] for row in cursor.fetchall()}
        problems = []
        for schema, _ in clients:
            got = shapes.get(schema)
            if got is None:
                problems.append(f"{schema}: no such schema")
            elif got != expected:
                problems.append(f"{schema}: (tables, relations, triggers, constraints) {got}, "
                                f"template {expected}")
        cursor.execute(f'SELECT count(*) FROM "{template}".django_migrations')
        template_migrations = cursor.fetchone()[0]
        pop = [schema for schema, slug in clients if slug.startswith("pop")]
        new = [schema for schema, slug in clients if slug.startswith("new")]
        for schema in pop[:1] + pop[-1:] + new[-1:]:
            cursor.execute(f'SELECT count(*) FROM "{schema}".django_migrations')
            migrations = cursor.fetchone()[0]
            cursor.execute(f'SELECT count(*) FROM "{schema}".booking_coursetype')
            course_types = cursor.fetchone()[0]
            if migrations != template_migrations or course_types == 0:
                problems.append(f"{schema}: {migrations} migration rows (template "
                                f"{template_migrations}), {course_types} course types")
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'client\\_%%'")
        schemas = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_class")
        relations = cursor.fetchone()[0]
    summary = (f"checked: {len(clients)} clients, each a schema with the template's {expected[0]} "
               f"tables, {expected[1]} relations, {expected[2]} triggers and {expected[3]} "
               f"constraints; {template_migrations} django_migrations rows in the template and "
               f"the sampled clients; {schemas} client_* schemas and {relations} relations in "
               "pg_class in all")
    return problems, summary


def seconds(value: float) -> str:
    return f"{value:.3f}"


def report(results, args, population, setup_seconds, total_seconds, schema_check):
    print("Onboarding a new client: tenants.services.onboard_client(NewClient(...), "
          "acting_user=\"bench\")")
    from django.conf import settings

    print(f"  clone of {settings.TENANT_BASE_SCHEMA} (tenants.schema_clone), as production; "
          f"{os.cpu_count()} CPUs; database set-up {setup_seconds:.1f} s")
    print(f"  present clients populated: {population.describe()}")
    print()
    header = ("clients present", "onboardings", "median s", "min s", "max s")
    widths = [17, 12, 9, 9, 9]
    print(" | ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for size, runs in results:
        times = [run["seconds"] for run in runs]
        present = [run["present"] for run in runs]
        label = f"{size:,}"
        if min(present) != max(present):
            label += f" ({min(present)}-{max(present)})"
        row = (label, str(len(runs)), seconds(statistics.median(times)), seconds(min(times)),
               seconds(max(times)))
        print(" | ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    print(f"(each measured onboarding adds a client, so a size's runs see N to N+{args.repeat - 1} "
          "present)")
    print()

    goal_runs = next((runs for size, runs in results if size == GOAL_PRESENT), None)
    print(f"goal: under {GOAL_SECONDS:g} s per new client with {GOAL_PRESENT:,} present")
    if goal_runs is None:
        print(f"  not measured: --sizes did not include {GOAL_PRESENT}")
    else:
        times = [run["seconds"] for run in goal_runs]
        median = statistics.median(times)
        verdict = "MET" if median < GOAL_SECONDS else "NOT MET"
        every = "every run" if max(times) < GOAL_SECONDS else \
            f"{sum(t >= GOAL_SECONDS for t in times)} of {len(times)} runs at or over"
        print(f"  {verdict}: median {median:.3f} s ({every}; max {max(times):.3f} s)")
    print()

    print("Where the time goes, median seconds per onboarding (share of the median total):")
    header = ["part"] + [f"{size:,} present" for size, _ in results]
    widths = [58] + [14] * len(results)
    print(" | ".join(h.ljust(widths[0]) if i == 0 else h.rjust(w)
                     for i, (h, w) in enumerate(zip(header, widths, strict=True))))
    print("-+-".join("-" * w for w in widths))
    for key, description in PARTS + [("total", "total")]:
        cells = [description]
        for _, runs in results:
            values = [run["seconds"] if key == "total" else run["parts"].get(key, 0.0)
                      for run in runs]
            median = statistics.median(values)
            share = median / statistics.median([run["seconds"] for run in runs])
            cells.append(f"{median:.3f} {share:4.0%}")
        print(" | ".join(c.ljust(widths[0]) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))))
    print()

    size, runs = results[-1]
    run = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    print(f"One onboarding at {size:,} present ({run['present']} actually present, the median "
          f"run, {run['seconds']:.3f} s):")
    for key, description in PARTS:
        value = run["parts"].get(key, 0.0)
        print(f"  {description.strip():<62} {value:7.3f} s  {value / run['seconds']:4.0%}")
    print()
    problems, summary = schema_check
    print(summary)
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    print(f"total bench time {total_seconds / 60:.1f} min; load average (1 min) at each size's "
          "measurements: " + ", ".join(f"{size:,}: {LOAD[size][0]:.2f}-{LOAD[size][1]:.2f}"
                                       for size, _ in results))


def main():
    args = parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    began = time.perf_counter()
    with bench_database(url, keep=args.keep):
        from django.conf import settings

        start = time.perf_counter()
        migrate()
        setup_seconds = time.perf_counter() - start
        settings.DEBUG = False  # no query log, as in production
        install_timers()

        population = Population(args.populate, url)
        results = []
        new_number = 1
        for size in args.sizes:
            population.grow_to(size)
            log(f"measuring {args.repeat} onboardings with {present_count()} clients present")
            load_before = os.getloadavg()[0]
            results.append((size, measure(size, args.repeat, population, new_number)))
            LOAD[size] = (load_before, os.getloadavg()[0])
            new_number += args.repeat
        schema_check = check_schemas()
        report(results, args, population, setup_seconds, time.perf_counter() - began,
               schema_check)


if __name__ == "__main__":
    main()
