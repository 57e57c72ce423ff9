"""Every call Waymark makes to Stripe, in one small module.

Card payments are direct charges on the client's own connected account (the Stripe-Account
header). In development and tests the API is localstripe, which has no Connect endpoints
(the header is accepted and ignored) and a fake Stripe.js; the few places that differ are here
and say so. Each call passes the account, the API version and an idempotency key built from our
own ids, as Saleor and Zulip do.
"""

import hashlib
import os
import threading

import stripe
from django.conf import settings

STRIPE_VERSION = "2024-06-20"


class PaymentServiceUnavailable(Exception):
    """Stripe could not be reached or failed on its side: nothing was charged by us."""


class CardDeclined(Exception):
    """A card error from Stripe. `code` is Stripe's error code (card_declined, expired_card,
    incorrect_cvc…) and `decline_code` the issuer's reason for a card_declined; the message is
    Stripe's English text, for logs only, never for the person paying."""

    def __init__(self, message: str, code: str = "", decline_code: str = ""):
        super().__init__(message)
        self.code = code
        self.decline_code = decline_code


class CardDetailsRefused(Exception):
    """Stripe would not use the card details sent (an unknown, used or malformed token):
    nothing was charged, and the PaymentIntent can be tried again."""


class PaymentIntentMissing(Exception):
    """Stripe does not know this PaymentIntent (removed, or never made on this account):
    nothing can be paid with it, so a fresh one is needed."""


# What a PaymentIntent waiting for a card says; any other state means something happened to it.
AWAITING_CARD = ("requires_payment_method", "requires_confirmation")


def uses_localstripe() -> bool:
    return bool(settings.STRIPE_API_BASE)


# One StripeClient per process, key and API base. Its HTTP client keeps a requests session per
# thread, so the calls of a payment reuse one keep-alive connection instead of a new TCP (and,
# against Stripe, TLS) handshake each; the process id is in the key so that a forked worker
# never shares its parent's sockets.
_clients: dict[tuple, stripe.StripeClient] = {}
_clients_lock = threading.Lock()


def _client() -> stripe.StripeClient:
    key = (os.getpid(), settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)
    client = _clients.get(key)
    if client is None:
        bases = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else {}
        with _clients_lock:
            if len(_clients) > 8:  # settings changed many times (tests): drop the old ones
                _clients.clear()
            client = _clients.setdefault(key, stripe.StripeClient(
                settings.STRIPE_SECRET_KEY, base_addresses=bases, stripe_version=STRIPE_VERSION,
                max_network_retries=1))
    return client


def _options(account_id: str, idempotency_key: str | None = None) -> dict:
    options = {"stripe_account": account_id}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    return options


def _call(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except stripe.CardError as error:
        detail = getattr(error, "error", None)
        raise CardDeclined(error.user_message or str(error), error.code or "",
                           getattr(detail, "decline_code", None) or "") from error
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError,
            stripe.IdempotencyError) as error:
        # IdempotencyError: the same key is still in flight in another request; try later.
        raise PaymentServiceUnavailable(str(error)) from error


def js_url() -> str:
    if uses_localstripe():
        return settings.STRIPE_API_BASE.rstrip("/") + "/js.stripe.com/v3/"
    return "https://js.stripe.com/v3/"


# --- connected accounts (the client's merchant account) ------------------------------------

def create_connected_account(*, email: str, business_name: str, idempotency_key: str) -> dict:
    """A Standard connected account for a client; the same key gives the same account. localstripe
    has no Connect: in development the account is simulated, its id made from the key, with
    charges enabled."""
    if uses_localstripe():
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
        return {"id": f"acct_dev_{digest}", "charges_enabled": True}
    account = _call(_client().v1.accounts.create, {
        "type": "standard", "country": "GB", "email": email,
        "business_profile": {"name": business_name}}, {"idempotency_key": idempotency_key})
    return {"id": account["id"], "charges_enabled": bool(account["charges_enabled"])}


def account_link(account_id: str, *, refresh_url: str, return_url: str) -> str:
    if uses_localstripe():
        return return_url
    link = _call(_client().v1.account_links.create, {
        "account": account_id, "refresh_url": refresh_url, "return_url": return_url,
        "type": "account_onboarding"})
    return link["url"]


