"""Database servers of a test's or a bench's own, from Debian's packages: a PostgreSQL cluster (a
primary, or a streaming replica of one made with pg_basebackup -R) and PgBouncer, each in a
temporary directory on a free loopback port, so the machine's own services are never touched and
a test may stop, start, promote or re-point them. tests/faults, tests/scale and
bench/scale_drill.py share them. The drill's hosts mode puts them on other hosts (network
namespaces): `address` is what they listen on, `on` the command prefix that runs them there
(`ip netns exec wm-db`), `allow` the network whose hosts may connect (and replicate)."""

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*command, **kwargs):
    return subprocess.run(
        [str(part) for part in command], check=True, capture_output=True, text=True, timeout=120, **kwargs
    )


def as_postgres_user(*command):
    """PostgreSQL and PgBouncer refuse to run as root: as root, they run as the postgres
    account."""
    if os.geteuid() == 0:
        return ("runuser", "-u", "postgres", "--", *command)
    return command


def give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(path, account.pw_uid, account.pw_gid)


def wait_for_port(port: int, seconds: float = 20, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port}")


class PrivatePostgres:
    """One cluster. `root` (a temporary directory) holds its data directory, log and socket.
    `durable` keeps fsync on: a drill that stops a primary wants what it committed to stay."""

    def __init__(
        self,
        root: Path,
        *,
        name: str = "pgdata",
        max_connections: int = 100,
        durable: bool = False,
        address: str = "127.0.0.1",
        port: int | None = None,
        on: tuple = (),
        allow: str | None = None,
    ):
        self.root, self.name = root, name
        self.data, self.port, self.log = root / name, port or free_port(), root / f"{name}.log"
        self.socket_dir = root
        self.max_connections, self.durable = max_connections, durable
        self.address, self.on, self.allow = address, tuple(on), allow

    def url(self, database: str) -> str:
        return f"postgres://postgres@{self.address}:{self.port}/{database}"

    def _as_postgres(self, *command):
        return (*self.on, *as_postgres_user(*command))

    def _allow_network(self):
        if self.allow:
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {self.allow} trust\nhost replication all {self.allow} trust\n")

    def init(self):
        give_to_postgres(self.socket_dir)
        # initdb's trust pg_hba.conf also lets 127.0.0.1 connect for replication.
        run(
            *self._as_postgres(PG_BIN / "initdb"),
            "-D",
            self.data,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        self._allow_network()

    def init_replica_of(self, primary: "PrivatePostgres"):
        """A streaming replica: a base backup of the running primary, with -R writing
        standby.signal and primary_conninfo, so it follows the primary once started."""
        give_to_postgres(self.socket_dir)
        run(
            *self._as_postgres(PG_BIN / "pg_basebackup"),
            "-h",
            primary.address,
            "-p",
            primary.port,
            "-U",
            "postgres",
            "-D",
            self.data,
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )

    def start(self, options: str = ""):
        """`options`: more server settings, as `-c name=value ...`."""
        safety = "" if self.durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        run(
            *self._as_postgres(PG_BIN / "pg_ctl"),
            "-D",
            self.data,
            "-l",
            self.log,
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -c listen_addresses={self.address} -c unix_socket_directories="
            f"{self.socket_dir} -c max_connections={self.max_connections}{safety} {options}",
            "start",
        )

    def stop(self, mode: str = "fast"):
        run(*self._as_postgres(PG_BIN / "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop")

    def restart(self):
        self.stop()
        self.start()

    def promote(self):
        run(*self._as_postgres(PG_BIN / "pg_ctl"), "-D", self.data, "-w", "-t", "60", "promote")

    def psql(self, sql: str, database: str = "postgres") -> str:
        return run(
            PG_BIN / "psql", "-h", self.address, "-p", self.port, "-U", "postgres", "-d", database, "-Atc", sql
        ).stdout.strip()

    def wait_until_replayed(self, primary: "PrivatePostgres", seconds: float = 30) -> None:
        """Until this replica has replayed everything the primary has written so far."""
        target = primary.psql("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.psql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
                return
            time.sleep(0.05)
        raise RuntimeError(f"the replica did not replay up to {target} in {seconds} s")

    def wait_until_seen(self, sql: str, expected: str, database: str, seconds: float = 30) -> None:
        """Until `sql` answers `expected` here: a replay position reached is not yet a commit
        visible to a new snapshot on the standby (measured: ~0.1 s later)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.psql(sql, database=database) == expected:
                return
            time.sleep(0.05)
        raise RuntimeError(f"the replica did not answer {expected!r} to {sql!r} in {seconds} s")


class PrivatePgBouncer:
    """PgBouncer in front of one PostgreSQL, in `pool_mode` ("session" or "transaction"), run as
    a daemon by the postgres account; `repoint()` moves it to another server (a promoted
    replica) with a RELOAD, as a failover script would."""

    def __init__(
        self,
        root: Path,
        server_port: int,
        *,
        pool_mode: str = "session",
        pool_size: int = 20,
        name: str = "pgbouncer",
        query_wait_timeout: int = 30,
        address: str = "127.0.0.1",
        port: int | None = None,
        server_host: str = "127.0.0.1",
        on: tuple = (),
    ):
        self.root, self.name = root, name
        self.port, self.server_port = port or free_port(), server_port
        self.address, self.server_host, self.on = address, server_host, tuple(on)
        self.pool_mode, self.pool_size = pool_mode, pool_size
        self.query_wait_timeout = query_wait_timeout
        self.ini, self.pidfile = root / f"{name}.ini", root / f"{name}.pid"
        self.log = root / f"{name}.log"

    def url(self, database: str) -> str:
        return f"postgres://postgres@{self.address}:{self.port}/{database}"

    def _write_config(self):
        userlist = self.root / f"{self.name}-users.txt"
        userlist.write_text('"postgres" ""\n')
        self.ini.write_text(f"""[databases]
* = host={self.server_host} port={self.server_port}

[pgbouncer]
listen_addr = {self.address}
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {userlist}
admin_users = postgres
pool_mode = {self.pool_mode}
default_pool_size = {self.pool_size}
max_client_conn = 500
server_reset_query = DISCARD ALL
server_login_retry = 1
server_connect_timeout = 3
query_wait_timeout = {self.query_wait_timeout}
ignore_startup_parameters = extra_float_digits,options
logfile = {self.log}
pidfile = {self.pidfile}
""")
        for path in (self.root, self.ini, userlist):
            give_to_postgres(path)

    def start(self):
        if not Path(PGBOUNCER).exists():
            raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer)")
        self._write_config()
        run(*self.on, *as_postgres_user(PGBOUNCER, "-d", self.ini))
        wait_for_port(self.port, host=self.address)

    def admin(self, command: str) -> str:
        """A command on PgBouncer's admin console (SHOW POOLS, RELOAD, ...)."""
        return run(
            PG_BIN / "psql", "-h", self.address, "-p", self.port, "-U", "postgres", "-d", "pgbouncer", "-Atc", command
        ).stdout.strip()

    def repoint(self, server_port: int, server_host: str | None = None):
        self.server_port = server_port
        self.server_host = server_host or self.server_host
        self._write_config()
        self.admin("RELOAD")

    def stop(self):
        try:
            pid = int(self.pidfile.read_text())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, 15)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def copy_database(database: dict, target: PrivatePostgres, work: Path) -> None:
    """The database Django's `database` settings name (the suite's migrated test database),
    copied whole into the running cluster `target`, under the same name."""
    dump = work / "copy.dump"
    source = [
        "--host",
        database["HOST"] or "127.0.0.1",
        "--port",
        str(database["PORT"] or 5432),
        "--username",
        database["USER"] or "postgres",
    ]
    env = {"PGPASSWORD": database.get("PASSWORD") or "", "PATH": "/usr/bin:/bin"}
    run("pg_dump", *source, "--format=custom", "--no-owner", "--file", dump, database["NAME"], env=env)
    private = ["--host", "127.0.0.1", "--port", str(target.port), "--username", "postgres"]
    run(PG_BIN / "createdb", *private, database["NAME"])
    run("pg_restore", *private, "--no-owner", "--dbname", database["NAME"], dump)
    dump.unlink()
