"""A PostgreSQL and a Redis of the fault tests' own (Debian's binaries, a temporary directory,
free ports, so pytest-xdist's workers never share one and the machine's own services are never
touched), which a test may stop, start and restart. The PostgreSQL starts as a copy of the
suite's migrated test database (the client template, essex and south-wales included), so
nothing has to be migrated twice; the app is pointed at both for the length of one test."""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from ..private_services import PG_BIN, PrivatePostgres, copy_database, free_port

REDIS_SERVER = shutil.which("redis-server")


class PrivateRedis:
    def __init__(self, root: Path):
        self.dir, self.port, self.process = root, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="session")
def private_services(django_db_setup, django_db_blocker):
    if not (PG_BIN / "initdb").exists() or REDIS_SERVER is None:
        pytest.skip("Debian's PostgreSQL 15 and redis-server binaries are needed")
    # Not under pytest's own temporary directory, which only root may enter.
    root = Path(tempfile.mkdtemp(prefix="waymark-faults-"))
    postgres, redis = PrivatePostgres(root), PrivateRedis(root)
    postgres.init()
    postgres.start()
    redis.start()
    try:
        with django_db_blocker.unblock():
            copy_database(connection.settings_dict, postgres, root)
        yield postgres, redis
    finally:
        redis.stop()
        try:
            postgres.stop()
        except subprocess.CalledProcessError:
            pass  # stopped by the test and not started again
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def on_private_services(private_services, transactional_db, settings):
    """The app (every thread's connection, the cache) on the private services for this test."""
    postgres, redis = private_services
    database = connections["default"].settings_dict
    before = {key: database[key] for key in ("HOST", "PORT", "PASSWORD")}
    connections.close_all()
    # In place: every thread's connection reads this same dict when it (re)connects.
    database.update(HOST="127.0.0.1", PORT=postgres.port, PASSWORD="")
    settings.CACHES = {**settings.CACHES, "default": {
        **settings.CACHES["default"], "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": redis.url, "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1}}}
    yield postgres, redis
    connections.close_all()
    database.update(before)
