"""The release, ranking, preferences and unsubscribe pages: who may do what (403 for client
staff on provider actions), the forms, the signed link."""

from datetime import date

import pytest

from outbox.models import OutboundMessage
from usergroup import notifications, releases, services
from usergroup.models import Release, Subscription, Vote

from ..conftest import sign_in_verified

PLATFORM = "localhost"


def _raise(user, area, title="Let people book two courses at once"):
    return services.raise_request(title=title, description="", area=area, acting_user=user)


@pytest.fixture
def draft(essex_member, wales_member, provider_admin, area):
    item = _raise(essex_member, area)
    services.vote(item, acting_user=wales_member)
    return releases.create_release(version="7.1", released_on=date(2026, 12, 1),
                                   notes="Notes <script>alert(1)</script>",
                                   request_numbers=[item.pk], acting_user=provider_admin)


def test_client_staff_cannot_draft_publish_or_vote_on_behalf(
        client, draft, essex_admin, essex_member, wales_member):
    item = draft.requests.get()
    for user in (essex_admin, essex_member):
        client.force_login(user)
        assert client.get("/user-group/releases/new/", HTTP_HOST=PLATFORM).status_code == 403
        assert client.post(f"/user-group/releases/{draft.pk}/publish/",
                           HTTP_HOST=PLATFORM).status_code == 403
        assert client.post(f"/user-group/requests/{item.pk}/vote-on-behalf/",
                           {"member": "member@south-wales.test"},
                           HTTP_HOST=PLATFORM).status_code == 403
        assert client.get("/user-group/ranking/", HTTP_HOST=PLATFORM).status_code == 403
        # A draft is the provider's alone.
        assert client.get(f"/user-group/releases/{draft.pk}/",
                          HTTP_HOST=PLATFORM).status_code == 404
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert not OutboundMessage.objects.filter(kind__in=["usergroup.release",
                                                        "usergroup.vote_on_behalf"]).exists(), \
        list(OutboundMessage.objects.values_list("kind", flat=True))
    assert Vote.objects.filter(recorded_by__isnull=False).count() == 0


def test_staff_draft_and_publish_and_members_read_the_changelog(
        client, essex_member, wales_member, provider_admin, area):
    item = _raise(essex_member, area)
    services.vote(item, acting_user=wales_member)
    sign_in_verified(client, provider_admin)
    bad = client.post("/user-group/releases/new/", {"version": "", "released_on": "2026-13-01",
                                                     "request_numbers": "12, x"},
                      HTTP_HOST=PLATFORM)
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "Enter the version" in page and "The release date must be a real date" in page
    assert "Enter request numbers separated by commas" in page
    assert not Release.objects.exists()

    done = client.post("/user-group/releases/new/", {
        "version": "8.0", "released_on": "2026-12-01", "notes": "**Quicker** booking",
        "request_numbers": str(item.pk)}, HTTP_HOST=PLATFORM)
    release = Release.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/user-group/releases/{release.pk}/"
    publish = client.post(f"/user-group/releases/{release.pk}/publish/", HTTP_HOST=PLATFORM)
    assert publish.status_code == 302
    assert OutboundMessage.objects.filter(kind="usergroup.release").count() == 2
    client.post(f"/user-group/releases/{release.pk}/publish/", HTTP_HOST=PLATFORM)
    assert OutboundMessage.objects.filter(kind="usergroup.release").count() == 2
    # Published: no more edits.
    edit = client.get(f"/user-group/releases/{release.pk}/edit/", HTTP_HOST=PLATFORM)
    assert edit.status_code == 302

    client.force_login(essex_member)
    changelog = client.get("/user-group/releases/", HTTP_HOST=PLATFORM).content.decode()
    assert "Version 8.0" in changelog and "<strong>Quicker</strong>" in changelog
    detail = client.get(f"/user-group/requests/{item.pk}/", HTTP_HOST=PLATFORM).content.decode()
    assert "Delivered in" in detail and f"/user-group/releases/{release.pk}/" in detail
    roadmap = client.get("/user-group/roadmap/", HTTP_HOST=PLATFORM).content.decode()
    assert 'href="/user-group/releases/"' in roadmap


