"""A deploy's `migrate_schemas --tenant` at 1,000 client schemas: with nothing to apply, and with
one migration to apply (issue 13, item 7; goals: under 30 s and under 10 minutes).

    .venv/bin/python bench/migrate_deploy.py                  # 1,000 schemas
    .venv/bin/python bench/migrate_deploy.py --schemas 200 --no-stock

Its own database (BENCH_DATABASE_URL, default .../waymark_bench_migrate; the name must contain
"bench"), dropped at the end unless --keep. The schemas are made as bench/onboarding.py makes
its present clients: one through onboard_client, the rest by replaying a pg_dump of it under
their own names (real schemas, real tables, the template's django_migrations rows).

Measured, each the wall clock of call_command("migrate_schemas", tenant=True, ...) as a deploy
runs it (docker/compose.yaml: --executor=multiprocessing, TENANT_MULTIPROCESSING_MAX_PROCESSES
processes, one per core unless MIGRATION_PROCESSES says otherwise):
  1. stock: nothing to apply, with the skipping switched off (TENANT_MIGRATIONS_SKIP_UP_TO_DATE
     False): django-tenants runs Django's whole `migrate` in every schema (--no-stock omits it);
  2. nothing to apply, skipping up-to-date schemas (tenants/migration_executor.py);
  3. one migration to apply in every schema: a throwaway migration of the booking app (an
     `ALTER TABLE booking_venue ADD COLUMN`, reversible), added for this process only through
     MIGRATION_MODULES pointing at a temporary copy of booking's migrations plus that one;
  4. nothing to apply again, after 3 (the new migration now recorded everywhere).
Afterwards every schema is checked to record the throwaway migration and to have the column.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, bench_database, log, migrate

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/waymark_bench_migrate"
GOAL_NOTHING_SECONDS = 30.0
GOAL_ONE_MIGRATION_SECONDS = 600.0
EXTRA = "9999_bench_deploy_column"


def throwaway_migration_package(leaf: str) -> tuple[str, Path]:
    """A package with booking's migrations (symlinked) and one more after `leaf`."""
    directory = Path(tempfile.mkdtemp(prefix="waymark-bench-migrate-"))
    package = directory / "bench_booking_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for source in (ROOT / "booking" / "migrations").glob("[0-9]*.py"):
        (package / source.name).symlink_to(source)
    (package / f"{EXTRA}.py").write_text(f'''from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("booking", "{leaf}")]
    operations = [migrations.RunSQL(
        "ALTER TABLE booking_venue ADD COLUMN bench_deploy_note text",
        "ALTER TABLE booking_venue DROP COLUMN bench_deploy_note")]
''')
    sys.path.insert(0, str(directory))
    return "bench_booking_migrations", directory


def timed_migrate(executor: str) -> float:
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    start = time.perf_counter()
    # No stdout= here: the multiprocessing executor pickles the options for its processes.
    call_command("migrate_schemas", tenant=True, executor=executor, interactive=False, verbosity=0)
    seconds = time.perf_counter() - start
    connections.close_all()
    return seconds


def main():  # noqa: PLR0915 - one run, in the order it reports
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schemas", type=int, default=1000, help="client schemas present")
    parser.add_argument("--executor", default="multiprocessing")
    parser.add_argument("--no-stock", action="store_true", help="omit the stock run (1)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    began, load_start = time.perf_counter(), os.getloadavg()
    results = []
    with bench_database(url, keep=args.keep):
        from django.conf import settings
        from django.db import connection
        from django.db.migrations.loader import MigrationLoader
        from onboarding import Population

        from tenants.models import ClientOrganisation

        migrate()
        settings.DEBUG = False
        population = Population("dump", url)
        population.grow_to(args.schemas)
        schemas = ClientOrganisation.objects.count()  # the template counted: it is migrated too
        log(f"{schemas} schemas (clients and the template); populating took {population.seconds:.0f} s")
        processes = getattr(settings, "TENANT_MULTIPROCESSING_MAX_PROCESSES", 2)

        if not args.no_stock:
            settings.TENANT_MIGRATIONS_SKIP_UP_TO_DATE = False
            log("1. stock migrate_schemas, nothing to apply")
            results.append(
                (
                    "1. nothing to apply, stock (every schema migrated)",
                    timed_migrate(args.executor),
                    GOAL_NOTHING_SECONDS,
                )
            )
            settings.TENANT_MIGRATIONS_SKIP_UP_TO_DATE = True
        log("2. nothing to apply, up-to-date schemas skipped")
        results.append(
            ("2. nothing to apply, up-to-date schemas skipped", timed_migrate(args.executor), GOAL_NOTHING_SECONDS)
        )

        leaf = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("booking")[0][1]
        module, directory = throwaway_migration_package(leaf)
        settings.MIGRATION_MODULES = {**getattr(settings, "MIGRATION_MODULES", {}), "booking": module}
        try:
            log(f"3. one migration to apply ({EXTRA}, after booking.{leaf})")
            results.append(
                (
                    f"3. one migration to apply (booking.{EXTRA})",
                    timed_migrate(args.executor),
                    GOAL_ONE_MIGRATION_SECONDS,
                )
            )
            log("4. nothing to apply again")
            results.append(("4. nothing to apply, after 3", timed_migrate(args.executor), GOAL_NOTHING_SECONDS))
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = "
                    "'booking_venue' AND column_name = 'bench_deploy_note'"
                )
                with_column = cursor.fetchone()[0]
            from tenants.migration_executor import up_to_date_schemas

            names = list(ClientOrganisation.objects.values_list("schema_name", flat=True))
            recorded = len(up_to_date_schemas(names))
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    print(
        f"migrate_schemas --tenant at {schemas:,} schemas (bench/migrate_deploy.py): "
        f"--executor={args.executor}, {processes} processes; {os.cpu_count()} CPUs; load "
        f"average {'/'.join(f'{v:.2f}' for v in load_start)} at the start, "
        f"{'/'.join(f'{v:.2f}' for v in os.getloadavg())} at the end; total "
        f"{(time.perf_counter() - began) / 60:.1f} min"
    )
    widths = (62, 8, 12, 8, 8)
    print(
        "  "
        + " | ".join(
            h.ljust(w) for h, w in zip(("run", "seconds", "per schema", "goal", "verdict"), widths, strict=True)
        )
    )
    for label, seconds, goal in results:
        cells = (
            label,
            f"{seconds:.1f}",
            f"{seconds / schemas * 1000:.1f} ms",
            f"< {goal:.0f} s",
            "MET" if seconds < goal else "NOT MET",
        )
        print("  " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    print(
        f"  afterwards: {with_column:,} of {schemas:,} schemas have the new column; "
        f"{recorded:,} record every migration, the throwaway one included"
    )


if __name__ == "__main__":
    main()
