"""Each client schema's migrate renders the migration state once per process, not once per schema
(tenants/schema_migrate.py), and still applies every migration in every schema."""

import sys
import uuid

from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from tenants.schema_migrate import OnceRenderedStateExecutor, has_migrations_table

THROWAWAY = '''from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("booking", "{leaf}")]
    operations = [migrations.RunSQL(
        "ALTER TABLE booking_venue ADD COLUMN test_schema_migrate text",
        "ALTER TABLE booking_venue DROP COLUMN test_schema_migrate")]
'''


def state_in(schema_name):
    connection.set_schema(schema_name)
    try:
        return OnceRenderedStateExecutor(connection)._create_project_state(with_applied_migrations=True)
    finally:
        connection.set_schema_to_public()


def test_schemas_with_the_same_migrations_share_one_rendering(essex, south_wales):
    OnceRenderedStateExecutor.rendered.clear()
    first, second = state_in(essex.schema_name), state_in(south_wales.schema_name)
    assert first is not second  # each schema migrates its own clone...
    venue = first.apps.get_model("booking", "Venue")
    assert second.apps.get_model("booking", "Venue") is venue  # ...of one rendered state
    assert len(OnceRenderedStateExecutor.rendered) == 1

    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute(
            f'DELETE FROM "{south_wales.schema_name}".django_migrations '
            "WHERE app = 'booking' AND name = (SELECT max(name) FROM "
            f"\"{south_wales.schema_name}\".django_migrations WHERE app = 'booking')"
        )
    behind = state_in(south_wales.schema_name)
    assert behind.apps.get_model("booking", "Venue") is not venue  # a state of its own


def test_a_new_migration_is_applied_in_every_client_schema(essex, south_wales, settings, tmp_path):
    leaf = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("booking")[0][1]
    package = tmp_path / f"booking_migrations_{uuid.uuid4().hex[:8]}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for source in (settings.BASE_DIR / "booking" / "migrations").glob("[0-9]*.py"):
        (package / source.name).symlink_to(source)
    (package / "9999_test_schema_migrate.py").write_text(THROWAWAY.format(leaf=leaf))
    sys.path.insert(0, str(tmp_path))
    settings.MIGRATION_MODULES = {"booking": package.name}
    OnceRenderedStateExecutor.rendered.clear()
    try:
        # Inside the test's transaction: every schema's DDL is rolled back with it.
        call_command("migrate_schemas", tenant=True, executor="standard", interactive=False,
                     verbosity=0)
    finally:
        sys.path.remove(str(tmp_path))
        OnceRenderedStateExecutor.rendered.clear()

    with connection.cursor() as cursor:
        for organisation in (essex, south_wales):
            schema = organisation.schema_name
            cursor.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = 'booking_venue' AND column_name = 'test_schema_migrate'",
                [schema],
            )
            assert cursor.fetchone()[0] == 1, schema
            cursor.execute(
                f'SELECT count(*) FROM "{schema}".django_migrations '
                "WHERE app = 'booking' AND name = '9999_test_schema_migrate'"
            )
            assert cursor.fetchone()[0] == 1, schema


def test_the_migrations_table_is_looked_for_in_the_schema_itself_never_in_public(essex):
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute('CREATE SCHEMA "not_migrated_yet"')
    try:
        connection.set_schema("not_migrated_yet")  # search path: not_migrated_yet, public
        assert has_migrations_table(MigrationRecorder(connection)) is False
        connection.set_schema(essex.schema_name)
        assert has_migrations_table(MigrationRecorder(connection)) is True
    finally:
        connection.set_schema_to_public()
