"""One client's schema dumped and restored on its own (pg_dump/pg_restore -n), so a client's
data can be put back as it was without touching any other client or the public schema.

The dump is PostgreSQL's custom format of that schema only: its tables, rows, sequences,
indexes and triggers. The public schema (accounts, billing, the control plane's rows about the
client) is not in it: it is backed up with the whole database (docs/operations.md). Restoring
replaces the schema in one transaction (psql --single-transaction): it is either all back or,
on any error, exactly as it was.
"""

import os
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection

from .models import ClientOrganisation


class BackupError(Exception):
    """pg_dump or pg_restore refused, or the dump is not of this client."""


def _connection_arguments() -> tuple[list[str], dict]:
    database = settings.DATABASES["default"]
    arguments = ["--dbname", database["NAME"]]
    if database.get("HOST"):
        arguments += ["--host", database["HOST"]]
    if database.get("PORT"):
        arguments += ["--port", str(database["PORT"])]
    if database.get("USER"):
        arguments += ["--username", database["USER"]]
    environment = {**os.environ}
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = database["PASSWORD"]
    return arguments, environment


def _run(command: list[str], environment: dict) -> str:
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(done.stderr.strip() or f"{command[0]} failed ({done.returncode})")
    return done.stdout


def back_up_client(organisation: ClientOrganisation, path: Path) -> Path:
    arguments, environment = _connection_arguments()
    _run(["pg_dump", *arguments, "--format=custom", "--no-owner", "--no-privileges",
          "--schema", organisation.schema_name, "--file", str(path)], environment)
    return path


def schemas_in(path: Path) -> set[str]:
    """The schemas a dump creates (pg_restore --list)."""
    listing = _run(["pg_restore", "--list", str(path)], {**os.environ})
    schemas = set()
    for line in listing.splitlines():
        parts = line.split()
        # "123; 2615 16385 SCHEMA - client_essex postgres"
        if len(parts) >= 6 and parts[3] == "SCHEMA" and parts[4] == "-":
            schemas.add(parts[5])
    return schemas


def restore_client(organisation: ClientOrganisation, path: Path) -> None:
    """Replace the client's schema with the one in the dump, which must be this client's only."""
    found = schemas_in(path)
    if found != {organisation.schema_name}:
        raise BackupError(f"The dump holds {sorted(found) or 'no schema'}, not only "
                          f"{organisation.schema_name!r}: it is not a backup of this client.")
    # The app's own connection holds nothing open in the schema while it is replaced.
    connection.close()
    arguments, environment = _connection_arguments()
    script = _run(["pg_restore", "--no-owner", "--no-privileges", "--file", "-", str(path)],
                  environment)
    # One transaction: the schema as it is now (tables added since the backup too) goes, the
    # dump's comes back; any error and psql rolls it all back, leaving the schema untouched.
    sql = (f'DROP SCHEMA IF EXISTS "{organisation.schema_name}" CASCADE;\n'
           # pg_restore's script empties search_path; django-tenants' connections set their own.
           + script)
    psql = ["psql", *arguments, "--no-psqlrc", "--quiet", "--single-transaction",
            "--set", "ON_ERROR_STOP=1", "--file", "-"]
    done = subprocess.run(psql, input=sql, env=environment, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise BackupError(done.stderr.strip() or "psql failed")