def test_staff_vote_on_behalf_through_the_page(client, essex_member, wales_member,
                                               provider_admin, area):
    item = _raise(essex_member, area)
    sign_in_verified(client, provider_admin)
    unknown = client.post(f"/user-group/requests/{item.pk}/vote-on-behalf/",
                          {"member": "nobody@example.test"}, HTTP_HOST=PLATFORM)
    assert unknown.status_code == 400
    assert "There is no member with that e-mail address" in unknown.content.decode()
    done = client.post(f"/user-group/requests/{item.pk}/vote-on-behalf/",
                       {"member": "MEMBER@south-wales.test"}, HTTP_HOST=PLATFORM)
    assert done.status_code == 302
    assert Vote.objects.get(request=item, member=wales_member).recorded_by == provider_admin
    page = client.get(f"/user-group/requests/{item.pk}/", HTTP_HOST=PLATFORM).content.decode()
    assert "recorded by ops@waymark.test" in page
    ranking = client.get("/user-group/ranking/", HTTP_HOST=PLATFORM)
    assert ranking.status_code == 200 and "Impact (bookings)" in ranking.content.decode()


def test_the_unsubscribe_link_works_without_sign_in_and_refuses_a_tampered_one(
        client, essex_member, wales_member, area):
    item = _raise(essex_member, area)
    services.vote(item, acting_user=wales_member)
    token = notifications.unsubscribe_token(wales_member, item)
    tampered = client.get(f"/user-group/unsubscribe/{token}x/", HTTP_HOST=PLATFORM)
    assert tampered.status_code == 404  # no such link: the page says what to do
    assert "This link does not work" in tampered.content.decode()
    confirm = client.get(f"/user-group/unsubscribe/{token}/", HTTP_HOST=PLATFORM)
    assert confirm.status_code == 200 and "Stop e-mails about" in confirm.content.decode()
    assert Subscription.objects.get(request=item, user=wales_member).active  # GET changes nothing
    # A mail client's one-click POST (RFC 8058): no session, no CSRF token.
    done = client.post(f"/user-group/unsubscribe/{token}/",
                       {"List-Unsubscribe": "One-Click"}, HTTP_HOST=PLATFORM)
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    assert not Subscription.objects.get(request=item, user=wales_member).active


def test_preferences_page(client, wales_member):
    client.force_login(wales_member)
    assert client.get("/user-group/preferences/", HTTP_HOST=PLATFORM).status_code == 200
    bad = client.post("/user-group/preferences/", {"delivery": "weekly"}, HTTP_HOST=PLATFORM)
    assert bad.status_code == 400
    client.post("/user-group/preferences/", {"delivery": "digest"}, HTTP_HOST=PLATFORM)
    assert notifications.delivery_of(wales_member) == "digest"


def test_search_box_on_the_list(client, essex_member, area):
    _raise(essex_member, area, "Show parking at venues")
    _raise(essex_member, area, "Welsh reminders")
    client.force_login(essex_member)
    page = client.get("/user-group/?q=parking&sort=votes", HTTP_HOST=PLATFORM).content.decode()
    assert "Show parking at venues" in page and "Welsh reminders" not in page


def test_replies_and_edits_through_the_page(client, essex_member, wales_member, area):
    item = _raise(essex_member, area)
    comment = services.add_comment(item, body="First thoughts", acting_user=essex_member)
    client.force_login(wales_member)
    client.post(f"/user-group/requests/{item.pk}/comment/",
                {"body": "A reply", "parent": comment.pk}, HTTP_HOST=PLATFORM)
    assert comment.replies.get().body == "A reply"
    assert client.post(f"/user-group/comments/{comment.pk}/edit/", {"body": "Mine now"},
                       HTTP_HOST=PLATFORM).status_code == 403
    client.force_login(essex_member)
    client.post(f"/user-group/comments/{comment.pk}/edit/", {"body": "Second thoughts"},
                HTTP_HOST=PLATFORM)
    page = client.get(f"/user-group/requests/{item.pk}/", HTTP_HOST=PLATFORM).content.decode()
    assert "Second thoughts" in page and "Earlier versions" in page and "First thoughts" in page
    assert "A reply" in page
