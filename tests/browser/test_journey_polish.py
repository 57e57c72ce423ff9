"""Issue 14, items 6–10 in a real browser, English and Welsh, with axe on every page and error
state touched: Pay with empty card fields, the date filter, the contact details after booking,
the receipt, the booking page after cancelling, cookies and the accessibility statement."""

import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from booking.models import Booking

from ..conftest import enable_card_payments
from ..journey_data import make_journey_data
from .conftest import assert_accessible, site
from .test_booking_journey import find_offer
from .test_payment import book_until_payment, fill_card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit(page):
    page.locator("main form[method=post] button[type=submit]").first.click()


def test_pay_with_empty_card_fields_then_pay_and_manage(essex, live_server, page, stripe_api):
    cache.clear()
    enable_card_payments(essex)
    offer, sessions = make_journey_data(essex, reference="ESX-400031")
    book_until_payment(page, live_server, "ESX-400031", sessions[2])
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.locator("#pay-button").click()
    page.locator("#payment-error-summary:not([hidden])").wait_for()
    assert page.locator("#payment-error").inner_text() == "Enter your card details."
    assert page.locator("#pay-button").is_enabled()
    assert not errors, errors
    assert_accessible(page)

    fill_card(page, "4242424242424242")
    page.locator("#pay-button").click()
    page.locator(".govuk-panel--confirmation").wait_for()
    assert_accessible(page)
    with schema_context(essex.schema_name):
        booking = Booking.objects.get(offer=offer, status="confirmed")
    page.get_by_role("link", name="View your receipt").click()
    page.get_by_role("heading", name=f"Receipt for booking {booking.reference}").wait_for()
    assert "£95.00" in page.locator("main").inner_text()
    assert_accessible(page)

    page.goto(site(live_server, "essex.localhost") + "/booking/")
    page.get_by_role("link", name="Change email address").click()
    page.get_by_label("Email address").fill("")
    page.get_by_label("Phone number").fill("")
    page.get_by_role("button", name="Save changes").click()
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
    page.get_by_label("Phone number").fill("07700 900123")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("heading", name="Your booking").wait_for()
    assert "07700 900123" in page.locator("main").inner_text()
    assert_accessible(page)

    page.get_by_role("button", name="Cancel booking").click()
    page.get_by_role("button", name="Yes, cancel my booking").click()
    page.get_by_role("heading", name="Your booking").wait_for()
    text = page.locator("main").inner_text()
    assert "You have not booked a course yet" not in text and "Book another date" in text
    assert_accessible(page)
    for path in ("/cookies/", "/accessibility/"):
        page.goto(site(live_server, "essex.localhost") + path)
        assert_accessible(page)
    cache.clear()


def test_welsh_journey_with_date_filter_and_pay_errors(south_wales, live_server, page,
                                                      stripe_api):
    cache.clear()
    enable_card_payments(south_wales)
    offer, sessions = make_journey_data(south_wales, reference="SWA-400032", language="cy")
    base = site(live_server, "south-wales.localhost")
    page.goto(base + "/language/cy/?next=/book/find/")
    find_offer(page, "SWA-400032")
    submit(page)
    page.locator("input[name=mode][value=classroom]").check()
    page.locator("#id_postcode").fill("CM1 1QH")
    submit(page)
    page.locator("#id_session").wait_for()
    assert_accessible(page)
    page.locator(".govuk-details__summary").click()
    page.locator("#time-morning").check()
    page.locator("#group-week").check()
    page.locator("form[method=get] button[type=submit]").click()
    page.locator("#id_session").wait_for()
    assert_accessible(page)
    page.locator(f"input[name=session][value='{sessions[0].pk}']").check()
    submit(page)
    page.locator("#id_email").fill("")
    page.locator("#id_phone").fill("")
    submit(page)
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
    page.locator("#id_email").fill("sian@example.com")
    submit(page)
    page.locator(".govuk-summary-list").first.wait_for()
    assert_accessible(page)
    submit(page)
    page.locator("#card-element input").first.wait_for()
    page.locator("#pay-button").click()
    page.locator("#payment-error-summary:not([hidden])").wait_for()
    assert page.locator("#pay-button").is_enabled()
    assert_accessible(page)
    empty_message = page.locator("#payment-error").inner_text()
    fill_card(page, "4000000000000341")
    page.locator("#pay-button").click()
    expect(page.locator("#payment-error")).not_to_have_text(empty_message)
    assert "Your card was declined:" not in page.locator("#payment-error").inner_text()
    assert_accessible(page)
    fill_card(page, "4242424242424242")
    page.locator("#pay-button").click()
    page.locator(".govuk-panel--confirmation").wait_for()
    assert_accessible(page)
    page.goto(base + "/booking/contact-details/")
    assert_accessible(page)
    for path in ("/cookies/", "/accessibility/"):
        page.goto(base + path)
        assert_accessible(page)
    cache.clear()
