"""Staff pages on a 375-pixel phone: every page with a table fits without the page scrolling
sideways (wide tables scroll inside their own labelled region), with axe on each, including the
course-dates filter's error state, the set-up checklist, the merchant account page and the
console's client page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Channel
from booking.services.offer_import import import_offers

from ..conftest import make_user
from ..factories import CourseSessionFactory, CourseTypeFactory, OfferFactory, TrainerFactory, VenueFactory, book_offer
from .conftest import assert_accessible, site
from .test_console_client import sign_in_with_second_factor
from .test_manage import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


def fits_the_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll("body *")]
        .filter(e => e.getBoundingClientRect().right > 376
                     && !e.closest(".waymark-table-scroll"))
        .slice(0, 5).map(e => e.tagName + "." + e.className + " " + e.getBoundingClientRect().right)""")
    assert width <= PHONE["width"], f"{page.url} is {width} pixels wide: {wide}"


def test_staff_tables_fit_a_375_pixel_screen(essex, live_server, page):
    admin = make_user("phone-admin@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    now = timezone.now()
    with schema_context(essex.schema_name):
        nsac = CourseTypeFactory(code="NSAC")
        venue = VenueFactory(name="Chelmsford Civic Centre and Conference Suite",
                             postcode="CM1 1QH", latitude=51.73, longitude=0.47)
        trainer = TrainerFactory(full_name="Theodora Longname-Trainer", course_types=[nsac])
        sessions = [CourseSessionFactory(course_type=nsac, venue=venue, trainers=[trainer],
                                         starts_at=now + timedelta(days=3, hours=3 * n))
                    for n in range(30)]
        offer = OfferFactory(reference="ESX-700001", course_type=nsac, email="a@example.com")
        book_offer(offer, sessions[0], channel=Channel.ADMIN)
        import_offers([{
            "reference": "ESX-700002", "course_type": "NSAC",
            "offence_date": (now.date() - timedelta(days=10)).isoformat(),
            "booking_period_end": (now.date() + timedelta(days=40)).isoformat(),
            "critical_date": (now.date() + timedelta(days=80)).isoformat(),
            "first_name": "Pat", "last_name": "Phone", "date_of_birth": "1980-01-01",
            "postcode": "CM1 1QH"}], source="csv", actor=admin, channel=Channel.ADMIN)
    base = site(live_server, "essex.localhost")
    page.set_viewport_size(PHONE)
    sign_in(page, base, admin)
    for path in ("/manage/", "/manage/sessions/", "/manage/sessions/?page=2",
                 f"/manage/sessions/?venue={venue.pk}&trainer={trainer.pk}",
                 "/manage/offenders/ESX-700001/", "/manage/cases/", "/manage/staff/",
                 "/manage/audit/", "/manage/registers/", f"/manage/registers/{sessions[0].pk}/",
                 "/manage/configure/venues/", "/manage/configure/trainers/",
                 "/manage/configure/course-types/", "/manage/configure/closures/",
                 "/manage/configure/correspondence/", "/manage/configure/merchant-account/",
                 "/manage/offers/import/"):
        page.goto(base + path)
        page.wait_for_load_state()
        fits_the_phone(page)
        assert_accessible(page)

    # The checklist leads the dashboard until the client can take bookings.
    page.goto(base + "/manage/")
    assert page.get_by_role("heading", name="Set up your service").is_visible()
    # The filter's error state: a venue not on the list.
    page.goto(base + "/manage/sessions/?venue=999999")
    page.locator(".govuk-error-summary").wait_for()
    fits_the_phone(page)
    assert_accessible(page)
    # Pages, and the table's own region scrolls instead of the page.
    page.goto(base + "/manage/sessions/")
    assert page.locator(".govuk-pagination").is_visible()
    region = page.get_by_role("region", name="The next 56 days")
    assert region.count() == 1


def test_console_client_page_with_the_checklist_and_audit_in_words(essex, provider_admin,
                                                                   live_server, page):
    base = site(live_server, "localhost")
    sign_in_with_second_factor(page, base, provider_admin, f"/clients/{essex.slug}/")
    page.get_by_role("heading", name="Set up your service").wait_for()
    text = page.locator("main").inner_text()
    assert "{'" not in text and "None" not in text and "organisation.onboarded" not in text
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    page.reload()
    fits_the_phone(page)
    assert_accessible(page)