def charges_enabled(account_id: str) -> bool:
    if not account_id:
        return False
    if uses_localstripe():
        return True
    return bool(_call(_client().v1.accounts.retrieve, account_id)["charges_enabled"])


# --- payments ------------------------------------------------------------------------------

def create_payment_intent(*, account_id: str, amount_pence: int, metadata: dict,
                          idempotency_key: str, moto: bool = False) -> dict:
    params = {"amount": amount_pence, "currency": "gbp", "metadata": metadata,
              "payment_method_types": ["card"]}
    if moto:
        params["payment_method_options"] = {"card": {"moto": True}}
    intent = _call(_client().v1.payment_intents.create, params,
                   _options(account_id, idempotency_key))
    return _summary(intent)


def retrieve_payment_intent(*, account_id: str, intent_id: str) -> dict:
    try:
        return _summary(_call(_client().v1.payment_intents.retrieve, intent_id,
                              options=_options(account_id)))
    except stripe.InvalidRequestError as error:
        if error.http_status == 404 or error.code == "resource_missing":
            raise PaymentIntentMissing(intent_id) from error
        raise


def confirm_with_card_token(*, account_id: str, intent_id: str, token_id: str) -> dict:
    """Confirm with a card token made by Stripe.js in the browser (card data never reaches us).
    Real Stripe takes the token as payment_method_data; localstripe takes the token's card id.
    A PaymentIntent needing 3-D Secure comes back as requires_action for Stripe.js to finish.
    If another submission (a second tab, a double click) confirmed it first, it comes back as it
    now is: Stripe refuses to confirm twice, and what the first confirmation did is what counts."""
    client = _client()
    try:
        if uses_localstripe():
            token = _call(client.v1.tokens.retrieve, token_id)
            _call(client.v1.payment_intents.update, intent_id,
                  {"payment_method": token["card"]["id"]}, _options(account_id))
            intent = _call(client.v1.payment_intents.confirm, intent_id,
                           options=_options(account_id))
        else:
            intent = _call(client.v1.payment_intents.confirm, intent_id, {
                "payment_method_data": {"type": "card", "card": {"token": token_id}}},
                _options(account_id))
    except stripe.InvalidRequestError as error:
        current = retrieve_payment_intent(account_id=account_id, intent_id=intent_id)
        if current["status"] not in AWAITING_CARD:
            return current
        # Still waiting for a card, so Stripe refused the token, which came from the browser
        # ("No such token"): bad input, not a fault of ours.
        raise CardDetailsRefused(str(error)) from error
    return _summary(intent)


def refund(*, account_id: str, intent_id: str, amount_pence: int, idempotency_key: str) -> dict:
    result = _call(_client().v1.refunds.create,
                   {"payment_intent": intent_id, "amount": amount_pence},
                   _options(account_id, idempotency_key))
    return {"id": result["id"], "amount": result["amount"], "status": result["status"]}


def list_payment_intents(*, account_id: str, created_from: int, created_to: int) -> list[dict]:
    """PaymentIntents on the account created in [from, to] (unix seconds). localstripe cannot
    filter by date, so the range is applied here as well."""
    params = {"limit": 100}
    if not uses_localstripe():
        params["created"] = {"gte": created_from, "lte": created_to}
    page = _call(_client().v1.payment_intents.list, params, _options(account_id))
    return [dict(_summary(intent), created=intent["created"])
            for intent in page.auto_paging_iter()
            if created_from <= intent["created"] <= created_to]


def construct_event(payload: bytes, signature: str):
    """Raises ValueError / stripe.SignatureVerificationError for a bad payload or signature."""
    return stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)


def _summary(intent) -> dict:
    error = intent["last_payment_error"] if "last_payment_error" in intent else None
    return {
        "id": intent["id"],
        "status": intent["status"],
        "amount": intent["amount"],
        "client_secret": intent["client_secret"],
        "metadata": intent["metadata"].to_dict() if intent["metadata"] else {},
        "error": (error["message"] if error else ""),
    }
