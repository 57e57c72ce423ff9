"""The audit trail viewer: this client's entries, filtered by who, which record and when."""

from datetime import timedelta

from django.utils import timezone

from accounts.roles import Role

from .conftest import get, post


def test_filters(world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    post(client, "/manage/configure/branding/", {
        "display_name_en": "Essex Roads", "primary_colour": "#0b0c0c"})
    client.force_login(staff[Role.AUDITOR])
    page = get(client, "/manage/audit/").content.decode()
    assert "organisation.branding_changed" in page and "case.raised" in page
    by_user = get(client, "/manage/audit/", data={"user": "client_admin@"}).content.decode()
    assert "organisation.branding_changed" in by_user
    nobody = get(client, "/manage/audit/", data={"user": "nobody@"}).content.decode()
    assert "No entries." in nobody
    by_object = get(client, "/manage/audit/", data={
        "object_type": "booking.SpecialCircumstancesCase",
        "object_id": str(world["case"].pk)}).content.decode()
    assert "case.raised" in by_object and "branding_changed" not in by_object
    today = timezone.localdate()
    dated = get(client, "/manage/audit/", data={
        "date_from": (today - timedelta(days=1)).isoformat(),
        "date_to": today.isoformat()}).content.decode()
    assert "case.raised" in dated
    future = get(client, "/manage/audit/", data={
        "date_from": (today + timedelta(days=1)).isoformat()}).content.decode()
    assert "No entries." in future


def test_bad_filters_are_errors(world, staff, client):
    client.force_login(staff[Role.AUDITOR])
    for data, field in (({"date_from": "yesterday"}, "date_from"),
                        ({"date_from": "2026-02-02", "date_to": "2026-01-01"}, "date_to"),
                        ({"object_type": "nonsense"}, "object_type"),
                        ({"date_to": "9999-12-31", "page": "999"}, None)):
        response = get(client, "/manage/audit/", data=data)
        assert response.status_code == 200
        if field:
            assert f'href="#id_{field}"'.encode() in response.content


def test_another_clients_trail_is_not_shown(world, staff, south_wales, client):
    from django.db import transaction
    from django_tenants.utils import schema_context

    from audit.services import record

    with schema_context(south_wales.schema_name), transaction.atomic():
        record(actor="system", action="secret.south_wales", obj=south_wales)
    client.force_login(staff[Role.AUDITOR])
    assert b"secret.south_wales" not in get(client, "/manage/audit/").content
