"""Client organisation lifecycle: onboard, suspend, reactivate, offboard.

Each is one durable transaction that writes its audit entry. Onboarding creates the schema
inside that transaction (PostgreSQL DDL is transactional), so a failure at any step leaves no
schema, domain, organisation, user or membership behind.
"""

import re
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http.request import validate_host
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.invitations import queue_invitation
from accounts.models import Membership, User
from accounts.roles import Role
from audit.services import record
from integrations import stripe_gateway

from .branding import validate_brand_colour
from .models import ClientOrganisation, Domain
from .opening_hours import DEFAULT_HOURS
from .schema_clone import TemplateNotMigrated
from .signals import client_onboarded, client_schema_created, new_client_checked

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
RESERVED_SLUGS = {"www", "admin", "api", "public", "platform", "template", "static", "media",
                  "mail", "user-group", "console", "client-template"}


# Where each NewClient value is stored, and the name people know its field by: a value longer
# than its column is refused by name at every door (console, API, manage.py onboard_client).
STORED_IN = {
    "name": (ClientOrganisation, "name", gettext_lazy("Organisation name")),
    "display_name_en": (ClientOrganisation, "display_name_en",
                        gettext_lazy("Name shown on the site (English)")),
    "display_name_cy": (ClientOrganisation, "display_name_cy",
                        gettext_lazy("Name shown on the site (Welsh)")),
    "primary_colour": (ClientOrganisation, "primary_colour", gettext_lazy("Brand colour")),
    "contact_phone": (ClientOrganisation, "contact_phone", gettext_lazy("Contact phone")),
    "contact_email": (ClientOrganisation, "contact_email", gettext_lazy("Contact email")),
    "domain": (Domain, "domain", gettext_lazy("Web address")),
    "admin_name": (User, "full_name", gettext_lazy("First administrator's name")),
    "admin_email": (User, "email", gettext_lazy("First administrator's email")),
}


def stored_length(name: str) -> int:
    model, column, _label = STORED_IN[name]
    return model._meta.get_field(column).max_length


def too_long(label, limit: int) -> str:
    return _("%(field)s must be %(limit)s characters or less") % {"field": label,
                                                                   "limit": limit}


@dataclass
class NewClient:
    name: str
    slug: str
    kind: str
    admin_email: str
    admin_name: str = ""
    display_name_en: str = ""
    display_name_cy: str = ""
    primary_colour: str = "#1d70b8"
    contact_phone: str = ""
    contact_email: str = ""
    languages: str = ClientOrganisation.Languages.ENGLISH
    nation: str = ClientOrganisation.Nation.ENGLAND_WALES
    domain: str = ""
    opening_hours: dict = field(default_factory=lambda: dict(DEFAULT_HOURS))
    # The code of the price plan billing puts the client on from the onboarding day; "" for none
    # yet. Checked and applied by billing through new_client_checked / client_onboarded.
    plan: str = ""

    def schema_name(self) -> str:
        return "client_" + self.slug.replace("-", "_")

    def hostname(self) -> str:
        return (self.domain or f"{self.slug}.{settings.PLATFORM_DOMAIN}").strip().lower()


