"""Booking end to end in a real browser: English on essex, Welsh on south-wales, then a transfer.
Until card payments land, the course fee is set to zero so the booking confirms at once."""

import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context

from booking.models import Booking

from ..journey_data import make_journey_data
from .conftest import assert_accessible, site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def find_offer(page, reference, *, day="27", month="3", year="1985"):
    page.locator("#id_reference").fill(reference)
    page.locator("#id_date_of_birth_0").fill(day)
    page.locator("#id_date_of_birth_1").fill(month)
    page.locator("#id_date_of_birth_2").fill(year)


def test_book_and_transfer_in_english(essex, live_server, page):
    cache.clear()
    offer, sessions = make_journey_data(essex, fee_pence=0, reference="ESX-200001")
    page.goto(site(live_server, "essex.localhost") + "/")
    page.get_by_role("button", name="Start now").click()
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()  # empty: the error summary
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
    find_offer(page, "esx-200001")
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("In a classroom at a venue near me").check()
    page.get_by_label("Postcode", exact=True).fill("CM1 1QH")
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="Choose a course date").wait_for()
    assert_accessible(page)
    page.locator(f"input[name=session][value='{sessions[1].pk}']").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Phone number").fill("07700 900982")
    page.get_by_label("A hearing loop").check()
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="Check your answers before booking").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Book course").click()

    page.locator(".govuk-panel--confirmation").wait_for()
    assert_accessible(page)
    with schema_context(essex.schema_name):
        booking = Booking.objects.get(offer=offer, status="confirmed")
    assert booking.reference in page.locator(".govuk-panel__body").inner_text()

    page.get_by_role("link", name="View, change or cancel your booking").click()
    assert_accessible(page)
    page.get_by_role("button", name="Change date or venue").click()
    page.get_by_label("Online, by video call").check()
    page.get_by_role("button", name="Continue").click()
    page.locator(f"input[name=session][value='{sessions[2].pk}']").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Check your new course date").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm change").click()
    page.get_by_role("heading", name="Your booking").wait_for()
    assert "Your booking has been moved" in page.locator(".govuk-notification-banner").inner_text()
    assert_accessible(page)
    with schema_context(essex.schema_name):
        moved = Booking.objects.get(offer=offer, status="confirmed")
    assert moved.session_id == sessions[2].pk and moved.transferred_from_id == booking.pk
    cache.clear()


def test_book_in_welsh(south_wales, live_server, page):
    cache.clear()
    offer, sessions = make_journey_data(south_wales, fee_pence=0, reference="SWA-200001",
                                        language="cy", postcode="CF10 1EP", welsh_sessions=True)
    page.goto(site(live_server, "south-wales.localhost") + "/")
    page.get_by_role("link", name="Cymraeg").click()
    page.locator(".govuk-button--start").click()
    assert page.locator("html").get_attribute("lang") == "cy"
    assert_accessible(page)
    find_offer(page, "SWA-200001")
    page.locator("button.govuk-button").click()
    page.locator("#id_mode_online").check()
    assert_accessible(page)
    page.locator("button.govuk-button").click()
    page.locator(f"input[name=session][value='{sessions[2].pk}']").check()
    assert_accessible(page)
    # The date page also has the filter's GET form: continue with the choice's own button.
    page.locator("form[method=post] button.govuk-button").click()
    page.locator("#id_email").fill("sam@example.com")
    page.locator("#id_phone").fill("07700 900982")
    page.locator("input[name=language][value=cy]").check()
    assert_accessible(page)
    page.locator("button.govuk-button").click()
    assert_accessible(page)
    page.locator("form button.govuk-button").click()
    page.locator(".govuk-panel--confirmation").wait_for()
    assert page.locator("html").get_attribute("lang") == "cy"
    assert_accessible(page)
    with schema_context(south_wales.schema_name):
        booking = Booking.objects.get(offer=offer, status="confirmed")
        assert booking.offer.language == "cy"
    assert booking.reference in page.locator(".govuk-panel__body").inner_text()
    cache.clear()
