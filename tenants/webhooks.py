"""/webhooks/stripe/ on the control plane: verify, record, claim, handle, mark.

Zulip's pattern for Stripe webhooks: verify the signature; store the event under its unique id
with the body as Stripe sent it (a duplicate is caught by the database, not by exists-then-save);
claim it under its row's lock, so two deliveries never handle it at once; hand it to the handler
an app registered for its type, which re-fetches the object from Stripe before acting, so late,
repeated and out-of-order events are all safe; then mark it handled, ignored or failed.

Nothing is lost and no row is deleted: a failure is kept on the row and answered 5xx so Stripe
sends the event again, and the retry job (tenants.tasks, from beat) handles failed events again
from the stored body, with a growing delay, until they succeed. A claim left by a request or
worker that died mid-way (PostgreSQL went away, the process was killed) is taken over by the
next delivery or the job once it is older than CLAIM_TIMEOUT. Tenants never imports the apps
whose handlers it calls: they register.
"""

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context

from integrations import stripe_gateway as gateway

from .models import ClientOrganisation, StripeEvent

log = logging.getLogger(__name__)

# Longer than any handler takes (a few Stripe calls, each with its own timeout): a claim older
# than this belongs to a request or worker that stopped.
CLAIM_TIMEOUT = timedelta(minutes=10)
# After each failure: 1 minute, 5, 15, an hour, then every 4 hours until it is handled.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                timedelta(hours=1), timedelta(hours=4))
RETRY_BATCH = 500

# event type → handler(obj, *, organisation, event_type) -> outcome, filled by register_handler.
_HANDLERS: dict[str, Callable[..., str]] = {}


def register_handler(types: Iterable[str], handler: Callable[..., str]) -> None:
    """Hand Stripe events of these `types` to `handler`, called in the client's schema with the
    event's object, the client organisation and the event type; what it returns is recorded as
    the event's detail. Apps register from their AppConfig.ready."""
    for event_type in types:
        _HANDLERS[event_type] = handler


# event type → handler(obj, *, event_type) -> detail, for the platform's own account.
_PLATFORM_HANDLERS: dict[str, Callable[..., str]] = {}


def register_platform_handler(types: Iterable[str], handler: Callable[..., str]) -> None:
    """Hand events of these `types` on the platform's own account (no `account`: billing's
    invoices to clients) to `handler`, called in the public schema with the event's object."""
    for event_type in types:
        _PLATFORM_HANDLERS[event_type] = handler


@dataclass(frozen=True)
class Handling:
    """What one attempt to handle an event came to."""

    outcome: str  # a StripeEvent.Outcome
    detail: str = ""
    already_done: bool = False  # handled or ignored before: nothing was done now
    in_progress: bool = False  # another delivery holds a fresh claim on it
    unavailable: bool = False  # failed because Stripe could not be reached


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        gateway.construct_event(request.body, request.headers.get("Stripe-Signature", ""))
    except Exception as error:  # bad JSON or bad signature: refuse, record nothing
        log.warning("Stripe webhook refused: %s", type(error).__name__)
        return HttpResponse("bad signature", status=400, content_type="text/plain")
    body = request.body.decode()  # construct_event has decoded it as UTF-8 already
    handling = handle_event(record_event(body).pk)
    if handling.already_done:
        return JsonResponse({"received": True, "duplicate": True})
    if handling.in_progress:  # answered as a failure, so Stripe asks again after it finishes
        return JsonResponse({"received": True, "in_progress": True}, status=409)
    if handling.outcome == StripeEvent.Outcome.FAILED:
        return HttpResponse("not handled; retry later", content_type="text/plain",
                            status=503 if handling.unavailable else 500)
    return JsonResponse({"received": True, "outcome": handling.outcome,
                         "detail": handling.detail})


def record_event(body: str) -> StripeEvent:
    """The event's row, made on its first delivery (with the verified body)."""
    event = json.loads(body)
    record, created = StripeEvent.objects.get_or_create(
        event_id=event["id"],
        defaults={"type": event["type"], "account": event.get("account") or "",
                  "payload": body})
    if not created and not record.payload:
        # Recorded before bodies were kept: this delivery's body lets the job retry it.
        StripeEvent.objects.filter(pk=record.pk, payload="").update(payload=body)
    return record


