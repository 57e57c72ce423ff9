"""The billing pages: provider staff see every client on the control plane; a client's
administrator sees only their own organisation's billing on their own site."""

import pytest

from billing.models import Invoice, UsageRecord
from billing.services import invoices, plans

from ..conftest import make_user, sign_in_verified
from .conftest import FROM
from .test_invoices import NOVEMBER, NOW, november_usage

ESSEX, SOUTH_WALES, PLATFORM = "essex.localhost", "south-wales.localhost", "localhost"


@pytest.fixture
def two_clients_billed(essex_on_graduated, south_wales, volume_plan):
    plans.assign_plan(south_wales, volume_plan, valid_from=FROM, acting_user="tests")
    november_usage(essex_on_graduated)
    november_usage(south_wales, prefix="s")
    essex_invoice, wales_invoice = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    assert essex_invoice.client == essex_on_graduated
    return essex_invoice, wales_invoice


def test_a_client_admin_sees_only_their_own_billing(client, two_clients_billed, essex_admin,
                                                    south_wales_admin):
    essex_invoice, wales_invoice = two_clients_billed
    client.force_login(essex_admin)
    page = client.get("/manage/billing/", HTTP_HOST=ESSEX)
    assert page.status_code == 200
    text = page.content.decode()
    assert essex_invoice.number in text and wales_invoice.number not in text
    assert "Standard" in text and "Volume" not in text
    own = client.get(f"/manage/billing/invoices/{essex_invoice.number}/", HTTP_HOST=ESSEX)
    assert own.status_code == 200 and "£21.96" in own.content.decode()
    # Another client's invoice, asked for on one's own site: not found; on theirs: forbidden.
    assert client.get(f"/manage/billing/invoices/{wales_invoice.number}/",
                      HTTP_HOST=ESSEX).status_code == 404
    assert client.get("/manage/billing/", HTTP_HOST=SOUTH_WALES).status_code == 403
    assert client.get("/billing/", HTTP_HOST=PLATFORM).status_code == 403

    client.force_login(south_wales_admin)
    text = client.get("/manage/billing/", HTTP_HOST=SOUTH_WALES).content.decode()
    assert wales_invoice.number in text and essex_invoice.number not in text
    assert client.get(f"/manage/billing/invoices/{wales_invoice.number}/",
                      HTTP_HOST=SOUTH_WALES).status_code == 200


def test_other_client_roles_do_not_see_billing(client, essex_on_graduated):
    from accounts.roles import Role

    officer = make_user("officer@essex.test", organisation=essex_on_graduated,
                        role=Role.BOOKING_OFFICER)
    client.force_login(officer)
    assert client.get("/manage/billing/", HTTP_HOST=ESSEX).status_code == 403


def test_the_running_month_shows_usage_and_cost(client, essex_on_graduated, essex_admin):
    from django.db import transaction
    from django.utils import timezone

    from billing.ledger import BillableEvent, record_usage

    with transaction.atomic():
        for n in range(3):
            record_usage(essex_on_graduated.pk, BillableEvent(
                f"now:{n}", "booking_confirmed", "telephone", timezone.now()))
    client.force_login(essex_admin)
    text = client.get("/manage/billing/", HTTP_HOST=ESSEX).content.decode()
    # 2 × £5.00 + 1 × £3.00 + 3 × £1.50 surcharge = £17.50, VAT £3.50 → £21.00
    assert "£17.50" in text and "£21.00" in text
    assert UsageRecord.objects.count() == 3


def test_console_billing_for_provider_staff(client, two_clients_billed, provider_admin,
                                            provider_support):
    essex_invoice, wales_invoice = two_clients_billed
    sign_in_verified(client, provider_support)
    page = client.get("/billing/", HTTP_HOST=PLATFORM)
    assert page.status_code == 200
    text = page.content.decode()
    assert essex_invoice.number in text and wales_invoice.number in text
    assert "Essex County Council" in text and "South Wales" in text
    detail = client.get(f"/billing/invoices/{essex_invoice.number}/", HTTP_HOST=PLATFORM)
    assert detail.status_code == 200 and "£18.30" in detail.content.decode()
    # Support reads; closing a month is the provider admin's.
    assert client.post("/billing/close-month/", {"period": "2026-10"},
                       HTTP_HOST=PLATFORM).status_code == 403
    sign_in_verified(client, provider_admin)
    refused = client.post("/billing/close-month/", {"period": "2099-01"}, HTTP_HOST=PLATFORM)
    assert refused.status_code == 200 and "has not ended yet" in refused.content.decode()
    bad = client.post("/billing/close-month/", {"period": "soon"}, HTTP_HOST=PLATFORM)
    assert "like 2026-11" in bad.content.decode()
    done = client.post("/billing/close-month/", {"period": "2026-11"}, HTTP_HOST=PLATFORM)
    assert done.status_code == 302
    assert Invoice.objects.count() == 2


def test_console_needs_the_second_factor(client, provider_admin):
    client.force_login(provider_admin)
    response = client.get("/billing/", HTTP_HOST=PLATFORM)
    assert response.status_code == 302 and "two-factor" in response["Location"]
