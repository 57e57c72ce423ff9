"""The data protection officer's pages in a real browser, checked with axe-core: the schedule
with its error, a person's access report, the export page and the erase confirmation with its
error state, then the erasure itself."""

import pytest
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import ErasureRecord, Offer

from ..conftest import make_user
from ..privacy.conftest import make_person
from .conftest import assert_accessible, site
from .test_manage import sign_in, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dpo_pages_are_accessible_and_work(essex, live_server, page):
    admin = make_user("dpo-browser@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    with schema_context(essex.schema_name):
        make_person(admin)
    base = site(live_server, "essex.localhost")
    sign_in(page, base, admin)
    page.get_by_role("link", name="Data protection").click()
    page.get_by_role("heading", name="Data protection", level=1).wait_for()
    visit(page, base + "/manage/privacy/")

    # The schedule: longer than the national policy is an error naming the field.
    page.get_by_label("People who attended: months after the offence").fill("48")
    page.get_by_role("button", name="Save the schedule").click()
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)

    # A person's record: who viewed it.
    page.get_by_label("Offer reference").fill("ESX-900001")
    page.get_by_role("button", name="Find the record").click()
    page.get_by_role("heading", name="Who viewed this record").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Export their data").click()
    page.get_by_role("heading", name="Export the person's data").wait_for()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the file").click()
    assert download.value.suggested_filename == "access-request-ESX-900001.json"

    page.goto(base + "/manage/privacy/records/ESX-900001/erase/")
    page.get_by_role("heading", name="Erase the record").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Erase the record").click()
    page.locator(".govuk-error-summary").wait_for()
    assert "Select why the record is being erased" in page.content()
    assert_accessible(page)
    page.get_by_label("The person asked for their data to be erased").check()
    page.get_by_label("I understand the person's details will be erased and this cannot be "
                      "undone").check()
    page.get_by_role("button", name="Erase the record").click()
    page.get_by_text("The record has been erased").wait_for()
    assert_accessible(page)
    with schema_context(essex.schema_name):
        assert Offer.objects.get(erased_at__isnull=False).last_name == ""
        assert ErasureRecord.objects.get().reason == "subject_request"