def validate_new_client(new: NewClient) -> None:
    """Every problem at once, keyed by field name, before anything is written."""
    errors: dict[str, list[str]] = {}

    def add(name, message):
        errors.setdefault(name, []).append(message)

    if not new.name.strip():
        add("name", _("Enter the organisation's name."))
    if not SLUG.match(new.slug or ""):
        add("slug", _("The short name must be 3–40 lower-case letters, digits or hyphens, "
                      "starting with a letter."))
    elif new.slug in RESERVED_SLUGS:
        add("slug", _("The short name “%(slug)s” is reserved.") % {"slug": new.slug})
    elif ClientOrganisation.objects.filter(slug=new.slug).exists() or (
        ClientOrganisation.objects.filter(schema_name=new.schema_name()).exists()
    ):
        add("slug", _("The short name “%(slug)s” is already taken.") % {"slug": new.slug})
    if new.kind not in ClientOrganisation.Kind.values:
        add("kind", _("Choose the kind of organisation."))
    if new.languages not in ClientOrganisation.Languages.values:
        add("languages", _("Choose the languages the site offers."))
    if new.nation not in ClientOrganisation.Nation.values:
        add("nation", _("Choose whose bank holidays apply."))
    if new.languages == ClientOrganisation.Languages.WELSH_AND_ENGLISH and not (
        new.display_name_cy.strip()
    ):
        add("display_name_cy", _("Enter the Welsh name: the site is bilingual."))
    hostname = new.hostname()
    if not HOSTNAME.match(hostname) or "_" in hostname:
        add("domain", _("Enter a domain such as bookings.example.gov.uk (letters, digits, "
                        "hyphens and dots; no underscores)."))
    elif hostname == settings.PLATFORM_DOMAIN:
        add("domain", _("That is the platform's own domain."))
    elif Domain.objects.filter(domain=hostname).exists():
        add("domain", _("The domain %(domain)s is already in use.") % {"domain": hostname})
    elif not validate_host(hostname, settings.ALLOWED_HOSTS):
        # Django would refuse every request to it: the "live" site would be a 400 page.
        add("domain", _("This server does not answer for %(domain)s yet: add it to "
                        "ALLOWED_HOSTS (see docs/deployment.md) and restart, then try again.")
            % {"domain": hostname})
    try:
        validate_brand_colour(new.primary_colour)
    except ValidationError as error:
        errors.setdefault("primary_colour", []).extend(error.messages)
    try:
        validate_email(new.admin_email)
    except ValidationError:
        add("admin_email", _("Enter the administrator's e-mail address, like name@example.gov.uk."))
    if new.contact_email:
        try:
            validate_email(new.contact_email)
        except ValidationError:
            add("contact_email", _("Enter the contact e-mail address, like name@example.gov.uk."))
    if new.contact_phone and not re.match(r"^[0-9 +()]{6,32}$", new.contact_phone):
        add("contact_phone", _("Enter the contact phone number, like 0300 123 4567."))
    for _receiver, found in new_client_checked.send(sender=ClientOrganisation, new=new):
        for name, messages in (found or {}).items():
            errors.setdefault(name, []).extend(messages)
    for name, (_model, _column, label) in STORED_IN.items():
        limit = stored_length(name)
        if len(getattr(new, name) or "") > limit:
            # The one message that matters: the others would only describe the excess.
            errors[name] = [too_long(label, limit)]
    if errors:
        raise ValidationError(errors)


def onboard_client(new: NewClient, *, acting_user, ip_address: str | None = None):
    """Create a live client site: schema (cloned from the template), domain, branding, what
    the apps add to a new schema (client_schema_created: booking's national course types), what
    they add to a new client (client_onboarded: billing's price plan) and an invited first
    administrator."""
    validate_new_client(new)
    try:
        # Control-plane records (organisation, domain, users, audit) belong to the public
        # schema whatever schema the caller's connection was in.
        with schema_context(get_public_schema_name()), transaction.atomic(durable=True):
            organisation = ClientOrganisation(
                schema_name=new.schema_name(),
                name=new.name.strip(),
                slug=new.slug,
                kind=new.kind,
                status=ClientOrganisation.Status.LIVE,
                display_name_en=(new.display_name_en or new.name).strip(),
                display_name_cy=new.display_name_cy.strip(),
                primary_colour=new.primary_colour.lower(),
                contact_phone=new.contact_phone,
                contact_email=new.contact_email,
                languages=new.languages,
                nation=new.nation,
                opening_hours=new.opening_hours,
            )
            organisation.save(verbosity=0)
            Domain.objects.create(domain=new.hostname(), tenant=organisation, is_primary=True)
            with schema_context(organisation.schema_name):
                client_schema_created.send(sender=ClientOrganisation, organisation=organisation)
            admin = _invite_user(new.admin_email, new.admin_name)
            Membership.objects.create(
                user=admin, organisation=organisation, role=Role.CLIENT_ADMIN
            )
            client_onboarded.send(sender=ClientOrganisation, organisation=organisation,
                                  new=new, acting_user=acting_user)
            after = asdict(new)
            record(actor=acting_user, action="organisation.onboarded", obj=organisation,
                   organisation=organisation, after=after, ip_address=ip_address)
            # As for staff added later: only an account without a password needs the link to
            # set one; someone who already signs in elsewhere just has the new client too.
            if not admin.has_usable_password():
                queue_invitation(admin, organisation=organisation, invited_by=acting_user)
    except TemplateNotMigrated as error:
        raise ValidationError(_("The client template is behind the code: run migrate_schemas "
                                "before onboarding (nothing was created).")) from error
    except IntegrityError as error:
        # Two onboardings racing for one slug or domain: the loser gets the same clear error.
        raise ValidationError({"slug": [_("The short name or domain was taken just now.")]}) from error
    return organisation


