"""The public status pages in a real browser, in English and in Welsh, checked with axe-core:
availability figures (one window below target) and an incident with its updates."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.models import AvailabilitySample, ClientOrganisation, Incident

from .conftest import assert_accessible, site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def measured(south_wales):
    now = timezone.now().replace(second=0, microsecond=0)
    ClientOrganisation.objects.filter(pk=south_wales.pk).update(
        status="live", created_at=now - timedelta(days=30))
    AvailabilitySample.objects.all().delete()
    AvailabilitySample.objects.bulk_create([
        AvailabilitySample(minute=now - timedelta(minutes=offset), up=offset > 30)
        for offset in range(1, 2 * 1440)])
    incident = Incident.objects.create(title="Card payments failing",
                                       title_cy="Taliadau cerdyn yn methu",
                                       started_at=now - timedelta(minutes=30))
    incident.updates.create(status="identified", text="Our payment provider is unavailable.",
                            text_cy="Nid yw ein darparwr taliadau ar gael.", posted_at=now)
    return south_wales


def test_the_status_pages_in_english_and_welsh(measured, live_server, page):
    base = site(live_server, "south-wales.localhost")
    page.goto(base + "/")
    page.get_by_role("link", name="Service status").click()
    page.get_by_role("heading", name="Service status", level=1).wait_for()
    assert page.get_by_text("Card payments failing").is_visible()
    assert page.get_by_text("Below target").first.is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_url(re.compile(r".*/status/$"))
    assert page.locator("html").get_attribute("lang") == "cy"
    assert page.get_by_text("Taliadau cerdyn yn methu").is_visible()
    assert page.get_by_text("Nid yw ein darparwr taliadau ar gael.").is_visible()
    assert_accessible(page)

    page.goto(site(live_server, "localhost") + "/status/")
    page.get_by_role("heading", name="Service status", level=1).wait_for()
    assert page.get_by_text("Card payments failing").is_visible()
    assert_accessible(page)
