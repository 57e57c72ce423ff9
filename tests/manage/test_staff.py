"""Staff: invitations, roles, deactivation; only this client's memberships are touched."""

import pytest
from django.core import mail

from accounts.models import Membership, User
from accounts.roles import Role
from audit.models import AuditEntry

from .conftest import get, make_staff, post


@pytest.fixture
def admin(staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    return staff[Role.CLIENT_ADMIN]


def test_invite_someone_new(world, admin, essex, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "/manage/staff/invite/",
                        {"email": "New.Person@Essex.test", "full_name": "New Person",
                         "role": "trainer"})
    assert response.status_code == 302
    user = User.objects.get(email="new.person@essex.test")
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user, organisation=essex).role == "trainer"
    assert len(mail.outbox) == 1 and "set-password" in mail.outbox[0].body
    entry = AuditEntry.objects.get(action="staff.invited")
    assert entry.actor_id == admin.pk and entry.after["new_account"] is True
    again = post(client, "/manage/staff/invite/", {"email": "new.person@essex.test",
                                                   "role": "trainer"})
    assert b"already has that role" in again.content and b'href="#id_email"' in again.content


def test_someone_from_another_client_gains_a_role_without_a_new_password(
        world, admin, essex, south_wales, client, django_capture_on_commit_callbacks):
    agent = User.objects.create_user(email="agent@provider.test", password="x-long-password")
    Membership.objects.create(user=agent, organisation=south_wales,
                              role=Role.CONTACT_CENTRE_AGENT)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "/manage/staff/invite/", {"email": "agent@provider.test",
                                               "role": "contact_centre_agent"})
    assert Membership.objects.filter(user=agent, organisation=essex).exists()
    assert mail.outbox == []


@pytest.mark.parametrize("data, field", [
    ({"email": "not-an-email", "role": "trainer"}, "email"),
    ({"email": "a@essex.test", "role": "provider_admin"}, "role"),
    ({"email": "a@essex.test"}, "role"),
])
def test_invite_errors(world, admin, client, data, field):
    response = post(client, "/manage/staff/invite/", data)
    assert response.status_code == 200 and f'href="#id_{field}"'.encode() in response.content


def test_change_a_role(world, admin, staff, essex, client):
    membership = Membership.objects.get(user=staff[Role.BOOKING_OFFICER], organisation=essex)
    response = post(client, f"/manage/staff/roles/{membership.pk}/", {"role": "auditor"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "auditor"
    entry = AuditEntry.objects.get(action="staff.role_changed")
    assert entry.before["role"] == "booking_officer" and entry.after["role"] == "auditor"


def test_the_only_administrator_stays(world, admin, essex, client):
    # The administrator invited when the client was onboarded has left.
    Membership.objects.filter(organisation=essex, role=Role.CLIENT_ADMIN).exclude(
        user=admin).update(is_active=False)
    own = Membership.objects.get(user=admin, organisation=essex)
    response = post(client, f"/manage/staff/roles/{own.pk}/", {"role": "auditor"})
    assert b"only administrator" in response.content
    assert post(client, f"/manage/staff/people/{admin.pk}/deactivate/").status_code == 200
    assert Membership.objects.get(pk=own.pk).is_active


def test_deactivate_and_reactivate(world, admin, staff, essex, client):
    officer = staff[Role.BOOKING_OFFICER]
    assert post(client, f"/manage/staff/people/{officer.pk}/deactivate/").status_code == 302
    assert not Membership.objects.get(user=officer, organisation=essex).is_active
    assert AuditEntry.objects.filter(action="staff.deactivated").exists()
    client.force_login(officer)
    assert get(client, "/manage/").status_code == 403
    client.force_login(admin)
    assert post(client, f"/manage/staff/people/{officer.pk}/reactivate/").status_code == 302
    client.force_login(officer)
    assert get(client, "/manage/").status_code == 200


def test_other_clients_staff_are_out_of_reach(world, admin, south_wales, client):
    outsider = make_staff("someone@south-wales.test", south_wales, Role.CLIENT_ADMIN)
    membership = Membership.objects.get(user=outsider)
    assert get(client, f"/manage/staff/roles/{membership.pk}/").status_code == 404
    assert post(client, f"/manage/staff/roles/{membership.pk}/",
                {"role": "auditor"}).status_code == 404
    assert post(client, f"/manage/staff/people/{outsider.pk}/deactivate/").status_code == 404
    assert Membership.objects.get(pk=membership.pk).is_active
    assert b"someone@south-wales.test" not in get(client, "/manage/staff/").content
