"""Offenders: search, the timeline, and booking, moving and cancelling on the person's behalf;
extending the critical date."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEntry
from booking.models import Booking, Offer, OfferEvent

from ..factories import book_offer
from .conftest import get, make_offer, post


@pytest.fixture
def officer(staff, client):
    client.force_login(staff[Role.BOOKING_OFFICER])
    return staff[Role.BOOKING_OFFICER]


@pytest.mark.parametrize("query, found", [
    ("ESX-500002", "ESX-500002"),
    ("esx 500002", "ESX-500002"),
    ("Alex Walker", "ESX-500002"),
    ("walker", "ESX-500002"),
    ("02/01/1990", "ESX-500002"),
    ("1990-01-02", "ESX-500002"),
    ("Walker 02/01/1990", "ESX-500002"),
    ("cm11qh", "ESX-500001"),
    ("SAM@example.com", "ESX-500001"),
])
def test_search_finds_offers(world, officer, client, query, found):
    page = get(client, "/manage/offenders/", data={"q": query}).content.decode()
    assert f"/manage/offenders/{found}/" in page


def test_search_for_booking_reference_and_nothing(world, officer, client):
    page = get(client, "/manage/offenders/", data={"q": world["booking"].reference})
    assert b"/manage/offenders/ESX-500001/" in page.content
    none = get(client, "/manage/offenders/", data={"q": "31/02/1990 Nobody"})
    assert none.status_code == 200 and b"0 results" in none.content
    empty = get(client, "/manage/offenders/", data={"q": ""})
    assert b"govuk-error-summary" in empty.content and b'href="#id_q"' in empty.content


def test_timeline_shows_every_event_with_who_and_when(world, officer, client):
    page = get(client, "/manage/offenders/ESX-500001/").content.decode()
    assert "Booking confirmed" in page and "setup" in page
    assert world["booking"].reference in page
    case_page = get(client, "/manage/offenders/ESX-500002/").content.decode()
    assert "Special-circumstances case opened" in case_page
    assert "client_admin@essex.test" in case_page and "Lost job" in case_page


def test_book_on_behalf(world, officer, client):
    offer = make_offer("ESX-600001")
    page = get(client, "/manage/offenders/ESX-600001/book/")
    assert f'value="{world["upcoming"].pk}"'.encode() in page.content
    # A started date is not offered, and is refused if posted anyway.
    assert f'value="{world["started"].pk}"'.encode() not in page.content
    refused = post(client, "/manage/offenders/ESX-600001/book/",
                   {"session": world["started"].pk})
    assert refused.status_code == 200 and b"govuk-error-summary" in refused.content
    missing = post(client, "/manage/offenders/ESX-600001/book/", {"session": "999999999"})
    assert missing.status_code == 200 and b"Select a course date" in missing.content
    done = post(client, "/manage/offenders/ESX-600001/book/", {"session": world["upcoming"].pk})
    booking = Booking.objects.get(offer=offer)
    # Booked on the person's behalf, it waits for its fee (a booking officer may not waive it).
    assert done["Location"] == f"/manage/offenders/ESX-600001/payment/{booking.reference}/"
    assert booking.status == "pending_payment" and booking.channel == "admin"
    assert booking.made_by == officer.email
    event = OfferEvent.objects.get(offer=offer, kind="booking.created")
    assert event.actor_user_id == officer.pk and event.channel == "admin"


def test_transfer_and_cancel_on_behalf(world, officer, client):
    offer = make_offer("ESX-600002")
    book_offer(offer, world["upcoming"], channel="admin")
    page = get(client, "/manage/offenders/ESX-600002/transfer/")
    assert b"Moving is free of charge" in page.content
    assert f'value="{world["upcoming"].pk}"'.encode() not in page.content
    moved = post(client, "/manage/offenders/ESX-600002/transfer/",
                 {"session": world["other"].pk})
    assert moved.status_code == 302
    active = Booking.objects.get(offer=offer, status="confirmed")
    assert active.session_id == world["other"].pk and active.transfer_count == 1

    no_reason = post(client, "/manage/offenders/ESX-600002/cancel/", {"reason": ""})
    assert b'href="#id_reason"' in no_reason.content
    cancelled = post(client, "/manage/offenders/ESX-600002/cancel/",
                     {"reason": "Caller asked"})
    assert cancelled.status_code == 302
    active.refresh_from_db()
    assert active.status == "cancelled"
    event = OfferEvent.objects.get(offer=offer, kind="booking.cancelled")
    assert event.after["reason"] == "Caller asked" and event.channel == "admin"


def test_extend_the_critical_date(world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    offer = world["unbooked"]
    url = f"/manage/offenders/{offer.reference}/critical-date/"
    no_reason = post(client, url, {"critical_date": "2099-01-01", "reason": ""})
    assert b'href="#id_reason"' in no_reason.content
    earlier = post(client, url, {"critical_date": offer.critical_date - timedelta(days=1),
                                 "reason": "Police agreed"})
    assert b'href="#id_critical_date_day"' in earlier.content
    assert b"must be after the current one" in earlier.content
    nonsense = post(client, url, {"critical_date_day": "31", "critical_date_month": "2",
                                  "critical_date_year": "2020", "reason": "x"})
    assert nonsense.status_code == 200 and b'href="#id_critical_date_day"' in nonsense.content
    assert b"The new critical date must be a real date" in nonsense.content
    no_month = post(client, url, {"critical_date_day": "3", "critical_date_year": "2099",
                                  "reason": "x"})
    assert b"The new critical date must include a month" in no_month.content
    assert b'href="#id_critical_date_month"' in no_month.content
    new_date = offer.critical_date + timedelta(days=30)
    done = post(client, url, {"critical_date": new_date.isoformat(),
                              "booking_period_end": new_date.isoformat(),
                              "reason": "PC Smith agreed by phone"})
    assert done.status_code == 302
    offer.refresh_from_db()
    assert offer.critical_date == new_date and offer.booking_period_end == new_date
    event = OfferEvent.objects.get(offer=offer, kind="offer.critical_date_extended")
    assert event.after["reason"] == "PC Smith agreed by phone"
    entry = AuditEntry.objects.get(action="offer.critical_date_extended")
    assert entry.actor_id == staff[Role.CLIENT_ADMIN].pk and entry.object_id == str(offer.pk)


def test_an_expired_offer_extended_can_be_booked_again(world, staff, client):
    offer = make_offer("ESX-600003")
    Offer.objects.filter(pk=offer.pk).update(status="expired",
                                             critical_date=timezone.localdate()
                                             - timedelta(days=1))
    client.force_login(staff[Role.CLIENT_ADMIN])
    new_date = timezone.localdate() + timedelta(days=90)
    post(client, "/manage/offenders/ESX-600003/critical-date/",
         {"critical_date": new_date.isoformat(), "booking_period_end": new_date.isoformat(),
          "reason": "Agreed"})
    offer.refresh_from_db()
    assert offer.status == "offered"
