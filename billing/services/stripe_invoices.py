"""Finalised invoices go to the client's customer on the platform's Stripe account: one
invoice item per line (and one for the VAT, so Stripe asks for exactly our total), an invoice,
finalised and sent. Our invoice stays the document of record; Stripe collects it.

Sending runs after commit, outside any transaction or lock of ours, and is safe to repeat:
what an earlier attempt made on Stripe is found by our invoice number and reused, never made
twice. Stripe unreachable leaves the invoice "not sent" with the error kept, for the retry job
(send_unsent, from beat). Payment status comes from Stripe's webhooks, each re-fetching the
invoice from Stripe, and from the overdue sweep.
"""

import logging
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record as audit
from billing.models import Invoice, StripeCustomer
from integrations import stripe_invoicing as stripe

from .periods import LONDON

log = logging.getLogger(__name__)

PAYMENT_TERMS_DAYS = 30
RETRY_BATCH = 200
SENDABLE = (Invoice.Status.FINALISED,)


# Set for a minute when Stripe could not be reached: the sends handed over on commit of a
# month's finalisations then wait for the retry job instead of each waiting on Stripe.
STRIPE_DOWN_KEY = "billing:stripe-unreachable"
STRIPE_DOWN_SECONDS = 60


def dispatch_send(invoice_id: int) -> None:
    """Hand the send to a worker (called on commit of the finalisation)."""
    from billing.tasks import send_invoice_task  # the task module imports this one

    send_invoice_task.delay(invoice_id)


def stripe_recently_unreachable() -> bool:
    return bool(cache.get(STRIPE_DOWN_KEY))


def send_invoice(invoice_id: int, *, acting_user, now: datetime | None = None) -> Invoice:
    """Put a finalised invoice on Stripe and send it; a sent invoice is left as it is."""
    now = now or timezone.now()
    invoice = Invoice.objects.select_related("client").get(pk=invoice_id)
    if invoice.status not in SENDABLE:
        raise ValidationError({"invoice": _("Only a finalised invoice can be sent.")})
    if invoice.sent_at is not None or invoice.stripe_status != Invoice.StripeStatus.NOT_SENT:
        return invoice
    try:
        stripe_id = _put_on_stripe(invoice)
        sent = stripe.send(invoice_id=stripe_id, idempotency_key=_key(invoice))
    except (stripe.PaymentServiceUnavailable, stripe.InvoicingRefused) as error:
        log.warning("Invoice %s not sent to Stripe: %s", invoice.number, error)
        if isinstance(error, stripe.PaymentServiceUnavailable):
            cache.set(STRIPE_DOWN_KEY, True, STRIPE_DOWN_SECONDS)
        with transaction.atomic(durable=True):
            locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
            locked.send_error = f"{type(error).__name__}: {error}"[:2000]
            locked.save(update_fields=["send_error"])
        return locked
    cache.delete(STRIPE_DOWN_KEY)
    return _record_sent(invoice.pk, stripe_id, sent, now=now, acting_user=acting_user)


def send_unsent(*, acting_user, now: datetime | None = None) -> dict:
    """The retry job: send every finalised invoice not yet sent, oldest number first (so an
    earlier invoice's items never end up on a later one), stopping once Stripe proves
    unreachable. Returns how many were sent and how many are still not sent."""
    report = {"sent": 0, "not_sent": 0}
    unsent = list(Invoice.objects.filter(status=Invoice.Status.FINALISED, sent_at=None,
                                         stripe_status=Invoice.StripeStatus.NOT_SENT)
                  .order_by("number").values_list("pk", flat=True)[:RETRY_BATCH])
    cache.delete(STRIPE_DOWN_KEY)  # this job is what finds out whether Stripe is back
    for done, invoice_id in enumerate(unsent):
        invoice = send_invoice(invoice_id, acting_user=acting_user, now=now)
        report["sent" if invoice.sent_at else "not_sent"] += 1
        if stripe_recently_unreachable():
            report["not_sent"] += len(unsent) - done - 1
            break
    return report


def _key(invoice: Invoice) -> str:
    return f"waymark-invoice-{invoice.number}"


