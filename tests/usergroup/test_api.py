"""The user group on the platform API: members raise, vote and comment; provider staff change
statuses and publish releases; the same refusals as the pages; and signed webhooks for a new
request, a status change and a release, delivered to a real receiver on 127.0.0.1."""

import json
from datetime import date

import pytest
from django.db import connection

from audit.models import AuditEntry
from outbox import webhooks as outbox_webhooks
from outbox.models import OutboundMessage, WebhookDelivery
from tenants.models import ClientOrganisation
from usergroup import releases, services, webhooks
from usergroup.models import ChangeRequest, Comment, Vote

from ..test_onboarding import api_client_for
from ..webhook_receiver import Receiver

BASE = "/api/platform/v1/user-group"


def call(user, method, path, body=None, **params):
    api = api_client_for(user)
    if method == "get":
        return api.get(f"{BASE}{path}", params, HTTP_HOST="localhost")
    return getattr(api, method)(f"{BASE}{path}", body, format="json", HTTP_HOST="localhost")


def _raise(user, area, title="Let people book two courses at once"):
    return services.raise_request(title=title, description="", area=area, acting_user=user)


def test_a_member_raises_votes_and_reads_the_tally(essex, essex_member, wales_member, area):
    raised = call(essex_member, "post", "/requests/", {
        "title": "Show the **venue** map", "description": "<script>alert(1)</script>**Map**",
        "area": "booking site"})
    assert raised.status_code == 201, raised.content
    body = raised.json()
    assert body["organisation"] == "essex" and body["area"] == "Booking site"
    assert body["votes"] == 1 and body["tally"] == "1 vote from 1 organisation"
    assert "<script" not in body["description_html"]
    assert "<strong>Map</strong>" in body["description_html"]
    pk = body["id"]
    assert call(wales_member, "post", f"/requests/{pk}/vote/").status_code == 201
    again = call(wales_member, "post", f"/requests/{pk}/vote/")
    assert again.status_code == 200 and again.json()["votes"] == 2
    assert again.json()["organisations"] == 2
    assert Vote.objects.filter(request_id=pk).count() == 2
    listed = call(essex_member, "get", "/requests/", sort="organisations").json()
    assert [row["id"] for row in listed["results"]] == [pk]
    removed = call(wales_member, "delete", f"/requests/{pk}/vote/")
    assert removed.status_code == 200 and removed.json()["votes"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "", "area": "Booking site"}, "title"),
    ({"title": "x" * 300, "area": "Booking site"}, "title"),
    ({"title": 12, "area": "Booking site"}, "title"),
    ({"title": "A fine title", "area": "Nowhere"}, "area"),
    ({"title": "A fine title"}, "area"),
])
def test_bad_requests_are_refused_by_field_and_nothing_is_written(essex_member, area, body,
                                                                     field):
    response = call(essex_member, "post", "/requests/", body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ChangeRequest.objects.exists()


def test_closed_requests_take_no_votes_over_the_api(essex_member, wales_member, provider_admin,
                                                    area):
    request = _raise(essex_member, area)
    services.change_status(request, to_status="declined", response="Out of scope.",
                           acting_user=provider_admin)
    response = call(wales_member, "post", f"/requests/{request.pk}/vote/")
    assert response.status_code == 400
    assert "takes no new votes" in response.json()["errors"]["__all__"][0]
    assert Vote.objects.filter(request=request).count() == 1


def test_client_admins_and_members_cannot_take_provider_actions(essex_admin, essex_member,
                                                                provider_admin, area):
    request = _raise(essex_member, area)
    release = releases.create_release(version="5.0", released_on=date(2026, 12, 1),
                                      request_numbers=[request.pk], acting_user=provider_admin)
    for user in (essex_admin, essex_member):
        assert call(user, "post", f"/requests/{request.pk}/status/",
                    {"status": "planned", "response": "Yes"}).status_code == 403
        assert call(user, "post", f"/releases/{release.pk}/publish/").status_code == 403
        assert call(user, "get", "/webhooks/").status_code == 403
        assert call(user, "post", f"/requests/{request.pk}/comments/",
                    {"body": "Official?", "official": True}).status_code == 403
    # Drafts are the provider's: a member does not see one at all.
    assert call(essex_member, "get", f"/releases/{release.pk}/").status_code == 404
    request.refresh_from_db()
    assert request.status == "open"
    assert not Comment.objects.exists()


def test_a_member_of_a_suspended_client_is_refused(essex, essex_member, area):
    request = _raise(essex_member, area)
    ClientOrganisation.objects.filter(pk=essex.pk).update(
        status=ClientOrganisation.Status.SUSPENDED)
    assert call(essex_member, "get", "/requests/").status_code == 403
    assert call(essex_member, "post", f"/requests/{request.pk}/vote/").status_code == 403


def test_staff_without_a_user_group_role_and_strangers_are_refused(client, essex, area):
    from accounts.roles import Role

    from ..conftest import make_user

    trainer = make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER)
    assert call(trainer, "get", "/requests/").status_code == 403
    assert client.get(f"{BASE}/requests/", HTTP_HOST="localhost").status_code in (401, 403)