def _invite_user(email: str, full_name: str) -> User:
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, full_name=full_name.strip())
    return user


def _change_status(organisation, new_status, *, action, acting_user, reason, ip_address,
                   also=None):
    with schema_context(get_public_schema_name()), transaction.atomic(durable=True):
        locked = ClientOrganisation.objects.select_for_update().get(pk=organisation.pk)
        # Checked on the locked row: the caller's copy may be stale.
        _require_transition(locked, new_status)
        before = {"status": locked.status}
        locked.status = new_status
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=["status", "status_changed_at"])
        if also is not None:
            also(locked)
        record(actor=acting_user, action=action, obj=locked, organisation=locked,
               before=before, after={"status": new_status, "reason": reason},
               ip_address=ip_address)
    return locked


ALLOWED_TRANSITIONS = {
    ClientOrganisation.Status.SUSPENDED: {ClientOrganisation.Status.LIVE,
                                          ClientOrganisation.Status.ONBOARDING},
    ClientOrganisation.Status.LIVE: {ClientOrganisation.Status.SUSPENDED,
                                     ClientOrganisation.Status.ONBOARDING},
    ClientOrganisation.Status.OFFBOARDED: {ClientOrganisation.Status.SUSPENDED,
                                           ClientOrganisation.Status.LIVE,
                                           ClientOrganisation.Status.ONBOARDING},
}


def _require_transition(organisation, target):
    if organisation.status not in ALLOWED_TRANSITIONS[target]:
        raise ValidationError(
            _("A client that is %(current)s cannot become %(target)s.")
            % {"current": organisation.get_status_display().lower(),
               "target": ClientOrganisation.Status(target).label.lower()}
        )


def _require_reason(reason: str):
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Enter the reason: it is kept in the audit trail.")]})


def suspend_client(organisation, *, reason: str, acting_user, ip_address=None):
    _require_reason(reason)
    return _change_status(organisation, ClientOrganisation.Status.SUSPENDED,
                          action="organisation.suspended", acting_user=acting_user,
                          reason=reason, ip_address=ip_address)


def reactivate_client(organisation, *, reason: str, acting_user, ip_address=None):
    _require_reason(reason)
    return _change_status(organisation, ClientOrganisation.Status.LIVE,
                          action="organisation.reactivated", acting_user=acting_user,
                          reason=reason, ip_address=ip_address)


def offboard_client(organisation, *, reason: str, acting_user, ip_address=None):
    """The site stops answering and staff lose access; the schema is kept for the retention
    period (records, invoices and the audit trail stay readable to the provider)."""
    _require_reason(reason)
    return _change_status(
        organisation, ClientOrganisation.Status.OFFBOARDED, action="organisation.offboarded",
        acting_user=acting_user, reason=reason, ip_address=ip_address,
        also=lambda locked: Membership.objects.filter(organisation=locked).update(is_active=False),
    )


