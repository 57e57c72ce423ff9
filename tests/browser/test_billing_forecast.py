"""The 12-month forecast on /manage/billing/ in a real browser, checked with axe-core: the
chart and its table with 30 months of history, then the what-if refusing a bad percentage and
answering a good one."""

import pytest

from billing.services import plans

from ..billing.conftest import FROM, make_plan
from ..billing.test_forecast import write_history
from .conftest import assert_accessible, site
from .test_billing import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_forecast_and_what_if_are_accessible(essex, essex_admin, live_server, page):
    plans.assign_plan(essex, make_plan("standard", "graduated"), valid_from=FROM,
                      acting_user="tests")
    write_history(essex, 30)
    base = site(live_server, "essex.localhost")
    sign_in(page, base, essex_admin.email, "/manage/billing/")
    page.get_by_role("heading", name="Forecast for the next 12 months").wait_for()
    page.get_by_role("img", name="Forecast bookings a month for the next 12 months").wait_for()
    assert page.locator("#forecast-table tbody tr").count() == 12
    assert_accessible(page)

    field = page.get_by_label("Percentage of contact-centre bookings made online instead")
    field.fill("150")
    page.get_by_role("button", name="Work out the saving").click()
    page.get_by_role("alert").wait_for()
    assert "whole number from 0 to 100" in page.get_by_role("alert").inner_text()
    assert_accessible(page)

    field.fill("40")
    page.get_by_role("button", name="Work out the saving").click()
    page.locator("#what-if-answer").wait_for()
    assert "If 40% of your contact-centre bookings" in page.locator("#what-if-answer").inner_text()
    assert_accessible(page)
