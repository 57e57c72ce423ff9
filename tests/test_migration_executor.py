"""migrate_schemas skips only the client schemas that record every migration on disk
(tenants/migration_executor.py); anything else, and every special option, is migrated as
django-tenants would."""

from django.db import connection

from tenants import migration_executor
from tenants.migration_executor import SkipUpToDateExecutor, up_to_date_schemas


class Recording:
    """Stands in for django-tenants' executor: records which schemas it was given."""

    given: list = []

    def __init__(self, args, options):
        pass

    def run_migrations(self, tenants=None):
        Recording.given = list(tenants or [])


def test_migrated_schemas_are_up_to_date_and_one_missing_a_migration_is_not(essex, south_wales):
    schemas = [essex.schema_name, south_wales.schema_name, "no_such_schema"]
    assert up_to_date_schemas(schemas) == {essex.schema_name, south_wales.schema_name}
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute(
            f'DELETE FROM "{south_wales.schema_name}".django_migrations '
            "WHERE app = 'booking' AND name = '0001_initial'"
        )
    assert up_to_date_schemas(schemas) == {essex.schema_name}


def test_a_migration_added_on_disk_makes_every_schema_due(essex, monkeypatch):
    real = migration_executor.required_migrations
    monkeypatch.setattr(
        migration_executor,
        "required_migrations",
        lambda: real() | {("booking", "9999_not_applied_anywhere")},
    )
    assert up_to_date_schemas([essex.schema_name]) == set()


def test_the_executor_is_given_only_the_schemas_due(essex, south_wales, settings):
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM \"{essex.schema_name}\".django_migrations WHERE app = 'booking' AND name = '0001_initial'"
        )
    tenants = [essex.schema_name, south_wales.schema_name]
    SkipUpToDateExecutor(Recording, [], {"verbosity": 0}).run_migrations(tenants=tenants)
    assert Recording.given == [essex.schema_name]

    for option in ("fake", "app_label", "plan", "check_unapplied"):
        Recording.given = []
        SkipUpToDateExecutor(Recording, [], {"verbosity": 0, option: "x"}).run_migrations(tenants=tenants)
        assert Recording.given == tenants, option

    settings.TENANT_MIGRATIONS_SKIP_UP_TO_DATE = False
    SkipUpToDateExecutor(Recording, [], {"verbosity": 0}).run_migrations(tenants=tenants)
    assert Recording.given == tenants
