"""The client site shell and the control plane in a real browser, checked with axe-core."""

import re

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..conftest import PASSWORD
from .conftest import assert_accessible, site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_public_pages_in_english(essex, taking_bookings, live_server, page):
    base = site(live_server, "essex.localhost")
    page.goto(base + "/")
    assert page.title() == "Book a driver awareness course – Essex Driver Awareness"
    assert page.locator(".waymark-header").evaluate(
        "el => getComputedStyle(el).backgroundColor") == "rgb(106, 27, 93)"
    assert_accessible(page)
    for link in ("Accessibility statement", "Privacy", "Contact us"):
        page.get_by_role("link", name=link).click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text()
        assert_accessible(page)
    # Keyboard users reach the content first through the skip link.
    page.goto(base + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"


def test_bilingual_site_in_welsh(south_wales, taking_bookings, live_server, page):
    page.goto(site(live_server, "south-wales.localhost") + "/")
    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_url(re.compile(r".*/$"))
    assert page.locator("html").get_attribute("lang") == "cy"
    assert page.locator("h1").inner_text().startswith("Archebu cwrs")
    assert_accessible(page)
    page.get_by_role("link", name="Datganiad hygyrchedd").click()
    assert page.locator("html").get_attribute("lang") == "cy"
    assert_accessible(page)
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en-GB"


def test_unknown_host_page_is_accessible(essex, live_server, page):
    response = page.goto(site(live_server, "nowhere.localhost") + "/")
    assert response.status == 404
    assert_accessible(page)


def test_provider_signs_in_with_totp_and_onboards_a_client(essex, provider_admin, live_server,
                                                         page):
    device = TOTPDevice.objects.get(user=provider_admin)
    base = site(live_server, "localhost")
    page.goto(base + "/")
    assert_accessible(page)
    page.get_by_label("Email address").fill(provider_admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Security code").fill(f"{TOTP(device.bin_key).token():06d}")
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Clients").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Onboard a client", exact=True).first.click()
    page.get_by_role("button", name="Create client site").click()
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
    page.get_by_label("Organisation name").fill("Norfolk County Council")
    page.get_by_label("Short name").fill("norfolk")
    page.get_by_label("Kind of organisation").select_option("county_council")
    page.get_by_label("First administrator's email").fill("lead@norfolk.test")
    page.get_by_role("button", name="Create client site").click()
    page.get_by_role("heading", name="Norfolk County Council").wait_for()
    assert "is live" in page.locator(".govuk-notification-banner").inner_text()
    assert_accessible(page)

    page.goto(site(live_server, "norfolk.localhost") + "/")
    assert "Norfolk County Council" in page.locator(".waymark-header").inner_text()
    assert_accessible(page)
