"""User-group releases in a real browser, checked with axe-core on every page: provider staff
draft a release (through the form's error state) and publish it; a member reads it from the
roadmap's changelog link, follows it to the request it delivered, and sets their e-mails."""

from datetime import date

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import Role
from outbox.models import OutboundMessage
from usergroup import services
from usergroup.models import Area, ChangeRequest, Release

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


def test_staff_publish_a_release_and_a_member_reads_it(
        provider_admin, essex_member, area, live_server, browser, page):
    request = services.raise_request(title="Show parking at venues", description="",
                                     area=area, acting_user=essex_member)
    base = site(live_server, "localhost")
    device = TOTPDevice.objects.get(user=provider_admin)
    sign_in(page, base, provider_admin.email, "/user-group/releases/")
    page.get_by_label("Security code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.goto(base + "/user-group/releases/")
    page.get_by_role("heading", name="Releases", exact=True).wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Draft a release").click()
    page.get_by_role("heading", name="Draft a release").wait_for()
    assert_accessible(page)
    page.get_by_label("Version").fill("")
    fill_date(page, "Release date", date(2026, 12, 1))
    page.get_by_label("Change requests it delivers").fill(str(request.pk))
    page.get_by_role("button", name="Save the draft").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert "Enter the version" in summary.inner_text()
    assert_accessible(page)

    page.get_by_label("Version").fill("9.3")
    page.get_by_label("Release notes").fill("Parking shown on **every** venue page.")
    page.get_by_role("button", name="Save the draft").click()
    page.get_by_role("heading", name="Version 9.3").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Publish the release").click()
    page.get_by_text("Published. Its requests are released").wait_for()
    assert_accessible(page)
    release = Release.objects.get(version="9.3")
    assert release.is_published
    assert ChangeRequest.objects.get(pk=request.pk).status == "released"
    # The raiser is told once; the provider who published it is not.
    assert list(OutboundMessage.objects.filter(kind="usergroup.release")
                .values_list("to", flat=True)) == ["member@essex.test"]

    member = new_page(browser)
    try:
        sign_in(member, base, essex_member.email, "/user-group/roadmap/")
        member.get_by_role("heading", name="Roadmap").wait_for()
        member.get_by_role("link", name="See what each release delivered").click()
        member.get_by_role("heading", name="Releases", exact=True).wait_for()
        assert_accessible(member)
        member.get_by_role("link", name="Version 9.3").click()
        member.get_by_role("heading", name="Version 9.3").wait_for()
        assert member.locator("#release-notes strong").inner_text() == "every"
        assert_accessible(member)
        member.locator("#delivered").get_by_role("link", name="Show parking at venues").click()
        member.get_by_role("heading", name="Show parking at venues").wait_for()
        assert "Delivered in version 9.3" in member.locator("#delivered-by").inner_text()
        assert_accessible(member)
        member.get_by_role("link", name="Your e-mails").click()
        member.get_by_role("heading", name="Your user group e-mails").wait_for()
        assert_accessible(member)
        member.get_by_label("One e-mail a day with the day’s changes").check()
        member.get_by_role("button", name="Save", exact=True).click()
        member.get_by_text("Your choice is saved.").wait_for()
        assert_accessible(member)
    finally:
        member.context.close()


def test_staff_see_the_ranking_and_record_a_vote_on_behalf(
        provider_admin, essex_member, area, live_server, page, settings, tmp_path):
    import io

    from PIL import Image

    from usergroup import screenshots

    settings.MEDIA_ROOT = str(tmp_path)
    wales = make_user("second@essex.test", role=Role.USERGROUP_MEMBER,
                      organisation=essex_member.memberships.get().organisation)
    request = services.raise_request(title="Show parking at venues", description="",
                                     area=area, acting_user=essex_member)
    comment = services.add_comment(request, body="First @ops", acting_user=essex_member)
    services.add_comment(request, body="A reply", parent=comment, acting_user=wales)
    services.edit_comment(comment, body="First, edited", acting_user=essex_member)
    image = io.BytesIO()
    Image.new("RGB", (800, 400), (10, 90, 160)).save(image, "PNG")
    screenshots.add_screenshot(request, data=image.getvalue(), description="The venue page",
                               acting_user=essex_member)
    base = site(live_server, "localhost")
    device = TOTPDevice.objects.get(user=provider_admin)
    sign_in(page, base, provider_admin.email, "/user-group/ranking/")
    page.get_by_label("Security code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.goto(base + "/user-group/ranking/")
    page.get_by_role("heading", name="Ranking by impact").wait_for()
    assert_accessible(page)
    page.locator("#ranking").get_by_role("link", name="Show parking at venues").click()
    page.get_by_role("heading", name="Show parking at venues").wait_for()
    assert page.get_by_role("img", name="The venue page").is_visible()
    assert_accessible(page)
    page.get_by_label("Member’s e-mail address").fill("nobody@example.test")
    page.get_by_role("button", name="Record a vote for this member").click()
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
    page.get_by_label("Member’s e-mail address").fill(wales.email)
    page.get_by_role("button", name="Record a vote for this member").click()
    page.get_by_text("The vote is recorded and the member is told.").wait_for()
    assert "recorded by ops@waymark.test" in page.locator("main").inner_text()
    assert_accessible(page)
