"""Run localstripe on 127.0.0.1 only, in memory (never pickled to the temp directory).

`python -m config.localstripe_server --port 8420 [--store FILE]`. Used by `make run` when
STRIPE_SECRET_KEY is unset and by the test suite's fixtures.

Things real Stripe does that localstripe does not are added here, so what is tested against
it holds against Stripe: a POST repeated with the same Idempotency-Key gets the first answer
again (and waits while the first is still running) instead of making a second object; with
`--store` the data is kept in FILE, so a server stopped and started again still knows it; and
one-off invoices (the platform billing its clients): an invoice of a customer's pending items
without a subscription, `collection_method=send_invoice` with `days_until_due`, and the
finalize and send endpoints.
"""

import argparse
import asyncio
import pickle
from pathlib import Path


def _idempotency(replies: dict, save):
    """aiohttp middleware: one answer per (secret key, account, Idempotency-Key), as Stripe."""
    from aiohttp import web

    locks: dict[tuple, asyncio.Lock] = {}

    @web.middleware
    async def middleware(request, handler):
        if request.method == "DELETE" and request.path == "/_config/data":
            replies.clear()
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        scope = (request.headers.get("Authorization", ""),
                 request.headers.get("Stripe-Account", ""), key)
        async with locks.setdefault(scope, asyncio.Lock()):
            if scope in replies:
                status, body = replies[scope]
                return web.Response(status=status, body=body, content_type="application/json",
                                    headers={"Idempotent-Replayed": "true"})
            response = await handler(request)
            if response.status < 500:  # Stripe keeps no answer it failed to give
                replies[scope] = (response.status, response.body)
                save()
            return response

    return middleware


def _one_off_invoices(app) -> None:
    """Invoices as Stripe makes them for a customer with no subscription: the pending items,
    a draft until finalized (then open, due `days_until_due` days later), then sent."""
    import time

    from localstripe.resources import Invoice, UserError
    from localstripe.server import api_extra

    subscription_invoice = Invoice._api_create

    def create(customer=None, subscription=None, description=None, metadata=None,
               collection_method=None, days_until_due=None, auto_advance=None,
               pending_invoice_items_behavior=None, **others):
        if subscription is not None or collection_method is None:
            return subscription_invoice(customer=customer, subscription=subscription,
                                        description=description, metadata=metadata,
                                        pending_invoice_items_behavior=(
                                            pending_invoice_items_behavior), **others)
        if collection_method != "send_invoice" or not str(days_until_due or "").isdigit():
            raise UserError(400, "collection_method send_invoice needs days_until_due")
        invoice = Invoice(customer=customer, description=description, metadata=metadata)
        invoice.collection_method = collection_method
        invoice.due_date = int(time.time()) + int(days_until_due) * 86400
        return invoice

    def finalize(id, auto_advance=None):
        invoice = Invoice._api_retrieve(id)
        if invoice.status != "draft":
            raise UserError(400, "This invoice is already finalized")
        invoice._finalize()
        return invoice

    def send(id):
        invoice = Invoice._api_retrieve(id)
        if invoice.status != "open":
            raise UserError(400, "Only an open invoice can be sent")
        return invoice

    Invoice._api_create = staticmethod(create)
    app.router.add_route("POST", "/v1/invoices/{id}/finalize", api_extra(finalize, ""))
    app.router.add_route("POST", "/v1/invoices/{id}/send", api_extra(send, ""))


def serve(port: int, store_file: str | None = None) -> None:
    from aiohttp import web
    from localstripe import server
    from localstripe.resources import store

    replies: dict = {}
    if store_file:
        path = Path(store_file)
        if path.exists():
            saved_store, saved_replies = pickle.loads(path.read_bytes())
            dict.update(store, saved_store)  # not Store.update: that would save on every item
            replies.update(saved_replies)

        def save(*args, **kwargs):
            path.write_bytes(pickle.dumps((dict(store), replies),
                                          protocol=pickle.HIGHEST_PROTOCOL))
    else:
        def save(*args, **kwargs):
            return None

    # localstripe pickles its store to a fixed file after every request unless told not to.
    store.dump_to_disk = save
    # Outermost, so it sees the answer localstripe's error middleware made of a refusal.
    server.app.middlewares.insert(0, _idempotency(replies, save))
    _one_off_invoices(server.app)
    web.run_app(server.app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--store", help="keep the data in this file across restarts")
    arguments = parser.parse_args()
    serve(arguments.port, arguments.store)
