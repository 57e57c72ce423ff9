"""Webhook endpoints managed on the client API: the secret shown once, unsafe addresses refused,
the delivery log, a test event; the `webhooks.manage` scope; a client's endpoints only."""

import json

import pytest
from django.test import Client, TestCase
from django_tenants.utils import schema_context

from booking.services.api_keys import create_api_key
from outbox import webhooks
from outbox.models import WebhookEndpoint

from ..webhook_receiver import Receiver

ESSEX, SOUTH_WALES = "essex.localhost", "south-wales.localhost"


def key_for(organisation, scopes=("webhooks.manage",)):
    with schema_context(organisation.schema_name):
        return create_api_key("integration", list(scopes), actor="tests")[1]


def call(method, host, key, path, body=None):
    """A request, and what it handed over after commit (a delivery: sent inline, as eager
    tasks are) run as if it had committed."""
    client = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Api-Key {key}")
    with TestCase.captureOnCommitCallbacks(execute=True):
        if body is None:
            return getattr(client, method)(path)
        return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def test_an_endpoint_is_added_tested_and_logged(essex):
    key = key_for(essex)
    with Receiver() as receiver:
        made = call("post", ESSEX, key, "/api/v1/webhooks/endpoints/",
                    {"url": receiver.url, "events": ["booking.confirmed"],
                     "description": "Back office"})
        assert made.status_code == 201, made.content
        secret = made.json()["secret"]
        assert secret.startswith("whsec_")
        endpoint_id = made.json()["id"]
        listed = call("get", ESSEX, key, "/api/v1/webhooks/endpoints/").json()
        assert [row["id"] for row in listed] == [endpoint_id]
        assert "secret" not in listed[0]  # shown once
        tested = call("post", ESSEX, key, f"/api/v1/webhooks/endpoints/{endpoint_id}/test/")
        assert tested.status_code == 202
        assert tested.json()["event_type"] == "webhook.test"
    (request,) = receiver.requests
    assert webhooks.verify_signature(secret, request["headers"]["Waymark-Signature"],
                                     request["body"])
    log = call("get", ESSEX, key, f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/").json()
    assert [(row["event_type"], row["status"], row["response_code"], row["attempts"],
             row["next_attempt_at"]) for row in log] == [("webhook.test", "succeeded", 200, 1,
                                                          None)]


def test_a_failed_test_event_shows_its_next_try(essex):
    key = key_for(essex)
    with Receiver(statuses=[500]) as receiver:
        endpoint_id = call("post", ESSEX, key, "/api/v1/webhooks/endpoints/",
                           {"url": receiver.url, "events": ["booking.confirmed"]}).json()["id"]
        call("post", ESSEX, key, f"/api/v1/webhooks/endpoints/{endpoint_id}/test/")
    (delivery,) = call("get", ESSEX, key,
                       f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/").json()
    assert (delivery["status"], delivery["response_code"], delivery["attempts"]) == (
        "pending", 500, 1)
    assert delivery["next_attempt_at"] is not None and "500" in delivery["last_error"]


@pytest.mark.parametrize("body, field", [
    ({"url": "https://10.0.0.7/hooks", "events": ["booking.confirmed"]}, "url"),
    ({"url": "http://example.org/hooks", "events": ["booking.confirmed"]}, "url"),
    ({"url": "https://169.254.169.254/", "events": ["booking.confirmed"]}, "url"),
    ({"url": "http://127.0.0.1:9/", "events": ["booking.exploded"]}, "events"),
    ({"url": "http://127.0.0.1:9/", "events": []}, "events"),
])
def test_unsafe_or_unknown_is_refused_and_nothing_saved(essex, body, field):
    key = key_for(essex)
    response = call("post", ESSEX, key, "/api/v1/webhooks/endpoints/", body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    with schema_context(essex.schema_name):
        assert not WebhookEndpoint.objects.exists()


def test_another_clients_endpoint_is_not_found(essex, south_wales):
    with schema_context(south_wales.schema_name):
        wales_endpoint = WebhookEndpoint.objects.create(
            url="https://example.org/", events=["booking.confirmed"], secret="whsec_x",
            created_by="tests")
    key = key_for(essex)
    assert call("get", ESSEX, key, "/api/v1/webhooks/endpoints/").json() == []
    for path in (f"/api/v1/webhooks/endpoints/{wales_endpoint.pk}/",
                 f"/api/v1/webhooks/endpoints/{wales_endpoint.pk}/deliveries/"):
        assert call("get", ESSEX, key, path).status_code == 404
    assert call("delete", ESSEX, key,
                f"/api/v1/webhooks/endpoints/{wales_endpoint.pk}/").status_code == 404
    with schema_context(south_wales.schema_name):
        assert WebhookEndpoint.objects.filter(pk=wales_endpoint.pk).exists()


def test_an_endpoint_is_removed(essex):
    key = key_for(essex)
    endpoint_id = call("post", ESSEX, key, "/api/v1/webhooks/endpoints/",
                       {"url": "http://127.0.0.1:9/", "events": ["booking.confirmed"]}
                       ).json()["id"]
    assert call("delete", ESSEX, key,
                f"/api/v1/webhooks/endpoints/{endpoint_id}/").status_code == 204
    assert call("get", ESSEX, key, f"/api/v1/webhooks/endpoints/{endpoint_id}/"
                ).status_code == 404


def test_webhooks_need_their_scope(essex):
    key = key_for(essex, ["bookings.view", "reports.view"])
    response = call("post", ESSEX, key, "/api/v1/webhooks/endpoints/",
                    {"url": "http://127.0.0.1:9/", "events": ["booking.confirmed"]})
    assert response.status_code == 403


def test_a_bad_event_is_named_in_one_flat_message(essex):
    key = key_for(essex)
    response = call("post", ESSEX, key, "/api/v1/webhooks/endpoints/",
                    {"url": "https://example.org/", "events": [{}]})
    assert response.status_code == 400
    (message,) = response.json()["errors"]["events"]
    assert "booking.confirmed" in message
