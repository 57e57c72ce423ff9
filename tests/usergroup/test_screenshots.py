"""Screenshots: checked by content (a text file named .png is refused with a clear message),
at most three, re-encoded so the bytes sent are never the bytes stored, served only to signed-in
members with a type the browser may not sniff."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from usergroup import screenshots, services
from usergroup.models import Screenshot

PLATFORM = "localhost"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _image(kind="PNG", size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, kind)
    return out.getvalue()


@pytest.fixture
def change_request(essex_member, area):
    return services.raise_request(title="Show parking at venues", description="", area=area,
                                  acting_user=essex_member)


@pytest.mark.parametrize("kind,content_type", [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                               ("WEBP", "image/webp")])
def test_images_are_accepted_and_re_encoded(change_request, essex_member, kind, content_type):
    # A real image with a script tacked on the end: the stored copy is rebuilt from the pixels.
    sent = _image(kind) + b"<script>alert(1)</script>"
    shot = screenshots.add_screenshot(change_request, data=sent, acting_user=essex_member)
    stored = shot.image.read()
    assert shot.content_type == content_type and (shot.width, shot.height) == (40, 30)
    assert b"<script>" not in stored and stored != sent
    assert Image.open(io.BytesIO(stored)).format == kind
    assert shot.image.name.endswith("." + shot.extension)


def test_a_text_file_named_png_is_refused_with_a_clear_message(change_request, essex_member):
    with pytest.raises(ValidationError) as error:
        screenshots.add_screenshot(change_request, data=b"#!/bin/sh\necho owned\n",
                                   acting_user=essex_member)
    assert error.value.message_dict["image"] == [
        "The selected file is not a PNG, JPEG or WebP image"]
    gif = io.BytesIO()
    Image.new("RGB", (5, 5)).save(gif, "GIF")
    with pytest.raises(ValidationError):
        screenshots.add_screenshot(change_request, data=gif.getvalue(), acting_user=essex_member)
    with pytest.raises(ValidationError) as error:
        screenshots.add_screenshot(change_request, data=b"x" * (5 * 1024 * 1024 + 1),
                                   acting_user=essex_member)
    assert "5 MB or smaller" in error.value.messages[0]
    assert not Screenshot.objects.exists()


def test_a_fourth_screenshot_is_refused(change_request, essex_member):
    for _n in range(3):
        screenshots.add_screenshot(change_request, data=_image(), acting_user=essex_member)
    with pytest.raises(ValidationError) as error:
        screenshots.add_screenshot(change_request, data=_image(), acting_user=essex_member)
    assert "up to 3 screenshots" in error.value.messages[0]
    assert Screenshot.objects.filter(request=change_request).count() == 3


def test_only_the_raiser_or_provider_staff_add(change_request, wales_member, provider_admin):
    with pytest.raises(PermissionDenied):
        screenshots.add_screenshot(change_request, data=_image(), acting_user=wales_member)
    screenshots.add_screenshot(change_request, data=_image(), acting_user=provider_admin)


def test_upload_page_and_serving(client, change_request, essex_member, wales_member):
    client.force_login(essex_member)
    fake = SimpleUploadedFile("cat.png", b"not an image at all", content_type="image/png")
    refused = client.post(f"/user-group/requests/{change_request.pk}/screenshots/",
                          {"image": fake}, HTTP_HOST=PLATFORM)
    assert refused.status_code == 400
    assert "The selected file is not a PNG, JPEG or WebP image" in refused.content.decode()
    good = SimpleUploadedFile("anything.txt", _image("JPEG"), content_type="text/plain")
    done = client.post(f"/user-group/requests/{change_request.pk}/screenshots/",
                       {"image": good, "description": "The venue page"}, HTTP_HOST=PLATFORM)
    assert done.status_code == 302
    shot = Screenshot.objects.get()
    page = client.get(f"/user-group/requests/{change_request.pk}/", HTTP_HOST=PLATFORM)
    assert f'src="/user-group/screenshots/{shot.pk}/"' in page.content.decode()
    assert 'alt="The venue page"' in page.content.decode()

    client.force_login(wales_member)  # any member may see it
    served = client.get(f"/user-group/screenshots/{shot.pk}/", HTTP_HOST=PLATFORM)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("inline")
    assert b"".join(served.streaming_content)[:3] == b"\xff\xd8\xff"
    client.logout()
    signed_out = client.get(f"/user-group/screenshots/{shot.pk}/", HTTP_HOST=PLATFORM)
    assert signed_out.status_code == 302 and "/accounts/sign-in/" in signed_out["Location"]


def test_screenshots_are_added_on_the_new_request_form(client, essex_member, area):
    from usergroup.models import ChangeRequest

    client.force_login(essex_member)
    page = client.get("/user-group/new/", HTTP_HOST=PLATFORM).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="screenshots"' in page
    response = client.post("/user-group/new/", {
        "title": "Show parking at venues", "area": area.pk, "description": "",
        "screenshots": [SimpleUploadedFile("one.png", _image("PNG"), "image/png"),
                        SimpleUploadedFile("two.jpg", _image("JPEG"), "image/jpeg")]},
        HTTP_HOST=PLATFORM)
    assert response.status_code == 302
    raised = ChangeRequest.objects.get()
    assert sorted(raised.screenshots.values_list("content_type", flat=True)) == [
        "image/jpeg", "image/png"]


@pytest.mark.parametrize("files,message", [
    ([("notes.png", b"this is not an image at all")], "image"),
    ([(f"{n}.png", None) for n in range(4)], "up to 3"),
])
def test_a_fake_or_fourth_image_refuses_the_whole_request(client, essex_member, area, files,
                                                          message):
    from usergroup.models import ChangeRequest

    client.force_login(essex_member)
    response = client.post("/user-group/new/", {
        "title": "Show parking at venues", "area": area.pk, "description": "",
        "screenshots": [SimpleUploadedFile(name, data or _image("PNG"), "image/png")
                        for name, data in files]}, HTTP_HOST=PLATFORM)
    assert response.status_code == 400
    assert message in response.content.decode().lower()
    # Nothing half-written: no request, no vote, no stored image.
    assert not ChangeRequest.objects.exists() and not Screenshot.objects.exists()