def _put_on_stripe(invoice: Invoice) -> str:
    """The Stripe invoice for ours, made (with its items) unless an earlier attempt made it."""
    if invoice.stripe_invoice_id:
        return invoice.stripe_invoice_id
    customer_id = _customer_for(invoice.client)
    found = stripe.find_invoice(customer_id=customer_id, number=invoice.number)
    if found is None:
        _add_items(invoice, customer_id)
        found = stripe.create_invoice(
            customer_id=customer_id, metadata={"waymark_invoice": invoice.number},
            description=_("Waymark invoice %(number)s for %(month)s") % {
                "number": invoice.number, "month": invoice.period.strftime("%B %Y")},
            days_until_due=PAYMENT_TERMS_DAYS, idempotency_key=_key(invoice))
    # Kept at once, so a webhook for it finds our invoice even before it is marked sent.
    with transaction.atomic(durable=True):
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        locked.stripe_invoice_id = found["id"]
        locked.save(update_fields=["stripe_invoice_id"])
    return found["id"]


def _customer_for(client) -> str:
    existing = StripeCustomer.objects.filter(client=client).first()
    if existing is not None:
        return existing.customer_id
    customer_id = stripe.create_customer(
        name=client.name, email=client.contact_email, metadata={"waymark_client": client.slug},
        idempotency_key=f"waymark-customer-{client.pk}")
    with transaction.atomic(durable=True):
        row, _created = StripeCustomer.objects.get_or_create(
            client=client, defaults={"customer_id": customer_id})
    return row.customer_id


def stripe_lines(invoice: Invoice) -> list[tuple[str, int, str]]:
    """(our reference, amount in pence, description) of each Stripe invoice item."""
    items = []
    for line in invoice.lines.all():
        description = line.description
        if line.quantity != 1:
            description = f"{line.description} ({line.quantity} × {line.unit_pence / 100:.2f})"
        items.append((str(line.position), line.amount_pence, description))
    if invoice.vat_pence:
        items.append(("vat", invoice.vat_pence, _("VAT at %(rate)s%%") % {
            "rate": f"{invoice.vat_rate_basis_points / 100:g}"}))
    return items


def _add_items(invoice: Invoice, customer_id: str) -> None:
    """Each line as a pending item on the customer, skipping those an earlier attempt made.
    Stripe puts every pending item on the next invoice, so another invoice's leftovers stop
    this one until that one is sent."""
    pending = stripe.pending_items(customer_id=customer_id)
    others = [item for item in pending
              if item["metadata"].get("waymark_invoice") != invoice.number]
    if others:
        raise stripe.InvoicingRefused(
            f"customer {customer_id} has {len(others)} pending item(s) of another invoice")
    made = {item["metadata"].get("waymark_line") for item in pending}
    for reference, amount, description in stripe_lines(invoice):
        if reference in made:
            continue
        stripe.create_item(customer_id=customer_id, amount_pence=amount,
                           description=description,
                           metadata={"waymark_invoice": invoice.number,
                                     "waymark_line": reference},
                           idempotency_key=f"{_key(invoice)}-line-{reference}")


def _record_sent(invoice_id: int, stripe_id: str, sent: dict, *, now: datetime,
                 acting_user) -> Invoice:
    with transaction.atomic(durable=True):
        locked = Invoice.objects.select_for_update(of=("self",)).select_related("client").get(pk=invoice_id)
        if locked.sent_at is not None:
            return locked
        locked.sent_at = now
        locked.due_on = (datetime.fromtimestamp(sent["due_date"], LONDON).date()
                         if sent.get("due_date")
                         else now.astimezone(LONDON).date() + timedelta(days=PAYMENT_TERMS_DAYS))
        if locked.stripe_status == Invoice.StripeStatus.NOT_SENT:  # a webhook may be first
            locked.stripe_status = Invoice.StripeStatus.SENT
        locked.send_error = ""
        locked.save(update_fields=["sent_at", "due_on", "stripe_status", "send_error"])
        audit(action="billing.invoice_sent", actor=acting_user, obj=locked,
              organisation=locked.client, after={"stripe_invoice_id": stripe_id,
                                                 "due_on": locked.due_on.isoformat()})
    return locked
