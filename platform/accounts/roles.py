"""Roles and the actions they allow: the one table every view and API endpoint consults."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CLIENT_ADMIN = "client_admin", _("Client administrator")
    BOOKING_OFFICER = "booking_officer", _("Booking officer")
    CONTACT_CENTRE_AGENT = "contact_centre_agent", _("Contact-centre agent")
    TRAINER = "trainer", _("Trainer")
    AUDITOR = "auditor", _("Auditor (read only)")
    USERGROUP_MEMBER = "usergroup_member", _("User-group member")
    PROVIDER_ADMIN = "provider_admin", _("Provider administrator")
    PROVIDER_SUPPORT = "provider_support", _("Provider support")


PROVIDER_ROLES = frozenset({Role.PROVIDER_ADMIN, Role.PROVIDER_SUPPORT})
CLIENT_ROLES = frozenset(set(Role) - PROVIDER_ROLES)

CLIENT_STAFF = frozenset(
    {Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT, Role.TRAINER, Role.AUDITOR}
)

# action → roles allowed. Client actions are checked against memberships of the current client;
# platform actions against provider memberships.
CLIENT_ACTIONS: dict[str, frozenset[str]] = {
    "client.view": CLIENT_STAFF,
    "client.configure": frozenset({Role.CLIENT_ADMIN}),
    "client.manage_staff": frozenset({Role.CLIENT_ADMIN}),
    "client.view_audit": frozenset({Role.CLIENT_ADMIN, Role.AUDITOR}),
    "offers.view": frozenset(
        {Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT, Role.AUDITOR}
    ),
    "offers.change": frozenset({Role.CLIENT_ADMIN, Role.BOOKING_OFFICER}),
    "offers.import": frozenset({Role.CLIENT_ADMIN, Role.BOOKING_OFFICER}),
    "bookings.book": frozenset(
        {Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT}
    ),
    # Confirm a booking, or make a move, without taking its fee (with a reason on the event).
    "bookings.waive_fee": frozenset({Role.CLIENT_ADMIN}),
    "contact_centre.use": frozenset({Role.CONTACT_CENTRE_AGENT, Role.CLIENT_ADMIN}),
    "registers.view": frozenset(
        {Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.TRAINER, Role.AUDITOR}
    ),
    "registers.record": frozenset({Role.CLIENT_ADMIN, Role.TRAINER}),
    "reports.view": frozenset({Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.AUDITOR}),
    "usergroup.take_part": frozenset({Role.USERGROUP_MEMBER}),
    # Client administration (/manage/). Every page is read with a "view" action that includes
    # the auditor; every change (any method but GET/HEAD) also needs "manage.change", which the
    # auditor role never grants: an auditor reads everything and changes nothing.
    "manage.change": frozenset(CLIENT_STAFF - {Role.AUDITOR}),
    "configuration.view": frozenset({Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.AUDITOR}),
    "staff.view": frozenset({Role.CLIENT_ADMIN, Role.AUDITOR}),
    "cases.view": frozenset(
        {Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT, Role.AUDITOR}
    ),
    "cases.raise": frozenset(
        {Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT}
    ),
    "cases.decide": frozenset({Role.CLIENT_ADMIN}),
    "billing.view": frozenset({Role.CLIENT_ADMIN}),
    # The data protection officer's pages: the auditor reads the schedule, the erasure log and
    # who viewed a record; exporting a person's data or erasing it is the administrator's.
    "privacy.view": frozenset({Role.CLIENT_ADMIN, Role.AUDITOR}),
    "privacy.manage": frozenset({Role.CLIENT_ADMIN}),
    # The client API's back-office reads (bookings and their outcomes), and the client's
    # outgoing webhooks (booking/services/webhooks.py).
    "bookings.view": frozenset(
        {Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT, Role.AUDITOR}
    ),
    "webhooks.manage": frozenset({Role.CLIENT_ADMIN}),
}
PLATFORM_ACTIONS: dict[str, frozenset[str]] = {
    "platform.view": PROVIDER_ROLES,
    "platform.onboard": frozenset({Role.PROVIDER_ADMIN}),
    "platform.change_client_status": frozenset({Role.PROVIDER_ADMIN}),
    "platform.view_audit": PROVIDER_ROLES,
    # Incidents on the public status pages (tenants/incidents.py).
    "platform.manage_incidents": PROVIDER_ROLES,
    "billing.view_all": PROVIDER_ROLES,
    "billing.close_month": frozenset({Role.PROVIDER_ADMIN}),
    "reports.view_all": PROVIDER_ROLES,
    "usergroup.moderate": PROVIDER_ROLES,
}
