"""In a real browser, under axe: the header's client-name link shows a focus that stands out
from the brand colour by 3:1 (measured from the computed style, on Essex's purple, where the
old focus was 1.8:1), and the console's client page with its "Suspend" error state."""

import re

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.branding import contrast
from tenants.models import ClientOrganisation

from ..conftest import PASSWORD
from .conftest import assert_accessible, site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STYLE_OF = """([selector, property]) => getComputedStyle(document.querySelector(selector))
    .getPropertyValue(property)"""


def hex_of(css_colour: str) -> str:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css_colour)[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def test_the_header_link_focus_stands_out_on_essex_purple(essex, live_server, page):
    page.goto(site(live_server, "essex.localhost") + "/")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('waymark-header__name')"):
            break
    else:
        pytest.fail("Tab never reached the header's client-name link")
    header = hex_of(page.evaluate(STYLE_OF, [".waymark-header", "background-color"]))
    assert header == "#6a1b5d"
    focus_box = hex_of(page.evaluate(STYLE_OF, [".waymark-header__name", "background-color"]))
    text = hex_of(page.evaluate(STYLE_OF, [".waymark-header__name", "color"]))
    assert contrast(focus_box, header) >= 3, (focus_box, header)
    assert contrast(text, focus_box) >= 4.5, (text, focus_box)
    # The underline is the dark bar of the box shadow, on the yellow.
    shadow = page.evaluate(STYLE_OF, [".waymark-header__name", "box-shadow"])
    assert hex_of(re.findall(r"rgb\([^)]*\)", shadow)[-1]) == text
    assert_accessible(page)


def sign_in_with_second_factor(page, base, user, start):
    page.goto(base + start)
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("Security code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def test_the_console_client_page_and_a_suspend_without_a_reason(essex, provider_admin,
                                                                live_server, page):
    base = site(live_server, "localhost")
    sign_in_with_second_factor(page, base, provider_admin, f"/clients/{essex.slug}/")
    page.get_by_role("heading", name=essex.name, exact=True).wait_for()
    assert_accessible(page)

    page.get_by_role("button", name="Suspend").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert "Enter the reason: it is kept in the audit trail." in summary.inner_text()
    # The redrawn page still works: both forms labelled, the summary links to the reason.
    assert page.get_by_label("Stripe account id").is_visible()
    assert page.get_by_label("Agents may take card details by phone (MOTO)").count() == 1
    summary.get_by_role("link", name="Enter the reason").click()
    assert page.evaluate("document.activeElement.id") == "id_reason"
    assert_accessible(page)
    essex.refresh_from_db()
    assert essex.status == ClientOrganisation.Status.LIVE

    page.get_by_label("Reason").fill("Unpaid invoice")
    page.get_by_role("button", name="Suspend").click()
    page.get_by_text("Status changed.").wait_for()
    assert_accessible(page)
    essex.refresh_from_db()
    assert essex.status == ClientOrganisation.Status.SUSPENDED
