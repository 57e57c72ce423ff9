"""The dashboard: this week's dates with their fill, unbooked offers near their critical date,
open cases and bookings whose payment never came."""

from datetime import timedelta

from django.utils import timezone

from accounts.roles import Role
from booking.models import Booking
from booking.services.bookings import book, place_hold

from .conftest import get, make_offer


def test_administrator_sees_the_week_and_what_needs_attention(world, staff, client):
    now = timezone.now()
    near = make_offer("ESX-NEAR01", critical_in=10, last_name="Soon")
    make_offer("ESX-LATER1", critical_in=40, last_name="Later")
    unpaid_offer = make_offer("ESX-UNPAID")
    place_hold(unpaid_offer.pk, world["upcoming"].pk, channel="online", actor="online",
               now=now - timedelta(hours=1))
    unpaid = book(unpaid_offer.pk, channel="online", actor="online",
                  now=now - timedelta(hours=1) + timedelta(minutes=5))
    Booking.objects.filter(pk=unpaid.pk).update(created_at=now - timedelta(hours=1))
    client.force_login(staff[Role.CLIENT_ADMIN])
    page = get(client, "/manage/").content.decode()
    # Today's date, with its fill.
    assert "1 / 20" in page and f"/manage/registers/{world['started'].pk}/" in page
    assert near.reference in page and "ESX-LATER1" not in page
    assert world["case"].offer.reference in page
    assert unpaid.reference in page
    assert 'href="/manage/offers/import/"' in page


def test_trainer_sees_only_their_dates_and_no_offers(world, staff, client):
    make_offer("ESX-NEAR02", critical_in=5)
    client.force_login(staff[Role.TRAINER])
    page = get(client, "/manage/").content.decode()
    assert f"/manage/registers/{world['started'].pk}/" in page
    assert "ESX-NEAR02" not in page
    assert "Special circumstances" not in page
    assert 'href="/manage/configure/"' not in page


def _figures(page: str) -> dict:
    """What the dashboard counts: each listed date with its fill, and each headline count."""
    import re

    return {"dates": re.findall(r'waymark-fill">([^<]+)<', page),
            "counts": re.findall(r'<p class="govuk-body">(\d+ (?:offers?|bookings?|open cases?)\.)'
                                 r'</p>', page)}


def test_every_role_that_sees_the_dashboard_sees_the_same_counts(world, staff, client):
    make_offer("ESX-NEAR03", critical_in=3)
    seen = {}
    for role in (Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT,
                 Role.AUDITOR):
        client.force_login(staff[role])
        seen[role] = _figures(get(client, "/manage/").content.decode())
    administrator = seen[Role.CLIENT_ADMIN]
    # The fixture's world: one date today, two later this fortnight (only those in 7 days list).
    assert administrator["dates"] == ["1 / 20"]
    assert "1 offer." in administrator["counts"] and "1 open case." in administrator["counts"]
    assert seen == {role: administrator for role in seen}
