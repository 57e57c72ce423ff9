"""Whether a sent invoice is paid or overdue: from the platform account's webhooks (each
re-fetches the invoice from Stripe, so late, repeated and out-of-order events are safe) and
from the overdue sweep (sent, unpaid, past its due date). Paid is final."""

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from audit.services import record as audit
from billing.models import Invoice
from integrations import stripe_invoicing as stripe

from .periods import LONDON

STRIPE_ACTOR = "stripe"
# Platform-account events that can change whether an invoice is paid; the handler re-fetches
# the invoice, so the event's type only says that something may have changed.
INVOICE_EVENTS = ("invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed",
                  "invoice.marked_uncollectible", "invoice.overdue")


def settle_invoice_event(obj: dict, *, event_type: str) -> str:
    """The webhook handler for INVOICE_EVENTS on the platform account (tenants.webhooks)."""
    stripe_id = obj.get("id") or ""
    invoice = Invoice.objects.filter(stripe_invoice_id=stripe_id).first() if stripe_id else None
    if invoice is None:
        return "not one of our invoices"
    current = stripe.retrieve_invoice(invoice_id=stripe_id)  # unreachable → retried later
    return apply_stripe_status(invoice.pk, current, acting_user=STRIPE_ACTOR)


def apply_stripe_status(invoice_id: int, current: dict, *, acting_user,
                        now: datetime | None = None) -> str:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        invoice = Invoice.objects.select_for_update(of=("self",)).select_related("client").get(pk=invoice_id)
        before = invoice.stripe_status
        if before == Invoice.StripeStatus.PAID:
            return f"{invoice.number} already paid"
        if current["status"] == "paid":
            invoice.stripe_status = Invoice.StripeStatus.PAID
            invoice.paid_at = (datetime.fromtimestamp(current["paid_at"], LONDON)
                               if current.get("paid_at") else now)
        elif current["status"] == "uncollectible" or (
                current["status"] in ("draft", "open") and _past_due(invoice, now)):
            invoice.stripe_status = Invoice.StripeStatus.OVERDUE
        if invoice.stripe_status == before:
            return f"{invoice.number} {before}; Stripe says {current['status']}"
        invoice.save(update_fields=["stripe_status", "paid_at"])
        audit(action=f"billing.invoice_{invoice.stripe_status}", actor=acting_user, obj=invoice,
              organisation=invoice.client, before={"stripe_status": before},
              after={"stripe_status": invoice.stripe_status})
        return f"{invoice.number} {invoice.stripe_status}"


def _past_due(invoice: Invoice, now: datetime) -> bool:
    return invoice.due_on is not None and invoice.due_on < now.astimezone(LONDON).date()


def mark_overdue(*, acting_user, today: date | None = None) -> list[Invoice]:
    """The sweep: every sent, unpaid invoice whose due date has passed becomes overdue."""
    today = today or timezone.now().astimezone(LONDON).date()
    with transaction.atomic(durable=True):
        due = list(Invoice.objects.select_for_update(of=("self",)).select_related("client").filter(
            status=Invoice.Status.FINALISED, stripe_status=Invoice.StripeStatus.SENT,
            due_on__lt=today).order_by("number"))
        for invoice in due:
            invoice.stripe_status = Invoice.StripeStatus.OVERDUE
            invoice.save(update_fields=["stripe_status"])
            audit(action="billing.invoice_overdue", actor=acting_user, obj=invoice,
                  organisation=invoice.client, before={"stripe_status": "sent"},
                  after={"stripe_status": "overdue", "due_on": invoice.due_on.isoformat()})
    return due
