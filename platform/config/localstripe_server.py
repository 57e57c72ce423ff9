"""Run localstripe on 127.0.0.1 only, in memory (never pickled to the temp directory).

`python -m config.localstripe_server --port 8420 [--store FILE]`. Used by `make run` when
STRIPE_SECRET_KEY is unset and by the test suite's fixtures.

Two things real Stripe does that localstripe does not are added here, so what is tested against
it holds against Stripe: a POST repeated with the same Idempotency-Key gets the first answer
again (and waits while the first is still running) instead of making a second object; and with
`--store` the data is kept in FILE, so a server stopped and started again still knows it.
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
    web.run_app(server.app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--store", help="keep the data in this file across restarts")
    arguments = parser.parse_args()
    serve(arguments.port, arguments.store)
