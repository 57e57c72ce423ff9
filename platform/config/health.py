"""Health on every host. /healthz is liveness: this process answers requests (restart it if
not); it touches nothing else, so a database outage does not get every web host restarted.
/readyz is readiness: can we reach the database, Redis (the cache) and the Celery broker (send
no traffic here if not); with ?worker=1 it also round-trips a task through a worker. With S3
configured it also reports the object storage (one HEAD of the bucket), without failing on it."""

import time

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import storages
from django.db import connection
from django.http import JsonResponse

from integrations.object_storage import S3_BACKEND, head_bucket


def _check(probe) -> dict:
    started = time.perf_counter()
    try:
        detail = probe()
    except Exception as error:  # a health check reports every failure instead of raising
        return {"ok": False, "error": type(error).__name__}
    result = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if detail:
        result["mode"] = detail
    return result


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache():
    key = "healthz"
    cache.set(key, "ok", 10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return what was stored")


def _broker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return None


def _worker():
    from tenants.tasks import worker_echo

    answer = worker_echo.delay().get(timeout=5)
    if answer["schema"] != connection.schema_name:
        raise RuntimeError("task ran in the wrong schema")
    return None


def healthz(request):
    tenant = getattr(request, "tenant", None)
    return JsonResponse({"status": "ok", "site": tenant.slug if tenant is not None else "platform"})


def platform_checks() -> dict:
    """The database, Redis (the cache) and the broker, each {"ok": ...}; also what the status
    page's beat job measures every minute (tenants.status)."""
    return {"database": _check(_database), "cache": _check(_cache), "broker": _check(_broker)}


def _object_storage():
    head_bucket(storages["default"])


def readyz(request):
    checks = platform_checks()
    if request.GET.get("worker") == "1":
        # Optional: only when asked, since it waits for a worker to answer.
        checks["worker"] = _check(_worker)
    healthy = all(check["ok"] for check in checks.values())
    if settings.STORAGES["default"]["BACKEND"] == S3_BACKEND:
        # Reported, but not a reason to take this host out of service: every host shares the
        # bucket and only logos live there, so sending no traffic anywhere would turn a missing
        # logo into no service at all.
        checks["object_storage"] = {**_check(_object_storage), "required": False}
    tenant = getattr(request, "tenant", None)
    body = {
        "status": "ok" if healthy else "unhealthy",
        "site": tenant.slug if tenant is not None else "platform",
        "checks": checks,
    }
    return JsonResponse(body, status=200 if healthy else 503)
