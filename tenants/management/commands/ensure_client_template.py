"""Create the migrated template schema that new clients are cloned from (idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from tenants.models import ClientOrganisation


class Command(BaseCommand):
    help = "Ensure the client template schema exists; migrate_schemas keeps it current."

    def handle(self, *args, **options):
        connection.set_schema_to_public()
        schema = settings.TENANT_BASE_SCHEMA
        template = ClientOrganisation.objects.filter(schema_name=schema).first()
        created = template is None
        if created:
            template = ClientOrganisation(
                schema_name=schema, name="Client template", slug="client-template",
                kind=ClientOrganisation.Kind.COUNTY_COUNCIL,
                status=ClientOrganisation.Status.ONBOARDING, is_template=True,
                display_name_en="Client template",
            )
        # save() creates the schema if it is missing (also for an existing row whose schema
        # was dropped).
        template.save(verbosity=max(options["verbosity"] - 1, 0))
        if options["verbosity"]:
            self.stdout.write(f"Client template schema {schema}: {'created' if created else 'present'}")
