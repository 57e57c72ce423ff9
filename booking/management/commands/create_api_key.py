"""Create an API key for a client's integration and print it once:

    manage.py create_api_key --schema client_essex --name feed --scopes offers.import,offers.view
"""

import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from booking.services.api_keys import create_api_key
from tenants.models import ClientOrganisation


class Command(BaseCommand):
    help = "Create an API key for a client and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True, help="the client's schema, e.g. "
                                                            "client_essex")
        parser.add_argument("--name", required=True, help="what the key is for, e.g. feed")
        parser.add_argument("--scopes", required=True,
                            help="comma-separated actions, e.g. offers.import,offers.view")

    def handle(self, *args, schema, name, scopes, **options):
        if not ClientOrganisation.objects.filter(schema_name=schema).exists():
            raise CommandError(f"No client has the schema {schema!r}.")
        scope_list = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        try:
            with schema_context(schema):
                api_key, key = create_api_key(name, scope_list,
                                              actor=f"manage.py ({getpass.getuser()})")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(f"Created {api_key} with scopes {', '.join(api_key.scopes)}. "
                          "Copy the key now; it is not shown again:")
        self.stdout.write(key)
