"""One permission mechanism: memberships of the client whose domain answered, with a role."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import Role

from .conftest import PASSWORD, make_user, sign_in_verified


def test_client_admin_reaches_own_client_only(essex, south_wales, essex_admin, client):
    client.force_login(essex_admin)
    assert client.get("/manage/", HTTP_HOST="essex.localhost").status_code == 200
    assert client.get("/manage/", HTTP_HOST="south-wales.localhost").status_code == 403


def test_client_api_refuses_other_clients(essex, south_wales, essex_admin):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=essex_admin).key}")
    own = api.get("/api/v1/organisation/", HTTP_HOST="essex.localhost")
    assert own.status_code == 200 and own.json()["slug"] == "essex"
    other = api.get("/api/v1/organisation/", HTTP_HOST="south-wales.localhost")
    assert other.status_code == 403
    assert "south-wales" not in other.content.decode()


def test_client_roles_give_nothing_on_the_control_plane(essex, essex_admin, client):
    client.force_login(essex_admin)
    assert client.get("/", HTTP_HOST="localhost").status_code == 403
    assert client.get("/audit/", HTTP_HOST="localhost").status_code == 403


def test_anonymous_staff_pages_redirect_to_sign_in(essex, client):
    response = client.get("/manage/", HTTP_HOST="essex.localhost")
    assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]


def test_deactivated_membership_gives_nothing(essex, essex_admin, client):
    essex_admin.memberships.update(is_active=False)
    client.force_login(essex_admin)
    assert client.get("/manage/", HTTP_HOST="essex.localhost").status_code == 403


def test_provider_support_reads_but_cannot_onboard(db, provider_support, client):
    sign_in_verified(client, provider_support)
    assert client.get("/", HTTP_HOST="localhost").status_code == 200
    assert client.get("/audit/", HTTP_HOST="localhost").status_code == 200
    assert client.get("/clients/new/", HTTP_HOST="localhost").status_code == 403


def test_provider_staff_must_pass_the_second_factor(db, provider_admin, client):
    client.force_login(provider_admin)
    response = client.get("/", HTTP_HOST="localhost")
    assert response.status_code == 302 and "/accounts/sign-in/two-factor/" in response["Location"]


def test_sign_in_locks_after_five_failures(essex, essex_admin, client):
    for _ in range(4):
        response = client.post("/accounts/sign-in/", {"email": essex_admin.email,
                                                      "password": "wrong"},
                               HTTP_HOST="essex.localhost")
        assert response.status_code == 200 and b"locked" not in response.content
    fifth = client.post("/accounts/sign-in/", {"email": essex_admin.email, "password": "wrong"},
                        HTTP_HOST="essex.localhost")
    assert b"locked" in fifth.content
    # Even the right password is refused while locked, with a message that says so.
    response = client.post("/accounts/sign-in/", {"email": essex_admin.email, "password": PASSWORD},
                           HTTP_HOST="essex.localhost")
    assert b"locked" in response.content
    assert "_auth_user_id" not in client.session


def test_sign_in_works_and_resets_failures(essex, essex_admin, client):
    from axes.models import AccessAttempt

    for _ in range(4):
        client.post("/accounts/sign-in/", {"email": essex_admin.email, "password": "wrong"},
                    HTTP_HOST="essex.localhost")
    response = client.post("/accounts/sign-in/", {"email": essex_admin.email.upper(),
                                                  "password": PASSWORD, "next": "/manage/"},
                           HTTP_HOST="essex.localhost")
    assert response.status_code == 302 and response["Location"] == "/manage/"
    assert not AccessAttempt.objects.filter(username=essex_admin.email).exists()
    # The count started again: four more wrong passwords do not lock.
    client.post("/accounts/sign-out/", HTTP_HOST="essex.localhost")
    for _ in range(4):
        response = client.post("/accounts/sign-in/", {"email": essex_admin.email,
                                                      "password": "wrong"},
                               HTTP_HOST="essex.localhost")
    assert b"locked" not in response.content


def test_totp_set_up_and_sign_in(db, client):
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff = make_user("new-ops@waymark.test", role=Role.PROVIDER_ADMIN)
    response = client.post("/accounts/sign-in/", {"email": staff.email, "password": PASSWORD},
                           HTTP_HOST="localhost")
    assert "/two-factor/" in response["Location"]
    setup = client.get(response["Location"], HTTP_HOST="localhost")
    assert b"Set up two-factor authentication" in setup.content and b"<svg" in setup.content
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    accepted = set()
    for drift in (-1, 0, 1):  # the codes django-otp's tolerance accepts just now
        totp = TOTP(device.bin_key)
        totp.drift = drift
        accepted.add(f"{totp.token():06d}")
    wrong_code = next(f"{n:06d}" for n in range(4) if f"{n:06d}" not in accepted)
    wrong = client.post("/accounts/sign-in/two-factor/", {"token": wrong_code},
                        HTTP_HOST="localhost")
    assert b"wrong or has expired" in wrong.content
    # django-otp throttles after a wrong code; let the wait pass.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    code = TOTP(device.bin_key).token()
    done = client.post("/accounts/sign-in/two-factor/", {"token": f"{code:06d}", "next": "/"},
                       HTTP_HOST="localhost")
    assert done.status_code == 302
    assert client.get("/", HTTP_HOST="localhost").status_code == 200


@pytest.mark.parametrize("role", [Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT, Role.TRAINER,
                                  Role.AUDITOR])
def test_every_client_staff_role_reaches_the_staff_page(essex, client, role):
    user = make_user(f"{role}@essex.test", organisation=essex, role=role)
    client.force_login(user)
    assert client.get("/manage/", HTTP_HOST="essex.localhost").status_code == 200


def test_usergroup_member_alone_is_not_client_staff(essex, client):
    user = make_user("member@essex.test", organisation=essex, role=Role.USERGROUP_MEMBER)
    client.force_login(user)
    assert client.get("/manage/", HTTP_HOST="essex.localhost").status_code == 403


# --- the second factor on the API, and methods an endpoint does not have ----------------------

def _session_api(user, *, verified):
    api = APIClient()
    if verified:
        sign_in_verified(api, user)
    else:
        api.force_login(user)
    return api


def test_the_platform_api_needs_the_second_factor_of_a_session(db, provider_admin):
    from tenants.models import ClientOrganisation

    password_only = _session_api(provider_admin, verified=False)
    listed = password_only.get("/api/platform/v1/organisations/", HTTP_HOST="localhost")
    assert listed.status_code == 403
    [message] = listed.json()["errors"]["__all__"]
    assert "two-factor" in message and "/accounts/sign-in/two-factor/" in message
    onboard = password_only.post("/api/platform/v1/organisations/", {
        "name": "Kent Police", "slug": "kent", "kind": "police_force",
        "admin_email": "chief@kent.test"}, format="json", HTTP_HOST="localhost")
    assert onboard.status_code == 403
    assert not ClientOrganisation.objects.filter(slug="kent").exists()
    verified = _session_api(provider_admin, verified=True)
    assert verified.get("/api/platform/v1/organisations/", HTTP_HOST="localhost").status_code == 200


def test_the_client_api_needs_the_second_factor_of_whoever_set_it_up(essex):
    officer = make_user("careful@essex.test", organisation=essex, role=Role.CLIENT_ADMIN,
                        verified_device=True)
    refused = _session_api(officer, verified=False).get("/api/v1/organisation/",
                                                        HTTP_HOST="essex.localhost")
    assert refused.status_code == 403 and "two-factor" in refused.json()["errors"]["__all__"][0]
    allowed = _session_api(officer, verified=True).get("/api/v1/organisation/",
                                                       HTTP_HOST="essex.localhost")
    assert allowed.status_code == 200


def test_a_token_is_a_credential_of_its_own(db, provider_admin):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=provider_admin).key}")
    assert api.get("/api/platform/v1/organisations/", HTTP_HOST="localhost").status_code == 200


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("path, host, allowed", [
    ("/api/platform/v1/organisations/", "localhost", {"GET", "POST"}),
    ("/api/v1/offers/", "essex.localhost", {"POST"}),
    ("/api/v1/organisation/", "essex.localhost", {"GET"}),
])
def test_a_method_an_endpoint_does_not_have_is_405(essex, provider_admin, essex_admin, method,
                                                    path, host, allowed):
    user = provider_admin if host == "localhost" else essex_admin
    response = getattr(_session_api(user, verified=True), method)(path, {}, format="json",
                                                                  HTTP_HOST=host)
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response["Allow"].split(",")}
    assert method.upper() not in response["Allow"]
    assert response.json()["errors"]["__all__"]
