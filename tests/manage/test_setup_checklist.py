"""A newly onboarded client's set-up checklist, ticked from the real state, in /manage/ and in
the console; the merchant account connected through Stripe's account links, and whether it can
take charges kept current by the account.updated webhook."""

import html
import re

from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import CourseSession
from booking.services.setup_checklist import setup_checklist, taking_bookings
from integrations import stripe_gateway
from tenants.models import ClientOrganisation

from ..test_payments import signed_event
from .conftest import get, post


def ticks(organisation):
    organisation.refresh_from_db()
    with schema_context(organisation.schema_name):
        items = setup_checklist(organisation)
    return {item.key: item.done for item in items}, taking_bookings(items)


def test_each_item_is_ticked_by_the_real_state(world, essex):
    ClientOrganisation.objects.filter(pk=essex.pk).update(stripe_account_id="",
                                                          stripe_charges_enabled=False)
    done, taking = ticks(essex)
    # world has a course type, a venue, a trainer and dates; nothing else is set up yet.
    assert done == {"merchant_account": False, "course_types": True, "venues": True,
                    "trainers": True, "dates": True, "branding": False, "staff": True,
                    "email_wording": False, "accessibility": False}
    assert taking is False
    ClientOrganisation.objects.filter(pk=essex.pk).update(stripe_account_id="acct_test1234",
                                                          stripe_charges_enabled=True)
    with schema_context(essex.schema_name):
        CourseSession.objects.filter(starts_at__gt=timezone.now()).update(status="cancelled")
    done, taking = ticks(essex)
    assert done["merchant_account"] and not done["dates"] and taking is False


def test_dashboard_and_console_show_the_checklist(world, essex, staff, client, provider_admin):
    ClientOrganisation.objects.filter(pk=essex.pk).update(stripe_account_id="",
                                                          stripe_charges_enabled=False)
    client.force_login(staff[Role.CLIENT_ADMIN])
    page = get(client, "/manage/").content.decode()
    assert "Set up your service" in page and 'class="govuk-task-list"' in page
    assert 'href="/manage/configure/merchant-account/"' in page
    assert re.search(r'id="setup-merchant_account-status">\s*<strong[^>]*>Not done yet', page)
    assert re.search(r'id="setup-venues-status">Done<', page)

    from tests.conftest import sign_in_verified
    sign_in_verified(client, provider_admin)
    console = html.unescape(client.get("/clients/essex/", HTTP_HOST="localhost").content.decode())
    assert "Set up your service" in console and "Connect the merchant account" in console
    assert not re.search(r"\{'|': '|None\b|\b[a-z_]+\.[a-z_]+_[a-z_]+\b", re.sub(r"<[^>]+>", " ",
                                                                                    console))


def test_merchant_account_is_connected_through_an_account_link(world, essex, staff, client,
                                                               monkeypatch):
    ClientOrganisation.objects.filter(pk=essex.pk).update(stripe_account_id="",
                                                          stripe_charges_enabled=False)
    asked = {}

    def account_link(account_id, *, refresh_url, return_url):
        asked.update(account=account_id, refresh=refresh_url, back=return_url)
        return "https://connect.stripe.test/setup/abc"

    monkeypatch.setattr(stripe_gateway, "account_link", account_link)
    client.force_login(staff[Role.CLIENT_ADMIN])
    response = post(client, "/manage/configure/merchant-account/")
    assert response.status_code == 302
    assert response["Location"] == "https://connect.stripe.test/setup/abc"
    essex.refresh_from_db()
    assert asked["account"] == essex.stripe_account_id.strip() != ""
    assert asked["back"] == "http://essex.localhost/manage/configure/merchant-account/return/"
    assert asked["refresh"] == "http://essex.localhost/manage/configure/merchant-account/?start=1"

    # Back from Stripe: asked again whether it can take charges.
    back = get(client, "/manage/configure/merchant-account/return/")
    assert back.status_code == 200
    assert "The merchant account can take card payments." in back.content.decode()
    essex.refresh_from_db()
    assert essex.stripe_charges_enabled is True  # localstripe says every account can


def test_officer_cannot_start_onboarding(world, essex, staff, client):
    client.force_login(staff[Role.BOOKING_OFFICER])
    assert post(client, "/manage/configure/merchant-account/").status_code == 403


def test_account_updated_webhook_keeps_charges_enabled_current(world, essex, client, settings,
                                                              monkeypatch):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_waymark"
    ClientOrganisation.objects.filter(pk=essex.pk).update(stripe_account_id="acct_essex1234",
                                                          stripe_charges_enabled=True)
    stripe_says = {"acct_essex1234": False}
    monkeypatch.setattr(stripe_gateway, "charges_enabled", lambda account: stripe_says[account])

    def deliver(event_id, charges_enabled_in_event):
        body, signature = signed_event({
            "id": event_id, "object": "event", "type": "account.updated",
            "account": "acct_essex1234",
            "data": {"object": {"id": "acct_essex1234", "object": "account",
                                "charges_enabled": charges_enabled_in_event}}})
        return client.post("/webhooks/stripe/", body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=signature, HTTP_HOST="localhost")

    assert deliver("evt_account_1", False).status_code == 200
    essex.refresh_from_db()
    assert essex.stripe_charges_enabled is False
    # A late, older event saying otherwise: Stripe is asked again, and its answer stands.
    assert deliver("evt_account_0", True).status_code == 200
    essex.refresh_from_db()
    assert essex.stripe_charges_enabled is False
    stripe_says["acct_essex1234"] = True
    deliver("evt_account_2", True)
    essex.refresh_from_db()
    assert essex.stripe_charges_enabled is True
    _done, taking = ticks(essex)
    assert taking is True