def test_provider_staff_change_status_comment_officially_and_publish(
        essex_member, wales_member, provider_admin, area):
    request = _raise(essex_member, area)
    services.vote(request, acting_user=wales_member)
    changed = call(provider_admin, "post", f"/requests/{request.pk}/status/",
                   {"status": "planned", "response": "In the spring release."})
    assert changed.status_code == 201, changed.content
    assert changed.json()["to_status"] == "planned"
    bad = call(provider_admin, "post", f"/requests/{request.pk}/status/",
               {"status": "planned", "response": "Again"})
    assert bad.status_code == 400 and "to_status" in bad.json()["errors"]
    official = call(provider_admin, "post", f"/requests/{request.pk}/comments/",
                    {"body": "We start in March.", "official": True})
    assert official.status_code == 201 and official.json()["official"] is True
    reply = call(wales_member, "post", f"/requests/{request.pk}/comments/",
                 {"body": "Thanks @member@essex.test", "parent": official.json()["id"]})
    assert reply.status_code == 201 and reply.json()["parent"] == official.json()["id"]
    comments = call(essex_member, "get", f"/requests/{request.pk}/comments/").json()
    assert [c["body"] for c in comments["results"]] == ["We start in March.",
                                                         "Thanks @member@essex.test"]
    release = releases.create_release(version="5.1", released_on=date(2026, 12, 1),
                                      request_numbers=[request.pk], acting_user=provider_admin)
    before = OutboundMessage.objects.filter(kind="usergroup.release").count()
    published = call(provider_admin, "post", f"/releases/{release.pk}/publish/")
    assert published.status_code == 200, published.content
    assert published.json()["messages_queued"] == 2  # the raiser and the other voter, once each
    assert published.json()["release"]["status"] == "published"
    assert OutboundMessage.objects.filter(kind="usergroup.release").count() == before + 2
    again = call(provider_admin, "post", f"/releases/{release.pk}/publish/")
    assert again.status_code == 200 and again.json()["messages_queued"] is None
    assert OutboundMessage.objects.filter(kind="usergroup.release").count() == before + 2
    listed = call(essex_member, "get", "/releases/").json()
    assert [r["version"] for r in listed["results"]] == ["5.1"]
    assert listed["results"][0]["change_requests"] == [request.pk]
    detail = call(essex_member, "get", f"/requests/{request.pk}/").json()
    assert detail["status"] == "released"
    assert [c["to_status"] for c in detail["status_changes"]] == ["planned", "released"]


def test_unknown_ids_are_404(essex_member):
    for path in ("/requests/999999/", "/requests/999999/comments/", "/releases/999999/"):
        assert call(essex_member, "get", path).status_code == 404
    assert call(essex_member, "post", "/requests/999999/vote/").status_code == 404


def test_the_openapi_document_lists_the_user_group(client, db):
    document = client.get("/api/platform/v1/schema/", {"format": "json"},
                          HTTP_HOST="localhost").json()
    assert {"/api/platform/v1/user-group/requests/",
            "/api/platform/v1/user-group/requests/{id}/vote/",
            "/api/platform/v1/user-group/requests/{id}/comments/",
            "/api/platform/v1/user-group/releases/{id}/publish/",
            "/api/platform/v1/user-group/webhooks/"} <= set(document["paths"])


# --- webhooks --------------------------------------------------------------------------------

def test_endpoints_are_kept_by_provider_staff_with_the_secret_shown_once(provider_admin):
    made = call(provider_admin, "post", "/webhooks/", {
        "url": "http://127.0.0.1:9/hooks", "events": ["release.published"]})
    assert made.status_code == 201, made.content
    assert made.json()["secret"].startswith("whsec_")
    listed = call(provider_admin, "get", "/webhooks/").json()
    assert [e["url"] for e in listed] == ["http://127.0.0.1:9/hooks"]
    assert "secret" not in listed[0]
    bad = call(provider_admin, "post", "/webhooks/", {"url": "ftp://x", "events": []})
    assert bad.status_code == 400
    unknown = call(provider_admin, "post", "/webhooks/", {"url": "http://127.0.0.1:9/",
                                                         "events": ["booking.confirmed"]})
    assert unknown.status_code == 400
    pk = made.json()["endpoint"]["id"]
    assert call(provider_admin, "delete", f"/webhooks/{pk}/").status_code == 204
    assert not webhooks.endpoints().exists()
    assert AuditEntry.objects.filter(action__startswith="usergroup.webhook_endpoint").count() == 2


