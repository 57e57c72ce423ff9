"""Issue 14, item 6 and 8: a Welsh page says nothing in English that has a Welsh form — course and
venue names, directions, Stripe's decline text — and the journey's small promises (the fee on
the date choice, Change links that come back, a booking page that knows it was cancelled).

The class test walks every public page of a bilingual client in Welsh and looks for each known
English-only name; a template that renders a name without its Welsh field fails it."""

import json

from django.core.cache import cache
from django_tenants.utils import schema_context

from booking.models import Booking, CourseType, Venue
from booking.services.bookings import book, place_hold
from booking.services.card_declines import decline_message

from .conftest import enable_card_payments
from .journey_data import make_journey_data
from .test_payments import DECLINED_CARD, card_token

WALES = {"HTTP_HOST": "south-wales.localhost"}
ESSEX = {"HTTP_HOST": "essex.localhost"}
DOB = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}
COURSE_CY = "Cwrs Ymwybyddiaeth Cyflymder Cenedlaethol"
VENUE_EN, VENUE_CY = "County Hall", "Neuadd y Sir"
DIRECTIONS_EN, DIRECTIONS_CY = "Park behind the library", "Parciwch y tu ôl i lyfrgell y dref"
# Stripe's own words, as its API and Stripe.js give them.
STRIPE_TEXT = ("Your card was declined", "card number is incomplete", "Stripe says")


def welsh_client(client):
    client.cookies["waymark_language"] = "cy"
    return client


def _welsh_names(organisation, fee_pence=0, reference="SWA-100001"):
    offer, sessions = make_journey_data(organisation, reference=reference, fee_pence=fee_pence,
                                        language="cy")
    with schema_context(organisation.schema_name):
        nsac = CourseType.objects.get(code="NSAC")
        nsac.name_cy = COURSE_CY
        nsac.save()
        Venue.objects.filter(name=VENUE_EN).update(
            name_cy=VENUE_CY, address=f"{VENUE_EN}\nMarket Road\nChelmsford",
            directions_en=DIRECTIONS_EN, directions_cy=DIRECTIONS_CY)
    return offer, sessions, nsac.name_en


def _assert_welsh(page: str, english_course: str, where: str):
    for english in (english_course, VENUE_EN, DIRECTIONS_EN, *STRIPE_TEXT):
        assert english not in page, f"{where}: English-only text {english!r} on a Welsh page"


def test_every_public_page_in_welsh_names_courses_and_venues_in_welsh(south_wales, client):
    cache.clear()
    offer, sessions, english_course = _welsh_names(south_wales)
    client = welsh_client(client)
    pages = {}

    def visit(path, **extra):
        response = client.get(path, **WALES, **extra)
        assert response.status_code == 200, path
        pages[path] = response.content.decode()
        return pages[path]

    for path in ("/", "/accessibility/", "/privacy/", "/contact/", "/book/find/"):
        visit(path)
    assert "SWA-123456" in pages["/book/find/"] and "ESX-" not in pages["/book/find/"]
    assert client.post("/book/find/", {"reference": "SWA-100001", **DOB},
                       **WALES)["Location"] == "/book/where/"
    visit("/book/where/")
    assert COURSE_CY in pages["/book/where/"]
    client.post("/book/where/", {"mode": "classroom", "postcode": "CM1 1QH"}, **WALES)
    dates = visit("/book/dates/")
    assert VENUE_CY in dates
    client.post("/book/dates/", {"session": sessions[0].pk}, **WALES)
    details = visit("/book/details/")
    assert details.index('value="cy"') < details.index('value="en"')  # Cymraeg before Saesneg
    client.post("/book/details/", {"email": "sam@example.com", "phone": "", "language": "cy"},
                **WALES)
    check = visit("/book/check/")
    assert COURSE_CY in check and VENUE_CY in check
    done = client.post("/book/check/", **WALES)
    confirmation = visit(done["Location"])
    assert DIRECTIONS_CY in confirmation
    visit("/booking/")
    cancel = visit("/booking/cancel/")
    assert COURSE_CY in cancel and VENUE_CY in cancel
    client.post("/booking/cancel/", **WALES)
    after = visit("/booking/")
    for path, page in pages.items():
        _assert_welsh(page, english_course, path)
    # After cancelling, the booking page does not pretend nothing was ever booked.
    assert "Nid ydych wedi archebu cwrs eto" not in after
    with schema_context(south_wales.schema_name):
        assert Booking.objects.get(offer=offer).status == "cancelled"
    cache.clear()


