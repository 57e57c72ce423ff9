"""Client reports in a real browser, in English and in Welsh, with axe-core on every page and on
the error state: the report list, bookings by channel, the offer funnel."""

import pytest
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Channel
from booking.services.calls import log_call

from ..conftest import make_user
from ..factories import CourseSessionFactory, OfferFactory, book_offer
from .conftest import assert_accessible, site
from .test_manage import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reports_in_english_and_welsh(south_wales, live_server, page):
    admin = make_user("reports-admin@south-wales.test", organisation=south_wales,
                      role=Role.CLIENT_ADMIN)
    with schema_context(south_wales.schema_name):
        session = CourseSessionFactory()
        for channel in (Channel.ONLINE, Channel.ADMIN):
            book_offer(OfferFactory(course_type=session.course_type), session, channel=channel,
                       hold=True, waived=True if channel == Channel.ADMIN else None)
    base = site(live_server, "south-wales.localhost")
    sign_in(page, base, admin, start="/manage/reports/")
    page.get_by_role("heading", name="Reports").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Bookings by course and channel").click()
    page.get_by_role("img", name="Bookings each month by channel").wait_for()
    assert_accessible(page)
    page.get_by_label("From").select_option(index=0)
    page.get_by_label("To").select_option(index=3)
    page.get_by_role("button", name="Show report").click()
    page.locator(".govuk-error-summary").wait_for()
    assert "The last month must be the same as or after the first month." in \
        page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)
    page.goto(base + "/manage/reports/funnel/")
    page.get_by_role("heading", name="Offer funnel").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "cy"
    assert_accessible(page)
    for path in ("/manage/reports/", "/manage/reports/bookings/"):
        page.goto(base + path)
        page.wait_for_load_state()
        assert_accessible(page)
    page.goto(base + "/manage/reports/bookings/?start=2026-05&end=2026-01")
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)


def test_fill_and_calls_reports_in_english_and_welsh(south_wales, live_server, page):
    admin = make_user("fill-calls@south-wales.test", organisation=south_wales,
                      role=Role.CLIENT_ADMIN)
    with schema_context(south_wales.schema_name):
        session = CourseSessionFactory()
        book_offer(OfferFactory(course_type=session.course_type), session,
                   channel=Channel.ADMIN, waived=True)
        for call_type, outcome in (("new_booking", "booked"), ("enquiry", "information_given")):
            log_call(actor="agent@south-wales.test", call_type=call_type, outcome=outcome,
                     duration_minutes=4)
    base = site(live_server, "south-wales.localhost")
    sign_in(page, base, admin, start="/manage/reports/")
    page.get_by_role("heading", name="Reports").wait_for()
    page.get_by_role("link", name="Venue and course-date fill").click()
    page.get_by_role("img", name="How full the course dates at each venue were").wait_for()
    assert_accessible(page)
    page.goto(base + "/manage/reports/calls/")
    page.get_by_role("img", name="Calls starting in each hour of the day (UK time), and those "
                     "while the phone lines were closed").wait_for()
    assert_accessible(page)
    page.goto(base + "/manage/reports/calls/?start=2026-05&end=2026-01")
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "cy"
    assert_accessible(page)
    for path in ("/manage/reports/fill/", "/manage/reports/calls/"):
        page.goto(base + path)
        page.locator("svg[role=img]").wait_for()
        assert_accessible(page)
    page.goto(base + "/manage/reports/fill/?start=2026-05&end=2026-01")
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
