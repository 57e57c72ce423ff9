from celery import shared_task
from django.db import connection

from .webhooks import retry_due_events


@shared_task(name="tenants.worker_echo", time_limit=10, soft_time_limit=8)
def worker_echo() -> dict:
    """Round trip for /healthz?worker=1: proves a worker is consuming and that tasks run in the
    schema of the client that sent them."""
    tenant = getattr(connection, "tenant", None)
    return {"schema": connection.schema_name, "organisation": getattr(tenant, "slug", None)}


@shared_task(name="tenants.retry_stripe_events", time_limit=600, soft_time_limit=540)
def retry_stripe_events() -> dict:
    """Stripe events that failed, or whose handling stopped mid-way, handled again from their
    stored body (beat, every minute, in the public schema), until each succeeds."""
    return retry_due_events()


@shared_task(name="tenants.record_availability", time_limit=50, soft_time_limit=45)
def record_availability() -> dict:
    """This minute's sample for the status pages (beat, every minute, in the public schema),
    and samples older than 13 months dropped."""
    from .status import prune_samples, take_sample

    sample = take_sample()
    return {"up": sample.up if sample else None,
            "clients_down": sample.clients_down if sample else None, "pruned": prune_samples()}