def test_venue_name_is_not_repeated_in_its_address(south_wales, client):
    cache.clear()
    _offer, sessions, _english = _welsh_names(south_wales)
    client.post("/book/find/", {"reference": "SWA-100001", **DOB}, **WALES)
    client.post("/book/where/", {"mode": "classroom", "postcode": "CM1 1QH"}, **WALES)
    client.post("/book/dates/", {"session": sessions[0].pk}, **WALES)
    client.post("/book/details/", {"email": "sam@example.com", "language": "en"}, **WALES)
    check = client.get("/book/check/", **WALES).content.decode()
    assert f"{VENUE_EN}<br>Market Road<br>" in check and VENUE_CY not in check
    cache.clear()


def test_decline_messages_are_ours_in_both_languages(settings):
    from django.utils import translation

    for code in ("card_declined", "insufficient_funds", "expired_card", "incorrect_cvc",
                 "processing_error", "something_new"):
        with translation.override("en-gb"):
            english = decline_message(code)
        assert "declined:" not in english and english.endswith(".")
        assert english.count("declined") <= 1
    with translation.override("en-gb"):
        assert decline_message("insufficient_funds") != decline_message("card_declined")
        assert decline_message("lost_card") == decline_message("card_declined")


def test_a_declined_card_gets_our_sentence_not_stripes(essex, client, stripe_api):
    cache.clear()
    enable_card_payments(essex)
    offer, sessions = make_journey_data(essex, reference="ESX-300011")
    with schema_context(essex.schema_name):
        place_hold(offer.pk, sessions[0].pk, channel="online", actor="offender")
        booking = book(offer.pk, channel="online", actor="offender")
    client.post("/book/find/", {"reference": "ESX-300011", **DOB}, **ESSEX)
    assert client.get(f"/book/pay/{booking.reference}/", **ESSEX).status_code == 200
    response = client.post(f"/book/pay/{booking.reference}/card/",
                           json.dumps({"token": card_token(stripe_api, DECLINED_CARD)}),
                           content_type="application/json", **ESSEX)
    assert response.status_code == 402
    message = response.json()["message"]
    assert message == "Your card was declined. Nothing has been taken: try again or use a " \
                      "different card."
    assert "declined: " not in message
    cache.clear()


def test_the_date_choice_shows_the_fee_and_change_links_come_back_to_check(essex, client):
    cache.clear()
    offer, sessions = make_journey_data(essex, reference="ESX-100021")
    client.post("/book/find/", {"reference": "ESX-100021", **DOB}, **ESSEX)
    client.post("/book/where/", {"mode": "online"}, **ESSEX)
    dates = client.get("/book/dates/", **ESSEX).content.decode()
    assert "The course costs £95.00" in dates
    client.post("/book/dates/", {"session": sessions[2].pk}, **ESSEX)
    client.post("/book/details/", {"email": "sam@example.com", "language": "en"}, **ESSEX)
    check = client.get("/book/check/", **ESSEX).content.decode()
    assert "/book/details/?return=check" in check and "/book/dates/?return=check" in check
    # An English-only site has nothing to change the letter language to.
    assert "Letters and emails in" not in check
    # Changing the date from Check your answers comes back to it, details kept.
    response = client.post("/book/dates/?return=check", {"session": sessions[0].pk}, **ESSEX)
    assert response["Location"] == "/book/check/"
    assert client.post("/book/details/?return=check",
                       {"email": "", "phone": "07700 900982", "language": "en"},
                       **ESSEX)["Location"] == "/book/check/"
    cache.clear()


def test_email_or_phone_is_enough_but_one_is_needed(essex, client):
    cache.clear()
    offer, sessions = make_journey_data(essex, reference="ESX-100022")
    client.post("/book/find/", {"reference": "ESX-100022", **DOB}, **ESSEX)
    client.post("/book/where/", {"mode": "online"}, **ESSEX)
    client.post("/book/dates/", {"session": sessions[2].pk}, **ESSEX)
    neither = client.post("/book/details/", {"email": "", "phone": "", "language": "en"},
                          **ESSEX)
    assert neither.status_code == 200
    assert "Enter an email address or a phone number" in neither.content.decode()
    assert client.post("/book/details/", {"email": "", "phone": "07700 900982",
                                          "language": "en"}, **ESSEX)["Location"] == (
        "/book/check/")
    cache.clear()
