"""Compare a client's payments with Stripe's records for a date range and list differences, and
list the refunds cancellations promised that are not made yet (the refunds-due job makes them)."""

from datetime import date, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import Booking, OfferEvent, Payment
from booking.services.refunds import refund_outstanding, refunds_due
from booking.templatetags.booking_format import pounds
from integrations import stripe_gateway as gateway
from tenants.models import ClientOrganisation


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date like 2026-11-30") from None


class Command(BaseCommand):
    help = ("List differences between our payment records and Stripe's for one client, and the "
            "refunds it owes.")

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="the client's short name, e.g. essex")
        parser.add_argument("--from", dest="date_from", required=True, type=_day)
        parser.add_argument("--to", dest="date_to", required=True, type=_day)

    def handle(self, *args, client, date_from, date_to, **options):
        organisation = ClientOrganisation.objects.filter(slug=client, is_template=False).first()
        if organisation is None:
            raise CommandError(f"No client called {client!r}.")
        if not organisation.stripe_account_id:
            raise CommandError(f"{organisation.name} has no Stripe account.")
        if date_to < date_from:
            raise CommandError("--to is before --from.")
        tz = timezone.get_current_timezone()
        start = datetime.combine(date_from, time.min, tzinfo=tz)
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
        try:
            theirs = {intent["id"]: intent for intent in gateway.list_payment_intents(
                account_id=organisation.stripe_account_id,
                created_from=int(start.timestamp()), created_to=int(end.timestamp()) - 1)}
        except gateway.PaymentServiceUnavailable as error:
            raise CommandError(f"Stripe could not be reached: {error}") from error
        with schema_context(organisation.schema_name):
            # An attempt never answered by Stripe has no PaymentIntent: nothing can be paid on it.
            ours = {p.stripe_payment_intent_id: p for p in Payment.objects.filter(
                created_at__gte=start, created_at__lt=end).exclude(stripe_payment_intent_id=None)
                .select_related("booking")}
            differences = list(self._compare(ours, theirs))
            owed = self._refunds_owed()
        self.stdout.write(f"{organisation.name}: {len(ours)} payments here, {len(theirs)} in "
                          f"Stripe, {date_from} to {date_to}.")
        for intent_id, problem in differences:
            self.stdout.write(f"  {intent_id}: {problem}")
        self.stdout.write("No differences." if not differences
                          else f"{len(differences)} difference(s).")
        if not owed:
            self.stdout.write("No refunds owed.")
            return
        self.stdout.write(f"{len(owed)} refund(s) owed, {pounds(sum(p for _r, p, _w in owed))} "
                          "in all, not yet taken by Stripe (the refunds-due job retries them):")
        for reference, pence, cancelled_at in owed:
            self.stdout.write(f"  {reference}: {pounds(pence)} owed since "
                              f"{timezone.localtime(cancelled_at):%Y-%m-%d %H:%M}")

    @staticmethod
    def _refunds_owed() -> list[tuple[str, int, object]]:
        """(booking reference, pence still owed, when it was cancelled), at any date."""
        owed = []
        for booking_id in refunds_due():
            cancelled_at = (OfferEvent.objects.filter(booking_id=booking_id,
                                                      kind="booking.cancelled")
                            .order_by("occurred_at").values_list("occurred_at", flat=True)
                            .first())
            owed.append((Booking.objects.values_list("reference", flat=True).get(pk=booking_id),
                         refund_outstanding(booking_id), cancelled_at))
        return owed

    @staticmethod
    def _compare(ours, theirs):
        for intent_id, payment in ours.items():
            intent = theirs.get(intent_id)
            if intent is None:
                yield intent_id, f"ours ({payment.booking.reference}) but not in Stripe's list"
                continue
            if intent["amount"] != payment.amount_pence:
                yield intent_id, (f"amount differs: ours {payment.amount_pence}p, Stripe "
                                  f"{intent['amount']}p")
            paid_there = intent["status"] == "succeeded"
            paid_here = payment.status == Payment.Status.SUCCEEDED
            if paid_there != paid_here:
                yield intent_id, (f"status differs: ours {payment.status}, Stripe "
                                  f"{intent['status']}")
        for intent_id, intent in theirs.items():
            if intent_id not in ours:
                yield intent_id, (f"in Stripe ({intent['status']}, {intent['amount']}p) but not "
                                  "recorded here")
