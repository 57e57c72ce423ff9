"""The client's logo: uploaded on the branding page, checked to really be a small image, served
by the client's own site (never another client's), replaced and removed without leaving files."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.roles import Role
from audit.models import AuditEntry
from tenants.models import ClientOrganisation

from .conftest import get, post

URL = "/manage/configure/branding/"


def image_file(name="logo.png", image_format="PNG", size=(120, 40)) -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", size, "#6a1b5d").save(data, image_format)
    return SimpleUploadedFile(name, data.getvalue(), content_type="image/png")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def stored_files(media):
    return sorted(p.name for p in media.rglob("*") if p.is_file())


def test_upload_show_replace_and_remove(world, staff, essex, south_wales, client, media):
    client.force_login(staff[Role.CLIENT_ADMIN])
    response = post(client, URL, {"action": "logo", "logo": image_file()})
    assert response.status_code == 302
    essex.refresh_from_db()
    assert essex.logo.name.startswith("clients/client_essex/logo/logo-")
    assert essex.logo.name.endswith(".png")
    entry = AuditEntry.objects.get(action="organisation.logo_changed")
    assert entry.before == {"logo": None} and entry.after == {"logo": essex.logo.name}

    page = get(client, "/").content.decode()
    assert 'class="waymark-header__logo" src="/branding/logo/?v=' in page
    served = get(client, "/branding/logo/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")
    # Each site serves only its own logo: south-wales has none.
    assert client.get("/branding/logo/", HTTP_HOST="south-wales.localhost").status_code == 404

    first = essex.logo.name
    assert post(client, URL, {"action": "logo", "logo": image_file("new.jpg", "JPEG")}
                ).status_code == 302
    essex.refresh_from_db()
    assert essex.logo.name.endswith(".jpg") and essex.logo.name != first
    assert stored_files(media) == [essex.logo.name.rsplit("/", 1)[1]]  # the old file is gone

    assert post(client, URL, {"action": "logo", "remove": "on"}).status_code == 302
    essex.refresh_from_db()
    assert not essex.logo and stored_files(media) == []
    assert get(client, "/branding/logo/").status_code == 404
    assert "waymark-header__logo" not in get(client, "/").content.decode()


@pytest.mark.parametrize("upload, message", [
    (SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png"),
     "must be a PNG, JPEG, GIF or WebP image"),
    (lambda: image_file("huge.png", size=(2400, 100)), "at most 2000 pixels"),
    (lambda: image_file("logo.bmp", "BMP"), "must be a PNG, JPEG, GIF or WebP image"),
    (SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * 600_000, content_type="image/png"),
     "smaller than 512 KB"),
    (None, "Choose an image file"),
])
def test_a_bad_file_is_refused_by_name_and_nothing_is_kept(world, staff, essex, client, media,
                                                           upload, message):
    client.force_login(staff[Role.CLIENT_ADMIN])
    data = {"action": "logo"}
    if upload is not None:
        data["logo"] = upload() if callable(upload) else upload
    response = post(client, URL, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and 'href="#id_logo"' in page
    assert not ClientOrganisation.objects.get(pk=essex.pk).logo
    assert stored_files(media) == []
    assert not AuditEntry.objects.filter(action="organisation.logo_changed").exists()


def test_the_auditor_sees_the_logo_but_cannot_change_it(world, staff, essex, client, media):
    client.force_login(staff[Role.AUDITOR])
    page = get(client, URL).content.decode()
    assert "There is no logo" in page and 'name="logo"' not in page
    assert post(client, URL, {"action": "logo", "logo": image_file()}).status_code == 403
    assert stored_files(media) == []
