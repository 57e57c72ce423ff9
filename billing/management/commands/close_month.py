"""Close a past Europe/London month: draft (or refresh) each live client's invoice, then
finalise every draft whose grace period is over.

    manage.py close_month --period 2026-11
    manage.py close_month --finalise-only
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.services.invoices import GRACE_DAYS, close_month, finalise_due
from billing.services.periods import period_of


class Command(BaseCommand):
    help = "Draft invoices for a past month and finalise drafts past their grace period."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="YYYY-MM (default: last month)")
        parser.add_argument("--grace-days", type=int, default=GRACE_DAYS)
        parser.add_argument("--finalise-only", action="store_true")

    def handle(self, *args, period=None, grace_days=GRACE_DAYS, finalise_only=False, **options):
        actor = "close_month"
        if not finalise_only:
            if period:
                try:
                    year, month = (int(part) for part in period.split("-"))
                    chosen = date(year, month, 1)
                except ValueError:
                    raise CommandError("--period must be YYYY-MM") from None
            else:
                this = period_of(timezone.now())
                chosen = date(this.year - (this.month == 1), (this.month - 2) % 12 + 1, 1)
            try:
                invoices = close_month(chosen, acting_user=actor, grace_days=grace_days)
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
            for invoice in invoices:
                self.stdout.write(f"{invoice.number} {invoice.client.slug} {invoice.period:%Y-%m} "
                                  f"{invoice.status} £{invoice.total_pence / 100:.2f}")
        for invoice in finalise_due(acting_user=actor):
            self.stdout.write(f"finalised {invoice.number}")
