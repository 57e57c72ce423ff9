"""Billing in a real browser, checked with axe-core on every page: a client administrator's
/manage/billing/ with an invoice and its credit note, and the provider console's billing home,
an invoice, a credit note and month close refusing a month that has not ended."""

from datetime import timedelta

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.services import invoices, plans

from ..billing.conftest import FROM, make_plan
from ..billing.test_invoices import NOVEMBER, NOW, november_usage
from ..conftest import PASSWORD
from .conftest import assert_accessible, site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def billed(essex, south_wales):
    plans.assign_plan(essex, make_plan("standard", "graduated"), valid_from=FROM,
                      acting_user="tests")
    plans.assign_plan(south_wales, make_plan("volume", "volume"), valid_from=FROM,
                      acting_user="tests")
    november_usage(essex)
    november_usage(south_wales, prefix="s")
    essex_invoice, _wales = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    invoices.finalise_due(acting_user="tests", now=NOW + timedelta(days=5))
    note = invoices.issue_credit_note(essex_invoice, subtotal_pence=500,
                                      reason="Duplicate bookings", acting_user="tests")
    return essex_invoice, note


def sign_in(page, base, email, start):
    page.goto(base + start)
    assert "/accounts/sign-in/" in page.url
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_client_administrator_reads_their_billing(billed, essex_admin, live_server, page):
    essex_invoice, note = billed
    base = site(live_server, "essex.localhost")
    sign_in(page, base, essex_admin.email, "/manage/billing/")
    page.get_by_role("heading", name="Billing", exact=True).wait_for()
    assert essex_invoice.number in page.locator("main").inner_text()
    assert_accessible(page)

    page.get_by_role("link", name=essex_invoice.number, exact=True).click()
    page.get_by_role("heading", name=f"Invoice {essex_invoice.number}").wait_for()
    assert "£21.96" in page.locator("main").inner_text()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Invoice {essex_invoice.number} as a PDF").click()
    assert download.value.suggested_filename == f"invoice-{essex_invoice.number}.pdf"

    page.get_by_role("link", name=note.number).click()
    page.get_by_role("heading", name=f"Credit note {note.number}").wait_for()
    assert "Duplicate bookings" in page.locator("main").inner_text()
    assert_accessible(page)


def test_provider_staff_use_the_console_billing_pages(billed, provider_admin, live_server,
                                                      page):
    essex_invoice, note = billed
    device = TOTPDevice.objects.get(user=provider_admin)
    base = site(live_server, "localhost")
    sign_in(page, base, provider_admin.email, "/billing/")
    page.get_by_label("Security code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.goto(base + "/billing/")
    page.get_by_role("heading", name="Billing", exact=True).wait_for()
    assert_accessible(page)

    # Month close for a month that has not ended: refused, with the error on the field.
    page.get_by_label("Month").fill("2099-01")
    page.get_by_role("button", name="Close the month").click()
    page.locator(".govuk-error-summary").wait_for()
    assert "has not ended yet" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)

    page.goto(base + f"/billing/invoices/{essex_invoice.number}/")
    page.get_by_role("heading", name=f"Invoice {essex_invoice.number}").wait_for()
    assert "Essex County Council" in page.locator("main").inner_text()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Lines of invoice {essex_invoice.number} as a "
                                      "spreadsheet (CSV)").click()
    assert download.value.suggested_filename == f"invoice-{essex_invoice.number}.csv"

    page.get_by_role("link", name=note.number).click()
    page.get_by_role("heading", name=f"Credit note {note.number}").wait_for()
    assert_accessible(page)
