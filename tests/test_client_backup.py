"""One client's schema backed up and restored on its own: what it changed since the backup is
undone, every other client and the public schema keep what they changed meanwhile."""

import secrets

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from booking.models import CourseType, Offer
from tenants.services import NewClient, onboard_client

from .journey_data import make_journey_data


@pytest.fixture
def own_client(transactional_db):
    slug = f"bak-{secrets.token_hex(3)}"
    organisation = onboard_client(
        NewClient(name=f"Backup {slug}", slug=slug, kind="county_council",
                  admin_email=f"admin@{slug}.test"), acting_user="tests")
    yield organisation
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{organisation.schema_name}" CASCADE')


def test_one_client_restored_without_touching_another(own_client, essex, tmp_path):
    offer, _sessions = make_journey_data(own_client, reference="BAK-000001")
    dump = tmp_path / "client.dump"
    call_command("backup_client", client=own_client.slug, to=dump, stdout=open("/dev/null", "w"))
    assert dump.stat().st_size > 0

    # After the backup: the client's data changes, and so do another client's and the public's.
    with schema_context(own_client.schema_name):
        Offer.objects.filter(pk=offer.pk).update(email="changed@example.test")
    make_journey_data(own_client, reference="BAK-000002")
    with schema_context(essex.schema_name):
        CourseType.objects.filter(code="NSAC").update(name_en="Changed in Essex after")
    User.objects.create_user(email="after@waymark.test", password="x" * 16)

    call_command("restore_client", client=own_client.slug, source=dump, yes=True,
                 stdout=open("/dev/null", "w"))

    with schema_context(own_client.schema_name):
        assert Offer.objects.get(reference="BAK-000001").email == offer.email
        assert not Offer.objects.filter(reference="BAK-000002").exists()
        assert CourseType.objects.filter(code="NSAC").exists()
    with schema_context(essex.schema_name):
        assert CourseType.objects.get(code="NSAC").name_en == "Changed in Essex after"
    assert User.objects.filter(email="after@waymark.test").exists()


def test_a_dump_of_another_client_is_refused(own_client, essex, tmp_path):
    dump = tmp_path / "essex.dump"
    call_command("backup_client", client="essex", to=dump, stdout=open("/dev/null", "w"))
    make_journey_data(own_client, reference="BAK-000003")
    with pytest.raises(CommandError, match="not a backup of this client"):
        call_command("restore_client", client=own_client.slug, source=dump, yes=True)
    with schema_context(own_client.schema_name):
        assert Offer.objects.filter(reference="BAK-000003").exists()


def test_restore_asks_for_confirmation(own_client, tmp_path):
    dump = tmp_path / "client.dump"
    call_command("backup_client", client=own_client.slug, to=dump, stdout=open("/dev/null", "w"))
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore_client", client=own_client.slug, source=dump)
    with pytest.raises(CommandError, match="No client called"):
        call_command("backup_client", client="nobody", to=dump)
