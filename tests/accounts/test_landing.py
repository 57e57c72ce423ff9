"""Where each kind of staff lands after signing in without a `next`: the page their own work
starts on, never one that answers 403 — and a `next` they asked for still wins."""

from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.models import Membership
from accounts.roles import Role

from ..conftest import PASSWORD, make_user

ESSEX = "essex.localhost"
CONTROL_PLANE = "localhost"


def sign_in(client, user, *, host, next_url=None):
    data = {"email": user.email, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post("/accounts/sign-in/", data, HTTP_HOST=host)
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


@pytest.mark.parametrize(("role", "home"), [
    (Role.CONTACT_CENTRE_AGENT, "/contact-centre/"),
    (Role.CLIENT_ADMIN, "/manage/"),
    (Role.BOOKING_OFFICER, "/manage/"),
    (Role.TRAINER, "/manage/"),
    (Role.AUDITOR, "/manage/"),
])
def test_client_staff_land_where_their_work_starts(essex, client, role, home):
    user = make_user(f"{role}@essex.test", organisation=essex, role=role)
    landing = sign_in(client, user, host=ESSEX)
    assert landing == home
    assert client.get(landing, HTTP_HOST=ESSEX).status_code == 200


def test_an_agent_who_also_administers_lands_on_the_dashboard(essex, client):
    user = make_user("both@essex.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT)
    Membership.objects.create(user=user, organisation=essex, role=Role.CLIENT_ADMIN)
    assert sign_in(client, user, host=ESSEX) == "/manage/"


def test_an_agent_who_asked_for_a_page_gets_it(essex, client):
    user = make_user("agent@essex.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT)
    assert sign_in(client, user, host=ESSEX, next_url="/contact-centre/clients/") \
        == "/contact-centre/clients/"


def test_the_sign_in_page_does_not_choose_a_home_before_it_knows_who(essex, client):
    page = client.get("/accounts/sign-in/", HTTP_HOST=ESSEX).content.decode()
    assert 'name="next" value=""' in page


def test_a_user_group_member_on_the_control_plane_lands_on_the_user_group(essex, client):
    member = make_user("voter@essex.test", organisation=essex, role=Role.USERGROUP_MEMBER)
    landing = sign_in(client, member, host=CONTROL_PLANE)
    assert landing == "/user-group/"
    assert client.get(landing, HTTP_HOST=CONTROL_PLANE).status_code == 200


def test_provider_staff_land_on_the_console_after_the_second_factor(db, client, provider_admin):
    landing = urlsplit(sign_in(client, provider_admin, host=CONTROL_PLANE))
    assert landing.path == "/accounts/sign-in/two-factor/"
    assert parse_qs(landing.query)["next"] == ["/"]
