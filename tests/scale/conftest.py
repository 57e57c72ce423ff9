"""A private PostgreSQL primary holding a copy of the suite's migrated test database (essex and
south-wales included), a streaming replica of it, and PgBouncer in front, all from Debian's
packages on free loopback ports (tests/private_services.py). The tests are skipped where
PgBouncer or PostgreSQL 15's binaries are missing; .ci/run installs them."""

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection, connections

from ..private_services import (
    PG_BIN,
    PGBOUNCER,
    PrivatePgBouncer,
    PrivatePostgres,
    copy_database,
)

pytestmark = pytest.mark.scale


@pytest.fixture(scope="session")
def scale_root():
    if not (PG_BIN / "initdb").exists():
        pytest.skip("Debian's PostgreSQL 15 binaries are needed")
    # Not under pytest's own temporary directory, which only root may enter.
    root = Path(tempfile.mkdtemp(prefix="waymark-scale-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def primary_server(scale_root, django_db_setup):
    server = PrivatePostgres(scale_root, name="primary")
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def primary(primary_server, scale_root, django_db_blocker):
    """The private primary with a copy of the suite's test database as it is now, taken for
    each test: a session-long copy goes stale when a transactional test flushes and the session
    clients are made again under new ids. Ask for the clients' fixtures before this one."""
    name = connection.settings_dict["NAME"]
    primary_server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with django_db_blocker.unblock():
        copy_database(connection.settings_dict, primary_server, scale_root)
    return primary_server


@pytest.fixture(scope="session")
def replica(primary_server, scale_root):
    server = PrivatePostgres(scale_root, name="replica")
    server.init_replica_of(primary_server)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bouncer_factory(primary, scale_root):
    if not shutil.which("pgbouncer") and not Path(PGBOUNCER).exists():
        pytest.skip("pgbouncer is needed (apt-get install pgbouncer)")
    started = []

    def start(pool_mode: str, *, pool_size: int = 1) -> PrivatePgBouncer:
        bouncer = PrivatePgBouncer(
            scale_root, primary.port, pool_mode=pool_mode, pool_size=pool_size, name=f"pgbouncer-{len(started)}"
        )
        bouncer.start()
        started.append(bouncer)
        return bouncer

    yield start
    for bouncer in started:
        bouncer.stop()


@contextmanager
def default_database_at(port: int):
    """Django's default connection (every thread's, as it reconnects) on 127.0.0.1:port."""
    database = connections["default"].settings_dict
    before = {key: database[key] for key in ("HOST", "PORT", "PASSWORD")}
    connections.close_all()
    # In place: every thread's connection reads this same dict when it (re)connects.
    database.update(HOST="127.0.0.1", PORT=port, PASSWORD="")
    try:
        yield
    finally:
        connections.close_all()
        database.update(before)
