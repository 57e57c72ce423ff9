"""Test set-up: one test database with the public schema, the client template and two clients
(essex: English; south-wales: bilingual), so every test can prove neither sees the other."""

import pytest
from django.core.management import call_command
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, User
from accounts.roles import Role
from tenants.models import ClientOrganisation, Domain
from tenants.services import NewClient, onboard_client

PASSWORD = "correct-horse-battery-staple"
ESSEX = NewClient(name="Essex County Council", slug="essex", kind="county_council",
                  admin_email="admin@essex.test", display_name_en="Essex Driver Awareness",
                  primary_colour="#6a1b5d", contact_phone="0300 123 4567",
                  contact_email="courses@essex.test")
SOUTH_WALES = NewClient(name="South Wales Road Safety Partnership", slug="south-wales",
                        kind="road_safety_partnership", admin_email="admin@south-wales.test",
                        display_name_en="South Wales Driver Awareness",
                        display_name_cy="Ymwybyddiaeth Gyrwyr De Cymru", languages="cy-en",
                        primary_colour="#00703c")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)
        call_command("ensure_client_template", verbosity=0)
        for new in (ESSEX, SOUTH_WALES):
            onboard_client(new, acting_user="tests")


def _client_rows(new: NewClient) -> ClientOrganisation:
    """The session's clients. A transactional test's flush empties public tables but leaves
    schemas, so the rows are put back around the schema that is still there."""
    organisation = ClientOrganisation.objects.filter(slug=new.slug).first()
    if organisation is None:
        organisation = ClientOrganisation(
            schema_name=new.schema_name(), name=new.name, slug=new.slug, kind=new.kind,
            status=ClientOrganisation.Status.LIVE, display_name_en=new.display_name_en,
            display_name_cy=new.display_name_cy, languages=new.languages,
            primary_colour=new.primary_colour, contact_phone=new.contact_phone,
            contact_email=new.contact_email,
        )
        organisation.save(verbosity=0)
        Domain.objects.create(domain=new.hostname(), tenant=organisation, is_primary=True)
    return organisation


@pytest.fixture
def essex(db):
    return _client_rows(ESSEX)


@pytest.fixture
def south_wales(db):
    return _client_rows(SOUTH_WALES)


@pytest.fixture
def in_essex(essex):
    """The test runs in essex's schema (back to the public one after it)."""
    connection.set_tenant(essex)
    return essex


@pytest.fixture(autouse=True)
def text_outbox():
    """Text messages go to `integrations.text_messages.outbox` (config.settings_test), as e-mail
    goes to `mail.outbox`; each test starts with it empty."""
    from integrations import text_messages

    text_messages.outbox.clear()
    return text_messages.outbox


@pytest.fixture(autouse=True)
def back_to_public_schema():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def starts_in_english():
    """Each test starts in the default language: a request to a bilingual client's site in Welsh
    leaves Welsh active in the thread (as Django's LocaleMiddleware does), and a later test's
    service-level messages would come out in Welsh depending on the order tests ran in."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def make_user(email, *, organisation=None, role=None, verified_device=False):
    user = User.objects.create_user(email=email, password=PASSWORD)
    if role:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    if verified_device:
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


@pytest.fixture
def essex_admin(essex):
    return make_user("boss@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)


@pytest.fixture
def south_wales_admin(south_wales):
    return make_user("boss@south-wales.test", organisation=south_wales, role=Role.CLIENT_ADMIN)


@pytest.fixture
def provider_admin(db):
    return make_user("ops@waymark.test", role=Role.PROVIDER_ADMIN, verified_device=True)


@pytest.fixture
def provider_support(db):
    return make_user("support@waymark.test", role=Role.PROVIDER_SUPPORT, verified_device=True)


def sign_in_verified(client, user):
    """A session that has passed the second factor, as after a real TOTP sign-in."""
    from django_otp import DEVICE_ID_SESSION_KEY

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


# --- localstripe: a real Stripe-compatible server on a free loopback port -------------------

@pytest.fixture(scope="session")
def localstripe_server():
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import requests

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "config.localstripe_server", "--port", str(port)],
        cwd=root, env={**__import__("os").environ, "PYTHONPATH": f"{root}/platform:{root}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/js.stripe.com/v3/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_api(localstripe_server, settings):
    """Point the app at localstripe, emptied for this test."""
    import requests

    requests.delete(localstripe_server + "/_config/data", timeout=5)
    settings.STRIPE_API_BASE = localstripe_server
    settings.STRIPE_SECRET_KEY = "sk_test_waymark"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_waymark"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_waymark"
    return localstripe_server


@pytest.fixture
def taking_bookings(essex, south_wales):
    """Both session clients' set-up checklists done, so their public sites take bookings (until
    then the journey says "not taking bookings online yet": test_not_taking_bookings)."""
    from django_tenants.utils import schema_context

    from .factories import complete_setup

    for organisation in (essex, south_wales):
        with schema_context(organisation.schema_name):
            complete_setup(organisation)
    return essex, south_wales


def enable_card_payments(organisation, *, allow_moto=False):
    organisation.stripe_account_id = f"acct_test_{organisation.slug.replace('-', '_')}"
    organisation.stripe_charges_enabled = True
    organisation.allow_moto = allow_moto
    organisation.save(update_fields=["stripe_account_id", "stripe_charges_enabled", "allow_moto"])
    return organisation


@pytest.fixture(autouse=True)
def tasks_run_inline(request):
    """What a change hands to a worker after it commits (the outbox's messages, refunds) runs
    inline, as in eager mode (no REDIS_URL). Tests of a real worker opt out: `real_worker`."""
    from config.celery import app

    if request.node.get_closest_marker("real_worker"):
        yield
        return
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


def deliver_outbox() -> list:
    """Send what the changes of a test queued in the current schema's outbox (a test's own
    transaction never commits, so the after-commit hand-over never fires), and return
    django.core.mail.outbox."""
    from django.core import mail

    from outbox.models import OutboundMessage
    from outbox.services import deliver_message

    for message_id in (OutboundMessage.objects.filter(status=OutboundMessage.Status.PENDING)
                       .order_by("pk").values_list("pk", flat=True)):
        deliver_message(message_id)
    return mail.outbox
