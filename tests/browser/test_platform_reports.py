"""The control plane's reports in a real browser, with axe-core on the page and on its error
state: provider staff after the second factor."""

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..billing.test_invoices import november_usage
from .conftest import assert_accessible, site
from .test_billing import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_provider_reads_platform_reports(essex, south_wales, provider_admin, live_server, page):
    november_usage(essex)
    november_usage(south_wales, prefix="s")
    base = site(live_server, "localhost")
    sign_in(page, base, provider_admin.email, "/reports/")
    device = TOTPDevice.objects.get(user=provider_admin)
    page.get_by_label("Security code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.goto(base + "/reports/?start=2026-06&end=2026-11")
    page.get_by_role("heading", name="Platform reports").wait_for()
    assert "Essex County Council" in page.locator("main").inner_text()
    page.get_by_role("img", name="Online share of bookings each month, all clients").wait_for()
    assert_accessible(page)
    page.goto(base + "/reports/?start=2026-11&end=2026-06")
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
