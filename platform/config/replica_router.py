"""Report reads on a streaming replica, when one is configured (DATABASE_REPLICA_URL adds the
"replica" database, this router and its middleware; see settings.py).

Only what runs inside `reads_on_replica()` (the report pages, through `on_replica`) reads from
the replica; every write, and every read anywhere else (bookings, holds, capacity, payments),
stays on the primary. django-tenants keeps a client's search path per connection, so the
replica's connection is given the request's client too: without it, a report would read the
public schema. A person whose request wrote something reads from the primary for
RECENT_WRITE_SECONDS afterwards (a cookie), so a booking they just made is in the report they
open next although the replica may be a second behind.
"""

import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import connections

REPLICA = "replica"
RECENT_WRITE_SECONDS = 10
WROTE_COOKIE = "waymark_wrote"

_reading_reports = ContextVar("reading_reports", default=False)
_wrote = ContextVar("wrote", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


class ReplicaRouter:
    """Reads inside `reads_on_replica()` go to the replica; nothing is ever written or migrated
    there (it is read-only: migrations reach it by streaming replication)."""

    def db_for_read(self, model, **hints):
        return REPLICA if _reading_reports.get() else None

    def db_for_write(self, model, **hints):
        _wrote.set(True)
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same rows on both: the replica is a copy of the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None


@contextmanager
def reads_on_replica(tenant):
    """Reads in the block from the replica, in `tenant`'s schema (the public one for None)."""
    if not replica_configured():
        yield
        return
    replica = connections[REPLICA]
    if tenant is None:
        replica.set_schema_to_public()
    else:
        replica.set_tenant(tenant)
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


def wrote_recently(request) -> bool:
    try:
        return float(request.COOKIES.get(WROTE_COOKIE, "0")) > time.time()
    except ValueError:
        return False


def on_replica(view):
    """A report view whose reads go to the replica, unless this person has just written."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not replica_configured() or wrote_recently(request):
            return view(request, *args, **kwargs)
        # Who is asking is read from the primary, before the block: a session written a moment
        # ago may not have reached the replica yet.
        getattr(request, "user", None) and request.user.is_authenticated  # noqa: B018
        with reads_on_replica(getattr(request, "tenant", None)):
            return view(request, *args, **kwargs)

    return wrapped


class ReadYourWritesMiddleware:
    """After a request that wrote to the database, the cookie that sends this person's report
    reads to the primary for RECENT_WRITE_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _wrote.set(False)
        try:
            response = self.get_response(request)
            if _wrote.get():
                until = time.time() + RECENT_WRITE_SECONDS
                response.set_cookie(
                    WROTE_COOKIE,
                    f"{until:.0f}",
                    max_age=RECENT_WRITE_SECONDS,
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
            return response
        finally:
            _wrote.reset(token)


def replica_lag() -> dict | None:
    """The replica's state for the provider's health page: None when no replica is configured;
    else its lag in seconds behind the primary's last commit it has replayed, and whether it is
    streaming, or the error that stopped the question."""
    if not replica_configured():
        return None
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), "
                "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), "
                "pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
            )
            in_recovery, seconds, caught_up = cursor.fetchone()
    except Exception as error:  # a health page reports a failure instead of raising
        return {"ok": False, "error": type(error).__name__}
    # With nothing written lately the last replayed commit is old although nothing is behind.
    lag = 0.0 if caught_up else float(seconds or 0)
    return {"ok": bool(in_recovery), "in_recovery": bool(in_recovery), "lag_seconds": round(lag, 1)}
