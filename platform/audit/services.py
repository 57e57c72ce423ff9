"""Writing the audit trail. Call `record` inside the service's own transaction, so the entry
commits or rolls back with the change it describes. It writes to the current schema's trail: a
service decides which trail an event belongs in and switches to it (schema_context)."""

from django.db import transaction

from .models import AuditEntry

SYSTEM_ACTOR = "system"


def record(
    *,
    actor,
    action: str,
    obj,
    organisation=None,
    before: dict | None = None,
    after: dict | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """`obj` is the record the entry is about, or None when there is none (a sign-in lock-out
    for an e-mail address that names no account)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_label=user.email if user else (actor if isinstance(actor, str) else SYSTEM_ACTOR),
        organisation=organisation,
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before,
        after=after,
        ip_address=ip_address,
    )


def client_ip(request) -> str | None:
    """The caller's address. X-Forwarded-For is believed only behind our own load balancer
    (TRUSTED_PROXY_HOPS > 0), and then only the hop it added, so a caller cannot pick an address
    to dodge the look-up lock-out."""
    from django.conf import settings

    if request is None:
        return None
    hops = getattr(settings, "TRUSTED_PROXY_HOPS", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(addresses) >= hops:
            return addresses[-hops]
    return request.META.get("REMOTE_ADDR")
