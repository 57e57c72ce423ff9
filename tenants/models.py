import logging

from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import connections, models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.postgresql_backend.base import _check_schema_name
from django_tenants.utils import (
    get_creation_fakes_migrations,
    get_tenant_database_alias,
    has_multi_type_tenants,
    schema_exists,
)

from . import schema_clone
from .branding import validate_brand_colour

logger = logging.getLogger(__name__)


def logo_path(organisation, filename: str) -> str:
    # Files are kept per client so one client's uploads never sit among another's.
    return f"clients/{organisation.schema_name}/logo/{filename}"


class ClientOrganisation(TenantMixin):
    """A council, police force or partnership whose booking site lives in its own schema."""

    class Kind(models.TextChoices):
        COUNTY_COUNCIL = "county_council", _("County council")
        UNITARY_COUNCIL = "unitary_council", _("Unitary council")
        POLICE_FORCE = "police_force", _("Police force")
        ROAD_SAFETY_PARTNERSHIP = "road_safety_partnership", _("Road-safety partnership")

    class Status(models.TextChoices):
        ONBOARDING = "onboarding", _("Onboarding")
        LIVE = "live", _("Live")
        SUSPENDED = "suspended", _("Suspended")
        OFFBOARDED = "offboarded", _("Offboarded")

    class Languages(models.TextChoices):
        ENGLISH = "en", _("English only")
        WELSH_AND_ENGLISH = "cy-en", _("Welsh and English")

    class AccessibilityCompliance(models.TextChoices):
        # The wording the Public Sector Bodies Accessibility Regulations 2018 require.
        FULL = "full", _("fully compliant")
        PARTIAL = "partial", _("partially compliant")
        NOT_COMPLIANT = "not", _("not compliant")

    class Nation(models.TextChoices):
        # Whose bank holidays the client's course dates avoid (each nation keeps its own list).
        ENGLAND_WALES = "england_wales", _("England and Wales")
        SCOTLAND = "scotland", _("Scotland")
        NORTHERN_IRELAND = "northern_ireland", _("Northern Ireland")

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ONBOARDING)
    # The template schema new clients are cloned from is a real row so migrate_schemas keeps
    # it current; it has no domain and never appears as a client.
    is_template = models.BooleanField(default=False)

    display_name_en = models.CharField(max_length=200)
    display_name_cy = models.CharField(max_length=200, blank=True)
    logo = models.ImageField(upload_to=logo_path, blank=True)
    primary_colour = models.CharField(
        max_length=7, default="#1d70b8", validators=[validate_brand_colour]
    )
    contact_phone = models.CharField(
        max_length=32,
        blank=True,
        validators=[RegexValidator(r"^[0-9 +()]{6,32}$", _("Enter a UK phone number."))],
    )
    contact_email = models.EmailField(blank=True)
    # Contact-centre hours as {"mon": ["08:00", "17:00"], ...}; a missing day is closed, and
    # none at all means the default (tenants.opening_hours.weekly_hours reads them).
    opening_hours = models.JSONField(default=dict, blank=True)
    languages = models.CharField(max_length=8, choices=Languages.choices, default=Languages.ENGLISH)
    nation = models.CharField(max_length=20, choices=Nation.choices, default=Nation.ENGLAND_WALES)

    # The client's own merchant account: a Stripe connected account, charged directly.
    stripe_account_id = models.CharField(max_length=64, blank=True)
    stripe_charges_enabled = models.BooleanField(default=False)
    # Mail order / telephone order: agents may key card details the caller reads out.
    allow_moto = models.BooleanField(default=False)

    # The accessibility statement of the client's booking site: its compliance status, what is
    # known not to meet the standard, and when the statement was prepared, reviewed and the
    # site last tested. Blank dates fall back to when the client was set up.
    accessibility_compliance = models.CharField(
        max_length=8, choices=AccessibilityCompliance.choices,
        default=AccessibilityCompliance.PARTIAL)
    accessibility_known_issues = models.TextField(blank=True)
    accessibility_known_issues_cy = models.TextField(blank=True)
    accessibility_prepared_on = models.DateField(null=True, blank=True)
    accessibility_reviewed_on = models.DateField(null=True, blank=True)
    accessibility_tested_on = models.DateField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["onboarding", "live", "suspended", "offboarded"]),
                name="client_status_valid",
            ),
        ]

    def __str__(self):
        return self.name

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Create this client's schema as a copy of the template (TENANT_BASE_SCHEMA) with
        tenants.schema_clone, whose time does not grow with the number of clients, instead of
        django-tenants' clone_schema SQL function followed by `migrate_schemas --fake` (seconds
        each with 1,000 clients). The copied django_migrations rows already record every
        migration as applied, so no migrate runs -- which is only true if the template has
        applied every tenant migration the code has, so that is checked first and onboarding
        refuses (TemplateNotMigrated) until migrate_schemas has run.

        With no template schema (or for the template itself) this migrates from scratch, and
        if the template holds objects the fast clone does not copy it uses django-tenants'
        clone, both as TenantMixin does. Runs inside the caller's transaction and never
        commits: in onboard_client's durable transaction a failure leaves no schema."""
        base_schema = self.get_base_schema() if get_creation_fakes_migrations() else False
        if (not sync_schema or not base_schema or base_schema == self.schema_name
                or has_multi_type_tenants()):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        _check_schema_name(self.schema_name)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        if not schema_exists(base_schema):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        alias = get_tenant_database_alias()
        schema_clone.require_template_migrated(base_schema, using=alias)
        try:
            schema_clone.clone_template(base_schema, self.schema_name, using=alias)
        except schema_clone.UnsupportedTemplate as error:
            logger.warning("Using django-tenants' slower clone for %s: %s", self.schema_name,
                           error)
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        connections[alias].set_schema_to_public()

    @property
    def is_bilingual(self) -> bool:
        return self.languages == self.Languages.WELSH_AND_ENGLISH

    def display_name(self, language: str) -> str:
        if language.startswith("cy") and self.display_name_cy:
            return self.display_name_cy
        return self.display_name_en


