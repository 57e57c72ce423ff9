"""The fill report's course dates a page at a time in a real browser, in English and Welsh, with
axe-core on a page that has GOV.UK pagination."""

import pytest
from django_tenants.utils import schema_context

from accounts.roles import Role
from reports import fill

from ..conftest import make_user
from ..factories import CourseSessionFactory
from .conftest import assert_accessible, site
from .test_manage import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_fill_pages_in_english_and_welsh(south_wales, live_server, page, monkeypatch):
    monkeypatch.setattr(fill, "PER_PAGE", 2)  # the server runs in this process
    admin = make_user("fill-pages@south-wales.test", organisation=south_wales,
                      role=Role.CLIENT_ADMIN)
    with schema_context(south_wales.schema_name):
        first = CourseSessionFactory()
        for _n in range(2):
            CourseSessionFactory(course_type=first.course_type)
    base = site(live_server, "south-wales.localhost")
    sign_in(page, base, admin, start="/manage/reports/fill/")
    pages = page.get_by_role("navigation", name="Pages of course dates")
    pages.wait_for()
    assert_accessible(page)
    pages.get_by_role("link", name="Next page").click()
    page.locator(".govuk-pagination__item--current").get_by_text("2").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "cy"
    page.locator(".govuk-pagination").wait_for()
    assert_accessible(page)
