from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import PROVIDER_ROLES, Role

PROVIDER_ROLES_IN_ORDER = sorted(PROVIDER_ROLES, reverse=True)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Staff of the provider and of clients. Offenders are not users."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.full_name or self.email

    @property
    def is_provider_staff(self) -> bool:
        return self.memberships.filter(organisation__isnull=True, role__in=PROVIDER_ROLES).exists()


class Membership(models.Model):
    """A user's role at a client organisation, or (organisation empty) at the provider."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        "tenants.ClientOrganisation",
        on_delete=models.CASCADE,
        related_name="memberships",
        null=True,
        blank=True,
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The role lists in a constraint must come out in one order, or makemigrations sees a
        # change under some hash seeds (a frozenset's order varies); this is the order the first
        # migration recorded.
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(organisation__isnull=True),
                name="membership_unique_provider_role",
            ),
            # Provider roles belong to the provider, client roles to a client: never mixed.
            models.CheckConstraint(
                condition=(
                    models.Q(organisation__isnull=True, role__in=PROVIDER_ROLES_IN_ORDER)
                    | (
                        models.Q(organisation__isnull=False)
                        & ~models.Q(role__in=PROVIDER_ROLES_IN_ORDER)
                    )
                ),
                name="membership_role_matches_scope",
            ),
        ]

    def __str__(self):
        where = self.organisation.name if self.organisation_id else "provider"
        return f"{self.user} — {self.get_role_display()} at {where}"


class SignInEvent(models.Model):
    """One row per sign-in attempt and per change to someone's second factor: the sign-in
    report (per client, and on the control plane for provider staff). Never the attempted
    password or code: the address typed, the outcome, and where from. A failure for an address
    nobody has is kept too (user empty), so guessing at accounts shows up."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", _("Signed in")
        FAILED = "failed", _("Failed")
        LOCKED_OUT = "locked_out", _("Locked out")
        TWO_FACTOR_SET_UP = "two_factor_set_up", _("Two-factor set up")
        TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor reset")

    class Reason(models.TextChoices):
        WRONG_PASSWORD = "wrong_password", _("Wrong password")
        UNKNOWN_ACCOUNT = "unknown_account", _("No such account")
        NO_ACCESS_HERE = "no_access_here", _("No access to this site")
        INACTIVE = "inactive", _("Account deactivated")
        WRONG_CODE = "wrong_code", _("Wrong security code")

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    reason = models.CharField(max_length=24, choices=Reason.choices, blank=True)
    # As typed (trimmed, lower case), so an attempt on an address nobody has is still reported.
    email = models.CharField(max_length=254)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    # The client whose site it happened on; empty: the control plane.
    organisation = models.ForeignKey("tenants.ClientOrganisation", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     db_constraint=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # Who reset someone's second factor (empty for the person's own attempts).
    by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["organisation", "occurred_at"],
                                name="sign_in_event_by_client")]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.email} {self.outcome}"
