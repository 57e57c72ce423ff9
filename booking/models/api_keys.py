"""A client's API keys (only their hash is stored)."""

from django.db import models

from accounts.credentials import ScopedCredential


class ApiKey(ScopedCredential, models.Model):
    """A client's key for its integrations (e.g. the police referral feed). Only a hash is
    stored; the key is shown once when created. Its scopes are checked as accounts checks every
    ScopedCredential."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    hashed_key = models.CharField(max_length=128)
    # Actions from accounts/roles.py this key may perform, e.g. ["offers.import", "offers.view"].
    scopes = models.JSONField(default=list)
    created_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
