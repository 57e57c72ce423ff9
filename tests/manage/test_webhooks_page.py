"""/manage/configure/webhooks/: administrators add an endpoint (its secret shown once), send a
test event, read the delivery log and remove the endpoint; every change
audited; those who read the configuration may only read; a bad or private address is a field
error and nothing is saved."""

import pytest
from django.test import TestCase
from django_tenants.utils import schema_context

from accounts.roles import Role
from audit.models import AuditEntry
from outbox import webhooks
from outbox.models import WebhookEndpoint

from ..webhook_receiver import Receiver
from .conftest import get, post

PAGE = "/manage/configure/webhooks/"


@pytest.fixture
def admin(staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    return staff[Role.CLIENT_ADMIN]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.CONTACT_CENTRE_AGENT])
def test_staff_without_the_configuration_see_nothing(staff, client, role):
    client.force_login(staff[role])
    assert get(client, PAGE).status_code == 403
    assert post(client, PAGE, {"url": "http://127.0.0.1:9/", "events": ["booking.confirmed"]}
                ).status_code == 403


@pytest.mark.parametrize("role", [Role.BOOKING_OFFICER, Role.AUDITOR])
def test_readers_of_the_configuration_read_but_only_administrators_change(
        staff, essex, client, role):
    with schema_context(essex.schema_name):
        endpoint = WebhookEndpoint.objects.create(url="https://example.org/", events=["x"],
                                                  secret="whsec_x", created_by="tests")
    client.force_login(staff[role])
    listing = get(client, PAGE)
    assert listing.status_code == 200 and b"Add endpoint" not in listing.content
    detail = get(client, f"{PAGE}{endpoint.pk}/")
    assert detail.status_code == 200 and b"Send test event" not in detail.content
    assert b"whsec_x" not in detail.content
    assert post(client, PAGE, {"url": "http://127.0.0.1:9/", "events": ["booking.confirmed"]}
                ).status_code == 403
    assert post(client, f"{PAGE}{endpoint.pk}/", {"action": "test"}).status_code == 403
    assert post(client, f"{PAGE}{endpoint.pk}/", {"action": "delete"}).status_code == 403
    with schema_context(essex.schema_name):
        assert WebhookEndpoint.objects.count() == 1
        assert not endpoint.deliveries.exists()


def test_an_endpoint_is_added_with_its_secret_shown_once_then_tested(admin, essex, client):
    assert "No webhook endpoints yet" in get(client, PAGE).content.decode()
    with Receiver() as receiver:
        response = post(client, PAGE, {"url": receiver.url, "description": "Back office",
                                       "events": ["booking.confirmed", "payment.refunded"]})
        assert response.status_code == 200
        page = response.content.decode()
        with schema_context(essex.schema_name):
            endpoint = WebhookEndpoint.objects.get()
        assert endpoint.secret in page and "not shown again" in page
        detail = f"{PAGE}{endpoint.pk}/"
        assert endpoint.secret not in get(client, detail).content.decode()
        assert endpoint.secret not in get(client, PAGE).content.decode()
        with TestCase.captureOnCommitCallbacks(execute=True):
            tested = post(client, detail, {"action": "test"})
        assert tested.status_code == 302
    (request,) = receiver.requests
    assert webhooks.verify_signature(endpoint.secret, request["headers"]["Waymark-Signature"],
                                     request["body"])
    log = get(client, detail).content.decode()
    assert "webhook.test" in log and "Delivered" in log and "200" in log
    with schema_context(essex.schema_name):
        assert set(AuditEntry.objects.filter(action__startswith="webhook_endpoint.")
                   .values_list("action", flat=True)) == {"webhook_endpoint.created",
                                                          "webhook_endpoint.tested"}
    assert post(client, detail, {"action": "delete"}).status_code == 302
    with schema_context(essex.schema_name):
        assert not WebhookEndpoint.objects.exists()
        assert AuditEntry.objects.filter(action="webhook_endpoint.deleted").exists()


@pytest.mark.parametrize("data, message", [
    ({}, "Enter the web address"),
    ({"url": "http://127.0.0.1:9/"}, "Choose at least one event"),
    ({"url": "https://10.0.0.1/", "events": ["booking.confirmed"]}, "private network"),
    ({"url": "http://example.org/", "events": ["booking.confirmed"]}, "must start with https"),
])
def test_bad_input_is_a_field_error_and_nothing_is_saved(admin, essex, client, data, message):
    response = post(client, PAGE, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "govuk-error-summary" in response.content.decode()
    with schema_context(essex.schema_name):
        assert not WebhookEndpoint.objects.exists()


def test_another_clients_endpoint_is_not_there(admin, south_wales, client):
    with schema_context(south_wales.schema_name):
        theirs = WebhookEndpoint.objects.create(url="https://example.org/", events=["x"],
                                                secret="whsec_x", created_by="tests")
    assert get(client, f"{PAGE}{theirs.pk}/").status_code == 404
    assert post(client, f"{PAGE}{theirs.pk}/", {"action": "delete"}).status_code == 404
