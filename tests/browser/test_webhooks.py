"""The webhook endpoints page in a real browser, checked with axe-core: its error state, an
endpoint added with its secret shown once, a test event and its delivery log."""

import pytest
from django_tenants.utils import schema_context

from accounts.roles import Role
from outbox.models import WebhookEndpoint

from ..conftest import make_user
from ..webhook_receiver import Receiver
from .conftest import assert_accessible, site
from .test_manage import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def no_endpoints_left(essex):
    # A transactional test's flush empties the public tables only.
    yield
    with schema_context(essex.schema_name):
        WebhookEndpoint.objects.all().delete()


def test_administrator_adds_and_tests_a_webhook_endpoint(essex, live_server, page,
                                                         no_endpoints_left):
    admin = make_user("hooks-admin@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    base = site(live_server, "essex.localhost")
    sign_in(page, base, admin)
    page.get_by_role("link", name="Configuration").click()
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("heading", name="Webhooks", exact=True).wait_for()
    assert_accessible(page)

    # Nothing filled in, then a private address: errors naming the field.
    page.get_by_role("button", name="Add endpoint").click()
    page.locator(".govuk-error-summary").wait_for()
    assert "Enter the web address" in page.locator(".govuk-error-summary").inner_text()
    assert page.title().startswith("Error:")
    assert_accessible(page)
    page.get_by_label("Web address").fill("https://10.0.0.1/hooks")
    page.get_by_label("A booking was confirmed").check()
    page.get_by_role("button", name="Add endpoint").click()
    assert "private network" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)

    with Receiver() as receiver:
        page.get_by_label("Web address").fill(receiver.url)
        page.get_by_label("Description (optional)").fill("Back office")
        page.get_by_role("button", name="Add endpoint").click()
        page.get_by_role("heading", name="Endpoint added").wait_for()
        secret = page.locator("#webhook-secret").inner_text()
        assert secret.startswith("whsec_")
        assert_accessible(page)
        page.get_by_role("button", name="Send test event").click()
        page.get_by_role("heading", name="Delivery log").wait_for()
        assert "Delivered" in page.locator("table").inner_text()
        assert secret not in page.content()
        assert_accessible(page)
    assert len(receiver.requests) == 1
