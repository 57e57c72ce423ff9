"""Dump one client's schema to a file: `manage.py backup_client --client essex --to essex.dump`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.backups import BackupError, back_up_client
from tenants.models import ClientOrganisation


def client_called(slug: str) -> ClientOrganisation:
    organisation = ClientOrganisation.objects.filter(slug=slug, is_template=False).first()
    if organisation is None:
        raise CommandError(f"No client called {slug!r}.")
    return organisation


class Command(BaseCommand):
    help = "Dump one client's schema (pg_dump custom format), nothing of any other client's."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="the client's short name, e.g. essex")
        parser.add_argument("--to", required=True, type=Path, help="the file to write")

    def handle(self, *args, client, to, **options):
        organisation = client_called(client)
        try:
            back_up_client(organisation, to)
        except BackupError as error:
            raise CommandError(f"The backup failed: {error}") from error
        self.stdout.write(f"{organisation.name}: schema {organisation.schema_name} written to "
                          f"{to} ({to.stat().st_size} bytes).")
