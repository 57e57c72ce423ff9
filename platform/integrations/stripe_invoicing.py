"""The platform's own Stripe account invoicing its clients (no Stripe-Account header: these are
Waymark's invoices, not a client's charges).

Every call has an idempotency key from our ids, and every object carries our invoice number in
its metadata so a retry finds what an earlier attempt made, even after Stripe has forgotten the
key (24 hours) or where it never kept one (localstripe ignores idempotency keys).

localstripe invoices only subscriptions and has no finalize or send: config.localstripe_server
adds one-off invoices as Stripe makes them, so the calls here are the same for both (bar the
item list's `pending` filter, below).
"""

import stripe

from .stripe_gateway import PaymentServiceUnavailable, _call, _client, uses_localstripe

__all__ = ["InvoicingRefused", "PaymentServiceUnavailable", "create_customer",
           "find_invoice", "pending_items", "create_item", "create_invoice", "send",
           "retrieve_invoice"]


class InvoicingRefused(Exception):
    """Stripe refused the request (bad or conflicting data): retrying unchanged will not help
    until someone looks, but nothing was sent twice."""


def _platform(function, *args, **kwargs):
    try:
        return _call(function, *args, **kwargs)
    except stripe.StripeError as error:
        if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
            raise PaymentServiceUnavailable(str(error)) from error
        raise InvoicingRefused(str(error)) from error


def create_customer(*, name: str, email: str, metadata: dict, idempotency_key: str) -> str:
    customer = _platform(_client().v1.customers.create,
                         {"name": name, "email": email, "metadata": metadata},
                         {"idempotency_key": idempotency_key})
    return customer["id"]


def find_invoice(*, customer_id: str, number: str) -> dict | None:
    """The customer's Stripe invoice made for our invoice `number`, if any."""
    page = _platform(_client().v1.invoices.list, {"customer": customer_id, "limit": 100})
    for invoice in page.auto_paging_iter():
        summary = _invoice_summary(invoice)
        if summary["metadata"].get("waymark_invoice") == number:
            return summary
    return None


def pending_items(*, customer_id: str) -> list[dict]:
    """Invoice items on the customer not yet on any invoice, with our metadata."""
    params = {"customer": customer_id, "limit": 100}
    if not uses_localstripe():  # localstripe lists only pending items, and refuses the filter
        params["pending"] = True
    page = _platform(_client().v1.invoice_items.list, params)
    return [{"id": item["id"], "amount": item["amount"],
             "metadata": item["metadata"].to_dict() if item["metadata"] else {}}
            for item in page.auto_paging_iter()
            if not ("invoice" in item and item["invoice"])]


def create_item(*, customer_id: str, amount_pence: int, description: str, metadata: dict,
                idempotency_key: str) -> str:
    item = _platform(_client().v1.invoice_items.create, {
        "customer": customer_id, "amount": amount_pence, "currency": "gbp",
        "description": description, "metadata": metadata},
        {"idempotency_key": idempotency_key})
    return item["id"]


def create_invoice(*, customer_id: str, description: str, metadata: dict, days_until_due: int,
                   idempotency_key: str) -> dict:
    """An invoice of the customer's pending items (which the caller has checked are ours)."""
    params = {"customer": customer_id, "description": description, "metadata": metadata,
              "pending_invoice_items_behavior": "include", "collection_method": "send_invoice",
              "days_until_due": days_until_due, "auto_advance": False}
    return _invoice_summary(_platform(_client().v1.invoices.create, params,
                                      {"idempotency_key": idempotency_key}))


def send(*, invoice_id: str, idempotency_key: str) -> dict:
    """Finalise the Stripe invoice (if still a draft) and e-mail it to the customer."""
    client = _client()
    current = retrieve_invoice(invoice_id=invoice_id)
    if current["status"] == "draft":
        _platform(client.v1.invoices.finalize_invoice, invoice_id, {"auto_advance": False},
                  {"idempotency_key": idempotency_key + "-finalise"})
    return _invoice_summary(_platform(client.v1.invoices.send_invoice, invoice_id, {},
                                      {"idempotency_key": idempotency_key + "-send"}))


def retrieve_invoice(*, invoice_id: str) -> dict:
    return _invoice_summary(_platform(_client().v1.invoices.retrieve, invoice_id))


def _invoice_summary(invoice) -> dict:
    transitions = invoice["status_transitions"] if "status_transitions" in invoice else None
    return {
        "id": invoice["id"],
        "status": invoice["status"],
        "total": invoice["total"],
        "customer": invoice["customer"],
        "due_date": invoice["due_date"] if "due_date" in invoice else None,
        "paid_at": (transitions["paid_at"] if transitions and "paid_at" in transitions
                    else None),
        "metadata": invoice["metadata"].to_dict() if invoice["metadata"] else {},
    }
