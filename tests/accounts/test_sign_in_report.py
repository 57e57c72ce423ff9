"""The sign-in report: each attempt (succeeded, failed for a wrong password, an unknown address
or a client the person does not work for, locked out), each two-factor set-up and reset, on the
site it happened on, for that client's administrators and for the provider; never a password."""

import logging

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts.models import SignInEvent
from accounts.roles import Role
from audit.models import AuditEntry

from ..conftest import PASSWORD, make_user, sign_in_verified

ESSEX = "essex.localhost"
SOUTH_WALES = "south-wales.localhost"
SECRET_GUESS = "hunter2-not-the-password"


def attempt(client, email, password=SECRET_GUESS, *, host=ESSEX, ip="203.0.113.7"):
    return client.post("/accounts/sign-in/", {"email": email, "password": password},
                       HTTP_HOST=host, REMOTE_ADDR=ip)


def outcomes(**filters):
    return list(SignInEvent.objects.filter(**filters).order_by("id")
                .values_list("email", "outcome", "reason"))


def test_each_attempt_is_recorded_on_the_site_it_happened_on(essex, south_wales, essex_admin,
                                                             client, caplog):
    caplog.set_level(logging.DEBUG)
    attempt(client, essex_admin.email)  # wrong password
    attempt(client, "Nobody@Essex.test ")  # an address nobody has
    attempt(client, essex_admin.email, PASSWORD, host=SOUTH_WALES)  # works elsewhere only
    assert attempt(client, essex_admin.email, PASSWORD).status_code == 302
    assert outcomes(organisation=essex) == [
        ("boss@essex.test", "failed", "wrong_password"),
        ("nobody@essex.test", "failed", "unknown_account"),
        ("boss@essex.test", "succeeded", ""),
    ]
    assert outcomes(organisation=south_wales) == [
        ("boss@essex.test", "failed", "no_access_here")]
    assert SignInEvent.objects.get(reason="wrong_password").user == essex_admin
    assert SignInEvent.objects.get(reason="unknown_account").user is None
    assert SignInEvent.objects.filter(ip_address="203.0.113.7").count() == 4
    # No password, right or wrong, in any row or any log line.
    for row in SignInEvent.objects.values():
        assert SECRET_GUESS not in str(row) and PASSWORD not in str(row)
    assert SECRET_GUESS not in caplog.text and PASSWORD not in caplog.text


def test_a_lock_out_and_the_refusals_after_it(essex, essex_admin, client):
    for _ in range(6):
        attempt(client, essex_admin.email)
    assert [outcome for _email, outcome, _reason in outcomes(organisation=essex)] == [
        "failed", "failed", "failed", "failed", "locked_out", "locked_out"]


def test_two_factor_set_up_and_a_wrong_code(essex, client):
    person = make_user("agent@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    attempt(client, person.email, PASSWORD)
    page = client.get("/accounts/sign-in/two-factor/", HTTP_HOST=ESSEX)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=person, confirmed=False)
    code = f"{totp(device.bin_key):06d}"
    assert client.post("/accounts/sign-in/two-factor/", {"token": code},
                       HTTP_HOST=ESSEX).status_code == 302
    assert outcomes(organisation=essex) == [
        ("agent@essex.test", "succeeded", ""),
        ("agent@essex.test", "two_factor_set_up", ""),
    ]
    # With a confirmed app, a wrong code at the next sign-in is a failed sign-in.
    client.post("/accounts/sign-out/", HTTP_HOST=ESSEX)
    attempt(client, person.email, PASSWORD)
    client.post("/accounts/sign-in/two-factor/", {"token": f"{(int(code) + 1) % 1000000:06d}"},
                HTTP_HOST=ESSEX)
    assert outcomes(organisation=essex)[-1] == ("agent@essex.test", "failed", "wrong_code")


def test_an_administrator_resets_a_lost_phone(essex, essex_admin, client):
    person = make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER,
                       verified_device=True)
    TOTPDevice.objects.create(user=essex_admin, name="admin", confirmed=True)
    sign_in_verified(client, essex_admin)
    page = client.get(f"/manage/staff/people/{person.pk}/two-factor/", HTTP_HOST=ESSEX)
    assert page.status_code == 200
    done = client.post(f"/manage/staff/people/{person.pk}/two-factor/", HTTP_HOST=ESSEX)
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=person).exists()
    event = SignInEvent.objects.get(outcome="two_factor_reset")
    assert (event.user, event.by, event.organisation) == (person, essex_admin, essex)
    with schema_context(essex.schema_name):
        assert AuditEntry.objects.filter(action="user.two_factor_reset").count() == 1


def test_someone_who_works_elsewhere_too_is_left_to_the_provider(essex, south_wales,
                                                                essex_admin, client):
    agent = make_user("agent@both.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT,
                      verified_device=True)
    from accounts.models import Membership

    Membership.objects.create(user=agent, organisation=south_wales,
                              role=Role.CONTACT_CENTRE_AGENT)
    TOTPDevice.objects.create(user=essex_admin, name="admin", confirmed=True)
    sign_in_verified(client, essex_admin)
    refused = client.post(f"/manage/staff/people/{agent.pk}/two-factor/", HTTP_HOST=ESSEX)
    assert refused.status_code == 200
    assert "also works elsewhere" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=agent).exists()


def test_the_report_shows_this_client_only_and_filters(essex, south_wales, essex_admin, client):
    attempt(client, "stranger@essex.test")
    attempt(client, "stranger@wales.test", host=SOUTH_WALES)
    attempt(client, essex_admin.email, PASSWORD)
    TOTPDevice.objects.create(user=essex_admin, name="admin", confirmed=True)
    sign_in_verified(client, essex_admin)
    page = client.get("/manage/sign-ins/", HTTP_HOST=ESSEX).content.decode()
    assert "stranger@essex.test" in page and "stranger@wales.test" not in page
    failed = client.get("/manage/sign-ins/", {"outcome": "failed"}, HTTP_HOST=ESSEX)
    assert "stranger@essex.test" in failed.content.decode()
    assert "1 sign-in event" in failed.content.decode()
    future = client.get("/manage/sign-ins/", {"date_from": "2099-01-01"}, HTTP_HOST=ESSEX)
    assert "No sign-in events." in future.content.decode()
    backwards = client.get("/manage/sign-ins/", {"date_from": "2026-02-01",
                                                 "date_to": "2026-01-01"}, HTTP_HOST=ESSEX)
    assert "The end date must be on or after the start date" in backwards.content.decode()


@pytest.mark.parametrize("role", [Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT])
def test_only_administrators_and_auditors_see_it(essex, client, role):
    person = make_user("someone@essex.test", organisation=essex, role=role,
                       verified_device=True)
    sign_in_verified(client, person)
    assert client.get("/manage/sign-ins/", HTTP_HOST=ESSEX).status_code == 403


def test_the_provider_sees_every_site(essex, south_wales, provider_admin, client):
    attempt(client, "stranger@essex.test")
    attempt(client, "stranger@wales.test", host=SOUTH_WALES)
    attempt(client, "someone@waymark.test", host="localhost")
    sign_in_verified(client, provider_admin)
    page = client.get("/sign-ins/", HTTP_HOST="localhost").content.decode()
    for email in ("stranger@essex.test", "stranger@wales.test", "someone@waymark.test"):
        assert email in page
    assert "Essex County Council" in page and "Control plane" in page
