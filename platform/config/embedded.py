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
