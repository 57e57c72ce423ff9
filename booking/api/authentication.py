"""Per-client API keys on requests: `Authorization: Api-Key <key>` on the client's own domain.

A key lives in its client's schema (booking.models.ApiKey), so a key of client A is simply
unknown on client B's domain. Only a hash is stored; the first characters (`prefix`) find the
row, `check_password` proves the rest. What a key may do is its `scopes`: action names from
accounts/roles.py, checked by accounts.permissions.HasAction like a staff member's role. Keys
are made and revoked by booking.services.api_keys.
"""

import hashlib
import hmac
from datetime import timedelta

from django.contrib.auth.hashers import check_password
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from booking.models import ApiKey
from booking.services.api_keys import PREFIX_LENGTH

KEYWORD = "Api-Key"
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyPrincipal:
    """Who acted, when a request was made with an API key. Not a Django user: it has no
    memberships, and HasAction grants it exactly its key's scopes."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        # Distinct from every user id, e.g. for the per-user throttle.
        self.pk = self.id = f"api-key:{api_key.pk}"
        self.label = f"api-key:{api_key.name}"

    def __str__(self):
        return self.label

    def __eq__(self, other):
        return isinstance(other, ApiKeyPrincipal) and other.api_key.pk == self.api_key.pk

    def __hash__(self):
        return hash(self.pk)


# Keys proved recently, as {hashed_key: sha256(key)}: check_password is deliberately slow
# (a million PBKDF2 rounds), too slow to run on every call of a feed. The row is still read
# (and its revocation checked) on every request; a changed hash never matches an old entry.
_VERIFIED: dict[str, str] = {}
_VERIFIED_MAX = 256


def _key_matches(key: str, api_key: ApiKey) -> bool:
    digest = hashlib.sha256(key.encode()).hexdigest()
    known = _VERIFIED.get(api_key.hashed_key)
    if known is not None and hmac.compare_digest(known, digest):
        return True
    if not check_password(key, api_key.hashed_key):
        return False
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[api_key.hashed_key] = digest
    return True


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """DRF authentication by `Authorization: Api-Key <key>`, against the current client's keys.
    Requests without that header are left to the other authentication classes."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() != KEYWORD.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the key as: Authorization: Api-Key <key>"))
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from None
        if getattr(request._request, "tenant", None) is None or connection.schema_name in (
                "public", None):
            # The control plane has no client keys.
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        api_key = ApiKey.objects.filter(prefix=key[:PREFIX_LENGTH]).first()
        if (api_key is None or len(key) <= PREFIX_LENGTH or api_key.revoked_at is not None
                or not _key_matches(key, api_key)):
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when no credentials were sent.
        return KEYWORD


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "booking.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Api-Key <key>`: a key of the client whose domain you call."}