def test_request_status_and_release_events_reach_the_endpoint_signed(
        essex_member, wales_member, provider_admin, area, django_capture_on_commit_callbacks):
    connection.set_schema_to_public()
    with Receiver() as receiver:
        with django_capture_on_commit_callbacks(execute=True):
            made = call(provider_admin, "post", "/webhooks/", {
                "url": receiver.url, "events": list(webhooks.EVENT_TYPES)})
        secret = made.json()["secret"]
        with django_capture_on_commit_callbacks(execute=True):
            request = _raise(essex_member, area, title="Export the register as a spreadsheet")
        with django_capture_on_commit_callbacks(execute=True):
            services.change_status(request, to_status="in_progress", response="Started.",
                                   acting_user=provider_admin)
        release = releases.create_release(version="6.0", released_on=date(2026, 12, 2),
                                          request_numbers=[request.pk],
                                          acting_user=provider_admin)
        with django_capture_on_commit_callbacks(execute=True):
            releases.publish_release(release, acting_user=provider_admin)
    events = []
    for sent in receiver.requests:
        assert outbox_webhooks.verify_signature(secret, sent["headers"]["Waymark-Signature"],
                                                sent["body"])
        events.append(json.loads(sent["body"]))
    assert [e["type"] for e in events] == [
        "change_request.created", "change_request.status_changed",
        "change_request.status_changed", "release.published"]
    assert events[0]["data"]["change_request"]["title"] == "Export the register as a spreadsheet"
    assert events[0]["data"]["change_request"]["organisation"] == "essex"
    assert (events[1]["data"]["from_status"], events[1]["data"]["to_status"]) == (
        "open", "in_progress")
    assert (events[2]["data"]["from_status"], events[2]["data"]["to_status"]) == (
        "in_progress", "released")
    assert events[3]["data"]["release"]["version"] == "6.0"
    assert events[3]["data"]["release"]["change_requests"] == [request.pk]
    # Requests and organisations only: no person's e-mail address in the delivery log.
    assert all("member@essex.test" not in sent["body"].decode() for sent in receiver.requests)
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 4


def test_nothing_is_queued_without_an_endpoint_that_wants_it(essex_member, provider_admin,
                                                             area):
    webhooks.create_webhook_endpoint("http://127.0.0.1:9/hooks", ["release.published"],
                                     acting_user=provider_admin)
    _raise(essex_member, area)
    assert not WebhookDelivery.objects.exists()


def test_a_client_admin_cannot_add_an_endpoint(essex_admin):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        webhooks.create_webhook_endpoint("http://127.0.0.1:9/hooks", ["release.published"],
                                         acting_user=essex_admin)


def test_the_webhooks_page_for_provider_staff_only(client, provider_admin, essex_admin):
    from ..conftest import sign_in_verified

    client.force_login(essex_admin)
    assert client.get("/user-group/webhooks/", HTTP_HOST="localhost").status_code == 403
    sign_in_verified(client, provider_admin)
    page = client.get("/user-group/webhooks/", HTTP_HOST="localhost")
    assert page.status_code == 200
    assert "A release was published" in page.content.decode()
    refused = client.post("/user-group/webhooks/", {"url": "https://10.0.0.1/x",
                                                    "events": ["release.published"]},
                          HTTP_HOST="localhost")
    assert refused.status_code == 200
    assert "private network" in refused.content.decode()
    made = client.post("/user-group/webhooks/", {"url": "http://127.0.0.1:9/hooks",
                                                 "events": ["release.published"]},
                       HTTP_HOST="localhost")
    assert made.status_code == 200 and "whsec_" in made.content.decode()
    endpoint = webhooks.endpoints().get()
    tested = client.post(f"/user-group/webhooks/{endpoint.pk}/test/", HTTP_HOST="localhost")
    assert tested.status_code == 302
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event_type="webhook.test").exists()
    assert "whsec_" not in client.get(f"/user-group/webhooks/{endpoint.pk}/",
                                      HTTP_HOST="localhost").content.decode()
    client.post(f"/user-group/webhooks/{endpoint.pk}/delete/", HTTP_HOST="localhost")
    assert not webhooks.endpoints().exists()
