"""Count the report tallies again from the bookings, offers, payments and refunds (and copy
each call's offer's course type onto it), in every client schema or in
the ones named: after data was loaded in bulk past the services (booking/tallies.py)."""

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from booking import tallies
from tenants.models import ClientOrganisation


class Command(BaseCommand):
    help = "Recount the report tallies from the bookings, offers, payments and refunds."

    def add_arguments(self, parser):
        parser.add_argument("schemas", nargs="*", help="client schemas (default: every client)")

    def handle(self, *args, schemas, **options):
        names = schemas or list(ClientOrganisation.objects.filter(is_template=False)
                                .values_list("schema_name", flat=True))
        unknown = set(names) - set(ClientOrganisation.objects.values_list("schema_name",
                                                                          flat=True))
        if unknown:
            self.stderr.write(f"No client has the schema {', '.join(sorted(unknown))}.")
            raise SystemExit(2)
        for name in names:
            with schema_context(name):
                tallies.rebuild()
            self.stdout.write(f"{name}: tallies recounted")
