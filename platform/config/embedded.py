"""Embedded stand-ins for PostgreSQL and Stripe, used when their URLs are not configured.

One pgserver data directory under `.data/` is shared by runserver, the Celery worker and
pytest: the first process starts the server and leaves it running (cleanup_mode=None), the
others find it through its postmaster.pid.
"""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / ".data"
DATABASE_NAME = "waymark"


def postgres_url() -> str:
    import pgserver  # a development extra: production always sets DATABASE_URL

    DATA_DIR.mkdir(exist_ok=True)
    server = pgserver.get_server(DATA_DIR / "postgres", cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri(DATABASE_NAME)


def stop_postgres() -> bool:
    """Stop the embedded server (`make stop`): it outlives runserver by design, so say when to go.

    True if one was running. Nothing is started to find out, unlike postgres_url().
    """
    postgres = DATA_DIR / "postgres"
    if not (postgres / "postmaster.pid").exists():
        return False
    import os

    from pgserver._commands import pg_ctl

    # pgserver runs the server as its own user when started by root; pg_ctl must be that user.
    user = "pgserver" if os.name == "posix" and os.geteuid() == 0 else None
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=postgres, user=user)
    return True


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        print("Embedded PostgreSQL stopped." if stop_postgres() else "Embedded PostgreSQL was not running.")
    else:
        sys.exit("usage: python -m config.embedded stop")
