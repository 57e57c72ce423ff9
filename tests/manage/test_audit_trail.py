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
    assert "Branding changed" in page and "Special-circumstances case opened" in page
    by_user = get(client, "/manage/audit/", data={"user": "client_admin@"}).content.decode()
    assert "Branding changed" in by_user
    nobody = get(client, "/manage/audit/", data={"user": "nobody@"}).content.decode()
    assert "No entries." in nobody
    by_object = get(client, "/manage/audit/", data={
        "object_type": "booking.SpecialCircumstancesCase",
        "object_id": str(world["case"].pk)}).content.decode()
    assert "Special-circumstances case opened" in by_object
    assert "Branding changed" not in by_object
    today = timezone.localdate()
    dated = get(client, "/manage/audit/", data={
        "date_from": (today - timedelta(days=1)).isoformat(),
        "date_to": today.isoformat()}).content.decode()
    assert "Special-circumstances case opened" in dated
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
            target = f"{field}_day" if field.startswith("date_") else field
            assert f'href="#id_{target}"'.encode() in response.content


def test_another_clients_trail_is_not_shown(world, staff, south_wales, client):
    from django.db import transaction
    from django_tenants.utils import schema_context

    from audit.services import record

    with schema_context(south_wales.schema_name), transaction.atomic():
        record(actor="system", action="secret.south_wales", obj=south_wales)
    client.force_login(staff[Role.AUDITOR])
    assert b"secret.south_wales" not in get(client, "/manage/audit/").content


def test_imports_and_register_outcomes_are_in_the_trail_in_words(world, staff, client):
    import re

    from booking.models import Channel
    from booking.services.offer_import import import_offers
    from booking.services.offers import record_outcome
    from tests.test_offer_import import offer_row

    import_offers([offer_row("ESX-400001")], source="csv", actor=staff[Role.CLIENT_ADMIN],
                  channel=Channel.ADMIN)
    record_outcome(world["booking"].pk, "completed", actor=staff[Role.CLIENT_ADMIN],
                   id_seen="licence")
    client.force_login(staff[Role.AUDITOR])
    page = get(client, "/manage/audit/").content.decode()
    assert "Offers imported" in page and "CSV file" in page
    import html as html_module
    page = html_module.unescape(page)
    assert "Register: outcome recorded" in page and "Attended and completed" in page
    # No code names in what is shown: no model labels, no dotted actions, no Python reprs.
    text = re.sub(r"<[^>]+>", " ", page)
    assert not re.search(r"booking\.[A-Z]\w+|\b[a-z_]+\.[a-z_]+_[a-z_]+\b|\{'|None\b", text)
    kinds = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', page)
    labels = dict(kinds)
    assert "." not in labels["booking.SpecialCircumstancesCase"]


def test_every_action_the_code_records_has_words():
    import re
    from pathlib import Path

    from booking.audit_trail import ACTIONS

    root = Path(__file__).resolve().parents[2]
    found = set()
    pattern = re.compile(r'action="([a-z_]+\.[a-z_]+)"(?:\s+if [^\n]*? else "([a-z_]+\.[a-z_]+)")?')
    for folder in ("booking", "tenants"):
        for path in (root / folder).rglob("*.py"):
            for first, second in pattern.findall(path.read_text()):
                found.update({first, second} - {""})
    for path in (root / "booking" / "services").rglob("*.py"):
        found.update(re.findall(r'"([a-z_]+\.[a-z_]+)" if [^\n]*? else "[a-z_]+\.[a-z_]+",\s*obj=',
                                path.read_text()))
    assert {"offers.imported", "booking.outcome_recorded", "venue.changed"} <= found
    missing = sorted(found - set(ACTIONS))
    assert missing == [], f"put these in booking/audit_trail.py: {missing}"
