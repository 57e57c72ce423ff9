"""Measured availability against the 99.5 % we promise, and what the status pages say now.

Every minute beat runs `take_sample`: the readiness checks (database, Redis, broker) and one
query that finds the live clients whose site could not answer (no domain to be reached at, or
no schema behind it), written as one row. Availability over a window is the share of its
minutes that were up; a minute with no sample (the database or beat was away) is unknown and
counts against us, never for us. Windows start no earlier than the first sample ever taken, nor
than the client's site was set up, so a figure only covers what was measured.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AvailabilitySample, ClientOrganisation, Incident

TARGET_PERCENT = 99.5
KEEP_SAMPLES = relativedelta(months=13)
WINDOWS = (
    (_("Last 24 hours"), timedelta(hours=24)),
    (_("Last 7 days"), timedelta(days=7)),
    (_("Last 30 days"), timedelta(days=30)),
    (_("Last 90 days"), timedelta(days=90)),
)
# The latest sample older than this says nothing about now.
FRESH = timedelta(minutes=3)
RECENT_INCIDENTS = timedelta(days=90)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


# --- sampling (the beat job) -----------------------------------------------------------------

def clients_not_answering() -> list[int]:
    """Live clients whose site cannot answer, in one query: no domain routes to them, or their
    schema (its migration table, which every set-up schema has) is missing."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.id FROM tenants_clientorganisation c
            WHERE c.status = %s AND NOT c.is_template AND (
                NOT EXISTS (SELECT 1 FROM tenants_domain d WHERE d.tenant_id = c.id)
                OR to_regclass(quote_ident(c.schema_name) || '.django_migrations') IS NULL)
            ORDER BY c.id
            """, [ClientOrganisation.Status.LIVE])
        return [row[0] for row in cursor.fetchall()]


def take_sample(*, now=None) -> AvailabilitySample | None:
    """Run the checks and record this minute (once: a second run in the same minute keeps the
    first). None when the database itself is away, so the minute stays unknown."""
    from config.health import platform_checks

    now = now or timezone.now()
    checks = platform_checks()
    if not checks["database"]["ok"]:
        return None
    failed = sorted(name for name, check in checks.items() if not check["ok"])
    sample = AvailabilitySample(minute=_minute(now), up=not failed, failed_checks=failed,
                                clients_down=clients_not_answering())
    AvailabilitySample.objects.bulk_create([sample], ignore_conflicts=True)
    return sample


def prune_samples(*, now=None) -> int:
    """Samples are kept 13 months: long enough for a year's figures and the month before."""
    now = now or timezone.now()
    deleted, _by_model = AvailabilitySample.objects.filter(minute__lt=now - KEEP_SAMPLES).delete()
    return deleted


# --- availability --------------------------------------------------------------------------

@dataclass(frozen=True)
class Availability:
    label: str
    minutes: int  # minutes measured in the window (after it was clipped)
    up: int
    down: int
    unknown: int
    since: datetime | None

    @property
    def percent(self) -> float | None:
        """Rounded down to two places, so 99.499 % never shows as the promised 99.5 %."""
        if not self.minutes:
            return None
        return math.floor(self.up * 10000 / self.minutes) / 100

    @property
    def met(self) -> bool | None:
        return None if self.percent is None else self.percent >= TARGET_PERCENT


def availability(*, organisation: ClientOrganisation | None = None, now=None
                 ) -> list[Availability]:
    """The four windows, platform-wide or for one client, in one aggregate query (and one for
    when measuring began)."""
    end = _minute(now or timezone.now())
    began = AvailabilitySample.objects.aggregate(first=Min("minute"))["first"]
    floor = began
    if organisation is not None and began is not None:
        # The first whole minute the client's site existed.
        created = organisation.created_at
        floor = max(began, _minute(created) + (timedelta(minutes=1) if created != _minute(created)
                                               else timedelta()))
    up_here = Q(up=True)
    if organisation is not None:
        up_here &= ~Q(clients_down__contains=[organisation.pk])
    starts, counts = [], {}
    for index, (_label, length) in enumerate(WINDOWS):
        start = end - length if floor is None else max(end - length, floor)
        starts.append(start)
        within = Q(minute__gte=start, minute__lt=end)
        counts[f"sampled{index}"] = Count("pk", filter=within)
        counts[f"up{index}"] = Count("pk", filter=within & up_here)
    totals = (AvailabilitySample.objects.filter(minute__gte=min(starts), minute__lt=end)
              .aggregate(**counts)) if began is not None else {}
    figures = []
    for index, (label, _length) in enumerate(WINDOWS):
        start = starts[index]
        minutes = max(int((end - start).total_seconds() // 60), 0) if began is not None else 0
        sampled, up = totals.get(f"sampled{index}", 0), totals.get(f"up{index}", 0)
        figures.append(Availability(label=str(label), minutes=minutes, up=up, down=sampled - up,
                                    unknown=minutes - sampled,
                                    since=start if began is not None else None))
    return figures


# --- what the status pages show ----------------------------------------------------------

@dataclass(frozen=True)
class CurrentState:
    state: str  # "up", "down" or "unknown"
    checked_at: datetime | None


def current_state(*, organisation: ClientOrganisation | None = None, now=None) -> CurrentState:
    now = now or timezone.now()
    latest = AvailabilitySample.objects.filter(minute__gte=_minute(now) - FRESH).first()
    if latest is None:
        return CurrentState("unknown", None)
    up = latest.up and (organisation is None or organisation.pk not in latest.clients_down)
    return CurrentState("up" if up else "down", latest.minute)


def incidents_for(organisation: ClientOrganisation | None = None, *, now=None):
    """Incidents open now or started in the last 90 days, newest first, with their updates:
    every incident on the control plane, and on a client's page only those affecting it."""
    now = now or timezone.now()
    incidents = Incident.objects.filter(Q(ended_at__isnull=True)
                                        | Q(started_at__gte=now - RECENT_INCIDENTS))
    if organisation is not None:
        incidents = incidents.filter(Q(affects_all_clients=True) | Q(clients=organisation))
    return incidents.distinct().prefetch_related("updates", "clients")


def status_page(organisation: ClientOrganisation | None = None, *, now=None) -> dict:
    """What every status page shows: now, the four windows against the target, incidents."""
    return {"state": current_state(organisation=organisation, now=now),
            "windows": availability(organisation=organisation, now=now),
            "target": TARGET_PERCENT,
            "incidents": incidents_for(organisation, now=now)}
