"""The sign-in report, the two-factor reset and the "Sorry, there is a problem with the service"
page in a real browser, checked with axe-core."""

from datetime import date

import pytest
from django.db import OperationalError

from accounts.roles import Role
from tenants.middleware import ClientOrganisationMiddleware

from ..conftest import make_user
from .conftest import assert_accessible, fill_date, site
from .test_manage import sign_in, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrator_reads_the_sign_in_report_and_resets_a_lost_phone(essex, live_server,
                                                                           page):
    admin = make_user("report-admin@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    make_user("lost-phone@essex.test", organisation=essex, role=Role.TRAINER,
              verified_device=True)
    base = site(live_server, "essex.localhost")
    page.goto(base + "/accounts/sign-in/")
    page.get_by_label("Email address").fill("nobody@essex.test")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    sign_in(page, base, admin)
    page.get_by_role("link", name="Sign-ins").click()
    page.get_by_role("heading", name="Sign-in report").wait_for()
    assert_accessible(page)
    assert page.get_by_text("nobody@essex.test").is_visible()
    page.get_by_label("Outcome").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    assert_accessible(page)
    assert "report-admin@essex.test" not in page.locator("table").inner_text()
    fill_date(page, "To", date(2000, 1, 1))
    fill_date(page, "From", date(2001, 1, 1))
    page.get_by_role("button", name="Filter").click()
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)

    visit(page, base + "/manage/staff/")
    page.get_by_role("link", name="Reset two-factor lost-phone@essex.test").click()
    page.get_by_role("heading", name="Reset two-factor authentication").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Reset two-factor").click()
    page.wait_for_load_state()
    assert "will set up two-factor authentication again" in page.content()


def test_the_sorry_page_while_the_database_is_away(essex, live_server, page, monkeypatch):
    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ClientOrganisationMiddleware, "get_tenant", database_gone)
    response = page.goto(site(live_server, "essex.localhost") + "/book/find/")
    assert response.status == 503
    page.get_by_role("heading", name="Sorry, there is a problem with the service").wait_for()
    assert_accessible(page)
