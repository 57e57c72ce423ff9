"""What the benchmarks share: the path and settings a script run from the checkout needs, and a
database of their own that they create, set up and drop.

The database's name must contain "bench": it is dropped first and at the end, so a mistyped URL
can never drop a real database. Set-up is the Makefile's `migrate` target run with call_command.
"""

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "platform"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Development settings to set up with; each bench then turns DEBUG off, as in production.
os.environ.setdefault("DEBUG", "1")


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the figures."""
    print(message, file=sys.stderr, flush=True)


def admin_connection(url: str):
    """A connection to the server's maintenance database, for CREATE/DROP DATABASE."""
    import psycopg2

    connection = psycopg2.connect(urlunparse(urlparse(url)._replace(path="/postgres")))
    connection.autocommit = True
    return connection


def database_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"Refusing to use database {name!r}: the bench drops its database, so the name "
                 "must contain 'bench'.")
    return name


def recreate_database(url: str) -> None:
    name = database_name(url)
    connection = admin_connection(url)  # not `with connection`: that opens a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()
    log(f"created database {name}")


def drop_database(url: str) -> None:
    from django.db import connections

    connections.close_all()
    name = database_name(url)
    connection = admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()
    log(f"dropped database {name}")


@contextmanager
def bench_database(url: str, *, keep: bool):
    """Django on a fresh database at `url`, dropped on the way out unless `keep`. E-mail goes to
    the in-memory backend, so nothing is written under .data/ and no mail is printed."""
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["EMAIL_URL"] = "locmem://"

    import django

    django.setup()
    try:
        yield
    finally:
        if keep:
            log(f"kept database {database_name(url)} (--keep)")
        else:
            drop_database(url)


def migrate() -> None:
    """The Makefile's `migrate` target."""
    from django.core.management import call_command

    log("set-up: migrate_schemas --shared, createcachetable, ensure_client_template")
    call_command("migrate_schemas", shared=True, verbosity=0, interactive=False,
                 stdout=sys.stderr)
    call_command("createcachetable", stdout=sys.stderr)
    call_command("ensure_client_template", stdout=sys.stderr)
