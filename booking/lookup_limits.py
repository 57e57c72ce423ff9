"""Rate limit on offer look-ups: 10 failures per IP or per reference in an hour locks look-ups
from that IP / for that reference until the hour is up. Counters live in the cache, whose keys
carry the client's schema, so one client's failures never lock another's."""

from django.core.cache import cache

MAX_FAILURES = 10
WINDOW_SECONDS = 60 * 60


def _keys(ip: str | None, reference: str) -> list[str]:
    keys = [f"offer-lookup:ref:{reference.strip().upper().replace(' ', '')}"]
    if ip:
        keys.append(f"offer-lookup:ip:{ip}")
    return keys


def is_locked(ip: str | None, reference: str) -> bool:
    counts = cache.get_many(_keys(ip, reference))
    return any(count >= MAX_FAILURES for count in counts.values())


def record_failure(ip: str | None, reference: str) -> None:
    for key in _keys(ip, reference):
        if not cache.add(key, 1, WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, WINDOW_SECONDS)
