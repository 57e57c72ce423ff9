from celery import shared_task
from django.db import connection


@shared_task(name="tenants.worker_echo", time_limit=10, soft_time_limit=8)
def worker_echo() -> dict:
    """Round trip for /healthz?worker=1: proves a worker is consuming and that tasks run in the
    schema of the client that sent them."""
    tenant = getattr(connection, "tenant", None)
    return {"schema": connection.schema_name, "organisation": getattr(tenant, "slug", None)}
