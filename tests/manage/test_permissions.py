"""Every /manage/ page, walked for every kind of visitor: anonymous → sign in; another
client's user → 403; a role without the page's action → 403; the auditor reads every page
(200) and changes nothing (any POST → 403)."""

import re

import pytest
from django.urls import reverse

from accounts.roles import CLIENT_ACTIONS, CLIENT_STAFF, Role
from booking.manage import urls as manage_urls

from .conftest import get, make_staff, post

PATTERNS = [pattern for pattern in manage_urls.urlpatterns]
NAMES = [pattern.name for pattern in PATTERNS]


def url_of(name, world) -> str:
    pattern = next(p for p in PATTERNS if p.name == name)
    keywords = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
    return reverse(f"manage:{name}", kwargs={k: world[k] for k in keywords},
                   urlconf="config.urls_client")


def view_of(name):
    return next(p for p in PATTERNS if p.name == name).callback


def test_every_page_declares_its_actions():
    for pattern in PATTERNS:
        action = getattr(pattern.callback, "required_action", None)
        assert action in CLIENT_ACTIONS, pattern.name
        change = getattr(pattern.callback, "change_action", "missing")
        assert change is None or change in CLIENT_ACTIONS, pattern.name
        # Whatever a page lets you change, the auditor may read it but never change it.
        assert Role.AUDITOR in CLIENT_ACTIONS[action], pattern.name
        assert change is None or Role.AUDITOR not in CLIENT_ACTIONS[change], pattern.name


@pytest.mark.parametrize("name", NAMES)
def test_anonymous_is_sent_to_sign_in(world, client, name):
    url = url_of(name, world)
    for response in (get(client, url), post(client, url)):
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/sign-in/"), name


@pytest.mark.parametrize("name", NAMES)
def test_another_clients_staff_get_nothing(world, south_wales, client, name):
    outsider = make_staff("boss@south-wales.test", south_wales, Role.CLIENT_ADMIN)
    client.force_login(outsider)
    url = url_of(name, world)
    assert get(client, url).status_code == 403, name
    assert post(client, url).status_code == 403, name


@pytest.mark.parametrize("name", NAMES)
def test_a_role_without_the_action_is_refused(world, staff, client, name):
    action = view_of(name).required_action
    refused = sorted(role for role in CLIENT_STAFF if role not in CLIENT_ACTIONS[action])
    role = refused[0] if refused else Role.USERGROUP_MEMBER
    client.force_login(staff[role])
    url = url_of(name, world)
    assert get(client, url).status_code == 403, (name, role)
    assert post(client, url).status_code == 403, (name, role)


@pytest.mark.parametrize("name", NAMES)
def test_the_auditor_reads_everything_and_changes_nothing(world, staff, client, name):
    client.force_login(staff[Role.AUDITOR])
    url = url_of(name, world)
    response = get(client, url)
    assert response.status_code == 200, name
    if response["Content-Type"] == "application/pdf":  # a letter or register to print
        assert response.content.startswith(b"%PDF")
    else:
        assert b"<h1" in response.content
    assert post(client, url, {"reason": "x", "session": world["other"].pk}).status_code == 403


@pytest.mark.parametrize("name", NAMES)
def test_the_administrator_reaches_every_page(world, staff, client, name):
    client.force_login(staff[Role.CLIENT_ADMIN])
    assert get(client, url_of(name, world)).status_code == 200, name


@pytest.mark.parametrize("name", [n for n in NAMES if view_of(n).change_action])
def test_reading_is_not_changing(world, staff, client, name):
    """Someone who may read a page but not make its change gets 403 for the change."""
    view = view_of(name)
    readers = [role for role in CLIENT_STAFF - {Role.AUDITOR}
               if role in CLIENT_ACTIONS[view.required_action]
               and role not in CLIENT_ACTIONS[view.change_action]]
    if not readers:
        pytest.skip("every reader of this page may also change it")
    client.force_login(staff[sorted(readers)[0]])
    url = url_of(name, world)
    assert get(client, url).status_code == 200, name
    assert post(client, url).status_code == 403, name


def test_a_read_only_page_refuses_other_methods(world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    assert post(client, url_of("dashboard", world)).status_code == 405


def test_the_trainer_sees_only_their_own_registers(world, staff, client):
    client.force_login(staff[Role.TRAINER])
    own = get(client, url_of("register", world))
    assert own.status_code == 200 and b"Sam Driver" in own.content
    other = reverse("manage:register", kwargs={"session_id": world["other"].pk},
                    urlconf="config.urls_client")
    assert get(client, other).status_code == 404
    listing = get(client, reverse("manage:registers", urlconf="config.urls_client"))
    assert listing.status_code == 200
    assert f"/manage/registers/{world['other'].pk}/".encode() not in listing.content
    assert f"/manage/registers/{world['upcoming'].pk}/".encode() in listing.content


JUNK_VALUES = ["", "\x00", "-1", "99999999999999999999999", "x" * 5000, "31/02/2026",
               "<script>alert(1)</script>"]
FIELDS = ["q", "session", "reason", "critical_date", "booking_period_end", "code", "name_en",
          "duration_minutes", "delivery_modes", "provider_fee", "police_cost_recovery",
          "late_transfer_fee", "free_transfer_notice_days", "name", "address", "town",
          "postcode", "capacity", "full_name", "email", "user_id", "course_types",
          "course_type", "delivery_mode", "venue", "start_date", "start_time", "weekday",
          "count", "language", "trainers", "joining_url", "primary_colour", "contact_phone",
          "mon_opens", "mon_closes", "kind", "notes", "assignee", "decision", "note", "role"]


@pytest.mark.parametrize("name", [n for n in NAMES if view_of(n).change_action])
@pytest.mark.parametrize("junk", JUNK_VALUES)
def test_bad_input_never_breaks_a_page(world, staff, client, name, junk):
    client.force_login(staff[Role.CLIENT_ADMIN])
    data = {field: junk for field in FIELDS}
    data[f"b{world['booking'].pk}-outcome"] = junk
    response = post(client, url_of(name, world), data)
    if junk == "\x00":  # no field can hold it: refused at the edge (config.request_hygiene)
        assert response.status_code == 400, (name, response.status_code)
        assert b"There is a problem with the information you sent" in response.content
        return
    assert response.status_code in (200, 302), (name, response.status_code)
    if response.status_code == 200:
        assert b"<script>alert(1)</script>" not in response.content