class Domain(DomainMixin):
    pass


class StripeEvent(models.Model):
    """Each Stripe webhook event once (unique id), as Stripe sent it, with its handling: received
    (and being handled) → handled | ignored, or failed and retried until it is handled. Rows are
    never deleted: a failure stays on the row, and the payload lets the retry job handle it
    again without Stripe."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received"
        HANDLED = "handled", "Handled"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=64)
    account = models.CharField(max_length=64, blank=True)
    organisation = models.ForeignKey(ClientOrganisation, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    # The signed body as text: jsonb refuses the \u0000 that Stripe's JSON may carry.
    payload = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED)
    detail = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # When the latest attempt began; a "received" claim older than the claim timeout was left
    # by a worker or request that died mid-way.
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["outcome", "next_attempt_at"],
                                name="stripe_event_retry_due")]

    def __str__(self):
        return f"{self.event_id} {self.type} {self.outcome}"


# --- service status: availability measured every minute, and incidents (tenants/status.py) ---

class AvailabilitySample(models.Model):
    """One minute's readiness checks, written by the beat job. One row a minute for the whole
    platform, naming the live clients whose site did not answer, so 13 months of samples stay
    about 570,000 rows however many clients there are. A minute with no row (the database was
    away, or beat was) is unknown, never counted as up."""

    minute = models.DateTimeField(unique=True)
    # The database, Redis and the broker all answered.
    up = models.BooleanField()
    failed_checks = models.JSONField(default=list, blank=True)
    # Ids of the live clients whose site did not answer in this minute.
    clients_down = ArrayField(models.IntegerField(), default=list, blank=True)

    class Meta:
        ordering = ["-minute"]

    def __str__(self):
        return f"{self.minute:%Y-%m-%d %H:%M} {'up' if self.up else 'down'}"


class Incident(models.Model):
    """A problem people could see, as provider staff tell it on the status pages. Every word of
    it is public: no personal data, and a client's page shows only what affects that client."""

    title = models.CharField(max_length=200)
    title_cy = models.CharField(max_length=200, blank=True)
    affects_all_clients = models.BooleanField(default=True)
    clients = models.ManyToManyField(ClientOrganisation, blank=True, related_name="incidents")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="incident_ends_after_it_starts"),
        ]

    def __str__(self):
        return self.title


class IncidentUpdate(models.Model):
    class Status(models.TextChoices):
        INVESTIGATING = "investigating", _("Investigating")
        IDENTIFIED = "identified", _("Cause found")
        MONITORING = "monitoring", _("Fixed, being watched")
        RESOLVED = "resolved", _("Resolved")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=16, choices=Status.choices)
    text = models.TextField()
    text_cy = models.TextField(blank=True)
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["-posted_at", "-pk"]

    def __str__(self):
        return f"{self.incident} {self.status}"
