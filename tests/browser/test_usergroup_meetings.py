"""User-group meetings in a real browser, checked with axe-core on every page: provider staff
create a meeting (through the form's error state) with a change request on its agenda; a member
finds it, opens it and follows the agenda to the request, which links back to the meeting."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import Role
from usergroup import meetings, services
from usergroup.models import Area, Meeting

from ..conftest import PASSWORD, make_user
from .conftest import assert_accessible, fill_date, new_page, site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def essex_member(essex):
    return make_user("member@essex.test", organisation=essex, role=Role.USERGROUP_MEMBER)


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


def test_staff_create_a_meeting_and_a_member_follows_its_agenda(
        provider_admin, essex_member, area, live_server, browser, page):
    request = services.raise_request(title="Show parking at venues", description="",
                                     area=area, acting_user=essex_member)
    base = site(live_server, "localhost")

    device = TOTPDevice.objects.get(user=provider_admin)
    sign_in(page, base, provider_admin.email, "/user-group/meetings/")
    page.get_by_label("Security code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.goto(base + "/user-group/meetings/")
    page.get_by_role("heading", name="User group meetings").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Create a meeting").click()
    page.get_by_role("heading", name="Create a meeting").wait_for()
    # The agenda starts from the top open requests.
    assert page.get_by_label("Change requests to discuss").input_value() == str(request.pk)
    assert_accessible(page)

    page.get_by_label("Title").fill("Spring user group")
    fill_date(page, "Date", date(2027, 3, 29))
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("End time").fill("09:00")
    page.get_by_label("Place").fill("Chelmsford County Hall")
    page.get_by_label("Change requests to discuss").fill(f"{request.pk}, 999999")
    page.get_by_label("Published: members see it").check()
    page.get_by_role("button", name="Save the meeting").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert "The end time must be after the start time" in summary.inner_text()
    assert_accessible(page)
    summary.get_by_role("link", name="The end time must be after the start time").click()
    assert page.evaluate("document.activeElement.id") == "id_ends_at"

    page.get_by_label("End time").fill("12:00")
    page.get_by_label("Change requests to discuss").fill(str(request.pk))
    page.get_by_role("button", name="Save the meeting").click()
    page.get_by_role("heading", name="Spring user group").wait_for()
    assert "Monday 29 March 2027, 10:00 to 12:00" in page.locator("main").inner_text()
    assert_accessible(page)
    meeting = Meeting.objects.get(title="Spring user group")
    assert meeting.is_published

    member = new_page(browser)
    try:
        sign_in(member, base, essex_member.email, "/user-group/meetings/")
        member.get_by_role("heading", name="User group meetings").wait_for()
        assert_accessible(member)
        member.get_by_role("link", name="Spring user group").click()
        member.get_by_role("heading", name="Spring user group").wait_for()
        assert_accessible(member)
        member.get_by_role("link", name="Show parking at venues").click()
        member.get_by_role("heading", name="Show parking at venues").wait_for()
        meetings_list = member.locator("#meetings")
        assert "To be discussed at Spring user group" in meetings_list.inner_text()
        assert_accessible(member)
        meetings_list.get_by_role("link", name="Spring user group").click()
        member.get_by_role("heading", name="Spring user group").wait_for()
        assert member.url.endswith(f"/user-group/meetings/{meeting.pk}/")
    finally:
        member.context.close()


def test_staff_record_minutes_and_decisions(provider_admin, essex_member, area, live_server,
                                            page):
    request = services.raise_request(title="Show parking at venues", description="",
                                     area=area, acting_user=essex_member)
    starts_at = timezone.now() - timedelta(days=7)
    meeting = meetings.create_meeting(
        title="Winter user group", starts_at=starts_at, ends_at=starts_at + timedelta(hours=2),
        online_link="https://meet.example/winter", request_numbers=[request.pk],
        other_items=["Any other business"], publish=True, acting_user=provider_admin)
    base = site(live_server, "localhost")
    device = TOTPDevice.objects.get(user=provider_admin)
    sign_in(page, base, provider_admin.email, f"/user-group/meetings/{meeting.pk}/")
    page.get_by_label("Security code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.goto(base + f"/user-group/meetings/{meeting.pk}/")
    page.get_by_role("link", name="Edit the meeting").click()
    page.get_by_role("heading", name="Edit the meeting").wait_for()
    assert_accessible(page)

    page.goto(base + f"/user-group/meetings/{meeting.pk}/")
    page.get_by_role("link", name="Record the minutes").click()
    page.get_by_role("heading", name="Record the minutes").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Save the minutes").click()
    page.locator(".govuk-error-summary").wait_for()
    assert "Enter the minutes" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)

    page.get_by_label("Minutes of the meeting").fill("We **agreed** the parking map.")
    page.get_by_label("Decision on “Show parking at venues”").fill("Planned for the spring.")
    page.get_by_label("New status of “Show parking at venues”").select_option("planned")
    page.get_by_label(essex_member.memberships.get().organisation.name).check()
    page.get_by_label("Publish the minutes to members now").check()
    page.get_by_role("button", name="Save the minutes").click()
    page.get_by_role("heading", name="Winter user group").wait_for()
    assert "Planned for the spring." in page.locator("main").inner_text()
    assert essex_member.memberships.get().organisation.name in page.locator(
        "#attended").inner_text()
    request.refresh_from_db()
    assert request.status == "planned"
    assert request.status_changes.get().response == "Planned for the spring."
    assert page.locator("#minutes strong").inner_text() == "agreed"
    assert_accessible(page)

    page.get_by_role("link", name="Show parking at venues").click()
    assert "Discussed at Winter user group" in page.locator("#meetings").inner_text()
    assert_accessible(page)
