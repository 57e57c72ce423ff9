"""Every door into a staff account is in the sign-in report once: a client site's sign-in, the
control plane's, the Django admin (mounted on the control plane only, and signing in through
our page), the second factor's steps, and any other `authenticate()`/`login()`, because the
report hears Django's and django-axes' signals. An API key is not a sign-in."""

from django.contrib.auth import authenticate, login
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts.models import SignInEvent
from accounts.roles import Role
from booking.services.api_keys import create_api_key

from ..conftest import PASSWORD, make_user

ESSEX = "essex.localhost"
PLATFORM = "localhost"


def rows(**filters):
    return list(SignInEvent.objects.filter(**filters).order_by("id")
                .values_list("email", "outcome", "reason"))


def sign_in(client, email, password=PASSWORD, *, host, next_url=""):
    data = {"email": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/sign-in/", data, HTTP_HOST=host, REMOTE_ADDR="198.51.100.4")


def test_a_client_site_sign_in_is_one_row(essex, essex_admin, client):
    assert sign_in(client, essex_admin.email, host=ESSEX).status_code == 302
    assert rows() == [("boss@essex.test", "succeeded", "")]
    event = SignInEvent.objects.get()
    assert (event.organisation, event.user, event.ip_address) == (essex, essex_admin,
                                                                   "198.51.100.4")


def test_a_control_plane_sign_in_and_its_second_factor_are_one_row_each(db, client):
    person = make_user("ops2@waymark.test", role=Role.PROVIDER_ADMIN)
    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    assert sign_in(client, person.email, host=PLATFORM).status_code == 302
    wrong = f"{(totp(device.bin_key) + 1) % 1000000:06d}"
    client.post("/accounts/sign-in/two-factor/", {"token": wrong}, HTTP_HOST=PLATFORM)
    device.refresh_from_db()
    device.throttle_reset()  # django-otp makes the next try wait after a wrong code
    right = client.post("/accounts/sign-in/two-factor/",
                        {"token": f"{totp(device.bin_key):06d}"}, HTTP_HOST=PLATFORM)
    assert right.status_code == 302
    assert client.get("/", HTTP_HOST=PLATFORM).status_code == 200
    # The right code completes the sign-in already reported; it adds no second success.
    assert rows(organisation=None) == [("ops2@waymark.test", "succeeded", ""),
                                       ("ops2@waymark.test", "failed", "wrong_code")]


def test_the_django_admin_signs_in_through_the_reported_door(essex, client):
    person = make_user("admin2@waymark.test", role=Role.PROVIDER_ADMIN)
    person.is_staff = person.is_superuser = True
    person.save()
    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    # The admin's own form takes no password: it sends people to the sign-in page.
    refused = client.post("/admin/login/?next=/admin/",
                          {"username": person.email, "password": PASSWORD}, HTTP_HOST=PLATFORM)
    assert refused.status_code == 302 and "/accounts/sign-in/" in refused["Location"]
    assert client.get("/admin/", HTTP_HOST=PLATFORM).status_code == 302  # not signed in
    assert rows() == []
    # A wrong password for the admin's sake is a failure, once.
    sign_in(client, person.email, "not-it", host=PLATFORM, next_url="/admin/")
    done = sign_in(client, person.email, host=PLATFORM, next_url="/admin/")
    assert done.status_code == 302 and "/accounts/sign-in/two-factor/" in done["Location"]
    client.post("/accounts/sign-in/two-factor/?next=/admin/",
                {"token": f"{totp(device.bin_key):06d}"}, HTTP_HOST=PLATFORM)
    assert client.get("/admin/", HTTP_HOST=PLATFORM).status_code == 200
    assert rows() == [("admin2@waymark.test", "failed", "wrong_password"),
                      ("admin2@waymark.test", "succeeded", "")]
    # No admin on a client's site: nothing there to sign in to.
    assert client.get("/admin/", HTTP_HOST=ESSEX).status_code == 404


def test_any_other_authenticate_or_login_is_reported_once(essex, essex_admin):
    """A door that does not go through accounts.services (a future form, a library's view)."""
    factory = RequestFactory()
    request = factory.post("/elsewhere/", HTTP_HOST=ESSEX, REMOTE_ADDR="198.51.100.9")
    request.tenant = essex
    assert authenticate(request, email=essex_admin.email, password="wrong") is None
    request = factory.post("/elsewhere/", HTTP_HOST=ESSEX, REMOTE_ADDR="198.51.100.9")
    request.tenant, request.session = essex, SessionStore()
    user = authenticate(request, email=essex_admin.email, password=PASSWORD)
    login(request, user)
    assert rows(organisation=essex) == [("boss@essex.test", "failed", "wrong_password"),
                                        ("boss@essex.test", "succeeded", "")]


def test_a_lock_out_is_one_row_per_attempt(essex, essex_admin, client):
    for _attempt in range(7):
        sign_in(client, essex_admin.email, "wrong", host=ESSEX)
    assert [outcome for _email, outcome, _reason in rows()] == (
        ["failed"] * 4 + ["locked_out"] * 3)


def test_an_api_key_is_not_a_sign_in(essex, client):
    with schema_context(essex.schema_name):
        key = create_api_key("feed", ["offers.view"], actor="tests")[1]
    answer = client.get("/api/v1/organisation/", HTTP_HOST=ESSEX,
                        HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert answer.status_code in (200, 403)
    assert rows() == []


def test_a_test_login_without_a_request_is_not_a_sign_in(essex, essex_admin, client):
    client.force_login(essex_admin)
    assert rows() == []
