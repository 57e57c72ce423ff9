"""Offer import: the all-or-nothing service, the CSV reader, the API with per-client keys and
the staff upload page, against the real database with two clients."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import Role
from booking.models import ApiKey, Booking, Channel, CourseSession, Offer, OfferEvent
from booking.services.api_keys import create_api_key, revoke_api_key
from booking.services.offer_import import (
    COLUMNS,
    LABELS,
    MAX_ROWS,
    ImportProblem,
    ImportRejected,
    import_offers,
    parse_csv,
)

from .conftest import make_user

ESSEX = {"HTTP_HOST": "essex.localhost"}
SOUTH_WALES = {"HTTP_HOST": "south-wales.localhost"}
UPLOAD = "/manage/offers/import/"


def _today():
    return timezone.localdate()


def offer_row(reference="ESX-200001", **changes) -> dict:
    today = _today()
    row = {
        "reference": reference, "course_type": "NSAC",
        "offence_date": (today - timedelta(days=20)).isoformat(),
        "booking_period_end": (today + timedelta(days=30)).strftime("%d/%m/%Y"),
        "critical_date": (today + timedelta(days=60)).isoformat(),
        "first_name": "Sam", "last_name": "Driver", "date_of_birth": "27/03/1985",
        "address": "1 High Street\nChelmsford", "postcode": "cm1 1qh",
        "email": "sam@example.com", "phone": "07700 900982", "licence_number": "",
        "language": "",
    }
    row.update(changes)
    return row


def csv_bytes(rows, columns=COLUMNS, *, bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def run_import(organisation, rows, *, actor="tests", source="csv", channel=Channel.ADMIN):
    with schema_context(organisation.schema_name):
        return import_offers(rows, source=source, actor=actor, channel=channel)


def api_key(organisation, scopes=("offers.import", "offers.view"), *, name="feed"):
    with schema_context(organisation.schema_name):
        return create_api_key(name, list(scopes), actor="tests")


def api(key=None, scheme="Api-Key"):
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


# --- the service and the CSV reader ------------------------------------------------------------

def test_valid_csv_imports_into_its_own_client_only(essex, south_wales, essex_admin):
    rows = parse_csv(csv_bytes([offer_row(), offer_row("esx-200002 ", postcode="CF10 1AA",
                                                       language="CY", email="")], bom=True))
    assert rows[1]["reference"] == "esx-200002 "
    result = run_import(essex, rows, actor=essex_admin)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    with schema_context(essex.schema_name):
        first = Offer.objects.get(reference="ESX-200001")
        second = Offer.objects.get(reference="ESX-200002")
        assert first.postcode == "CM1 1QH" and first.source == "csv" and first.status == "offered"
        assert first.booking_period_end == _today() + timedelta(days=30)
        assert first.date_of_birth.isoformat() == "1985-03-27"
        assert first.first_name == "Sam" and first.last_name == "Driver"
        assert first.course_type.code == "NSAC" and first.address == "1 High Street\nChelmsford"
        assert second.language == "cy" and second.email == "" and second.postcode == "CF10 1AA"
        assert first.language == "en"
        event = OfferEvent.objects.get(offer=first)
        assert event.kind == "offer.imported" and event.channel == "admin"
        assert event.actor == essex_admin.email and event.actor_user_id == essex_admin.pk
        assert event.after["critical_date"] == first.critical_date.isoformat()
    with schema_context(south_wales.schema_name):
        assert not Offer.objects.exists()


def test_reimport_updates_by_reference_and_never_duplicates(essex):
    run_import(essex, [offer_row(), offer_row("ESX-200002")])
    again = run_import(essex, [offer_row(first_name="Samantha", email=""),
                               offer_row("ESX-200002"), offer_row("ESX-200003")])
    assert (again.created, again.updated, again.unchanged) == (1, 1, 1)
    with schema_context(essex.schema_name):
        assert Offer.objects.count() == 3
        offer = Offer.objects.get(reference="ESX-200001")
        # A blank optional cell keeps what is stored.
        assert offer.first_name == "Samantha" and offer.email == "sam@example.com"
        updated = OfferEvent.objects.get(offer=offer, kind="offer.updated")
        assert updated.before == {"first_name": "Sam"}
        assert updated.after == {"first_name": "Samantha", "source": "csv"}
        assert OfferEvent.objects.filter(offer__reference="ESX-200002").count() == 1

        # An offer already booked or closed is not touched, only reported.
        Offer.objects.filter(reference="ESX-200002").update(status=Offer.Status.BOOKED)
    third = run_import(essex, [offer_row("ESX-200002", course_type="NMAC")], source="api",
                       channel=Channel.API)
    assert (third.created, third.updated, third.unchanged) == (0, 0, 1)
    assert third.not_updated[0]["reference"] == "ESX-200002"
    assert "already booked or closed" in third.not_updated[0]["reason"]
    with schema_context(essex.schema_name):
        assert Offer.objects.get(reference="ESX-200002").course_type.code == "NSAC"


def test_one_bad_row_imports_nothing_and_every_problem_is_reported(essex):
    today = _today()
    rows = parse_csv(csv_bytes([
        offer_row("ESX-300001"),
        offer_row("ESX-300002", offence_date="31/02/2026"),
        offer_row("ESX-300003", critical_date=(today - timedelta(days=30)).isoformat()),
        offer_row("ESX-300004", postcode="XX1 1AA"),
        offer_row("ESX-300005", course_type="NOPE"),
        offer_row("esx-300001"),
        offer_row("ESX-300007", date_of_birth=(today - timedelta(days=365 * 10)).isoformat(),
                  email="not-an-email", language="fr"),
        offer_row("bad ref", first_name=""),
    ]))
    with pytest.raises(ImportRejected) as rejected:
        run_import(essex, rows)
    problems = {(error["row"], error["field"]) for error in rejected.value.errors}
    assert problems == {
        (2, "offence_date"), (3, "critical_date"), (3, "booking_period_end"), (4, "postcode"),
        (5, "course_type"),
        (6, "reference"), (7, "date_of_birth"), (7, "email"), (7, "language"),
        (8, "first_name"), (8, "reference"),
    }
    messages = {(error["row"], error["field"]): error["message"]
                for error in rejected.value.errors}
    assert messages[(2, "offence_date")] == "The offence date must be a real date."
    assert messages[(3, "critical_date")] == "The critical date must be after the offence date."
    assert "XX1 1AA" in messages[(4, "postcode")]
    assert "NOPE" in messages[(5, "course_type")]
    assert messages[(6, "reference")] == "The offer reference ESX-300001 is also on row 1."
    assert [error["row"] for error in rejected.value.errors] == sorted(
        error["row"] for error in rejected.value.errors)
    with schema_context(essex.schema_name):
        assert not Offer.objects.exists() and not OfferEvent.objects.exists()


def test_dates_and_course_types_are_checked(essex):
    today = _today()
    with schema_context(essex.schema_name):
        from booking.models import CourseType

        CourseType.objects.filter(code="NMAC").update(is_active=False)
    rows = [
        offer_row("ESX-400001", offence_date="2026/01/01"),
        offer_row("ESX-400002", booking_period_end=(today + timedelta(days=61)).isoformat()),
        offer_row("ESX-400003", course_type="NMAC"),
        offer_row("ESX-400004", offence_date=(today + timedelta(days=1)).isoformat()),
        offer_row("ESX-400005", date_of_birth="01/01/1900"),
        offer_row("ESX-400006", course_type="nsac", postcode="not a postcode"),
    ]
    with pytest.raises(ImportRejected) as rejected:
        run_import(essex, rows)
    messages = {(error["row"], error["field"]): error["message"]
                for error in rejected.value.errors}
    assert messages[(1, "offence_date")] == ("Enter the offence date as YYYY-MM-DD or "
                                             "DD/MM/YYYY.")
    assert "on or before the critical date" in messages[(2, "booking_period_end")]
    assert "not offered any more" in messages[(3, "course_type")]
    assert "today or in the past" in messages[(4, "offence_date")]
    assert "less than 110 years" in messages[(5, "date_of_birth")]
    assert (6, "course_type") not in messages  # codes match whatever their case
    assert (6, "postcode") in messages


def test_missing_columns_are_named(essex):
    columns = [name for name in COLUMNS if name not in ("critical_date", "postcode")]
    with pytest.raises(ImportProblem) as problem:
        parse_csv(csv_bytes([offer_row()], columns=columns))
    assert problem.value.code == "missing_columns"
    assert "critical_date, postcode" in problem.value.messages[0]


@pytest.mark.parametrize("data, code", [
    ("reference,course_type\nESX-1,caf\xe9\n".encode("latin-1"), "not_utf8"),
    (b"\xff\xfe\x00r\x00e\x00f", "not_utf8"),
    (b"PK\x03\x04\x14\x00\x06\x00binary workbook", "not_csv"),
    (b"reference\x00course_type\n", "not_csv"),
    (b"", "empty"),
    (b"reference;course_type;offence_date\nESX-1;NSAC;2026-01-01\n", "not_comma_separated"),
    (b"\xef\xbb\xbf  \r\n", "empty"),
])
def test_files_that_are_not_utf8_csv_get_a_clear_message(data, code):
    with pytest.raises(ImportProblem) as problem:
        parse_csv(data)
    assert problem.value.code == code and problem.value.messages[0]


def test_header_variants_stray_cells_blank_rows_and_limits(essex):
    header = "Reference,Course type,Offence date,Booking period end,Critical date,First name," \
             "Last name,Date of birth,Postcode,Notes\n"
    row = ",".join([offer_row()[name] for name in (
        "reference", "course_type", "offence_date", "booking_period_end", "critical_date",
        "first_name", "last_name", "date_of_birth", "postcode")])
    rows = parse_csv((header + row + ",ignored\n,,,,,,,,,\n" + row.replace("200001", "200002")
                      + ",x,stray\n,,,,\n").encode())
    assert len(rows) == 3 and "notes" not in rows[0]
    with pytest.raises(ImportRejected) as rejected:
        run_import(essex, rows)
    assert [(e["row"], e["field"]) for e in rejected.value.errors] == [(3, "row")]

    with pytest.raises(ImportProblem) as problem:
        run_import(essex, [offer_row(f"ESX-{n:06d}") for n in range(MAX_ROWS + 1)])
    assert problem.value.code == "too_many_rows" and "10,000" in problem.value.messages[0]
    with pytest.raises(ImportProblem):
        run_import(essex, [])
    with pytest.raises(ImportRejected) as rejected:
        run_import(essex, [offer_row(first_name=["a"]), "not an object"])
    assert {(e["row"], e["field"]) for e in rejected.value.errors} == {(1, "first_name"),
                                                                      (2, "offer")}


# --- the API ------------------------------------------------------------------------------------

def test_api_imports_with_a_valid_key_and_reports_status(essex):
    stored, key = api_key(essex)
    client = api(key)
    response = client.post("/api/v1/offers/", {"offers": [offer_row(), offer_row("ESX-200002")]},
                           format="json", **ESSEX)
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0, "not_updated": [],
                               "refused": []}
    again = client.post("/api/v1/offers/", {"offers": [offer_row(phone="01245 000000")]},
                        format="json", **ESSEX)
    assert again.status_code == 200 and again.json()["updated"] == 1

    with schema_context(essex.schema_name):
        offer = Offer.objects.get(reference="ESX-200001")
        assert offer.source == "api"
        kinds = list(OfferEvent.objects.filter(offer=offer).values_list("kind", "channel",
                                                                         "actor"))
        assert kinds == [("offer.imported", "api", "api-key:feed"),
                         ("offer.updated", "api", "api-key:feed")]
        assert ApiKey.objects.get(pk=stored.pk).last_used_at is not None
        session = CourseSession.objects.create(
            course_type=offer.course_type, delivery_mode="online",
            starts_at=timezone.now() + timedelta(days=10),
            ends_at=timezone.now() + timedelta(days=10, hours=3), capacity=10)
        Booking.objects.create(reference="BK-TEST-1", offer=offer, session=session,
                               channel="online", status="confirmed", fee_pence=0,
                               fee_snapshot={}, policy_snapshot={}, made_by="tests")

    status = client.get("/api/v1/offers/esx-200001/", **ESSEX)
    assert status.status_code == 200
    body = status.json()
    assert body["reference"] == "ESX-200001" and body["status"] == "offered"
    assert body["course_type"] == "NSAC"
    assert body["critical_date"] == offer.critical_date.isoformat()
    assert body["bookings"][0]["reference"] == "BK-TEST-1"
    assert body["bookings"][0]["status"] == "confirmed" and body["bookings"][0]["session_start"]
    assert "Driver" not in status.content.decode() and "first_name" not in body
    assert client.get("/api/v1/offers/ESX-999999/", **ESSEX).status_code == 404


def test_api_bad_rows_write_nothing(essex):
    _, key = api_key(essex)
    response = api(key).post("/api/v1/offers/", {"offers": [
        offer_row(), offer_row("ESX-200002", postcode="XX1 1AA")]}, format="json", **ESSEX)
    assert response.status_code == 400
    rows = response.json()["errors"]["rows"]
    assert rows == [{"row": 2, "field": "postcode", "message": rows[0]["message"]}]
    for body in ({"offers": "nope"}, [offer_row()], {"offers": []}):
        assert api(key).post("/api/v1/offers/", body, format="json", **ESSEX).status_code == 400
    garbled = api(key).post("/api/v1/offers/", "{not json", content_type="application/json",
                            **ESSEX)
    assert garbled.status_code == 400
    with schema_context(essex.schema_name):
        assert not Offer.objects.exists()


@pytest.mark.parametrize("field, value, limit", [
    ("reference", "R" * 33, 32),
    ("course_type", "N" * 13, 12),
    ("first_name", "F" * 101, 100),
    ("last_name", "L" * 101, 100),
    ("postcode", "CM1   1QH", 8),
    ("address", "A" * 1001, 1000),
    ("email", "e" * 243 + "@example.com", 254),
    ("phone", "0" * 33, 32),
    # Upper-casing lengthens it: 16 characters as sent, 32 as it would be stored.
    ("licence_number", "ß" * 16, 16),
])
def test_text_longer_than_its_column_is_a_row_error(essex, field, value, limit):
    with pytest.raises(ImportRejected) as rejected:
        run_import(essex, [offer_row(), offer_row(**{"reference": "ESX-200002", field: value})])
    assert rejected.value.errors == [{"row": 2, "field": field, "message": (
        f"The {LABELS[field]} must be {limit} characters or fewer.")}]
    with schema_context(essex.schema_name):
        assert not Offer.objects.exists()


def test_a_licence_number_is_bounded_once_its_spaces_are_removed(essex):
    run_import(essex, [offer_row(licence_number="morga 753116 sm9ij")])
    with schema_context(essex.schema_name):
        assert Offer.objects.get().licence_number == "MORGA753116SM9IJ"


@pytest.mark.parametrize("value", [7700900982, 1e308, True, ["07700"], {"number": "07700"}])
def test_api_refuses_values_that_are_not_text(essex, value):
    _, key = api_key(essex)
    response = api(key).post("/api/v1/offers/", {"offers": [offer_row(phone=value)]},
                             format="json", **ESSEX)
    assert response.status_code == 400
    assert response.json()["errors"]["rows"] == [{"row": 1, "field": "phone", "message": (
        "The phone number must be text in quotes, not a number, true/false, list or object.")}]


def test_api_takes_null_as_a_blank_optional_value(essex):
    _, key = api_key(essex)
    response = api(key).post("/api/v1/offers/", {"offers": [offer_row(email=None, phone=None)]},
                             format="json", **ESSEX)
    assert response.status_code == 201, response.content
    with schema_context(essex.schema_name):
        assert Offer.objects.get().email == ""


def test_api_reports_a_licence_number_too_long_to_store(essex):
    _, key = api_key(essex)
    response = api(key).post("/api/v1/offers/", {"offers": [offer_row(licence_number="ß" * 16)]},
                             format="json", **ESSEX)
    assert response.status_code == 400
    assert [row["field"] for row in response.json()["errors"]["rows"]] == ["licence_number"]


def test_api_refuses_missing_bad_revoked_and_foreign_keys(essex, south_wales):
    stored, key = api_key(essex)
    body = {"offers": [offer_row()]}
    assert api().post("/api/v1/offers/", body, format="json", **ESSEX).status_code == 401
    assert api("nonsense-key").post("/api/v1/offers/", body, format="json",
                                    **ESSEX).status_code == 401
    wrong_secret = key[:8] + "x" * (len(key) - 8)
    assert api(wrong_secret).post("/api/v1/offers/", body, format="json",
                                  **ESSEX).status_code == 401
    # Essex's key means nothing on South Wales's domain.
    foreign = api(key).post("/api/v1/offers/", body, format="json", **SOUTH_WALES)
    assert foreign.status_code == 401
    assert api(key).get("/api/v1/offers/ESX-200001/", **SOUTH_WALES).status_code == 401
    with schema_context(south_wales.schema_name):
        assert not Offer.objects.exists()

    assert api(key).post("/api/v1/offers/", body, format="json", **ESSEX).status_code == 201
    with schema_context(essex.schema_name):
        revoke_api_key(stored, actor="tests")
    revoked = api(key).post("/api/v1/offers/", body, format="json", **ESSEX)
    assert revoked.status_code == 401 and "errors" in revoked.json()


def test_api_key_gets_exactly_its_scopes(essex):
    _, read_only = api_key(essex, scopes=["offers.view"], name="reader")
    client = api(read_only)
    assert client.post("/api/v1/offers/", {"offers": [offer_row()]}, format="json",
                       **ESSEX).status_code == 403
    assert client.get("/api/v1/offers/ESX-200001/", **ESSEX).status_code == 404  # allowed
    assert client.get("/api/v1/organisation/", **ESSEX).status_code == 403  # not in scopes
    _, importer = api_key(essex, scopes=["offers.import"], name="importer")
    assert api(importer).get("/api/v1/offers/ESX-200001/", **ESSEX).status_code == 403
    with pytest.raises(Exception, match="Unknown scopes"):
        api_key(essex, scopes=["platform.onboard"], name="too-much")


def test_staff_token_with_the_role_can_import_and_others_cannot(essex, essex_admin):
    admin = api(Token.objects.create(user=essex_admin).key, scheme="Token")
    response = admin.post("/api/v1/offers/", {"offers": [offer_row()]}, format="json", **ESSEX)
    assert response.status_code == 201
    with schema_context(essex.schema_name):
        assert OfferEvent.objects.get().actor == essex_admin.email
    trainer = make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER)
    refused = api(Token.objects.create(user=trainer).key, scheme="Token").post(
        "/api/v1/offers/", {"offers": [offer_row("ESX-200002")]}, format="json", **ESSEX)
    assert refused.status_code == 403


def test_api_schema_describes_the_offer_endpoints(essex, essex_admin):
    client = api(Token.objects.create(user=essex_admin).key, scheme="Token")
    response = client.get("/api/v1/schema/?format=json", **ESSEX)
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/offers/" in schema["paths"] and "/api/v1/offers/{reference}/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["apiKey"]["type"] == "apiKey"


def test_create_api_key_command_prints_the_key_once(essex):
    out = io.StringIO()
    call_command("create_api_key", "--schema", essex.schema_name, "--name", "feed",
                 "--scopes", "offers.import,offers.view", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    with schema_context(essex.schema_name):
        stored = ApiKey.objects.get(name="feed")
        assert stored.prefix == key[:8] and key not in stored.hashed_key
        assert stored.scopes == ["offers.import", "offers.view"]
    assert api(key).get("/api/v1/offers/ESX-999999/", **ESSEX).status_code == 404
    with pytest.raises(CommandError, match="Unknown scopes"):
        call_command("create_api_key", "--schema", essex.schema_name, "--name", "x",
                     "--scopes", "offers.fly")


# --- the staff upload page ------------------------------------------------------------------

def upload(client, data, name="offers.csv"):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data, "text/csv")}, **ESSEX)


def test_upload_page_needs_the_import_action(essex, client):
    assert client.get(UPLOAD, **ESSEX).status_code == 302  # to sign in
    trainer = make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER)
    client.force_login(trainer)
    assert client.get(UPLOAD, **ESSEX).status_code == 403
    assert upload(client, csv_bytes([offer_row()])).status_code == 403
    with schema_context(essex.schema_name):
        assert not Offer.objects.exists()


def test_client_admin_uploads_a_file_and_sees_the_counts(essex, essex_admin, client):
    client.force_login(essex_admin)
    form = client.get(UPLOAD, **ESSEX)
    page = form.content.decode()
    assert form.status_code == 200
    assert 'class="govuk-file-upload"' in page and 'enctype="multipart/form-data"' in page
    assert "critical_date" in page
    response = upload(client, csv_bytes([offer_row(), offer_row("ESX-200002")], bom=True))
    assert response.status_code == 302 and response["Location"] == UPLOAD + "done/"
    done = client.get(response["Location"], **ESSEX).content.decode()
    assert "Offers imported" in done
    assert '<dd class="govuk-summary-list__value" id="created">2</dd>' in done
    with schema_context(essex.schema_name):
        assert Offer.objects.filter(source="csv").count() == 2
        assert set(OfferEvent.objects.values_list("channel", "actor")) == {
            ("admin", essex_admin.email)}
    assert client.get(UPLOAD + "template.csv", **ESSEX).content.decode("utf-8-sig").startswith(
        "reference,course_type,")


def test_upload_with_bad_rows_shows_the_problems_and_imports_nothing(essex, essex_admin, client):
    client.force_login(essex_admin)
    response = upload(client, csv_bytes([
        offer_row(), offer_row("ESX-200002", critical_date="01/01/2020"),
        offer_row("ESX-200003", course_type="NOPE")]))
    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page and "2 rows have problems, so nothing was imported" in page
    for text in ("<th scope=\"col\" class=\"govuk-table__header\">Field</th>", "Problem",
                 "The critical date must be after the offence date.", "critical_date",
                 "There is no course type with the code NOPE."):
        assert text in page
    with schema_context(essex.schema_name):
        assert not Offer.objects.exists()


def test_upload_with_text_too_long_for_its_column_names_the_row_and_field(essex, essex_admin,
                                                                          client):
    client.force_login(essex_admin)
    response = upload(client, csv_bytes([offer_row(), offer_row("ESX-200002",
                                                                last_name="L" * 101)]))
    assert response.status_code == 400
    page = response.content.decode()
    assert "last_name" in page and "The last name must be 100 characters or fewer." in page
    with schema_context(essex.schema_name):
        assert not Offer.objects.exists()


@pytest.mark.parametrize("data, message", [
    (b"reference,course_type\n", "The file is missing these columns"),
    ("caf\xe9".encode("latin-1"), "The file is not in UTF-8"),
    (b"PK\x03\x04\x14\x00", "not a CSV file"),
    (b"", "The selected file is empty"),
])
def test_upload_of_a_bad_file_gets_a_clear_message(essex, essex_admin, client, data, message):
    client.force_login(essex_admin)
    response = upload(client, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and 'href="#id_file"' in page and "govuk-file-upload--error" in page


def test_upload_over_5_mb_is_refused(essex, essex_admin, client):
    client.force_login(essex_admin)
    just_over = upload(client, b"x" * (5 * 1024 * 1024 + 1))
    assert just_over.status_code == 400
    assert "The selected file must be smaller than 5 MB" in just_over.content.decode()
    far_over = upload(client, b"x" * (6 * 1024 * 1024))
    assert far_over.status_code == 413
    assert "The selected file must be smaller than 5 MB" in far_over.content.decode()
    no_file = client.post(UPLOAD, {}, **ESSEX)
    assert no_file.status_code == 400 and "Select a CSV file" in no_file.content.decode()


# --- the template, the phone rule, and what the person told us --------------------------------

def test_template_link_is_on_the_page_and_the_file_has_an_example_row_with_the_codes(
        essex, essex_admin, client):
    client.force_login(essex_admin)
    page = client.get(UPLOAD, **ESSEX).content.decode()
    intro, _details, _rest = page.partition('<details class="govuk-details">')
    assert 'href="/manage/offers/import/template.csv"' in intro  # not hidden in the details
    assert "<code>NSAC</code>" in page and "<code>cy</code>: Welsh" in page
    response = client.get(UPLOAD + "template.csv", **ESSEX)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    example = rows[0]
    assert example["reference"] == "EXAMPLE-0001" and example["course_type"] == "D4C"
    assert "NSAC" in example["notes"] and "NMAC" in example["notes"]
    assert "cy (Welsh)" in example["notes"] and "en (English)" in example["notes"]
    # Every other cell of the example is good, and the row itself is refused if left in.
    with pytest.raises(ImportRejected) as rejected:
        run_import(essex, rows)
    assert [(e["row"], e["field"]) for e in rejected.value.errors] == [(1, "reference")]
    assert run_import(essex, [{**example, "reference": "ESX-300001"}]).created == 1


@pytest.mark.parametrize("phone", ["call me", "0770", "07700 900982 ext 4", "+44 7700 900982 1234"])
def test_import_refuses_a_phone_number_the_public_form_refuses(essex, phone):
    with pytest.raises(ImportRejected) as rejected:
        run_import(essex, [offer_row(phone=phone)])
    assert rejected.value.errors == [{"row": 1, "field": "phone", "message": (
        "Enter a phone number, like 01632 960 001 or 07700 900 982")}]


def _person_changes_email(organisation, reference, email):
    """What the booking services do when the person gives a new address (an event with it)."""
    from booking.services.events import log_event

    with schema_context(organisation.schema_name):
        offer = Offer.objects.get(reference=reference)
        before = offer.email
        Offer.objects.filter(pk=offer.pk).update(email=email)
        from django.db import transaction
        with transaction.atomic():
            log_event(offer, "offer.details_changed", channel=Channel.ONLINE, actor="offender",
                      before={"email": before}, after={"email": email})


def test_reimport_never_reverts_contact_details_the_person_changed(essex):
    run_import(essex, [offer_row(email="feed@example.com")], source="api", channel=Channel.API)
    _person_changes_email(essex, "ESX-200001", "mine@example.com")

    later = offer_row(email="feed@example.com", last_name="Driver-Smith")
    result = run_import(essex, [later], source="api", channel=Channel.API)
    assert (result.updated, result.conflicts) == (1, 1)
    with schema_context(essex.schema_name):
        offer = Offer.objects.get(reference="ESX-200001")
        assert offer.email == "mine@example.com"  # theirs wins
        assert offer.last_name == "Driver-Smith"  # the feed still updates what is its own
        conflict = OfferEvent.objects.get(offer=offer, kind="offer.import_conflict")
        assert conflict.before == {"email": "mine@example.com"}
        assert conflict.after == {"email": "feed@example.com"}

    # The feed sending the same again records nothing new; a different value does.
    assert run_import(essex, [later], source="api", channel=Channel.API).conflicts == 0
    assert run_import(essex, [{**later, "email": "other@example.com"}], source="api",
                      channel=Channel.API).conflicts == 1
    with schema_context(essex.schema_name):
        assert OfferEvent.objects.filter(kind="offer.import_conflict").count() == 2
        assert Offer.objects.get(reference="ESX-200001").email == "mine@example.com"


def test_import_conflict_is_shown_to_staff_on_the_offender_page(essex, essex_admin, client):
    run_import(essex, [offer_row(email="feed@example.com")], source="api", channel=Channel.API)
    _person_changes_email(essex, "ESX-200001", "mine@example.com")
    run_import(essex, [offer_row(email="feed@example.com")], source="api", channel=Channel.API)
    with schema_context(essex.schema_name):
        offer = Offer.objects.get(reference="ESX-200001")
    client.force_login(essex_admin)
    page = client.get(f"/manage/offenders/{offer.reference}/", **ESSEX).content.decode()
    assert "The police feed sent different contact details" in page
    assert "feed@example.com" in page and "mine@example.com" in page
