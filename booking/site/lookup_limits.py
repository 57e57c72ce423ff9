"""Limits on offer look-ups, shaped so that a stranger cannot lock the real person out.

The secret behind a reference is the date of birth, so guesses must be limited, but a limit on
the reference alone lets anyone who knows a reference lock its owner out. So:

- one source (IP address) guessing one reference: 10 failures lock that pair for the hour;
- one source guessing many references: 20 failures lock that source for the hour;
- one reference guessed from many sources: after 10 failures each further attempt must wait a
  little longer (2 s, 4 s, 8 s … at most 5 minutes) after the last failure. Nobody is locked
  out: the real person waits at most a few minutes, while a spread-out attack gets only about
  a dozen guesses an hour. A proven look-up clears the reference's count.

Counters live in the cache, whose keys carry the client's schema, so one client's failures never
touch another's. While Redis cannot be reached they are kept in the database's cache table
instead (a warning is logged), so a Redis outage neither stops people finding their offer nor
lifts the limits.
"""

import logging
import time
from dataclasses import dataclass

from django.core.cache import caches
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60 * 60
MAX_FAILURES_PER_SOURCE_AND_REFERENCE = 10
MAX_FAILURES_PER_SOURCE = 20
FREE_FAILURES_PER_REFERENCE = 10
BACKOFF_FIRST_SECONDS = 2
BACKOFF_MAX_SECONDS = 5 * 60


@dataclass(frozen=True)
class Refusal:
    """Why a look-up is not even tried: locked for the hour, or wait `wait_seconds`."""

    locked: bool
    wait_seconds: int = 0


def _normal(reference: str) -> str:
    return reference.strip().upper().replace(" ", "")


def _keys(ip: str | None, reference: str) -> dict[str, str]:
    reference = _normal(reference)
    keys = {"reference": f"offer-lookup:ref:{reference}",
            "reference_last": f"offer-lookup:ref-last:{reference}"}
    if ip:
        keys["pair"] = f"offer-lookup:pair:{reference}:{ip}"
        keys["source"] = f"offer-lookup:ip:{ip}"
    return keys


def backoff_seconds(failures: int) -> int:
    """How long after the last failure the next attempt on a reference must wait."""
    if failures < FREE_FAILURES_PER_REFERENCE:
        return 0
    steps = failures - FREE_FAILURES_PER_REFERENCE
    return min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** min(steps, 16))


def _counted(operation):
    """`operation(cache)` on the default cache, or on the database's if that one is away."""
    try:
        return operation(caches["default"])
    except (RedisError, OSError) as error:
        log.warning("Offer look-up limits kept in the database: the cache failed (%s)",
                    type(error).__name__)
        return operation(caches["database"])


def refusal(ip: str | None, reference: str, *, now: float | None = None) -> Refusal | None:
    keys = _keys(ip, reference)
    counts = _counted(lambda cache: cache.get_many(list(keys.values())))
    if (counts.get(keys.get("pair"), 0) >= MAX_FAILURES_PER_SOURCE_AND_REFERENCE
            or counts.get(keys.get("source"), 0) >= MAX_FAILURES_PER_SOURCE):
        return Refusal(locked=True)
    wait = backoff_seconds(counts.get(keys["reference"], 0))
    last = counts.get(keys["reference_last"])
    if wait and last is not None:
        remaining = int(last + wait - (time.time() if now is None else now) + 0.999)
        if remaining > 0:
            return Refusal(locked=False, wait_seconds=remaining)
    return None


def _increment(cache, key: str) -> None:
    if not cache.add(key, 1, WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, WINDOW_SECONDS)


def record_failure(ip: str | None, reference: str, *, now: float | None = None) -> None:
    keys = _keys(ip, reference)

    def count(cache):
        for name in ("reference", "pair", "source"):
            if name in keys:
                _increment(cache, keys[name])
        cache.set(keys["reference_last"], time.time() if now is None else now, WINDOW_SECONDS)

    _counted(count)


def record_success(ip: str | None, reference: str) -> None:
    """The person proved the offer: whatever strangers tried on it no longer slows them."""
    keys = _keys(ip, reference)
    names = [keys["reference"], keys["reference_last"], *([keys["pair"]] if ip else [])]
    _counted(lambda cache: cache.delete_many(names))
