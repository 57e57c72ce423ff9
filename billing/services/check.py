"""The nightly check: recount each client's billable events for the open period from its own
schema and compare them with the ledger. There should be no difference; any is reported."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone
from django_tenants.utils import schema_context

from billing.ledger import recounters
from billing.models import UsageRecord
from tenants.models import ClientOrganisation

from .periods import bounds, period_of

log = logging.getLogger(__name__)


@dataclass
class Difference:
    client: ClientOrganisation
    period: date
    missing: set = field(default_factory=set)  # events with no usage row
    unknown: set = field(default_factory=set)  # usage rows with no event


def check_ledger(*, period: date | None = None, now: datetime | None = None) -> list[Difference]:
    period = period or period_of(now or timezone.now())
    start, end = bounds(period)
    differences = []
    for client in ClientOrganisation.objects.filter(is_template=False).order_by("pk"):
        expected = set()
        with schema_context(client.schema_name):
            for recount in recounters():
                expected |= recount(start, end)
        recorded = set(UsageRecord.objects.filter(
            client=client, occurred_at__gte=start, occurred_at__lt=end)
            .values_list("source_event_id", flat=True))
        if expected != recorded:
            difference = Difference(client, period, expected - recorded, recorded - expected)
            log.error("usage ledger differs for %s in %s: %d missing, %d unknown", client.slug,
                      period, len(difference.missing), len(difference.unknown))
            differences.append(difference)
    return differences
