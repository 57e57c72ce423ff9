"""Put one client's schema back from its dump:
`manage.py restore_client --client essex --from essex.dump --yes`. Every other schema, the
public one included, is left as it is."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.backups import BackupError, restore_client

from .backup_client import client_called


class Command(BaseCommand):
    help = ("Replace one client's schema with its backup (from backup_client). Everything the "
            "client changed since the backup is lost; no other client is touched.")

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="the client's short name, e.g. essex")
        parser.add_argument("--from", dest="source", required=True, type=Path,
                            help="the dump backup_client wrote")
        parser.add_argument("--yes", action="store_true",
                            help="confirm that the client's current data is to be replaced")

    def handle(self, *args, client, source, yes, **options):
        organisation = client_called(client)
        if not source.is_file():
            raise CommandError(f"There is no file at {source}.")
        if not yes:
            raise CommandError(f"This replaces everything in {organisation.name}'s schema with "
                               "the backup. Run again with --yes to do it.")
        try:
            restore_client(organisation, source)
        except BackupError as error:
            raise CommandError(f"Nothing was changed: {error}") from error
        self.stdout.write(f"{organisation.name}: schema {organisation.schema_name} restored "
                          f"from {source}. Run migrate_schemas --schema="
                          f"{organisation.schema_name} if the backup is older than the code.")
