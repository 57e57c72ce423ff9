"""Administrators edit their site's accessibility statement in /manage/configure/: compliance
status, known problems (in Welsh too on a bilingual site) and the review and test dates, with a
preview of the statement as published; permission-checked and audited."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEntry
from tenants.models import ClientOrganisation

from ..conftest import make_user
from ..govuk_dates import date_parts
from .conftest import get, post

URL = "/manage/configure/accessibility/"
WALES_HOST = "south-wales.localhost"


def statement(**change):
    data = {"compliance": "partial", "known_issues": "Some PDF letters are not tagged\n\n"
                                                     "The map has no text alternative",
            **date_parts("reviewed_on", date(2026, 11, 2)),
            **date_parts("tested_on", date(2026, 11, 3))}
    data.update(change)
    return data


@pytest.mark.parametrize("role", [Role.CONTACT_CENTRE_AGENT, Role.TRAINER])
def test_staff_who_cannot_read_the_configuration_get_nothing(world, staff, client, role):
    client.force_login(staff[role])
    assert get(client, URL).status_code == 403
    assert post(client, URL, statement()).status_code == 403


@pytest.mark.parametrize("role", [Role.BOOKING_OFFICER, Role.AUDITOR])
def test_only_administrators_change_it(world, staff, client, essex, role):
    client.force_login(staff[role])
    page = get(client, URL).content.decode()
    assert "The statement as published" in page
    assert 'name="reviewed_on_day"' not in page and "Save the statement" not in page
    assert post(client, URL, statement()).status_code == 403
    assert post(client, URL, statement(action="preview")).status_code == 403
    essex.refresh_from_db()
    assert essex.accessibility_reviewed_on is None
    assert not AuditEntry.objects.filter(action="organisation.accessibility_changed").exists()


def test_signed_out_people_are_sent_to_sign_in(world, client):
    response = get(client, URL)
    assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]


def test_save_is_audited_and_the_public_page_shows_it(world, staff, client, essex):
    admin = staff[Role.CLIENT_ADMIN]
    client.force_login(admin)
    form = get(client, URL).content.decode()
    assert 'name="reviewed_on_day"' in form and 'class="govuk-date-input"' in form
    assert 'name="known_issues_cy"' not in form  # an English-only site has no Welsh text
    home = get(client, "/manage/configure/").content.decode()
    assert f'href="{URL}"' in home
    response = post(client, URL, statement())
    assert response.status_code == 302 and response["Location"] == URL
    essex.refresh_from_db()
    assert essex.accessibility_compliance == "partial"
    assert essex.accessibility_reviewed_on == date(2026, 11, 2)
    assert essex.accessibility_tested_on == date(2026, 11, 3)
    entry = AuditEntry.objects.get(action="organisation.accessibility_changed")
    assert entry.actor_id == admin.pk and entry.after["reviewed_on"] == "2026-11-02"
    assert entry.before["compliance"] == "partial" and entry.before["reviewed_on"] is None
    audit = get(client, "/manage/audit/").content.decode()
    assert "Accessibility statement changed" in audit
    client.logout()
    public = client.get("/accessibility/", HTTP_HOST="essex.localhost").content.decode()
    assert "<li>Some PDF letters are not tagged</li>" in public
    assert "<li>The map has no text alternative</li>" in public
    assert "last reviewed on 2 November 2026" in public
    assert "last tested on 3 November 2026" in public


def test_preview_shows_the_statement_without_saving_it(world, staff, client, essex):
    client.force_login(staff[Role.CLIENT_ADMIN])
    page = post(client, URL, statement(compliance="full", action="preview")).content.decode()
    assert "Preview of your changes (not saved yet)" in page
    preview = page.split('data-preview="en"')[1]
    assert "This website is fully compliant" in preview
    assert "last reviewed on 2 November 2026" in preview
    essex.refresh_from_db()
    assert essex.accessibility_compliance == "partial" and essex.accessibility_reviewed_on is None
    assert not AuditEntry.objects.filter(action="organisation.accessibility_changed").exists()


@pytest.mark.parametrize("change, message, target", [
    ({"reviewed_on_month": ""}, "The date the statement was last reviewed must include a month",
     "id_reviewed_on_month"),
    ({"reviewed_on_day": "31", "reviewed_on_month": "2"},
     "The date the statement was last reviewed must be a real date", "id_reviewed_on_day"),
    ({"reviewed_on_day": "", "reviewed_on_month": "", "reviewed_on_year": ""},
     "Enter the date the statement was last reviewed", "id_reviewed_on_day"),
    ({"tested_on_year": "26"}, "Year must include 4 numbers", "id_tested_on_day"),
    ({"compliance": "nonsense"}, "Select a valid choice", "id_compliance"),
    ({"known_issues": "x" * 5001}, "Non-accessible content must be 5000 characters or fewer",
     "id_known_issues"),
])
def test_bad_input_is_named_in_the_error_summary(world, staff, client, essex, change, message,
                                                 target):
    client.force_login(staff[Role.CLIENT_ADMIN])
    response = post(client, URL, statement(**change))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<a href="#{target}">{message}' in page
    assert not AuditEntry.objects.filter(action="organisation.accessibility_changed").exists()


def test_a_review_date_in_the_future_is_refused(world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    tomorrow = timezone.localdate() + timedelta(days=1)
    page = post(client, URL, statement(**date_parts("reviewed_on", tomorrow))).content.decode()
    assert "The date the statement was last reviewed must be today or in the past" in page


def test_a_bilingual_client_writes_the_welsh_too(south_wales, client):
    admin = make_user("admin2@south-wales.test", organisation=south_wales,
                      role=Role.CLIENT_ADMIN)
    client.force_login(admin)
    form = client.get(URL, HTTP_HOST=WALES_HOST).content.decode()
    assert 'name="known_issues_cy"' in form and 'data-preview="cy"' in form
    response = client.post(URL, statement(known_issues_cy="Nid yw rhai llythyrau PDF wedi'u tagio"),
                           HTTP_HOST=WALES_HOST)
    assert response.status_code == 302
    south_wales.refresh_from_db()
    assert south_wales.accessibility_known_issues_cy == "Nid yw rhai llythyrau PDF wedi'u tagio"
    preview = client.post(URL, statement(known_issues_cy="Mae'r map heb destun amgen",
                                         action="preview"), HTTP_HOST=WALES_HOST).content.decode()
    welsh_preview = preview.split('data-preview="cy"')[1]
    assert "Mae&#x27;r map heb destun amgen" in welsh_preview
    assert 'lang="cy"' in preview.split('data-preview="cy"')[0].rsplit("<section", 1)[1]
    client.logout()
    client.cookies["waymark_language"] = "cy"
    public = client.get("/accessibility/", HTTP_HOST=WALES_HOST).content.decode()
    assert "Nid yw rhai llythyrau PDF wedi&#x27;u tagio" in public
    assert "Some PDF letters are not tagged" not in public
    assert "2 Tachwedd 2026" in public


def test_an_english_only_client_keeps_no_welsh_text(world, staff, client, essex):
    ClientOrganisation.objects.filter(pk=essex.pk).update(accessibility_known_issues_cy="old")
    client.force_login(staff[Role.CLIENT_ADMIN])
    post(client, URL, statement(known_issues_cy="ignored"))
    essex.refresh_from_db()
    assert essex.accessibility_known_issues_cy == ""
