"""The second factor: whom it is required of, and whether this request has passed it.

The one check every face asks: pages (permissions.requires_action), the API
(permissions.HasAction), the Django admin (admin.WaymarkAdminSite) and the sign-in page."""

from urllib.parse import urlencode

from django.urls import reverse
from django_otp import user_has_device
from rest_framework.authtoken.models import Token


def is_required_of(user) -> bool:
    """Provider staff and Django-admin users need the second factor; so does anyone who has set
    one up, whatever their role."""
    return user.is_staff or user.is_provider_staff or user_has_device(user)


def is_missing(user, *, credential=None) -> bool:
    """True when `user` needs the second factor and this request has not passed it.

    `credential` is what authenticated an API request (DRF's `request.auth`). A DRF Token counts
    as a credential of its own: tokens are issued only in the Django admin, which already demanded
    the second factor of the provider admin issuing one, to an integration that cannot answer a
    TOTP prompt."""
    if isinstance(credential, Token):
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    # django_otp's middleware sets otp_device on a session's user once a device verified it.
    if getattr(user, "otp_device", None) is not None:
        return False
    return is_required_of(user)


def page_url(next_url: str) -> str:
    """Where to pass the second factor, coming back to `next_url` afterwards."""
    return f"{reverse('accounts:two_factor')}?{urlencode({'next': next_url})}"
