"""The user group's webhook endpoints page in a real browser, checked with axe-core: provider
staff see the events, get a named error for a missing address, add an endpoint and see its
secret once, then send a test event."""

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from outbox.models import WebhookDelivery
from usergroup import webhooks

from ..conftest import PASSWORD
from .conftest import assert_accessible, site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_add_an_endpoint_and_send_a_test_event(provider_admin, live_server, page):
    base = site(live_server, "localhost")
    page.goto(base + "/user-group/webhooks/")
    page.get_by_label("Email address").fill(provider_admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    device = TOTPDevice.objects.get(user=provider_admin)
    page.get_by_label("Security code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.goto(base + "/user-group/webhooks/")
    page.get_by_role("heading", name="User-group webhooks").wait_for()
    assert_accessible(page)

    page.get_by_label("A release was published").check()
    page.get_by_role("button", name="Add endpoint").click()
    page.locator(".govuk-error-summary").wait_for()
    assert "Enter the web address" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)

    page.get_by_label("Web address").fill("http://127.0.0.1:9/hooks")
    page.get_by_label("A release was published").check()
    page.get_by_role("button", name="Add endpoint").click()
    page.get_by_role("heading", name="Webhook endpoint", exact=True).wait_for()
    assert page.locator("#webhook-secret").inner_text().startswith("whsec_")
    assert_accessible(page)

    page.get_by_role("button", name="Send test event").click()
    page.get_by_text("Test event sent").wait_for()
    assert "whsec_" not in page.locator("main").inner_text()
    assert_accessible(page)
    endpoint = webhooks.endpoints().get()
    assert endpoint.events == ["release.published"]
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event_type="webhook.test").exists()
