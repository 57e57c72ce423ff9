"""Onboard a client from the command line: the same service as the console and the API."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.models import ClientOrganisation
from tenants.services import NewClient, onboard_client

# The option that gave each NewClient field, so an error names what the operator typed.
OPTION_FOR = {"admin_email": "--admin-email", "admin_name": "--admin-name",
              "display_name_cy": "--display-name-cy", "primary_colour": "--colour",
              "contact_phone": "--phone", "contact_email": "--email"}


class Command(BaseCommand):
    help = "Create a live client site with its schema, domain, course types and administrator."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--kind", required=True, choices=ClientOrganisation.Kind.values)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", default="")
        parser.add_argument("--display-name-cy", default="")
        parser.add_argument("--languages", default="en", choices=ClientOrganisation.Languages.values)
        parser.add_argument("--colour", default="#1d70b8")
        parser.add_argument("--phone", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--domain", default="")
        parser.add_argument("--plan", default="",
                            help="Code of the price plan the client is billed on from today.")

    def handle(self, *args, **options):
        new = NewClient(
            name=options["name"], slug=options["slug"], kind=options["kind"],
            admin_email=options["admin_email"], admin_name=options["admin_name"],
            display_name_cy=options["display_name_cy"], languages=options["languages"],
            primary_colour=options["colour"], contact_phone=options["phone"],
            contact_email=options["email"], domain=options["domain"], plan=options["plan"],
        )
        try:
            organisation = onboard_client(new, acting_user="manage.py onboard_client")
        except ValidationError as error:
            errors = (error.message_dict if hasattr(error, "error_dict")
                      else {"__all__": error.messages})
            lines = [f"{OPTION_FOR.get(field, '--' + field.replace('_', '-'))}: "
                     f"{' '.join(messages)}" for field, messages in errors.items()]
            raise CommandError("Nothing was created:\n  " + "\n  ".join(lines)) from error
        domain = organisation.domains.get(is_primary=True).domain
        self.stdout.write(self.style.SUCCESS(
            f"{organisation.name} is live at {domain} (schema {organisation.schema_name}); "
            f"{new.admin_email} has been invited."
        ))