def set_merchant_account(organisation, *, account_id: str, allow_moto: bool, acting_user,
                         ip_address=None):
    """Record the client's Stripe connected account (created in Stripe, or by
    connect_merchant_account) and whether agents may key card details by phone (MOTO)."""
    account_id = (account_id or "").strip()
    if account_id and not re.match(r"^acct_[A-Za-z0-9_]{4,60}$", account_id):
        raise ValidationError({"stripe_account_id": [
            _("Enter the Stripe account id, which starts with acct_.")]})
    enabled = stripe_gateway.charges_enabled(account_id) if account_id else False
    with schema_context(get_public_schema_name()), transaction.atomic(durable=True):
        locked = ClientOrganisation.objects.select_for_update().get(pk=organisation.pk)
        before = {"stripe_account_id": locked.stripe_account_id,
                  "stripe_charges_enabled": locked.stripe_charges_enabled,
                  "allow_moto": locked.allow_moto}
        locked.stripe_account_id = account_id
        locked.stripe_charges_enabled = enabled
        locked.allow_moto = allow_moto
        locked.save(update_fields=["stripe_account_id", "stripe_charges_enabled", "allow_moto"])
        record(actor=acting_user, action="organisation.merchant_account_set", obj=locked,
               organisation=locked, before=before,
               after={"stripe_account_id": account_id, "stripe_charges_enabled": enabled,
                      "allow_moto": allow_moto}, ip_address=ip_address)
    return locked


def connect_merchant_account(organisation, *, acting_user, ip_address=None):
    """Create a Standard connected account for the client in Stripe and record it. Idempotent:
    a client that has an account keeps it, and Stripe's create is keyed on the client, so two
    clicks, two consoles or a retry after a lost answer make one account."""
    with schema_context(get_public_schema_name()):
        account_id = ClientOrganisation.objects.values_list(
            "stripe_account_id", flat=True).get(pk=organisation.pk)
    if not account_id:
        account_id = stripe_gateway.create_connected_account(
            email=organisation.contact_email or f"{organisation.slug}@{settings.PLATFORM_DOMAIN}",
            business_name=organisation.name,
            idempotency_key=f"connect-{organisation.schema_name}")["id"]
    return set_merchant_account(organisation, account_id=account_id,
                                allow_moto=organisation.allow_moto, acting_user=acting_user,
                                ip_address=ip_address)


def merchant_onboarding_link(organisation, *, refresh_url: str, return_url: str, acting_user,
                             ip_address=None) -> str:
    """Stripe's onboarding page for the client's connected account (an account link), made
    first if the client has none. Stripe sends the person back to `return_url` when done and
    to `refresh_url` if the link expired; links are single-use, so each visit asks for one."""
    organisation = connect_merchant_account(organisation, acting_user=acting_user,
                                            ip_address=ip_address)
    return stripe_gateway.account_link(organisation.stripe_account_id, refresh_url=refresh_url,
                                       return_url=return_url)


def refresh_charges_enabled(account_id: str, *, charges_enabled: bool | None = None,
                            acting_user="stripe") -> ClientOrganisation | None:
    """Whether the client with this connected account can take charges, kept current (the
    account.updated webhook, and the return from onboarding). Asks Stripe unless told; the
    client, or None if no client has the account. Audited only when it changes."""
    if charges_enabled is None:
        charges_enabled = stripe_gateway.charges_enabled(account_id)
    with schema_context(get_public_schema_name()), transaction.atomic(durable=True):
        locked = (ClientOrganisation.objects.select_for_update()
                  .filter(stripe_account_id=account_id, is_template=False).first())
        if locked is None or not account_id:
            return None
        if locked.stripe_charges_enabled != charges_enabled:
            before = {"stripe_charges_enabled": locked.stripe_charges_enabled}
            locked.stripe_charges_enabled = charges_enabled
            locked.save(update_fields=["stripe_charges_enabled"])
            record(actor=acting_user, action="organisation.merchant_account_updated", obj=locked,
                   organisation=locked, before=before,
                   after={"stripe_charges_enabled": charges_enabled})
        return locked
