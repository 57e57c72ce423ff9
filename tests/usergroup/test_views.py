"""The user-group pages on the control plane: who sees what, the forms, 403s."""

import pytest

from accounts.roles import Role
from tenants.models import ClientOrganisation
from usergroup import services
from usergroup.models import ChangeRequest, Vote

from ..conftest import make_user, sign_in_verified

PLATFORM = "localhost"


def _raise(user, area, title="Let people book two courses at once", description=""):
    return services.raise_request(title=title, description=description, area=area,
                                  acting_user=user)


def test_signed_out_is_sent_to_sign_in(client, db):
    response = client.get("/user-group/", HTTP_HOST=PLATFORM)
    assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]


def test_a_member_raises_with_similar_suggestions_and_votes(client, essex_member, wales_member,
                                                            area):
    _raise(wales_member, area, "Let people book two courses at once")
    client.force_login(essex_member)
    page = client.post("/user-group/new/", {"title": "book two courses", "check": "1"},
                       HTTP_HOST=PLATFORM)
    assert page.status_code == 200
    assert "Let people book two courses at once" in page.content.decode()
    assert 'value="book two courses"' in page.content.decode()

    too_long = client.post("/user-group/new/", {"title": "x" * 300, "area": area.pk},
                           HTTP_HOST=PLATFORM)
    assert too_long.status_code == 400
    assert "120 characters or fewer" in too_long.content.decode()

    done = client.post("/user-group/new/", {
        "title": "Show parking at venues", "area": area.pk,
        "description": "Please <script>alert(1)</script> **soon**"}, HTTP_HOST=PLATFORM)
    created = ChangeRequest.objects.get(title="Show parking at venues")
    assert done.status_code == 302 and done["Location"] == f"/user-group/requests/{created.pk}/"
    detail = client.get(done["Location"], HTTP_HOST=PLATFORM).content.decode()
    assert "<strong>soon</strong>" in detail and "<script>alert" not in detail
    assert "1 vote from 1 organisation" in detail

    other = ChangeRequest.objects.get(title__startswith="Let people")
    client.post(f"/user-group/requests/{other.pk}/vote/", HTTP_HOST=PLATFORM)
    client.post(f"/user-group/requests/{other.pk}/vote/", HTTP_HOST=PLATFORM)
    assert Vote.objects.filter(request=other).count() == 2
    page = client.get(f"/user-group/requests/{other.pk}/", HTTP_HOST=PLATFORM).content.decode()
    assert "2 votes from 2 organisations" in page
    client.post(f"/user-group/requests/{other.pk}/vote/", {"action": "remove"},
                HTTP_HOST=PLATFORM)
    assert Vote.objects.filter(request=other).count() == 1

    listing = client.get("/user-group/?sort=organisations&area=" + str(area.pk),
                         HTTP_HOST=PLATFORM)
    assert listing.status_code == 200 and "Show parking at venues" in listing.content.decode()
    assert client.get("/user-group/roadmap/", HTTP_HOST=PLATFORM).status_code == 200


def test_a_client_admin_gets_403_on_provider_actions(client, essex_admin, essex_member, area):
    request = _raise(essex_member, area)
    client.force_login(essex_admin)
    assert client.get("/user-group/", HTTP_HOST=PLATFORM).status_code == 200
    assert client.post(f"/user-group/requests/{request.pk}/status/",
                       {"to_status": "planned", "response": "Yes"},
                       HTTP_HOST=PLATFORM).status_code == 403
    other = _raise(essex_member, area, "Another one")
    assert client.post(f"/user-group/requests/{request.pk}/merge/", {"target": other.pk},
                       HTTP_HOST=PLATFORM).status_code == 403
    comment = services.add_comment(request, body="Hello", acting_user=essex_member)
    assert client.post(f"/user-group/comments/{comment.pk}/hide/", {"reason": "x"},
                       HTTP_HOST=PLATFORM).status_code == 403
    # An official response is provider staff's only.
    client.post(f"/user-group/requests/{request.pk}/comment/",
                {"body": "Official?", "official": "on"}, HTTP_HOST=PLATFORM)
    assert not request.comments.filter(official=True).exists()
    request.refresh_from_db()
    assert request.status == "open"


