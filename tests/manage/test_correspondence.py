"""Correspondence templates: the client's own wording per message and language, previewed with
example details, audited, and available to the mailer through custom_correspondence."""

import pytest

from accounts.roles import Role
from audit.models import AuditEntry
from booking.models import CorrespondenceTemplate
from booking.services.correspondence import custom_correspondence

from .conftest import get, make_staff, post

URL = "/manage/configure/correspondence/reminder/en/"


@pytest.fixture
def admin(staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    return staff[Role.CLIENT_ADMIN]


def test_list_shows_every_message_standard_at_first(world, admin, client):
    page = get(client, "/manage/configure/correspondence/").content.decode()
    for label in ("Booking confirmation", "Reminder", "Joining instructions",
                  "Transfer confirmation", "Cancellation"):
        assert label in page
    assert "Standard" in page and "/reminder/cy/" not in page  # essex is English only


def test_welsh_for_a_bilingual_client(south_wales, client):
    admin = make_staff("boss@south-wales.test", south_wales, Role.CLIENT_ADMIN)
    client.force_login(admin)
    page = client.get("/manage/configure/correspondence/", HTTP_HOST="south-wales.localhost")
    assert b"/reminder/cy/" in page.content


def test_preview_save_and_reset(world, admin, client):
    body = "Dear {first_name},\nSee you on {course_date} at {start_time}.\n{client_name}"
    preview = post(client, URL, {"subject": "Reminder: {course_name}", "body": body,
                                 "action": "preview"})
    page = preview.content.decode()
    assert "Dear Sam," in page and "Essex Driver Awareness" in page
    assert not CorrespondenceTemplate.objects.exists()
    saved = post(client, URL, {"subject": "Reminder: {course_name}", "body": body,
                               "action": "save"})
    assert saved.status_code == 302
    template = CorrespondenceTemplate.objects.get(kind="reminder", language="en")
    assert template.updated_by == admin.email
    assert AuditEntry.objects.filter(action="correspondence.saved").exists()
    subject, text = custom_correspondence("reminder_7", "en-gb", {
        "first_name": "Kim", "course_name": "NSAC", "course_date": "Monday 7 December 2026",
        "start_time": "09:30", "client_name": "Essex"})
    assert subject == "Reminder: NSAC" and text.startswith("Dear Kim,")
    assert custom_correspondence("cancellation", "en", {}) is None
    assert "Your own" in get(client, "/manage/configure/correspondence/").content.decode()
    assert post(client, URL, {"action": "reset"}).status_code == 302
    assert not CorrespondenceTemplate.objects.exists()
    assert AuditEntry.objects.filter(action="correspondence.reset").exists()


@pytest.mark.parametrize("data, field, message", [
    ({"subject": "", "body": "x"}, "subject", b"Enter the subject line"),
    ({"subject": "Hi", "body": ""}, "body", b"Enter the message"),
    ({"subject": "Hi {nme}", "body": "x"}, "subject", b"{nme} is not a placeholder"),
    ({"subject": "Hi", "body": "{password} {first_name}"}, "body", b"{password}"),
])
def test_errors_name_the_field(world, admin, client, data, field, message):
    response = post(client, URL, dict(data, action="save"))
    assert response.status_code == 200
    assert f'href="#id_{field}"'.encode() in response.content and message in response.content
    assert not CorrespondenceTemplate.objects.exists()


def test_unknown_message_or_language_is_not_found(world, admin, client):
    assert get(client, "/manage/configure/correspondence/invoice/en/").status_code == 404
    assert get(client, "/manage/configure/correspondence/reminder/fr/").status_code == 404


def test_subject_lines_stay_on_one_line(world, admin, client):
    post(client, URL, {"subject": "Hi\r\nBcc: evil@example.com", "body": "x", "action": "save"})
    assert CorrespondenceTemplate.objects.get().subject == "Hi Bcc: evil@example.com"


def test_editor_opens_on_the_standard_wording_and_saving_it_unchanged_keeps_the_standard(
        world, admin, client):
    import html

    from booking.services.correspondence import standard_wording

    page = html.unescape(get(client, URL).content.decode())
    subject, body = standard_wording("reminder", "en")
    assert subject == "Reminder: {course_name} on {course_date}"
    assert "This is a reminder that your course is in 7 days." in body
    assert f'value="{subject}"' in page and body in page
    assert "Dear Sam," in page  # previewed at once, filled in with the example details

    response = post(client, URL, {"subject": subject, "body": body.replace("\n", "\r\n"),
                                  "action": "save"})
    assert response.status_code == 302
    assert not CorrespondenceTemplate.objects.exists()  # the standard message still goes
    assert not AuditEntry.objects.filter(action="correspondence.saved").exists()
    assert "Nothing was changed" in get(client, "/manage/configure/correspondence/").content.decode()

    # The client's own wording, saved twice unchanged, is written (and audited) once.
    own = {"subject": "Reminder", "body": "Dear {first_name},\nSee you soon.", "action": "save"}
    post(client, URL, own)
    post(client, URL, own)
    assert AuditEntry.objects.filter(action="correspondence.saved").count() == 1


def test_standard_wording_is_in_welsh_for_welsh_messages():
    from booking.services.correspondence import standard_wording

    subject, body = standard_wording("booking_confirmation", "cy")
    assert "{booking_reference}" in subject and body.startswith("Annwyl {first_name},")
