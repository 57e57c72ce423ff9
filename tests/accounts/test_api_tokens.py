"""Platform API tokens: issued in the Django admin, behind its second factor, as README and
docs/deployment.md say; then taken by the API as a credential of their own."""

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import Role

from ..conftest import make_user, sign_in_verified

HOST = {"HTTP_HOST": "localhost"}
ADD_TOKEN = "/admin/authtoken/tokenproxy/add/"


def test_a_provider_admin_issues_a_token_in_the_admin_and_the_api_takes_it(db, client):
    staff = make_user("integrations@waymark.test", role=Role.PROVIDER_ADMIN, verified_device=True)
    staff.is_staff = staff.is_superuser = True  # as `createsuperuser` makes them
    staff.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(staff)
    # A password is not enough.
    assert client.post(ADD_TOKEN, {"user": staff.pk}, **HOST).status_code == 302
    assert not Token.objects.filter(user=staff).exists()

    sign_in_verified(client, staff)
    assert client.post(ADD_TOKEN, {"user": staff.pk}, **HOST).status_code == 302
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=staff).key}")
    assert api.get("/api/platform/v1/organisations/", **HOST).status_code == 200
