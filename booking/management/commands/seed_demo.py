"""The demo: a provider admin and two clients (essex, English; south-wales, bilingual).

Idempotent: running it again adds what is missing and changes nothing that exists (what people
changed in the running demo stays). Demo logins are in the README; an invitation is printed only
for an account that has no password yet.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts.models import Membership, User
from accounts.roles import Role
from billing.demo import seed_billing, seed_invoice_history
from booking.demo import seed_client_demo
from booking.demo_history import seed_history
from booking.models import Trainer
from tenants.models import ClientOrganisation
from tenants.services import NewClient, connect_merchant_account, onboard_client
from usergroup.demo import seed_usergroup_demo

DEMO_PASSWORD = "waymark-demo-2026"
# RFC 6238's test secret ("12345678901234567890"): base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
PROVIDER_ADMIN = "provider@waymark.test"
SHARED_AGENT = "agent@waymark.test"

DEMO_CLIENTS = [
    NewClient(
        name="Essex County Council", slug="essex", kind="county_council",
        admin_email="admin@essex.test", admin_name="Essex Administrator",
        display_name_en="Essex Driver Awareness", primary_colour="#6a1b5d",
        contact_phone="0300 123 4567", contact_email="courses@essex.test",
    ),
    NewClient(
        name="South Wales Road Safety Partnership", slug="south-wales",
        kind="road_safety_partnership",
        admin_email="admin@south-wales.test", admin_name="South Wales Administrator",
        display_name_en="South Wales Driver Awareness",
        display_name_cy="Ymwybyddiaeth Gyrwyr De Cymru",
        languages="cy-en", primary_colour="#00703c",
        contact_phone="0300 765 4321", contact_email="cyrsiau@south-wales.test",
    ),
]


class Command(BaseCommand):
    help = "Create the demo provider admin and clients (idempotent)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates known passwords: it runs only with DEBUG on.")
        provider = self._user(PROVIDER_ADMIN, "Provider Administrator", is_staff=True,
                              is_superuser=True)
        Membership.objects.get_or_create(user=provider, organisation=None,
                                         role=Role.PROVIDER_ADMIN)
        TOTPDevice.objects.get_or_create(
            user=provider, name="Demo authenticator",
            defaults={"key": DEMO_TOTP_KEY, "confirmed": True},
        )
        for new in DEMO_CLIENTS:
            # The demo administrators get the demo password first, so onboarding sends them no
            # invitation (nothing for them to set); accounts without one are still invited.
            self._user(new.admin_email, new.admin_name)
            if not ClientOrganisation.objects.filter(slug=new.slug).exists():
                onboard_client(new, acting_user="seed_demo")
                self.stdout.write(f"Created {new.name}")
            organisation = ClientOrganisation.objects.get(slug=new.slug)
            if not organisation.stripe_account_id:
                # Essex takes card payments (and MOTO by phone); South Wales by pay-by-link.
                organisation.allow_moto = new.slug == "essex"
                connect_merchant_account(organisation, acting_user="seed_demo")
        for new in DEMO_CLIENTS:
            demo = seed_client_demo(ClientOrganisation.objects.get(slug=new.slug))
            self.stdout.write(f"{new.slug}: demo offers (reference, date of birth, postcode, "
                              "course, critical date, status)")
            for offer in demo["demo_offers"]:
                self.stdout.write(f"  {offer['reference']}  {offer['date_of_birth']:%Y-%m-%d}  "
                                  f"{offer['postcode']:<8}  {offer['course_type']:<4}  "
                                  f"{offer['critical_date']:%Y-%m-%d}  {offer['status']}")
        self._staff_per_role()
        if seed_usergroup_demo(provider=provider):
            self.stdout.write("User group: change requests, votes, meetings and a release")
        self._history()
        self.stdout.write(self.style.SUCCESS("Demo ready: logins are listed in README.md."))

    def _staff_per_role(self):
        """One login per client role on each demo client, and an agent who serves both."""
        roles = [("officer", Role.BOOKING_OFFICER), ("agent", Role.CONTACT_CENTRE_AGENT),
                 ("trainer", Role.TRAINER), ("auditor", Role.AUDITOR),
                 ("member", Role.USERGROUP_MEMBER)]
        shared_agent = self._user(SHARED_AGENT, "Contact-centre Agent")
        for new in DEMO_CLIENTS:
            organisation = ClientOrganisation.objects.get(slug=new.slug)
            for prefix, role in roles:
                user = self._user(f"{prefix}@{new.slug}.test", f"{role.label} ({new.slug})")
                Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
                if role == Role.TRAINER:
                    with schema_context(organisation.schema_name):
                        first = Trainer.objects.order_by("pk").first()
                        if first is not None and first.user_id is None:
                            Trainer.objects.filter(pk=first.pk).update(user_id=user.pk)
            Membership.objects.get_or_create(user=shared_agent, organisation=organisation,
                                             role=Role.CONTACT_CENTRE_AGENT)

    def _history(self):
        """Price plans, three years of bookings and the invoices of the months they fill."""
        for line in seed_billing(acting_user="seed_demo"):
            self.stdout.write(f"Billing: {line}")
        for new in DEMO_CLIENTS:
            organisation = ClientOrganisation.objects.get(slug=new.slug)
            with schema_context(organisation.schema_name):
                made = seed_history(organisation)
            if made:
                self.stdout.write(f"{new.slug}: {made} bookings of history loaded")
        closed = seed_invoice_history(acting_user="seed_demo")
        if closed:
            self.stdout.write(f"Billing: {len(closed)} history months closed")

    @staticmethod
    @transaction.atomic
    def _user(email, full_name, **flags):
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name,
                                                                           **flags})
        if created or not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user
