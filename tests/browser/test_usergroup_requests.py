"""Raising a change request in a real browser, checked with axe-core on every page: the title is
checked for similar requests (trigram suggestions, no script needed) keeping what was typed, an
empty title is refused in the error summary, the request is raised and another member votes
for it; the roadmap shows planned work."""

import pytest

from accounts.roles import Role
from usergroup import services
from usergroup.models import Area, ChangeRequest, Vote

from ..conftest import PASSWORD, make_user
from .conftest import assert_accessible, new_page, site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def area(db):
    return Area.objects.get_or_create(name="Booking site")[0]


def sign_in(page, base, email, start):
    page.goto(base + start)
    assert "/accounts/sign-in/" in page.url
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_member_raises_with_suggestions_and_another_votes(essex, south_wales, area,
                                                            provider_admin, live_server,
                                                            browser, page):
    essex_member = make_user("member@essex.test", organisation=essex,
                             role=Role.USERGROUP_MEMBER)
    wales_member = make_user("member@south-wales.test", organisation=south_wales,
                             role=Role.USERGROUP_MEMBER)
    existing = services.raise_request(title="Text message reminders before the course",
                                      description="", area=area, acting_user=wales_member)
    planned = services.raise_request(title="Show parking at venues", description="",
                                     area=area, acting_user=wales_member)
    services.change_status(planned, to_status="planned", response="In the spring.",
                           acting_user=provider_admin)
    base = site(live_server, "localhost")
    sign_in(page, base, essex_member.email, "/user-group/new/")
    page.get_by_role("heading", name="Raise a change request").wait_for()
    assert_accessible(page)

    # While typing: the script asks for the similar requests and shows them.
    page.get_by_label("Title").press_sequentially("Reminders by text message", delay=20)
    page.locator("#similar-requests").get_by_role("link", name=existing.title).wait_for()
    assert_accessible(page)
    # Without waiting for the script, the button does the same.
    page.get_by_label("Title").fill("Reminders by text message before a course")
    page.get_by_role("button", name="Check for similar requests").click()
    suggestions = page.locator("#similar-requests")
    suggestions.wait_for()
    assert existing.title in suggestions.inner_text()
    assert page.get_by_label("Title").input_value() == "Reminders by text message before a course"
    assert_accessible(page)

    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Raise request").click()
    page.locator(".govuk-error-summary").wait_for()
    assert "Enter a title" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)
    assert ChangeRequest.objects.count() == 2

    page.get_by_label("Title").fill("Let people choose evening courses")
    page.get_by_label("Area").select_option(label="Booking site")
    page.get_by_label("Description").fill("**Evenings** <script>alert(1)</script>")
    page.get_by_role("button", name="Raise request").click()
    page.get_by_role("heading", name="Let people choose evening courses").wait_for()
    assert_accessible(page)
    raised = ChangeRequest.objects.get(title="Let people choose evening courses")
    # Shown as text, never run: the Markdown is rendered with raw HTML off, then sanitised.
    assert "<script>alert(1)" not in page.locator("main").inner_html()
    assert page.locator("main strong", has_text="Evenings").count() == 1

    other = new_page(browser)
    try:
        sign_in(other, base, wales_member.email, f"/user-group/requests/{raised.pk}/")
        other.get_by_role("button", name="Vote for this request").click()
        other.get_by_role("button", name="Remove my vote").wait_for()
        assert "2 votes from 2 organisations" in other.locator("main").inner_text()
        assert_accessible(other)
        assert Vote.objects.filter(request=raised).count() == 2

        other.goto(base + "/user-group/roadmap/")
        other.get_by_role("heading", name="Roadmap").wait_for()
        assert "Show parking at venues" in other.locator("main").inner_text()
        assert_accessible(other)
    finally:
        other.context.close()
