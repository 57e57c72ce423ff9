"""/webhooks/stripe/ on the control plane: verify, record once, route to the client, act.

Pattern from Zulip's Stripe webhook: verify the signature, store the event under its unique id
(a duplicate is caught by the database, not by exists-then-save), then hand it to the handler an
app registered for its type, which re-fetches the object from Stripe before acting, so late,
repeated and out-of-order events are all safe. Tenants never imports those apps: they register.
"""

import logging
from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context

from integrations import stripe_gateway as gateway

from .models import ClientOrganisation, StripeEvent

log = logging.getLogger(__name__)

# event type → handler(obj, *, organisation, event_type) -> outcome, filled by register_handler.
_HANDLERS: dict[str, Callable[..., str]] = {}


def register_handler(types: Iterable[str], handler: Callable[..., str]) -> None:
    """Hand Stripe events of these `types` to `handler`, called in the client's schema with the
    event's object, the client organisation and the event type; what it returns is recorded as
    the event's outcome. Apps register from their AppConfig.ready."""
    for event_type in types:
        _HANDLERS[event_type] = handler


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = gateway.construct_event(request.body, request.headers.get("Stripe-Signature", ""))
    except Exception as error:  # bad JSON or bad signature: refuse, record nothing
        log.warning("Stripe webhook refused: %s", type(error).__name__)
        return HttpResponse("bad signature", status=400, content_type="text/plain")
    event = event.to_dict()
    obj = event.get("data", {}).get("object", {})
    metadata = obj.get("metadata") or {}
    account = event.get("account") or ""
    try:
        with transaction.atomic():
            record = StripeEvent.objects.create(event_id=event["id"], type=event["type"],
                                                account=account)
    except IntegrityError:
        return JsonResponse({"received": True, "duplicate": True})

    handler = _HANDLERS.get(event["type"])
    if handler is None:
        return _finish(record, StripeEvent.Outcome.IGNORED, "type not handled")
    organisation = _route(metadata.get("client_schema", ""), account)
    if organisation is None:
        log.warning("Stripe event %s for unknown client/account %r/%r", event["id"],
                    metadata.get("client_schema"), account)
        return _finish(record, StripeEvent.Outcome.IGNORED, "unknown client or account")
    record.organisation = organisation
    try:
        with schema_context(organisation.schema_name):
            outcome = handler(obj, organisation=organisation, event_type=event["type"])
    except Exception as error:  # noqa: BLE001 — any failure: forget the event so Stripe's retry is handled
        log.exception("Stripe event %s could not be handled", event["id"])
        StripeEvent.objects.filter(pk=record.pk).delete()
        status = 503 if isinstance(error, gateway.PaymentServiceUnavailable) else 500
        return HttpResponse("not handled; retry later", status=status, content_type="text/plain")
    return _finish(record, StripeEvent.Outcome.HANDLED, outcome)


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


def _finish(record, outcome, detail):
    StripeEvent.objects.filter(pk=record.pk).update(outcome=outcome, detail=detail,
                                                    organisation=record.organisation)
    return JsonResponse({"received": True, "outcome": outcome, "detail": detail})
