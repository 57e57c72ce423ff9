"""The user group's outgoing webhooks: which events an integrator can be told of, what each
carries, and the endpoints' management by provider staff (each change one durable transaction
with its audit row). Signing, sending and retrying are the outbox's (outbox/webhooks.py): the
user group's endpoints are rows of its table in the public schema, marked with OWNER so that
no other control-plane event reaches them.

The `announce_*` functions run inside the change's transaction (the services call them), so a
delivery exists exactly when its change does. Payloads name requests and organisations and carry
no personal details (no names or e-mail addresses): the delivery log keeps them.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record
from outbox import webhooks
from outbox.models import WebhookDelivery, WebhookEndpoint

from . import access
from .notifications import platform_url, request_url

OWNER = "usergroup"

# Event type → what it means, for people choosing what to be told of.
EVENT_TYPES = {
    "change_request.created": gettext_lazy("A change request was raised"),
    "change_request.status_changed": gettext_lazy("A change request's status changed"),
    "release.published": gettext_lazy("A release was published"),
}


def endpoints():
    return WebhookEndpoint.objects.filter(owner=OWNER)


def request_facts(change_request) -> dict:
    return {"id": change_request.pk, "title": change_request.title,
            "area": change_request.area.name, "status": change_request.status,
            "organisation": change_request.organisation.slug,
            "merged_into": change_request.merged_into_id,
            "url": request_url(change_request),
            "created_at": change_request.created_at.isoformat()}


def wanted(event_type: str) -> bool:
    # Checked before a payload is built: most changes have no endpoint to tell, and a release's
    # fifty requests should not cost a hundred look-ups for nobody.
    return endpoints().filter(is_active=True, events__contains=[event_type]).exists()


def announce_raised(change_request) -> None:
    if wanted("change_request.created"):
        webhooks.queue_event("change_request.created", {"change_request": request_facts(
            change_request)}, owner=OWNER)


def announce_status_changed(change_request, *, from_status: str, response: str) -> None:
    if wanted("change_request.status_changed"):
        webhooks.queue_event("change_request.status_changed", {
            "change_request": request_facts(change_request), "from_status": from_status,
            "to_status": change_request.status, "response": response}, owner=OWNER)


def announce_release(release, requests) -> None:
    """The release, then each request it moved to released (their status changes)."""
    if wanted("release.published"):
        webhooks.queue_event("release.published", {"release": {
            "id": release.pk, "version": release.version,
            "released_on": release.released_on.isoformat(), "notes": release.notes,
            "url": platform_url("release", release.pk),
            "change_requests": [r.pk for r in requests]}}, owner=OWNER)


# --- endpoints -------------------------------------------------------------------------------

def _require_moderator(user):
    if not access.is_moderator(user):
        raise PermissionDenied(_("Only provider staff can do this."))


def create_webhook_endpoint(url: str, events, *, description: str = "", acting_user,
                            ip_address=None) -> tuple[WebhookEndpoint, str]:
    """A new endpoint for the user group's events, and its secret (shown once)."""
    _require_moderator(acting_user)
    with transaction.atomic(durable=True):
        endpoint, secret = webhooks.create_endpoint(
            url, events, known_events=EVENT_TYPES, description=description or "",
            owner=OWNER, created_by=acting_user.email)
        record(actor=acting_user, action="usergroup.webhook_endpoint_created", obj=endpoint,
               ip_address=ip_address, after={"url": endpoint.url, "events": endpoint.events})
    return endpoint, secret


def _endpoint(endpoint_id: int, *, lock=False) -> WebhookEndpoint:
    found = endpoints().select_for_update() if lock else endpoints()
    endpoint = found.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise ValidationError(_("There is no such webhook endpoint."), code="not_found")
    return endpoint


def delete_webhook_endpoint(endpoint_id: int, *, acting_user, ip_address=None) -> None:
    _require_moderator(acting_user)
    with transaction.atomic(durable=True):
        endpoint = _endpoint(endpoint_id, lock=True)
        record(actor=acting_user, action="usergroup.webhook_endpoint_deleted", obj=endpoint,
               ip_address=ip_address, before={"url": endpoint.url, "events": endpoint.events})
        endpoint.delete()


def send_test_event(endpoint_id: int, *, acting_user, ip_address=None) -> WebhookDelivery:
    _require_moderator(acting_user)
    with transaction.atomic(durable=True):
        endpoint = _endpoint(endpoint_id)
        delivery = webhooks.queue_test_event(endpoint)
        record(actor=acting_user, action="usergroup.webhook_endpoint_tested", obj=endpoint,
               ip_address=ip_address, after={"event_id": delivery.event_id})
    return delivery
