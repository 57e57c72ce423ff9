"""Invitations: a set-password link, valid once, on the site where the person will work, sent
through the outbox."""

from django.contrib.auth.tokens import default_token_generator
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import get_public_schema_name, schema_context

from outbox.services import queue_email
from tenants.site_urls import site_url


def set_password_url(user, organisation=None) -> str:
    path = reverse(
        "accounts:set_password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
        urlconf="config.urls_platform" if organisation is None else "config.urls_client",
    )
    return site_url(organisation) + path


def queue_invitation(user, *, organisation=None, invited_by=None) -> None:
    """Queue the invitation in the control plane's outbox, inside the transaction that made
    the account or membership: it goes once that commits, and never if it does not."""
    context = {
        "user": user,
        "organisation": organisation,
        "invited_by": invited_by if getattr(invited_by, "is_authenticated", False) else None,
        "link": set_password_url(user, organisation),
        "site": site_url(organisation),
    }
    where = organisation.name if organisation else "Waymark"
    with schema_context(get_public_schema_name()):
        queue_email(kind="invitation", to=user.email,
                    subject=f"You have been invited to {where} on Waymark",
                    text=render_to_string("accounts/email/invitation.txt", context),
                    regarding={"user": user.pk})
