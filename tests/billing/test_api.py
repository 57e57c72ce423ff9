"""Invoices and usage on the platform API: provider staff only, filters refused by name, the
invoice with its lines and credit notes, the month's usage and running total."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection, transaction

from billing.ledger import BillableEvent, record_usage
from billing.services import invoices

from ..test_onboarding import api_client_for

NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)
OCTOBER = datetime(2026, 10, 5, 12, tzinfo=UTC)


@pytest.fixture
def october_invoice(essex_on_graduated):
    connection.set_schema_to_public()
    with transaction.atomic():
        for index, channel in enumerate(["online", "online", "telephone"]):
            record_usage(essex_on_graduated.pk, BillableEvent(f"api:{index}", "booking_confirmed",
                                                              channel, OCTOBER))
    invoices.close_month(date(2026, 10, 1), acting_user="tests", now=NOW)
    invoice = invoices.finalise_due(acting_user="tests",
                                    now=datetime(2026, 11, 20, tzinfo=UTC))[0]
    invoices.issue_credit_note(invoice, subtotal_pence=300, reason="Goodwill",
                               acting_user="tests")
    return invoice


def get(user, path, **params):
    return api_client_for(user).get(path, params, HTTP_HOST="localhost")


def test_invoices_listed_filtered_and_read_with_lines(october_invoice, provider_support):
    listed = get(provider_support, "/api/platform/v1/invoices/", client="essex", period="2026-10")
    assert listed.status_code == 200, listed.content
    body = listed.json()
    assert body["count"] == 1
    assert body["results"][0]["number"] == october_invoice.number
    assert body["results"][0]["period"] == "2026-10"
    assert get(provider_support, "/api/platform/v1/invoices/", period="2026-09").json()[
        "count"] == 0
    detail = get(provider_support, f"/api/platform/v1/invoices/{october_invoice.number}/").json()
    # Graduated (tests' plan): 2 at £5 + 1 at £3, and one telephone booking's £1.50 surcharge.
    assert [(line["kind"], line["quantity"], line["amount_pence"]) for line in detail["lines"]
            if line["kind"] in ("tier", "surcharge")] == [
        ("tier", 2, 1000), ("tier", 1, 300), ("surcharge", 1, 150)]
    assert detail["total_pence"] == october_invoice.total_pence
    assert detail["credit_notes"][0]["reason"] == "Goodwill"


def test_usage_and_running_total(october_invoice, provider_support):
    usage = get(provider_support, "/api/platform/v1/usage/", client="essex", period="2026-10")
    assert usage.status_code == 200
    assert usage.json() == {
        "client": "essex", "period": "2026-10", "bookings_online": 2, "bookings_telephone": 1,
        "bookings_staff": 0, "cancellations_credited": 0, "calls": 0, "card_payments_pence": 0,
        "plan": "standard",
        "subtotal_pence": october_invoice.subtotal_pence,
        "vat_pence": october_invoice.vat_pence, "total_pence": october_invoice.total_pence}


@pytest.mark.parametrize("params, field", [
    ({"client": "essex", "period": "2026-13"}, "period"),
    ({"client": "essex", "period": "26-10"}, "period"),
    ({"client": "nobody", "period": "2026-10"}, "client"),
    ({"period": "2026-10"}, "client"),
    ({"client": "essex"}, "period"),
])
def test_bad_usage_queries_are_named(october_invoice, provider_support, params, field):
    response = get(provider_support, "/api/platform/v1/usage/", **params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_bad_invoice_filters_are_named(october_invoice, provider_support):
    response = get(provider_support, "/api/platform/v1/invoices/", status="lost")
    assert response.status_code == 400 and "status" in response.json()["errors"]
    assert get(provider_support, "/api/platform/v1/invoices/WM-999999/").status_code == 404


def test_only_provider_staff(october_invoice, essex_admin):
    from rest_framework.test import APIClient

    for path in ("/api/platform/v1/invoices/", f"/api/platform/v1/invoices/"
                 f"{october_invoice.number}/", "/api/platform/v1/usage/?client=essex&period=2026-10"):
        assert get(essex_admin, path).status_code == 403
        assert APIClient().get(path, HTTP_HOST="localhost").status_code == 401
