"""The demo's price plans and the demo clients' plans (safe to run again)."""

from django.core.management.base import BaseCommand

from billing.demo import seed_billing


class Command(BaseCommand):
    help = "Create the demo's two price plans and put the demo clients on them."

    def handle(self, *args, **options):
        for line in seed_billing() or ["nothing to do"]:
            self.stdout.write(line)
