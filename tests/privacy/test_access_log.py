"""Who viewed my record: every staff page that shows a person logs the read, through the one
decorator; this walk fails for a new page that neither logs nor is listed as showing no one."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from booking.contact_centre import urls as console_urls
from booking.manage import urls as manage_urls
from booking.models import OffenderRead

from ..manage.conftest import get

# Pages that show no one's record. A new page showing a person must carry shows_offenders, or
# lists_offenders for a list or search (tests/privacy/test_list_reads.py checks what they log).
SHOWS_NO_ONE = {
    "manage": {
        "registers", "sessions", "session_create", "series_create", "configure",
        "accessibility", "course_types", "course_type_create", "course_type", "venues",
        "venue_create", "venue", "trainers", "trainer_create", "trainer", "closures",
        "branding", "correspondence", "correspondence_edit", "staff", "staff_invite",
        "staff_role", "staff_deactivate", "staff_reactivate", "staff_reset_two_factor",
        "audit", "sign_ins", "webhooks", "webhook", "merchant_account",
        "merchant_account_return", "privacy",
    },
    "contact_centre": {"clients", "log_call"},
    "agent_payments": set(),
}
PATTERNS = {
    "manage": manage_urls.urlpatterns,
    "contact_centre": console_urls.urlpatterns,
    "agent_payments": console_urls.payment_patterns,
}


@pytest.mark.parametrize("namespace", sorted(PATTERNS))
def test_every_page_that_shows_a_person_logs_the_read(namespace):
    names = {pattern.name for pattern in PATTERNS[namespace]}
    assert SHOWS_NO_ONE[namespace] <= names, "a listed page no longer exists"
    missing = [pattern.name for pattern in PATTERNS[namespace]
               if pattern.name not in SHOWS_NO_ONE[namespace]
               and not getattr(pattern.callback, "offender_read_page", None)]
    assert missing == [], f"{namespace}: add @shows_offenders to {missing}"
    # And the decorator sits inside the permission check, so refused reads are not logged.
    for pattern in PATTERNS[namespace]:
        if getattr(pattern.callback, "offender_read_page", None):
            assert getattr(pattern.callback, "required_action", None), pattern.name


def reads(offer):
    return list(OffenderRead.objects.filter(offer=offer).order_by("pk").values_list(
        "viewer", "page"))


def test_each_read_is_logged_with_who_when_and_which_page(world, staff, client):
    officer = staff[Role.BOOKING_OFFICER]
    client.force_login(officer)
    offer = world["offer"]
    assert reads(offer) == []
    assert get(client, f"/manage/offenders/{offer.reference}/").status_code == 200
    assert get(client, f"/manage/offenders/{offer.reference}/cancel/").status_code == 200
    client.force_login(staff[Role.TRAINER])
    assert get(client, f"/manage/registers/{world['session_id']}/").status_code == 200
    assert get(client, f"/manage/registers/{world['session_id']}/print/").status_code == 200
    assert reads(offer) == [
        (officer.email, "manage.offender"), (officer.email, "manage.offender_cancel"),
        (staff[Role.TRAINER].email, "manage.register"),
        (staff[Role.TRAINER].email, "manage.register_print")]
    read = OffenderRead.objects.filter(offer=offer).order_by("pk").first()
    assert read.path == f"/manage/offenders/{offer.reference}/" and read.occurred_at
    assert read.viewer_user_id == officer.pk
    # A case page shows the person it is about; the unbooked offer was never on a register.
    client.force_login(officer)
    get(client, f"/manage/cases/{world['case_id']}/")
    assert reads(world["unbooked"]) == [(officer.email, "manage.case")]


def test_a_refused_or_missing_read_is_not_logged(world, staff, client):
    client.force_login(staff[Role.TRAINER])  # may not see offenders
    assert get(client, f"/manage/offenders/{world['reference']}/").status_code == 403
    client.force_login(staff[Role.BOOKING_OFFICER])
    assert get(client, "/manage/offenders/NOPE-1/").status_code == 404
    assert not OffenderRead.objects.exists()


def test_the_contact_centre_logs_its_reads(world, staff, client):
    agent = staff[Role.CONTACT_CENTRE_AGENT]
    client.force_login(agent)
    offer = world["offer"]
    assert client.get(f"/contact-centre/offers/{offer.reference}/",
                      HTTP_HOST="essex.localhost").status_code == 200
    assert client.get(f"/contact-centre/bookings/{world['booking_reference']}/",
                      HTTP_HOST="essex.localhost").status_code == 200
    assert reads(offer) == [(agent.email, "contact_centre.offer"),
                            (agent.email, "contact_centre.booking")]


def test_the_access_report_shows_each_read(world, staff, client):
    offer = world["offer"]
    client.force_login(staff[Role.BOOKING_OFFICER])
    get(client, f"/manage/offenders/{offer.reference}/")
    client.force_login(staff[Role.CLIENT_ADMIN])
    url = reverse("manage:privacy_offender", kwargs={"reference": offer.reference},
                  urlconf="config.urls_client")
    page = get(client, url).content.decode()
    assert "booking_officer@essex.test" in page and "manage.offender" in page
    assert "1 view of the record" in page  # the report's own read is logged after it is shown
    assert reads(offer)[-1] == (staff[Role.CLIENT_ADMIN].email, "manage.privacy_offender")