def test_staff_without_a_user_group_role_and_suspended_members_are_refused(
        client, essex, essex_member, area):
    officer = make_user("officer@essex.test", organisation=essex, role=Role.BOOKING_OFFICER)
    client.force_login(officer)
    assert client.get("/user-group/", HTTP_HOST=PLATFORM).status_code == 403
    ClientOrganisation.objects.filter(pk=essex.pk).update(
        status=ClientOrganisation.Status.SUSPENDED)
    client.force_login(essex_member)
    assert client.get("/user-group/", HTTP_HOST=PLATFORM).status_code == 403
    assert client.post("/user-group/new/", {"title": "Hi", "area": area.pk},
                       HTTP_HOST=PLATFORM).status_code == 403


def test_provider_staff_need_the_second_factor_then_moderate(client, provider_admin,
                                                             essex_member, area):
    request = _raise(essex_member, area)
    client.force_login(provider_admin)
    response = client.get("/user-group/", HTTP_HOST=PLATFORM)
    assert response.status_code == 302 and "two-factor" in response["Location"]
    sign_in_verified(client, provider_admin)
    page = client.get(f"/user-group/requests/{request.pk}/", HTTP_HOST=PLATFORM)
    assert "Change the status" in page.content.decode()
    bad = client.post(f"/user-group/requests/{request.pk}/status/",
                      {"to_status": "planned", "response": ""}, HTTP_HOST=PLATFORM)
    assert bad.status_code == 400
    done = client.post(f"/user-group/requests/{request.pk}/status/",
                       {"to_status": "planned", "response": "Coming in the spring."},
                       HTTP_HOST=PLATFORM)
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.status == "planned"
    roadmap = client.get("/user-group/roadmap/", HTTP_HOST=PLATFORM).content.decode()
    assert request.title in roadmap
    page = client.get(f"/user-group/requests/{request.pk}/", HTTP_HOST=PLATFORM).content.decode()
    assert "Coming in the spring." in page
    # Provider staff have no vote of their own.
    assert client.post(f"/user-group/requests/{request.pk}/vote/",
                       HTTP_HOST=PLATFORM).status_code == 403


def test_csrf_is_enforced(essex_member, area):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(essex_member)
    request = _raise(essex_member, area)
    assert strict.post(f"/user-group/requests/{request.pk}/vote/",
                       HTTP_HOST=PLATFORM).status_code == 403


@pytest.mark.parametrize("path", ["/user-group/requests/999999/"])
def test_unknown_request_is_404(client, essex_member, path):
    client.force_login(essex_member)
    assert client.get(path, HTTP_HOST=PLATFORM).status_code == 404


def test_similar_requests_while_typing_are_for_members_only(client, essex_member, wales_member,
                                                            area, db):
    _raise(wales_member, area, "Let people book two courses at once")
    assert client.get("/user-group/new/similar/?title=two+courses",
                      HTTP_HOST=PLATFORM).status_code == 302  # signed out: to sign in
    client.force_login(essex_member)
    found = client.get("/user-group/new/similar/?title=book+two+courses", HTTP_HOST=PLATFORM)
    assert found.status_code == 200
    assert "Let people book two courses at once" in found.content.decode()
    nothing = client.get("/user-group/new/similar/?title=" + "x" * 500, HTTP_HOST=PLATFORM)
    assert nothing.status_code == 200 and "No similar requests found." in nothing.content.decode()
    assert 'data-source="/user-group/new/similar/"' in client.get(
        "/user-group/new/", HTTP_HOST=PLATFORM).content.decode()