def handle_event(record_id, *, now=None) -> Handling:
    """Claim the event, hand it to its handler from the stored body, and mark what happened.
    Safe to call any number of times, from any number of processes at once."""
    now = now or timezone.now()
    claim = _claim(record_id, now)
    if isinstance(claim, Handling):
        return claim
    record = claim
    try:
        outcome, detail, organisation = _dispatch(json.loads(record.payload))
    except Exception as error:  # noqa: BLE001 — any failure is kept on the row and retried
        log.exception("Stripe event %s could not be handled (attempt %s)", record.event_id,
                      record.attempts)
        delay = RETRY_DELAYS[min(record.attempts, len(RETRY_DELAYS)) - 1]
        StripeEvent.objects.filter(pk=record.pk, attempts=record.attempts).update(
            outcome=StripeEvent.Outcome.FAILED, next_attempt_at=now + delay,
            last_error=f"{type(error).__name__}: {error}"[:2000])
        return Handling(StripeEvent.Outcome.FAILED, detail=type(error).__name__,
                        unavailable=isinstance(error, gateway.PaymentServiceUnavailable))
    # Only this attempt's claim is marked: one taken over meanwhile marks its own outcome.
    StripeEvent.objects.filter(pk=record.pk, attempts=record.attempts).update(
        outcome=outcome, detail=detail, organisation=organisation, handled_at=timezone.now(),
        last_error="", next_attempt_at=None)
    return Handling(outcome, detail=detail)


def _claim(record_id, now) -> StripeEvent | Handling:
    """The event, claimed for one attempt under its row's lock, or why it is not to be
    handled now. The claim commits at once: the handler runs outside any lock of ours."""
    with transaction.atomic(durable=True):
        record = StripeEvent.objects.select_for_update().get(pk=record_id)
        if record.outcome in (StripeEvent.Outcome.HANDLED, StripeEvent.Outcome.IGNORED):
            return Handling(record.outcome, detail=record.detail, already_done=True)
        if (record.outcome == StripeEvent.Outcome.RECEIVED and record.claimed_at is not None
                and record.claimed_at > now - CLAIM_TIMEOUT):
            return Handling(record.outcome, in_progress=True)
        record.outcome = StripeEvent.Outcome.RECEIVED
        record.attempts += 1
        record.claimed_at = now
        record.save(update_fields=["outcome", "attempts", "claimed_at"])
    return record


def _dispatch(event: dict) -> tuple[str, str, ClientOrganisation | None]:
    if event["type"] == "account.updated":
        return _account_updated(event)
    if not event.get("account") and event["type"] in _PLATFORM_HANDLERS:
        detail = _PLATFORM_HANDLERS[event["type"]](event.get("data", {}).get("object", {}),
                                                   event_type=event["type"])
        return StripeEvent.Outcome.HANDLED, detail, None
    handler = _HANDLERS.get(event["type"])
    if handler is None:
        return StripeEvent.Outcome.IGNORED, "type not handled", None
    obj = event.get("data", {}).get("object", {})
    metadata = obj.get("metadata") or {}
    account = event.get("account") or ""
    organisation = _route(metadata.get("client_schema", ""), account)
    if organisation is None:
        log.warning("Stripe event %s for unknown client/account %r/%r", event["id"],
                    metadata.get("client_schema"), account)
        return StripeEvent.Outcome.IGNORED, "unknown client or account", None
    with schema_context(organisation.schema_name):
        detail = handler(obj, organisation=organisation, event_type=event["type"])
    return StripeEvent.Outcome.HANDLED, detail, organisation


def _account_updated(event: dict) -> tuple[str, str, ClientOrganisation | None]:
    """A client's connected account changed (onboarding finished, Stripe paused payouts…):
    whether it can take charges is asked of Stripe again, not read from the event, which may
    be old or out of order."""
    from .services import refresh_charges_enabled

    obj = event.get("data", {}).get("object", {})
    account_id = event.get("account") or obj.get("id", "")
    organisation = refresh_charges_enabled(account_id) if account_id else None
    if organisation is None:
        return StripeEvent.Outcome.IGNORED, "unknown account", None
    return (StripeEvent.Outcome.HANDLED,
            f"charges enabled: {'yes' if organisation.stripe_charges_enabled else 'no'}",
            organisation)


def _route(schema_name: str, account: str) -> ClientOrganisation | None:
    """The client named in the PaymentIntent's metadata, whose account must match the event's
    (localstripe sends no account; real Connect events always do)."""
    organisation = ClientOrganisation.objects.filter(schema_name=schema_name,
                                                     is_template=False).first()
    if organisation is None:
        return None
    if account and organisation.stripe_account_id != account:
        return None
    return organisation


def retry_due_events(*, now=None) -> dict:
    """Handle again every event that failed and whose delay has passed, and every claim left
    stale by a request or worker that stopped. Returns how many came to each outcome."""
    now = now or timezone.now()
    stale = now - CLAIM_TIMEOUT
    due = (StripeEvent.objects.exclude(payload="")
           .filter(Q(outcome=StripeEvent.Outcome.FAILED, next_attempt_at__lte=now)
                   | Q(outcome=StripeEvent.Outcome.RECEIVED, claimed_at__lt=stale)
                   | Q(outcome=StripeEvent.Outcome.RECEIVED, claimed_at=None,
                       received_at__lt=stale))
           .order_by("received_at").values_list("pk", flat=True)[:RETRY_BATCH])
    report: dict[str, int] = {}
    for record_id in list(due):
        handling = handle_event(record_id, now=now)
        key = "in_progress" if handling.in_progress else handling.outcome
        report[key] = report.get(key, 0) + 1
    return report
