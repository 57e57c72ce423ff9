"""The control plane's reports, from the public schema only: bookings per client and channel,
the channel shift across clients, finalised invoices, sharp movers, today's health; provider
staff only."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection, transaction
from django.test import Client

from billing.ledger import BillableEvent, record_usage
from billing.services import invoices, plans
from reports.periods import Period
from reports.platform import platform_report
from tenants.models import StripeEvent

from ..billing.conftest import FROM, make_plan
from ..conftest import sign_in_verified

NOW = datetime(2026, 7, 10, 12, tzinfo=UTC)


def usage(client, n, *, channel, at):
    with transaction.atomic():
        for index in range(n):
            record_usage(client.pk, BillableEvent(f"test:{client.pk}:{at:%m%d%H}:{channel}:{index}",
                                                  "booking_confirmed", channel, at))


@pytest.fixture
def ledger(essex, south_wales):
    connection.set_schema_to_public()
    for month in (3, 4, 5):
        usage(essex, 10, channel="online", at=datetime(2026, month, 5, 12, tzinfo=UTC))
        usage(south_wales, 8, channel="telephone",
              at=datetime(2026, month, 5, 12, tzinfo=UTC))
    # June: essex steady (10), south wales falls from 8 a month to 2 (−75 %).
    usage(essex, 6, channel="online", at=datetime(2026, 6, 5, 12, tzinfo=UTC))
    usage(essex, 4, channel="staff", at=datetime(2026, 6, 5, 12, tzinfo=UTC))
    usage(south_wales, 2, channel="online", at=datetime(2026, 6, 5, 12, tzinfo=UTC))
    # 23:30 UTC on 30 June is 00:30 BST on 1 July: July.
    usage(essex, 1, channel="online", at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    usage(essex, 3, channel="telephone", at=datetime(2026, 7, 10, 9, tzinfo=UTC))
    return essex, south_wales


def test_volumes_shift_and_movers(ledger):
    essex, south_wales = ledger
    report = platform_report(Period(date(2026, 3, 1), date(2026, 7, 1)), now=NOW)
    by_client = {volume.client.slug: volume for volume in report.clients}
    assert by_client["essex"].total == 30 + 10 + 1 + 3
    assert by_client["essex"].months[date(2026, 6, 1)] == {"online": 6, "telephone": 0,
                                                           "staff": 4}
    assert by_client["essex"].months[date(2026, 7, 1)]["online"] == 1
    assert by_client["south-wales"].total == 26
    assert by_client["south-wales"].online_share == pytest.approx(2 / 26)
    shift = {month: (online, every) for month, online, every, _share in report.shift}
    assert shift[date(2026, 3, 1)] == (10, 18) and shift[date(2026, 6, 1)] == (8, 12)
    assert [(m.client.slug, m.last_month, m.usual) for m in report.movements] == \
        [("south-wales", 2, 8.0)]
    assert report.movements[0].change == pytest.approx(-0.75)
    assert report.bookings_today == 3


def test_revenue_counts_finalised_invoices_only(ledger):
    essex, _south_wales = ledger
    plans.assign_plan(essex, make_plan("standard", "graduated"), valid_from=FROM,
                      acting_user="tests")
    for month in (3, 4):
        invoices.close_month(date(2026, month, 1), acting_user="tests", now=NOW)
    invoices.finalise_due(acting_user="tests", now=datetime(2026, 7, 20, tzinfo=UTC))
    invoices.close_month(date(2026, 5, 1), acting_user="tests", now=NOW)  # a draft
    report = platform_report(Period(date(2026, 3, 1), date(2026, 5, 1)), now=NOW)
    revenue = {month: (count, total) for month, count, total in report.revenue}
    # Graduated: 2 at £5 and 8 at £3 = £34, VAT 20 %: £40.80.
    assert revenue[date(2026, 3, 1)] == (1, 4080)
    assert revenue[date(2026, 5, 1)] == (0, 0)


def test_failing_stripe_events_show_in_health(ledger):
    StripeEvent.objects.create(event_id="evt_failed", type="payment_intent.succeeded",
                               outcome=StripeEvent.Outcome.FAILED)
    StripeEvent.objects.create(event_id="evt_ok", type="payment_intent.succeeded",
                               outcome=StripeEvent.Outcome.HANDLED)
    assert platform_report(Period(date(2026, 7, 1), date(2026, 7, 1))).failing_payments == 1


def test_only_provider_staff_see_platform_reports(ledger, provider_support, essex_admin):
    page = Client(HTTP_HOST="localhost")
    sign_in_verified(page, provider_support)
    response = page.get("/reports/", {"start": "2026-03", "end": "2026-07"})
    assert response.status_code == 200
    assert "Essex County Council" in response.content.decode()
    csv_file = page.get("/reports/", {"start": "2026-03", "end": "2026-07", "format": "csv"})
    assert csv_file.content.decode("utf-8").startswith("\ufeffClient,Month,Online")
    assert page.get("/reports/", {"start": "2026-07", "end": "2026-03"}).status_code == 200
    member = Client(HTTP_HOST="localhost")
    member.force_login(essex_admin)
    assert member.get("/reports/").status_code == 403
