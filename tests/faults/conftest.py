"""A PostgreSQL and a Redis of the fault tests' own (Debian's binaries, a temporary directory,
free ports, so pytest-xdist's workers never share one and the machine's own services are never
touched), which a test may stop, start and restart. The PostgreSQL starts as a copy of the
suite's migrated test database (the client template, essex and south-wales included), so
nothing has to be migrated twice; the app is pointed at both for the length of one test."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection, connections

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(*command, **kwargs):
    return subprocess.run([str(part) for part in command], check=True, capture_output=True,
                          text=True, timeout=120, **kwargs)


def _as_postgres_user(*command):
    """PostgreSQL refuses to run as root: as root, its server runs as the postgres account."""
    if os.geteuid() == 0:
        return ("runuser", "-u", "postgres", "--", *command)
    return command


class PrivatePostgres:
    def __init__(self, root: Path):
        self.data, self.port, self.log = root / "pgdata", free_port(), root / "postgres.log"
        self.socket_dir = root

    def init(self):
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.socket_dir, account.pw_uid, account.pw_gid)
        _run(*_as_postgres_user(PG_BIN / "initdb"), "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--no-sync", "--no-instructions")

    def start(self):
        _run(*_as_postgres_user(PG_BIN / "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "30", "-o",
             f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories="
             f"{self.socket_dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
             "start")

    def stop(self):
        _run(*_as_postgres_user(PG_BIN / "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop")

    def restart(self):
        self.stop()
        self.start()


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
    database = connection.settings_dict
    dump = root / "suite.dump"
    shared = ["--host", database["HOST"] or "127.0.0.1", "--port", str(database["PORT"] or 5432),
              "--username", database["USER"] or "postgres"]
    env = {"PGPASSWORD": database.get("PASSWORD") or "", "PATH": "/usr/bin:/bin"}
    with django_db_blocker.unblock():
        _run("pg_dump", *shared, "--format=custom", "--no-owner", "--file", dump,
             database["NAME"], env=env)
    postgres.init()
    postgres.start()
    redis.start()
    try:
        private = ["--host", "127.0.0.1", "--port", str(postgres.port), "--username", "postgres"]
        _run(PG_BIN / "createdb", *private, database["NAME"])
        _run("pg_restore", *private, "--no-owner", "--dbname", database["NAME"], dump)
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
