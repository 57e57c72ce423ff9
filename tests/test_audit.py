"""The audit trail is append-only at the database, in the public schema and in client schemas."""

import pytest
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context

from audit.models import AuditEntry
from audit.services import record


def _entry(subject):
    with transaction.atomic():
        return record(actor="tests", action="test.recorded", obj=subject, after={"x": 1})


@pytest.mark.parametrize("schema", ["public", "client_essex"])
def test_entries_cannot_be_changed_or_deleted(essex, schema):
    with schema_context(schema):
        entry = _entry(essex)
        with pytest.raises(IntegrityError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).update(action="rewritten")
        with pytest.raises(IntegrityError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()
        with pytest.raises(ValueError):
            entry.save()
        assert AuditEntry.objects.get(pk=entry.pk).action == "test.recorded"
    connection.set_schema_to_public()


def test_record_refuses_to_run_outside_a_transaction(essex):
    # Under pytest-django the test itself is a transaction; a bare connection is not.
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError):
            record(actor="tests", action="x", obj=essex)
    finally:
        connection.in_atomic_block = saved


def test_console_shows_the_trail_to_provider_staff(essex, provider_support, client):
    from .conftest import sign_in_verified

    sign_in_verified(client, provider_support)
    page = client.get("/audit/?action=organisation.", HTTP_HOST="localhost").content.decode()
    # The action in words (booking/audit_trail.py), never its code name.
    assert "Client set up" in page and "Essex County Council" in page
    assert "organisation.onboarded" not in page
