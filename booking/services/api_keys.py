"""A client's API keys: made (the key shown once, only its hash kept) and revoked, each in one
durable transaction with its audit row. A key lives in its client's schema, so a key of client A
is simply unknown on client B's domain; booking.api.authentication proves keys on requests."""

import secrets

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import CLIENT_ACTIONS
from audit.services import record
from booking.models import ApiKey
from tenants.models import ClientOrganisation

# The key's first characters, stored as they are, find its row; the hash proves the rest.
PREFIX_LENGTH = 8


def create_api_key(name: str, scopes, *, actor) -> tuple[ApiKey, str]:
    """A new key for the current client. Returns the row and the key itself, which is shown
    once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the key a name."), code="name_required")
    scopes = sorted(set(scopes))
    unknown = [scope for scope in scopes if scope not in CLIENT_ACTIONS]
    if unknown:
        raise ValidationError(_("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)},
                              code="unknown_scope")
    if connection.schema_name in ("public", None):
        raise RuntimeError("API keys belong to a client: run this in a client's schema")
    label = actor.email if getattr(actor, "is_authenticated", False) else str(actor)
    with transaction.atomic(durable=True):
        while True:
            key = secrets.token_urlsafe(32)
            if not ApiKey.objects.filter(prefix=key[:PREFIX_LENGTH]).exists():
                break
        api_key = ApiKey.objects.create(name=name, prefix=key[:PREFIX_LENGTH],
                                        hashed_key=make_password(key), scopes=scopes,
                                        created_by=label)
        organisation = ClientOrganisation.objects.filter(
            schema_name=connection.schema_name).first()
        record(actor=actor, action="api_key.created", obj=api_key, organisation=organisation,
               after={"name": name, "prefix": api_key.prefix, "scopes": scopes})
    return api_key, key


def revoke_api_key(api_key: ApiKey, *, actor) -> ApiKey:
    with transaction.atomic(durable=True):
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
            organisation = ClientOrganisation.objects.filter(
                schema_name=connection.schema_name).first()
            record(actor=actor, action="api_key.revoked", obj=api_key,
                   organisation=organisation, after={"revoked_at": api_key.revoked_at})
    return api_key
