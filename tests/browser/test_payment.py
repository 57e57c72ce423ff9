"""Paying by card in a real browser with localstripe's Stripe.js: a declined card, a retry,
3-D Secure, and a cancellation that refunds."""

import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context

from booking.models import Booking, Payment, Refund

from ..conftest import enable_card_payments
from ..journey_data import make_journey_data
from .conftest import assert_accessible, site
from .test_booking_journey import find_offer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_card(page, number):
    fields = page.locator("#card-element input")
    fields.nth(0).fill(number)
    fields.nth(1).fill("12")
    fields.nth(2).fill("30")
    fields.nth(3).fill("123")


def book_until_payment(page, live_server, reference, session):
    page.goto(site(live_server, "essex.localhost") + "/book/find/")
    find_offer(page, reference)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Online, by video call").check()
    page.get_by_role("button", name="Continue").click()
    page.locator(f"input[name=session][value='{session.pk}']").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Phone number").fill("07700 900982")
    page.get_by_role("button", name="Continue").click()
    assert "£95.00" in page.locator("main").inner_text()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("heading", name="Pay for your course").wait_for()
    page.locator("#card-element input").first.wait_for()


def test_declined_card_then_retry_then_cancel_refunds(essex, live_server, page, stripe_api):
    cache.clear()
    enable_card_payments(essex)
    offer, sessions = make_journey_data(essex, reference="ESX-400001")
    book_until_payment(page, live_server, "ESX-400001", sessions[2])
    assert_accessible(page)

    fill_card(page, "4000000000000341")
    page.get_by_role("button", name="Pay £95.00").click()
    page.locator("#payment-error-summary:not([hidden])").wait_for()
    assert "declined" in page.locator("#payment-error").inner_text().lower()
    assert_accessible(page)

    fill_card(page, "4242424242424242")
    page.get_by_role("button", name="Pay £95.00").click()
    page.locator(".govuk-panel--confirmation").wait_for()
    assert_accessible(page)
    with schema_context(essex.schema_name):
        booking = Booking.objects.get(offer=offer, status="confirmed")
        assert Payment.objects.filter(booking=booking, status="succeeded").count() == 1
        assert Payment.objects.filter(booking=booking, status="failed").count() == 1

    page.get_by_role("link", name="View, change or cancel your booking").click()
    page.get_by_role("button", name="Cancel booking").click()
    assert "We will refund £95.00" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, cancel my booking").click()
    page.get_by_role("heading", name="Your booking").wait_for()
    assert "We will refund £95.00 to the card you paid with" in page.locator(
        ".govuk-notification-banner").all_inner_texts()[-1]
    with schema_context(essex.schema_name):
        assert Refund.objects.get(payment__booking=booking).amount_pence == 9500
    cache.clear()


def test_three_d_secure_card(essex, live_server, page, stripe_api):
    cache.clear()
    enable_card_payments(essex)
    offer, sessions = make_journey_data(essex, reference="ESX-400002")
    book_until_payment(page, live_server, "ESX-400002", sessions[2])
    fill_card(page, "4000002500003155")
    page.get_by_role("button", name="Pay £95.00").click()
    page.get_by_role("button", name="Complete authentication").click()
    page.locator(".govuk-panel--confirmation").wait_for()
    with schema_context(essex.schema_name):
        assert Booking.objects.get(offer=offer).status == "confirmed"
    cache.clear()
