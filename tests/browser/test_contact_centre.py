"""The contact-centre console in a real browser, checked with axe-core on every page: an agent
signs in, finds a caller by name and date of birth, books them on a date by phone, texts them a
payment link that they pay with, and logs the call. Also the public site's banner while the phone lines are closed."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Booking, CallLog, Hold, Offer, OfferEvent
from tenants import opening_hours

from ..conftest import PASSWORD, enable_card_payments, make_user
from ..journey_data import make_journey_data
from .conftest import assert_accessible, new_page, site
from .test_payment import fill_card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_books_a_caller_by_phone_and_logs_the_call(essex, live_server, page, stripe_api,
                                                         text_outbox):
    enable_card_payments(essex)
    offer, sessions = make_journey_data(essex, reference="ESX-400004", fee_pence=9500)
    with schema_context(essex.schema_name):
        # A name of its own: transactional tests leave other tests' offers in the schema.
        Offer.objects.filter(pk=offer.pk).update(first_name="Ada", last_name="Okonkwo")
    agent = make_user("agent@callcentre.test", organisation=essex,
                      role=Role.CONTACT_CENTRE_AGENT)
    base = site(live_server, "essex.localhost")

    page.goto(base + "/contact-centre/")
    page.get_by_label("Email address").fill(agent.email)
    page.get_by_label("Password").fill(PASSWORD)
    assert_accessible(page)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("heading", name="Find a caller").wait_for()
    assert_accessible(page)
    # A mistake first: the error summary names it.
    page.get_by_role("button", name="Find by name and date of birth").click()
    page.locator(".govuk-error-summary").wait_for()
    assert "Enter the caller's last name" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)
    page.get_by_label("Last name").fill("okonkwo")
    page.locator("#id_date_of_birth_0").fill("27")
    page.locator("#id_date_of_birth_1").fill("3")
    page.locator("#id_date_of_birth_2").fill("1985")
    page.get_by_role("button", name="Find by name and date of birth").click()
    page.get_by_text("1 offer found").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="ESX-400004").click()

    page.get_by_role("heading", name="Ada Okonkwo").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Book a course").click()

    page.get_by_role("heading", name="Book a course by phone").wait_for()
    assert_accessible(page)
    page.get_by_label("Online", exact=True).check()
    page.get_by_role("button", name="Search dates").click()
    page.locator(f"input[name=session][value='{sessions[2].pk}']").check()
    page.get_by_label("Phone number").fill("07700 900982")
    page.get_by_label("Email address (optional)").fill("sam@example.com")
    assert_accessible(page)
    page.get_by_role("button", name="Book this date").click()

    page.get_by_role("heading", name="Booking").wait_for()
    with schema_context(essex.schema_name):
        booking = Booking.objects.get(offer=offer)
        assert booking.channel == "telephone" and booking.status == "pending_payment"
        assert booking.session_id == sessions[2].pk and booking.made_by == agent.email
        assert Hold.objects.filter(offer=offer, session=sessions[2]).exists()
    assert booking.reference in page.locator("h1").inner_text()
    assert "Take payment" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Take payment").click()
    page.get_by_role("heading", name="Take payment").wait_for()
    assert booking.reference in page.locator("main").inner_text()
    assert_accessible(page)
    # Pay-by-link by text: a wrong number first, then the caller's mobile read back.
    page.get_by_label("Mobile number").fill("01245 430000")
    page.get_by_role("button", name="Send payment link by text").click()
    page.locator(".govuk-error-summary:not([hidden])").wait_for()
    assert "not a mobile number" in page.locator(".govuk-error-summary:not([hidden])").inner_text()
    assert_accessible(page)
    page.get_by_label("Mobile number").fill("07700 900982")
    page.get_by_role("button", name="Send payment link by text").click()
    page.get_by_text("Payment link sent to +447700900982.").wait_for()
    assert_accessible(page)
    [text] = text_outbox
    link = re.search(r"https?://essex\.localhost(?::\d+)?(/pay/\S+/)", text.body).group(1)

    caller = new_page(page.context.browser)  # the caller, on their own phone
    caller.goto(base + link)
    caller.get_by_role("heading", name="Pay for your course").wait_for()
    assert_accessible(caller)
    fill_card(caller, "4242424242424242")
    caller.get_by_role("button", name="Pay £95.00").click()
    caller.locator(".govuk-panel--confirmation").wait_for()
    assert_accessible(caller)
    caller.context.close()
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"

    page.get_by_role("link", name="Back to the booking").click()
    page.get_by_role("heading", name=f"Booking {booking.reference}").wait_for()
    assert "Confirmed" in page.locator("main").inner_text()

    page.get_by_role("link", name="Log this call").click()
    page.get_by_role("heading", name="Log a call").wait_for()
    assert page.get_by_label("Type of call").input_value() == "new_booking"
    assert page.get_by_label("Outcome").input_value() == "booked"
    assert_accessible(page)
    page.get_by_label("Length of the call, in minutes").fill("6")
    page.get_by_label("Notes (optional)").fill("Booked online course; payment next.")
    page.get_by_role("button", name="Log call").click()

    page.get_by_role("heading", name="Ada Okonkwo").wait_for()
    assert "The call has been logged." in page.locator(".govuk-notification-banner").inner_text()
    assert "Booked online course; payment next." in page.locator("#calls").inner_text()
    first_event = page.locator("#timeline tbody tr").first.inner_text()
    assert "Call logged" in first_event
    assert_accessible(page)
    with schema_context(essex.schema_name):
        call = CallLog.objects.get(offer=offer)
        assert (call.call_type, call.outcome, call.duration_minutes) == (
            "new_booking", "booked", 6)
        assert call.offer_id == offer.pk and call.agent_user_id == agent.pk
        assert OfferEvent.objects.filter(offer=offer, kind="call.logged").count() == 1

    page.get_by_role("link", name="Switch client").click()
    page.get_by_role("heading", name="Switch client").wait_for()
    assert "You are here" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Log a call").click()
    page.get_by_role("heading", name="Log a call").wait_for()
    assert_accessible(page)


def test_public_site_says_when_phone_lines_are_closed(essex, south_wales, taking_bookings,
                                                      live_server, page, monkeypatch):
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    monkeypatch.setattr(opening_hours, "_now", lambda: christmas)
    page.goto(site(live_server, "essex.localhost") + "/")
    banner = page.locator("[data-phone-lines=closed]")
    assert "Online booking is open 24 hours a day" in banner.inner_text()
    assert_accessible(page)
    page.goto(site(live_server, "south-wales.localhost") + "/")
    page.get_by_role("link", name="Cymraeg").click()
    assert "Mae archebu ar-lein ar gael" in page.locator("[data-phone-lines=closed]").inner_text()
    assert_accessible(page)
