"""Host → client organisation, remembered in each process so that routing a request does not ask
the database (issue 13: the domain look-up was 12.6 ms of every request's 25 ms of middleware).

Correctness before speed: a host must never be served with a tenant it no longer belongs to.
Every entry is stamped with the routing "generation", a token in the shared cache (Redis in
production) that any change to a Domain or a ClientOrganisation replaces once it has committed;
each request reads the token (one cache GET) and an entry from another generation is looked up
again. So a domain renamed, moved or removed, or a client suspended, takes effect on every
process at its next request. The process that made the change also forgets its own entries at
once, so it does not depend on the shared cache for its own changes. If the shared cache cannot
be read, nothing is remembered: the host is looked up in the database, as before. A short
lifetime (TENANT_ROUTING_CACHE_SECONDS) bounds what a change made behind the ORM's back (raw SQL,
a restore) can leave stale; 0 switches the cache off. Unknown hosts are never remembered.

Each request gets its own copy of the organisation: views may change request.tenant.
"""

import copy
import logging
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django_tenants.utils import get_public_schema_name, schema_context

log = logging.getLogger(__name__)

GENERATION_KEY = "tenants:routing-generation"
MAX_ENTRIES = 10_000
_entries: dict[str, tuple[float, str, object]] = {}  # host → (expires, generation, organisation)
_lock = threading.Lock()


def _lifetime() -> float:
    return float(getattr(settings, "TENANT_ROUTING_CACHE_SECONDS", 60))


def _generation() -> str | None:
    """The current token, read in the public schema's key space (the cache keys carry the
    schema); None when the cache is away. A missing token is made, so entries can be kept."""
    try:
        with schema_context(get_public_schema_name()):
            cache = caches["default"]
            token = cache.get(GENERATION_KEY)
            if token is None:
                cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
                token = cache.get(GENERATION_KEY)
            return token
    except Exception as error:  # noqa: BLE001 - any cache failure: look the host up instead
        log.warning("Tenant routing not cached: the cache failed (%s)", type(error).__name__)
        return None


def organisation_for_host(hostname: str, look_up):
    """The organisation `look_up(hostname)` finds (it raises when there is none), remembered
    for this generation. The caller is in the public schema."""
    lifetime = _lifetime()
    if lifetime <= 0:
        return look_up(hostname)
    generation = _generation()
    if generation is None:
        return look_up(hostname)
    now = time.monotonic()
    entry = _entries.get(hostname)
    if entry is not None and entry[0] > now and entry[1] == generation:
        return copy.copy(entry[2])
    organisation = look_up(hostname)
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[hostname] = (now + lifetime, generation, copy.copy(organisation))
    return organisation


def forget_all() -> None:
    """Every process forgets its entries: this one now, the others at their next request."""
    with _lock:
        _entries.clear()
    try:
        with schema_context(get_public_schema_name()):
            caches["default"].set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception as error:  # noqa: BLE001
        # Other processes keep their entries until TENANT_ROUTING_CACHE_SECONDS pass.
        log.error("Tenant routing cache not invalidated in other processes: %s", type(error).__name__)


def _changed(sender, **kwargs) -> None:
    # Forgotten now (so this process never serves the old row again) and again once the change
    # has committed: an entry taken by another process in between would hold the old row.
    with _lock:
        _entries.clear()
    transaction.on_commit(forget_all, using=kwargs.get("using") or connection.alias)


def connect_signals() -> None:
    from .models import ClientOrganisation, Domain

    for model in (ClientOrganisation, Domain):
        post_save.connect(_changed, sender=model, dispatch_uid=f"routing-cache-save-{model}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"routing-cache-del-{model}")
