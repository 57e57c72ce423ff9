"""Booking volume per client, read from the usage ledger: the published figure other control-plane
apps (the user group's impact ranking) use instead of reading billing's tables themselves."""

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from billing.models import UsageRecord

VOLUME_WINDOW = timedelta(days=365)


def booking_volumes(client_ids, *, since: datetime | None = None,
                    until: datetime | None = None) -> dict[int, int]:
    """{client id: bookings confirmed less cancellations credited} in [since, until); the last
    12 months unless told. Every client asked about is in the answer, 0 if it has none."""
    until = until or timezone.now()
    since = since or until - VOLUME_WINDOW
    ids = list(dict.fromkeys(client_ids))
    rows = (UsageRecord.objects.filter(client_id__in=ids, occurred_at__gte=since,
                                       occurred_at__lt=until)
            .values("client_id")
            .annotate(confirmed=Count("pk", filter=Q(kind=UsageRecord.Kind.BOOKING_CONFIRMED)),
                      credited=Count("pk",
                                     filter=Q(kind=UsageRecord.Kind.BOOKING_CANCELLED_CREDIT))))
    volumes = dict.fromkeys(ids, 0)
    for row in rows:
        volumes[row["client_id"]] = max(row["confirmed"] - row["credited"], 0)
    return volumes
