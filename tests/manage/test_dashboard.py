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
