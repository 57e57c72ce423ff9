"""The Django admin signs in through our own sign-in page and needs the second factor."""

from urllib.parse import parse_qs, urlsplit

from accounts.roles import Role

from ..conftest import PASSWORD, make_user, sign_in_verified

HOST = {"HTTP_HOST": "localhost"}


def provider_staff_with_admin(email="admin-ops@waymark.test"):
    user = make_user(email, role=Role.PROVIDER_ADMIN, verified_device=True)
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def test_the_admin_sign_in_is_our_sign_in_page(db, client):
    response = client.get("/admin/login/?next=/admin/accounts/user/", **HOST)
    assert response.status_code == 302
    where = urlsplit(response["Location"])
    assert where.path == "/accounts/sign-in/"
    assert parse_qs(where.query)["next"] == ["/admin/accounts/user/"]


def test_the_admin_form_cannot_tell_a_right_password_from_a_wrong_one(db, client):
    staff = provider_staff_with_admin()
    right = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD}, **HOST)
    wrong = client.post("/admin/login/", {"username": staff.email, "password": "wrong"}, **HOST)
    assert (right.status_code, right["Location"]) == (wrong.status_code, wrong["Location"])
    assert right.content == wrong.content
    assert "_auth_user_id" not in client.session


def test_a_password_only_session_cannot_use_the_admin(db, client):
    staff = provider_staff_with_admin()
    client.force_login(staff)
    for path in ("/admin/", "/admin/accounts/user/", "/admin/axes/accessattempt/"):
        response = client.get(path, **HOST)
        assert response.status_code == 302, path
    # Sent on to pass the second factor, then back to the admin.
    login = client.get("/admin/login/?next=/admin/", **HOST)
    assert urlsplit(login["Location"]).path == "/accounts/sign-in/two-factor/"
    assert parse_qs(urlsplit(login["Location"]).query)["next"] == ["/admin/"]


def test_a_verified_session_uses_the_admin(db, client):
    sign_in_verified(client, provider_staff_with_admin())
    for path in ("/admin/", "/admin/accounts/user/", "/admin/axes/accessattempt/"):
        assert client.get(path, **HOST).status_code == 200, path
    assert client.get("/admin/login/", **HOST)["Location"] == "/admin/"


def test_a_verified_session_without_admin_rights_is_refused(db, provider_admin, client):
    sign_in_verified(client, provider_admin)  # is_staff is off
    assert client.get("/admin/login/", **HOST).status_code == 403


def test_signing_in_for_the_admin_goes_through_the_second_factor(db, client):
    staff = provider_staff_with_admin()
    response = client.post("/accounts/sign-in/", {"email": staff.email, "password": PASSWORD,
                                                  "next": "/admin/"}, **HOST)
    assert urlsplit(response["Location"]).path == "/accounts/sign-in/two-factor/"
    assert client.get("/admin/", **HOST).status_code == 302


def test_admin_users_need_the_second_factor_everywhere(db, client):
    staff = make_user("django-admin@waymark.test")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    response = client.post("/accounts/sign-in/", {"email": staff.email, "password": PASSWORD,
                                                  "next": "/"}, **HOST)
    assert urlsplit(response["Location"]).path == "/accounts/sign-in/two-factor/"
