"""The remittance, special-circumstances, service-measures and scheduled-report pages, and the
public satisfaction survey, in a real browser in English and in Welsh, with axe-core on every
page and on each error state."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Channel, Offer, Payment
from booking.services.cases import decide_case, raise_case
from booking.services.measures import count_journey_start, record_satisfaction

from ..conftest import make_user
from ..factories import CourseSessionFactory, OfferFactory, book_offer
from .conftest import assert_accessible, site
from .test_manage import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PAGES = ("/manage/reports/remittance/", "/manage/reports/special-circumstances/",
         "/manage/reports/service-measures/", "/manage/reports/schedules/",
         "/manage/reports/schedules/new/")


def some_history(client):
    with schema_context(client.schema_name):
        session = CourseSessionFactory()
        booking = book_offer(OfferFactory(course_type=session.course_type), session,
                             channel=Channel.ADMIN, waived=True)
        Offer.objects.filter(pk=booking.offer_id).update(police_force="Heddlu Dyfed-Powys")
        Payment.objects.create(booking=booking, stripe_payment_intent_id=f"pi_browser_{booking.pk}",
                               amount_pence=9900, status=Payment.Status.SUCCEEDED,
                               channel=Channel.ONLINE, succeeded_at=timezone.now())
        case = raise_case(OfferFactory(course_type=session.course_type).pk, kind="medical",
                          notes="Needs a seat by the door", actor="admin")
        decide_case(case.pk, approve=True, note="Agreed", actor="admin")
        count_journey_start()
        record_satisfaction(level="satisfied", comment="", language="cy", booking=None)


def test_new_report_pages_in_english_and_welsh(south_wales, live_server, page):
    admin = make_user("measures@south-wales.test", organisation=south_wales,
                      role=Role.CLIENT_ADMIN)
    some_history(south_wales)
    base = site(live_server, "south-wales.localhost")
    sign_in(page, base, admin, start="/manage/reports/")
    page.get_by_role("link", name="Fees and police cost-recovery remittance").click()
    page.get_by_role("img", name="Net police cost recovery each month, all forces, in pounds") \
        .wait_for()
    assert_accessible(page)
    page.goto(base + "/manage/reports/special-circumstances/")
    page.get_by_role("img", name="Cases raised each month by outcome").wait_for()
    assert_accessible(page)
    page.goto(base + "/manage/reports/service-measures/")
    page.get_by_role("img", name="Survey answers at each level of satisfaction").wait_for()
    assert_accessible(page)
    page.goto(base + "/manage/reports/schedules/new/")
    page.get_by_label("Day of the month (monthly)").fill("31")
    page.get_by_role("button", name="Schedule the report").click()
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
    page.get_by_role("radio", name="Monthly").check()
    page.get_by_label("Day of the month (monthly)").fill("3")
    page.get_by_label("measures@south-wales.test").check()
    page.get_by_role("button", name="Schedule the report").click()
    page.get_by_role("heading", name="Scheduled reports").wait_for()
    assert_accessible(page)
    for path in PAGES[:3]:
        page.goto(base + path + "?start=2026-05&end=2026-01")
        page.locator(".govuk-error-summary").wait_for()
        assert_accessible(page)

    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "cy"
    for path in PAGES:
        page.goto(base + path)
        page.wait_for_load_state()
        assert_accessible(page)
    page.goto(base + "/manage/reports/remittance/?start=2026-05&end=2026-01")
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)


def test_survey_in_english_and_welsh(south_wales, live_server, page):
    base = site(live_server, "south-wales.localhost")
    page.goto(base + "/feedback/")
    page.get_by_role("heading", name="Give feedback on this service").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Send feedback").click()
    page.locator(".govuk-error-summary").wait_for()
    assert "Select how you feel about the service." in \
        page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)
    page.get_by_label("Very satisfied").check()
    page.get_by_label("How could we improve this service? (optional)").fill("Clear and quick")
    page.get_by_role("button", name="Send feedback").click()
    page.get_by_role("heading", name="Thank you for your feedback").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "cy"
    page.goto(base + "/feedback/")
    page.wait_for_load_state()
    assert_accessible(page)
    page.locator("button[type=submit]").last.click()
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
