"""Every client report page, in English and in Welsh, each as it shows figures and with a bad
period (its error summary), with axe-core on each; and in Welsh no heading, caption, table
header, label or button is left in English. The report pages are the list, the seven reports
and the scheduled reports (with the new schedule's error state)."""

import re
from pathlib import Path

import polib
import pytest
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Channel, CourseType, Offer, Venue
from booking.services.calls import log_call

from ..conftest import make_user
from ..factories import CourseSessionFactory, OfferFactory, book_offer
from .conftest import assert_accessible, site
from .test_manage import sign_in
from .test_reports_measures import some_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each report, the accessible name of its first chart in English (the page has loaded its
# figures when it shows), and whether it takes a period (and so has the bad-period state).
REPORTS = (
    ("/manage/reports/bookings/", "Bookings each month by channel"),
    ("/manage/reports/fill/", "How full the course dates at each venue were"),
    ("/manage/reports/funnel/", None),
    ("/manage/reports/calls/", None),
    ("/manage/reports/remittance/",
     "Net police cost recovery each month, all forces, in pounds"),
    ("/manage/reports/special-circumstances/", "Cases raised each month by outcome"),
    ("/manage/reports/service-measures/", "Survey answers at each level of satisfaction"),
)
OTHER_PAGES = ("/manage/reports/", "/manage/reports/schedules/",
               "/manage/reports/schedules/new/")
BAD_PERIOD = "?start=2026-05&end=2026-01"
# What a page shows as words a person reads as headings: the text that must be Welsh.
HEADINGS = ("main h1, main h2, main h3, main caption, main th[scope=col], main legend, "
            "main label, main button, main .govuk-error-summary__title, "
            "main svg[role=img] > title")


def history(client):
    """Something for every report: bookings on two channels, calls, a paid booking of a named
    force, a decided case, a journey started and a Welsh survey answer."""
    some_history(client)
    with schema_context(client.schema_name):
        session = CourseSessionFactory()
        book_offer(OfferFactory(course_type=session.course_type), session, channel=Channel.ONLINE,
                   hold=True)
        for call_type, outcome in (("new_booking", "booked"), ("enquiry", "information_given")):
            log_call(actor="agent@south-wales.test", call_type=call_type, outcome=outcome,
                     duration_minutes=4)
        # The client's own words, shown as they are in either language.
        return {*CourseType.objects.values_list("name_en", flat=True),
                *Venue.objects.values_list("name", flat=True),
                *Offer.objects.exclude(police_force="").values_list("police_force", flat=True)}


def same_in_welsh() -> set[str]:
    """The words the Welsh catalogue (locale/cy) deliberately leaves as they are: "CSV",
    "Staff"…"""
    po = Path(__file__).resolve().parents[2] / "locale" / "cy" / "LC_MESSAGES" / "django.po"
    return {entry.msgid for entry in polib.pofile(str(po)) if entry.msgstr == entry.msgid}


def headings(page) -> set[str]:
    texts = page.locator(HEADINGS).evaluate_all("nodes => nodes.map(node => node.textContent)")
    return {" ".join(text.split()) for text in texts if re.search(r"[A-Za-z]", text)}


def visit_every_page(page, base, *, english=True) -> dict[str, set[str]]:
    """Each page and each bad period, checked with axe; the headings each page showed."""
    seen = {}
    for path, chart in REPORTS:
        page.goto(base + path)
        if english and chart:
            page.get_by_role("img", name=chart).wait_for()
        else:
            page.locator("svg[role=img]").first.wait_for()
        assert_accessible(page)
        seen[path] = headings(page)
        page.goto(base + path + BAD_PERIOD)
        page.locator(".govuk-error-summary").wait_for()
        assert_accessible(page)
        seen[path + BAD_PERIOD] = headings(page)
    for path in OTHER_PAGES:
        page.goto(base + path)
        page.locator("main h1").wait_for()
        assert_accessible(page)
        seen[path] = headings(page)
    # The new schedule's error state: a day of the month no month always has.
    page.goto(base + "/manage/reports/schedules/new/")
    page.locator("input[name=day_of_month]").fill("31")
    page.locator("main button[type=submit]").click()
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
    seen["schedule error"] = headings(page)
    return seen


def test_every_report_page_in_english_and_welsh(south_wales, live_server, page):
    admin = make_user("every-report@south-wales.test", organisation=south_wales,
                      role=Role.CLIENT_ADMIN)
    own_words = history(south_wales) | same_in_welsh() | {
        admin.email, "admin@south-wales.test"}  # the recipients a schedule may have
    base = site(live_server, "south-wales.localhost")
    sign_in(page, base, admin, start="/manage/reports/")
    page.get_by_role("heading", name="Reports").wait_for()
    english = visit_every_page(page, base)

    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "cy"
    welsh = visit_every_page(page, base, english=False)
    left_in_english = {path: sorted(texts & english[path] - own_words)
                       for path, texts in welsh.items() if texts & english[path] - own_words}
    assert not left_in_english, f"headings still in English on Welsh pages: {left_in_english}"
