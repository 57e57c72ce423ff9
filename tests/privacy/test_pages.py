"""The data protection officer's pages: the schedule, a person's right-of-access export and
erasure on request, with their permissions (an agent or an auditor can neither export nor
erase) and two-client isolation."""

import json

import pytest

from accounts.roles import Role
from audit.models import AuditEntry
from booking.models import ErasureRecord, OffenderRead, Offer, RetentionSchedule

from ..manage.conftest import make_staff
from .conftest import ESSEX_HOST

RECORD = "/manage/privacy/records/ESX-900001/"
PAGES = ("/manage/privacy/", RECORD, RECORD + "export/", RECORD + "erase/")


def get(client, url, **data):
    return client.get(url, data, HTTP_HOST=ESSEX_HOST)


def post(client, url, data=None):
    return client.post(url, data or {}, HTTP_HOST=ESSEX_HOST)


@pytest.mark.parametrize("role", [Role.CONTACT_CENTRE_AGENT, Role.BOOKING_OFFICER,
                                  Role.TRAINER])
def test_staff_without_the_permission_get_403(person, staff, client, role):
    client.force_login(staff[role])
    for url in PAGES:
        assert get(client, url).status_code == 403, url
        assert post(client, url, {"reason": "subject_request", "confirm": "on"}
                    ).status_code == 403, url
    assert Offer.objects.get(reference="ESX-900001").erased_at is None


def test_the_auditor_reads_but_cannot_export_or_erase(person, staff, client):
    client.force_login(staff[Role.AUDITOR])
    for url in PAGES:
        assert get(client, url).status_code == 200, url
    assert post(client, RECORD + "export/").status_code == 403
    assert post(client, RECORD + "erase/", {"reason": "subject_request", "confirm": "on"}
                ).status_code == 403
    assert post(client, "/manage/privacy/", {"attended_months": 1, "not_attended_months": 1,
                                             "access_log_months": 1}).status_code == 403
    assert not ErasureRecord.objects.exists() and not RetentionSchedule.objects.exists()


def test_another_clients_administrator_gets_nothing(person, south_wales, client):
    client.force_login(make_staff("dpo@south-wales.test", south_wales, Role.CLIENT_ADMIN))
    for url in PAGES:
        assert get(client, url).status_code == 403, url
        assert post(client, url).status_code == 403, url


def test_the_export_holds_everything_about_the_person(person, staff, client):
    offer, booking = person
    client.force_login(staff[Role.CLIENT_ADMIN])
    page = get(client, RECORD + "export/")
    assert page.status_code == 200 and b"Download the file" in page.content
    response = post(client, RECORD + "export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="access-request-ESX-900001.json"')
    data = json.loads(response.content)
    assert data["offer"]["last_name"] == "Erasable"
    assert data["offer"]["date_of_birth"] == "1979-05-04"
    assert [b["reference"] for b in data["bookings"]] == [booking.reference]
    assert data["calls"][0]["notes"] == "Priya said the dog ate the letter"
    assert data["cases"][0]["notes"] == "Priya lost her job"
    assert any(m["to"] == "priya@example.test" for m in data["messages"])
    kinds = [event["kind"] for event in data["events"]]
    assert "booking.confirmed" in kinds and "offer.withdrawn" in kinds
    assert {"payments", "refunds"} <= set(data)
    assert AuditEntry.objects.filter(action="privacy.exported", object_id=str(offer.pk)).exists()
    pages = list(OffenderRead.objects.filter(offer=offer).values_list("page", flat=True))
    assert pages.count("manage.privacy_export") == 2  # the page and the file


def test_erasure_on_request_with_its_error_states(person, staff, client):
    offer, _booking = person
    client.force_login(staff[Role.CLIENT_ADMIN])
    form = get(client, RECORD + "erase/")
    assert form.status_code == 200 and b"Why is the record being erased?" in form.content
    empty = post(client, RECORD + "erase/")
    assert empty.status_code == 200 and b"govuk-error-summary" in empty.content
    assert b"Select why the record is being erased" in empty.content
    assert b"Confirm that you understand this cannot be undone" in empty.content
    junk = post(client, RECORD + "erase/", {"reason": "because", "confirm": "on"})
    assert b"govuk-error-summary" in junk.content
    assert Offer.objects.get(pk=offer.pk).erased_at is None
    done = post(client, RECORD + "erase/", {"reason": "subject_request", "confirm": "on"})
    assert done.status_code == 302 and done["Location"] == "/manage/privacy/"
    erasure = ErasureRecord.objects.get()
    assert (erasure.rule, erasure.reason, erasure.actor) == (
        "request", "subject_request", staff[Role.CLIENT_ADMIN].email)
    home = get(client, "/manage/privacy/").content.decode()
    assert erasure.pseudonym in home and "Erased on request" in home
    assert "Erasable" not in home and "ESX-900001" not in home
    assert get(client, RECORD).status_code == 404


def test_a_record_still_in_use_is_refused_with_the_reason(essex, staff, in_essex, client):
    from ..factories import CourseSessionFactory, OfferFactory, book_offer

    session = CourseSessionFactory()
    offer = OfferFactory(reference="ESX-900001", course_type=session.course_type)
    book_offer(offer, session)
    client.force_login(staff[Role.CLIENT_ADMIN])
    refused = post(client, RECORD + "erase/", {"reason": "subject_request", "confirm": "on"})
    assert refused.status_code == 200 and b"govuk-error-summary" in refused.content
    assert b"booking that is still open" in refused.content
    assert Offer.objects.get(pk=offer.pk).erased_at is None


def test_the_schedule_page_shortens_and_refuses_longer(person, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    longer = post(client, "/manage/privacy/", {"attended_months": 48, "not_attended_months": 12,
                                               "access_log_months": 24})
    assert longer.status_code == 200 and b"govuk-error-summary" in longer.content
    assert b"at most 42" in longer.content and not RetentionSchedule.objects.exists()
    saved = post(client, "/manage/privacy/", {"attended_months": 36, "not_attended_months": 6,
                                              "access_log_months": 12})
    assert saved.status_code == 302
    schedule = RetentionSchedule.objects.get()
    assert (schedule.attended_months, schedule.not_attended_months,
            schedule.access_log_months) == (36, 6, 12)
    assert AuditEntry.objects.filter(action="privacy.schedule_changed").exists()


def test_finding_a_record_by_reference(person, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    found = get(client, "/manage/privacy/", reference="esx-900001")
    assert found.status_code == 302 and found["Location"] == RECORD
    missing = get(client, "/manage/privacy/", reference="ESX-404")
    assert b"There is no offer with that reference." in missing.content
    assert b'href="#id_reference"' in missing.content
