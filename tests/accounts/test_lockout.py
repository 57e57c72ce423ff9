"""Sign-in lock-outs: by e-mail address and source address together, the same for every e-mail
address, recorded in the right trail, and no use against a member of staff from elsewhere."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django_tenants.utils import schema_context

from accounts.roles import Role
from audit.models import AuditEntry

from ..conftest import PASSWORD, make_user

ESSEX = "essex.localhost"
SOUTH_WALES = "south-wales.localhost"
WRONG = "Enter a correct email address and password."
LOCKED = "Your account is locked after too many failed attempts."


def attempt(client, email, password="wrong", *, host=ESSEX, ip="203.0.113.7", **extra):
    return client.post("/accounts/sign-in/", {"email": email, "password": password},
                       HTTP_HOST=host, REMOTE_ADDR=ip, **extra)


def answers(client, email, times, **kwargs) -> list[str]:
    """What the page said after each of `times` wrong passwords."""
    said = []
    for _ in range(times):
        page = attempt(client, email, **kwargs).content.decode()
        said.append(LOCKED if LOCKED in page else WRONG if WRONG in page else page)
    return said


def test_a_real_account_and_a_made_up_one_get_the_same_answers(essex, essex_admin, client):
    expected = [WRONG] * 4 + [LOCKED, LOCKED]
    assert answers(client, essex_admin.email, 6) == expected
    assert answers(client, "nobody-here@essex.test", 6) == expected


def test_a_stranger_elsewhere_cannot_lock_the_real_person_out(essex, essex_admin, client):
    assert answers(client, essex_admin.email, 5, ip="198.51.100.66")[-1] == LOCKED
    at_work = attempt(client, essex_admin.email, PASSWORD, ip="192.0.2.10")
    assert at_work.status_code == 302
    assert client.session["_auth_user_id"] == str(essex_admin.pk)


def test_the_source_is_the_address_our_load_balancer_saw(essex, essex_admin, client, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    balancer = {"ip": "10.0.0.1"}  # every caller arrives from the load balancer
    assert answers(client, essex_admin.email, 5, HTTP_X_FORWARDED_FOR="198.51.100.66",
                   **balancer)[-1] == LOCKED
    at_work = attempt(client, essex_admin.email, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.10",
                      **balancer)
    assert at_work.status_code == 302


def test_the_lock_lifts_after_15_minutes(essex, essex_admin, client):
    answers(client, essex_admin.email, 5)
    assert LOCKED in attempt(client, essex_admin.email, PASSWORD).content.decode()
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time
                                 - timedelta(minutes=15, seconds=1))
    assert attempt(client, essex_admin.email, PASSWORD).status_code == 302


def test_a_right_password_for_another_clients_staff_is_refused_and_counted(
        essex, south_wales, essex_admin, client):
    refused = attempt(client, essex_admin.email, PASSWORD, host=SOUTH_WALES)
    assert refused.status_code == 200 and WRONG in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Four wrong passwords and the refused right one make five.
    answers(client, essex_admin.email, 3, host=SOUTH_WALES)
    assert answers(client, essex_admin.email, 1, host=SOUTH_WALES) == [LOCKED]
    # The lock is on that address from that place, on every site; from elsewhere they sign in.
    assert LOCKED in attempt(client, essex_admin.email, PASSWORD).content.decode()
    assert attempt(client, essex_admin.email, PASSWORD, ip="192.0.2.10").status_code == 302


def test_an_inactive_membership_does_not_sign_in(essex, essex_admin, client):
    essex_admin.memberships.update(is_active=False)
    assert WRONG in attempt(client, essex_admin.email, PASSWORD).content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("host", [ESSEX, "localhost"])
def test_provider_staff_sign_in_on_any_site(db, essex, host, client):
    support = make_user("helpdesk@waymark.test", role=Role.PROVIDER_SUPPORT)
    response = attempt(client, support.email, PASSWORD, host=host)
    assert response.status_code == 302 and "/two-factor/" in response["Location"]


def lock_outs(schema):
    with schema_context(schema):
        return list(AuditEntry.objects.filter(action="user.locked_out"))


def test_a_lock_out_is_in_the_trail_of_the_site_and_of_the_account(essex, south_wales, client):
    officer = make_user("officer@essex.test", organisation=essex, role=Role.BOOKING_OFFICER)
    answers(client, officer.email, 5, host=SOUTH_WALES)
    [entry] = lock_outs("public")
    assert entry.organisation_id == south_wales.pk and entry.object_id == str(officer.pk)
    assert entry.ip_address == "203.0.113.7" and entry.after["email"] == officer.email
    # Neither client's own trail: not South Wales's (not their staff), not Essex's (not their site).
    assert lock_outs(south_wales.schema_name) == [] and lock_outs(essex.schema_name) == []

    answers(client, officer.email, 5, host=ESSEX, ip="198.51.100.8")
    assert [e.organisation_id for e in lock_outs("public")] == [essex.pk, south_wales.pk]
    [own] = lock_outs(essex.schema_name)
    assert own.object_id == str(officer.pk) and own.organisation_id == essex.pk


def test_a_lock_out_of_a_made_up_address_is_in_the_control_planes_trail(essex, client):
    answers(client, "guess@essex.test", 6)
    [entry] = lock_outs("public")  # once, when it locked
    assert entry.organisation_id == essex.pk and entry.object_id == ""
    assert entry.after["email"] == "guess@essex.test"
    assert lock_outs(essex.schema_name) == []


def test_lock_outs_live_in_the_public_schema_only(essex):
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT table_schema FROM information_schema.tables "
                       "WHERE table_name LIKE 'axes\\_%%'")
        assert [row[0] for row in cursor.fetchall()] == ["public"]
