"""Signed outgoing webhooks: endpoints, their deliveries, signing, sending and retrying.

This is the core only; it knows no app's events. An app decides which event types exist and
what each carries, and calls `queue_event` inside the transaction of the change, exactly as it
queues an e-mail: a delivery row per subscribed endpoint is written with the change, and sent by
a task after commit. It works in whatever schema is current: a client's schema holds that
client's endpoints (so a client is only ever told of its own events), the public schema holds
the control plane's.

Signing follows Stripe's scheme: `Waymark-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed with the endpoint's secret>`; the time is signed so that a captured request
cannot be replayed later (`verify_signature` checks both). Deliveries are at least once: a
receiver ignores an `id` it has seen.

Addresses are checked against server-side request forgery twice: when an endpoint is saved and
at every send, and the connection goes to the very address that was checked (no second DNS look-up
for a rebinding answer to slip into). Only https, to public addresses; plain http to loopback
only where WEBHOOKS_ALLOW_LOOPBACK (default: DEBUG) allows it, for development and tests.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Waymark-Signature"
TEST_EVENT = "webhook.test"
# First retry after a minute, each next one three times later (1, 3, 9 … 729 minutes): about
# 18 hours in all before a delivery is given up.
FIRST_RETRY = timedelta(minutes=1)
BACKOFF_FACTOR = 3
MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10
# A claim older than this was left by a worker that stopped mid-send; it is sent again (at
# least once: receivers ignore a repeated event id).
CLAIM_TIMEOUT = timedelta(minutes=5)
SIGNATURE_TOLERANCE_SECONDS = 300


class UnsafeUrl(ValidationError):
    """An endpoint address we will not send to."""


# --- signing ---------------------------------------------------------------------------------

def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The Waymark-Signature header's value for `body`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: bytes, *,
                     tolerance: int = SIGNATURE_TOLERANCE_SECONDS, now: float | None = None
                     ) -> bool:
    """What a receiver does: the header's time is recent and one of its v1 signatures matches."""
    parts = [part.split("=", 1) for part in (header or "").split(",") if "=" in part]
    timestamps = [value for key, value in parts if key == "t"]
    signatures = [value for key, value in parts if key == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


# --- addresses -------------------------------------------------------------------------------

def loopback_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK", settings.DEBUG))


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def check_url(url: str, *, resolve: bool = True) -> list[str]:
    """The addresses `url` may be sent to, or UnsafeUrl saying why none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl(_("Enter a full web address, such as https://example.org/webhooks."),
                        code="invalid_url") from None
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("http", "https"):
        raise UnsafeUrl(_("Enter a full web address, such as https://example.org/webhooks."),
                        code="invalid_url")
    if parts.username or parts.password:
        raise UnsafeUrl(_("The web address must not contain a user name or password."),
                        code="credentials_in_url")
    local = host in LOOPBACK_NAMES
    if parts.scheme != "https" and not (local and loopback_allowed()):
        raise UnsafeUrl(_("The web address must start with https://."), code="not_https")
    if not resolve:
        return []
    try:
        found = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(_("No server could be found at that web address."),
                        code="unknown_host") from None
    addresses = []
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0])
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped
        if address.is_loopback:
            if not loopback_allowed():
                raise UnsafeUrl(_("The web address leads to a private network."),
                                code="private_address")
        elif not address.is_global or address.is_multicast:
            raise UnsafeUrl(_("The web address leads to a private network."),
                            code="private_address")
        addresses.append(str(address))
    if not addresses:
        raise UnsafeUrl(_("No server could be found at that web address."), code="unknown_host")
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address already checked, whatever the host name resolves to now."""

    def __init__(self, host, address, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, address, **kwargs):
        super().__init__(host, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(url: str, body: bytes, headers: dict) -> int:
    """POST once, following no redirect; the response's status code."""
    address = check_url(url)[0]
    parts = urlsplit(url)
    kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    conn = kind(parts.hostname, address, port=parts.port, timeout=TIMEOUT_SECONDS)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        response.read(64 * 1024)
        return response.status
    finally:
        conn.close()


# --- endpoints -------------------------------------------------------------------------------

def create_endpoint(url: str, events, *, known_events, description: str = "", owner: str = "",
                    created_by: str) -> tuple[WebhookEndpoint, str]:
    """A new endpoint in the current schema, inside the caller's transaction. Returns it and
    its secret (for the caller to show once)."""
    url = (url or "").strip()
    problems = {}
    try:
        check_url(url)
    except UnsafeUrl as unsafe:
        problems["url"] = unsafe.messages
    events = sorted(set(events or []))
    unknown = [name for name in events if name not in known_events]
    if not events:
        problems["events"] = [_("Choose at least one event.")]
    elif unknown:
        problems["events"] = [_("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}]
    if len(description) > 200:
        problems["description"] = [_("The description must be 200 characters or fewer.")]
    if problems:
        raise ValidationError(problems)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(url=url, events=events, secret=secret,
                                              description=description.strip(), owner=owner,
                                              created_by=created_by)
    return endpoint, secret


# --- queueing --------------------------------------------------------------------------------

def envelope(event_type: str, data: dict, *, event_id: str | None = None, now=None) -> dict:
    return {"id": event_id or f"evt_{uuid.uuid4().hex}", "type": event_type,
            "created": (now or timezone.now()).isoformat(), "data": data}


def queue_event(event_type: str, data: dict, *, owner: str | None = None, now=None
                ) -> list[WebhookDelivery]:
    """Inside the change's transaction: a delivery for every active endpoint (of `owner`, where
    given) that wants `event_type`, sent after commit. Nothing is written if none wants it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Queue a webhook inside the transaction of the change it tells about")
    endpoints = WebhookEndpoint.objects.filter(is_active=True, events__contains=[event_type])
    if owner is not None:
        endpoints = endpoints.filter(owner=owner)
    endpoints = list(endpoints.only("pk"))
    if not endpoints:
        return []
    payload = envelope(event_type, data, now=now)
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=endpoint, event_id=payload["id"], event_type=event_type,
                         payload=payload) for endpoint in endpoints])
    _dispatch_on_commit([delivery.pk for delivery in deliveries])
    return deliveries


def queue_test_event(endpoint: WebhookEndpoint, data: dict | None = None) -> WebhookDelivery:
    """A `webhook.test` event for this endpoint only, inside the caller's transaction."""
    payload = envelope(TEST_EVENT, data or {"message": "A test event: this endpoint works."})
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_id=payload["id"],
                                              event_type=TEST_EVENT, payload=payload)
    _dispatch_on_commit([delivery.pk])
    return delivery


def _dispatch_on_commit(delivery_ids: list[int]) -> None:
    schema = connection.schema_name
    transaction.on_commit(lambda: [dispatch(pk, schema) for pk in delivery_ids])


def dispatch(delivery_id: int, schema: str, *, countdown: int | None = None) -> None:
    """Ask a worker to send it; if the broker cannot be reached, the sweep hands it over."""
    from .tasks import deliver_webhook

    try:
        deliver_webhook.apply_async(args=(delivery_id,), headers={"_schema_name": schema},
                                    countdown=countdown)
    except Exception:  # noqa: BLE001 — the broker is down: the sweep hands it over later
        log.warning("Could not hand webhook delivery %s (%s) to a worker; the sweep will",
                    delivery_id, schema, exc_info=True)


# --- sending ---------------------------------------------------------------------------------

def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return FIRST_RETRY * BACKOFF_FACTOR ** (attempts - 1)


def deliver(delivery_id: int, *, now=None) -> str:
    """Send one delivery if it is due: "succeeded", "retry", "failed" or "not_due". The row is
    claimed (and the claim committed) before the request, so no lock is held while waiting for
    the receiver and two workers never send it at once."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True)
                    .select_related("endpoint")
                    .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING,
                            next_attempt_at__lte=now).first())
        if delivery is None:
            return "not_due"
        delivery.status = WebhookDelivery.Status.SENDING
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.save(update_fields=["status", "attempts", "last_attempt_at"])
    endpoint = delivery.endpoint
    body = body_of(delivery)
    headers = {"Content-Type": "application/json", "User-Agent": "Waymark-Webhooks/1",
               SIGNATURE_HEADER: sign(endpoint.secret, body),
               "Waymark-Event-Id": delivery.event_id, "Waymark-Event-Type": delivery.event_type}
    code, error = None, ""
    if not endpoint.is_active:
        error = "The endpoint is switched off."
    else:
        try:
            code = _post(endpoint.url, body, headers)
        except UnsafeUrl as unsafe:
            error = "; ".join(str(message) for message in unsafe.messages)
        except (OSError, http.client.HTTPException) as failure:
            error = f"{type(failure).__name__}: {failure}"
    if code is not None and 200 <= code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.SUCCEEDED, response_code=code, last_error="",
            delivered_at=timezone.now())
        return "succeeded"
    if code is not None:
        error = f"The endpoint answered {code}."
    return _failed_attempt(delivery, code, error[:300], now)


def _failed_attempt(delivery: WebhookDelivery, code, error: str, now) -> str:
    if delivery.attempts >= MAX_ATTEMPTS:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, response_code=code, last_error=error)
        return "failed"
    delay = retry_delay(delivery.attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, response_code=code, last_error=error,
        next_attempt_at=now + delay)
    from config.celery import app

    if not app.conf.task_always_eager:  # eager mode has no timer: the sweep retries
        dispatch(delivery.pk, connection.schema_name, countdown=int(delay.total_seconds()))
    return "retry"


def sweep(*, now=None) -> dict:
    """In the current schema: claims a stopped worker left are put back to be sent again, and
    every delivery that is due is handed over."""
    now = now or timezone.now()
    stale = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SENDING,
                                           last_attempt_at__lt=now - CLAIM_TIMEOUT).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=now)
    due = list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING,
                                              next_attempt_at__lte=now)
               .order_by("next_attempt_at").values_list("pk", flat=True)[:1000])
    for delivery_id in due:
        dispatch(delivery_id, connection.schema_name)
    return {"due": len(due), "reclaimed": stale}
