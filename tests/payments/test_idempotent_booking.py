"""Every POST that makes a booking is idempotent: a double click, a retry or two tabs of the
check page give one booking, and the second request is shown the first one's result."""

import re

from django.core.cache import cache
from django.test import Client
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Booking, OfferEvent
from booking.services.bookings import book, place_hold

from ..conftest import make_user
from ..journey_data import make_journey_data
from .conftest import at_once, host_of

DOB = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}


def to_the_check_page(client, organisation, reference, session):
    cache.clear()
    host = host_of(organisation)
    assert client.post("/book/find/", {"reference": reference, **DOB}, **host).status_code == 302
    client.post("/book/where/", {"mode": "online"}, **host)
    assert client.post("/book/dates/", {"session": session.pk}, **host)["Location"] == (
        "/book/details/")
    client.post("/book/details/", {"email": "sam@example.com", "phone": "07700 900982",
                                   "language": "en"}, **host)
    page = client.get("/book/check/", **host)
    assert page.status_code == 200
    return key_on(page)


def key_on(page) -> str:
    return re.search(r'name="request_key" value="([^"]+)"', page.content.decode()).group(1)


def test_confirm_booking_posted_twice_makes_one_booking_and_shows_it_both_times(essex, client):
    offer, sessions = make_journey_data(essex, reference="ESX-940001")
    host = host_of(essex)
    key = to_the_check_page(client, essex, "ESX-940001", sessions[2])
    # A second tab's check page carries the same key until the journey has booked.
    assert f'value="{key}"'.encode() in client.get("/book/check/", **host).content
    first = client.post("/book/check/", {"request_key": key}, **host)
    again = client.post("/book/check/", {"request_key": key}, **host)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"] and "/book/pay/" in first["Location"]
    with schema_context(essex.schema_name):
        booking = Booking.objects.get(offer=offer)
        assert booking.status == "pending_payment"
        assert first["Location"] == f"/book/pay/{booking.reference}/"
        assert not OfferEvent.objects.filter(offer=offer, kind="booking.superseded").exists()


def test_a_double_click_on_confirm_booking_makes_one_booking(own_client):
    offer, sessions = make_journey_data(own_client, reference="PAY-300001")
    first_tab = Client()
    key = to_the_check_page(first_tab, own_client, "PAY-300001", sessions[2])
    second_tab = Client()
    second_tab.cookies = first_tab.cookies
    host = host_of(own_client)
    responses = at_once(*[
        (lambda tab=tab: tab.post("/book/check/", {"request_key": key}, **host))
        for tab in (first_tab, second_tab)])
    assert [r.status_code for r in responses] == [302, 302], responses
    with schema_context(own_client.schema_name):
        booking = Booking.objects.get(offer=offer)  # one, and never superseded
        assert booking.status == "pending_payment"
    assert {r["Location"] for r in responses} == {f"/book/pay/{booking.reference}/"}


def test_book_with_the_same_request_key_returns_the_first_booking(essex):
    offer, sessions = make_journey_data(essex, reference="ESX-940002")
    with schema_context(essex.schema_name):
        place_hold(offer.pk, sessions[0].pk, channel="online", actor="offender")
        first = book(offer.pk, channel="online", actor="offender", request_key="k" * 22)
        again = book(offer.pk, channel="online", actor="offender", request_key="k" * 22)
        assert again.pk == first.pk
        assert Booking.objects.filter(offer=offer).count() == 1
        # A new check page (a new key) is a new choice: it replaces the unpaid booking.
        place_hold(offer.pk, sessions[1].pk, channel="online", actor="offender")
        second = book(offer.pk, channel="online", actor="offender", request_key="m" * 22)
        assert second.pk != first.pk and second.session_id == sessions[1].pk
        assert Booking.objects.get(pk=first.pk).status == "cancelled"


def test_an_agents_booking_posted_twice_makes_one_booking(essex, client):
    offer, sessions = make_journey_data(essex, reference="ESX-940003")
    client.force_login(make_user("agent@essex.test", organisation=essex,
                                 role=Role.CONTACT_CENTRE_AGENT))
    url = f"/contact-centre/offers/{offer.reference}/book/?mode=online"
    form = {"session": sessions[2].pk, "phone": "07700 900982", "language": "en",
            "request_key": key_on(client.get(url, **host_of(essex)))}
    first = client.post(url, form, **host_of(essex))
    again = client.post(url, form, **host_of(essex))
    with schema_context(essex.schema_name):
        booking = Booking.objects.get(offer=offer)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == (
        f"/contact-centre/bookings/{booking.reference}/")


def test_a_staff_booking_posted_twice_makes_one_booking(essex, client):
    offer, sessions = make_journey_data(essex, reference="ESX-940004")
    client.force_login(make_user("officer@essex.test", organisation=essex,
                                 role=Role.BOOKING_OFFICER))
    url = f"/manage/offenders/{offer.reference}/book/"
    form = {"session": sessions[2].pk, "request_key": key_on(client.get(url, **host_of(essex)))}
    first = client.post(url, form, **host_of(essex))
    again = client.post(url, form, **host_of(essex))
    with schema_context(essex.schema_name):
        booking = Booking.objects.get(offer=offer)
    assert booking.status == "pending_payment"  # staff take the fee next, on its own page
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == (
        f"/manage/offenders/{offer.reference}/payment/{booking.reference}/")
