"""Issue 14 in a real browser, checked with axe-core: the public site of a client not yet set up
says it is not taking bookings (its staff preview the journey under a banner); the accessibility
statement's page in /manage/ with its preview and a date-input error; a staff date input's
per-part error linked from the error summary."""

from datetime import date

import pytest

from accounts.roles import Role
from tenants.models import ClientOrganisation

from ..conftest import make_user
from ..journey_data import make_journey_data
from .conftest import assert_accessible, fill_date, site
from .test_manage import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_not_taking_bookings_and_the_staff_preview(essex, live_server, page):
    make_journey_data(essex, reference="ESX-770001")
    ClientOrganisation.objects.filter(pk=essex.pk).update(stripe_account_id="",
                                                          stripe_charges_enabled=False)
    base = site(live_server, "essex.localhost")
    page.goto(base + "/")
    page.get_by_role("heading",
                     name="Essex Driver Awareness is not taking bookings online yet").wait_for()
    assert "0300 123 4567" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Start now").count() == 0
    assert_accessible(page)

    admin = make_user("preview-admin@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    sign_in(page, base, admin)
    page.goto(base + "/")
    page.get_by_role("heading", name="Preview for staff").wait_for()
    assert page.get_by_role("button", name="Start now").is_visible()
    assert_accessible(page)


def test_accessibility_statement_page_with_preview_and_errors(essex, live_server, page):
    admin = make_user("a11y-admin@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    base = site(live_server, "essex.localhost")
    sign_in(page, base, admin)
    page.goto(base + "/manage/configure/")
    page.locator("main").get_by_role("link", name="Accessibility statement").click()
    page.get_by_role("heading", name="Accessibility statement", exact=True).wait_for()
    assert_accessible(page)

    page.get_by_label("Fully compliant").check()
    group = page.get_by_role("group", name="Date the statement was last reviewed")
    group.get_by_label("Day").fill("2")
    group.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Save the statement").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    link = summary.get_by_role("link",
                               name="The date the statement was last reviewed must include a month")
    assert_accessible(page)
    link.click()
    assert page.evaluate("document.activeElement.id") == "id_reviewed_on_month"

    fill_date(page, "Date the statement was last reviewed", date(2026, 11, 2))
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("heading", name="Preview of your changes (not saved yet)").wait_for()
    assert "This website is fully compliant" in page.locator("[data-preview=en]").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Save the statement").click()
    page.locator(".govuk-notification-banner").wait_for()
    page.goto(base + "/accessibility/")
    assert "last reviewed on 2 November 2026" in page.locator("main").inner_text()


def test_a_course_date_missing_its_month_is_named_and_linked(essex, live_server, page):
    admin = make_user("dates-admin@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    base = site(live_server, "essex.localhost")
    sign_in(page, base, admin)
    page.goto(base + "/manage/sessions/new/")
    group = page.get_by_role("group", name="Date", exact=True)
    group.get_by_label("Day").fill("9")
    group.get_by_label("Year").fill("2027")
    page.get_by_label("Start time").fill("9:30")
    page.get_by_role("button", name="Create course date").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert_accessible(page)
    summary.get_by_role("link", name="The date of the course must include a month").click()
    assert page.evaluate("document.activeElement.id") == "id_start_date_month"
    assert page.locator("#id_start_date_day").input_value() == "9"
