"""Web hosts are stateless: a client's logo, uploaded on the real branding page, is kept in
object storage (a real S3-compatible server), never on the web host's disk; each client's site
serves its own from there; and a missing object or a store that is away is never a 500."""

from pathlib import Path

import pytest

from accounts.roles import Role
from audit.models import AuditEntry
from tenants.models import ClientOrganisation

from ..manage.conftest import get, post
from ..manage.test_logo import image_file

URL = "/manage/configure/branding/"
pytestmark = pytest.mark.usefixtures("world")


def keys(bucket) -> list[str]:
    return sorted(item.key for item in bucket.objects.all())


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def upload(client, upload_file):
    return post(client, URL, {"action": "logo", "logo": upload_file})


def test_the_logo_is_kept_in_the_bucket_and_served_by_its_own_site_only(
        staff, essex, south_wales, client, s3, settings):
    client.force_login(staff[Role.CLIENT_ADMIN])
    logo = image_file()
    data = logo.read()
    logo.seek(0)
    assert upload(client, logo).status_code == 302

    essex.refresh_from_db()
    assert essex.logo.name.startswith("clients/client_essex/logo/logo-")
    assert keys(s3) == [essex.logo.name]
    stored = s3.Object(essex.logo.name)
    assert stored.get()["Body"].read() == data
    assert stored.content_type == "image/png"
    # Private: nobody but the owner is granted anything (no public-read ACL).
    grants = stored.Acl().grants
    assert all(grant["Grantee"].get("URI") is None for grant in grants)
    # Nothing on the web host's disk.
    assert list(Path(settings.MEDIA_ROOT).rglob("*")) == []

    assert 'class="waymark-header__logo"' in get(client, "/").content.decode()
    served = get(client, "/branding/logo/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert body(served) == data
    # Another client's site never serves it (south-wales has no logo of its own).
    assert client.get("/branding/logo/", HTTP_HOST="south-wales.localhost").status_code == 404


def test_a_replaced_logo_leaves_only_the_new_object(staff, essex, client, s3):
    client.force_login(staff[Role.CLIENT_ADMIN])
    assert upload(client, image_file()).status_code == 302
    first = ClientOrganisation.objects.get(pk=essex.pk).logo.name

    replacement = image_file("new.jpg", "JPEG")
    data = replacement.read()
    replacement.seek(0)
    assert upload(client, replacement).status_code == 302
    essex.refresh_from_db()
    assert essex.logo.name != first and essex.logo.name.endswith(".jpg")
    assert keys(s3) == [essex.logo.name]  # the old object is deleted
    served = get(client, "/branding/logo/")
    assert served["Content-Type"] == "image/jpeg" and body(served) == data

    assert post(client, URL, {"action": "logo", "remove": "on"}).status_code == 302
    assert keys(s3) == []
    assert get(client, "/branding/logo/").status_code == 404


def test_a_logo_whose_object_is_gone_is_no_logo_not_an_error(staff, essex, client, s3):
    """As after `make stop` in development: moto kept the object in memory only."""
    client.force_login(staff[Role.CLIENT_ADMIN])
    assert upload(client, image_file()).status_code == 302
    s3.objects.all().delete()

    assert get(client, "/branding/logo/").status_code == 404
    for page in ("/", "/accessibility/", URL, "/manage/"):
        assert get(client, page).status_code == 200, page
    # And a new logo can be uploaded over it.
    assert upload(client, image_file()).status_code == 302
    essex.refresh_from_db()
    assert keys(s3) == [essex.logo.name]


def test_while_storage_is_away_an_upload_says_so_and_changes_nothing(
        staff, essex, client, s3, storage_down):
    client.force_login(staff[Role.CLIENT_ADMIN])
    assert upload(client, image_file()).status_code == 302
    before = ClientOrganisation.objects.get(pk=essex.pk).logo.name
    audit_rows = AuditEntry.objects.filter(action="organisation.logo_changed").count()

    storage_down()
    response = upload(client, image_file("new.jpg", "JPEG"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The logo could not be saved. Try again later." in page
    assert 'class="govuk-error-summary"' in page and 'href="#id_logo"' in page
    assert ClientOrganisation.objects.get(pk=essex.pk).logo.name == before
    assert AuditEntry.objects.filter(action="organisation.logo_changed").count() == audit_rows
    assert keys(s3) == [before]  # nothing half-written

    # The public site: the logo answers "unavailable", pages still show.
    unavailable = get(client, "/branding/logo/")
    assert unavailable.status_code == 503 and unavailable["Cache-Control"] == "no-store"
    assert get(client, "/").status_code == 200


def test_removing_the_logo_while_storage_is_away_still_removes_it(
        staff, essex, client, s3, storage_down):
    client.force_login(staff[Role.CLIENT_ADMIN])
    assert upload(client, image_file()).status_code == 302
    storage_down()
    assert post(client, URL, {"action": "logo", "remove": "on"}).status_code == 302
    assert not ClientOrganisation.objects.get(pk=essex.pk).logo
    assert get(client, "/branding/logo/").status_code == 404
