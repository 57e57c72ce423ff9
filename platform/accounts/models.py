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
