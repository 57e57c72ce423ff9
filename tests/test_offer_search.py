"""One offer search for /manage/offenders/ and the contact centre, and the phone number kept in
E.164 beside the one typed, indexed, wherever an offer's phone number is written."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from booking.models import Channel, Offer
from booking.models.offers import phone_e164
from booking.services import search
from booking.services.bookings import ContactDetails
from booking.services.offer_import import import_offers
from booking.services.offers import find_offer

from .conftest import make_user
from .factories import CourseSessionFactory, OfferFactory, book_offer

ESSEX = {"HTTP_HOST": "essex.localhost"}


def imported(reference="ESX-300001", **changes):
    today = timezone.localdate()
    row = {"reference": reference, "course_type": "NSAC",
           "offence_date": (today - timedelta(days=20)).isoformat(),
           "booking_period_end": (today + timedelta(days=30)).isoformat(),
           "critical_date": (today + timedelta(days=60)).isoformat(), "first_name": "Sam",
           "last_name": "Driver", "date_of_birth": "1985-03-27", "postcode": "CM1 1QH",
           "phone": "07700 900982", **changes}
    import_offers([row], source="api", actor="feed", channel=Channel.API)
    return Offer.objects.get(reference=reference)


@pytest.mark.parametrize(("typed", "e164"), [
    ("07700 900982", "+447700900982"), ("+44 (0)7700 900 982", "+447700900982"),
    ("0044 7700 900982", "+447700900982"), ("01632 960 001", "+441632960001"),
    ("+1 202 555 0100", "+12025550100"),
    ("", ""), ("123", ""), ("ESX-500002", ""), ("walker", ""), ("1-800-FLOWERS", ""),
])
def test_phone_numbers_are_normalised_once(typed, e164):
    assert phone_e164(typed) == e164


def test_every_write_of_a_phone_number_keeps_its_search_form(in_essex):
    offer = imported()
    assert offer.phone_e164 == "+447700900982"  # a new offer
    offer = imported(phone="+44 1632 960001")
    assert (offer.phone, offer.phone_e164) == ("+44 1632 960001", "+441632960001")  # updated
    session = CourseSessionFactory()
    book_offer(offer, session, channel=Channel.ONLINE, actor="online",
               details=ContactDetails(email="sam@example.test", phone="07700 900123"))
    offer.refresh_from_db()
    assert (offer.phone, offer.phone_e164) == ("07700 900123", "+447700900123")  # booking


def test_the_migration_fills_existing_offers(in_essex):
    fill = importlib.import_module("booking.migrations.0009_offer_phone_e164").fill_phone_e164
    with_phone = OfferFactory(phone="07700 900555")
    without = OfferFactory()
    Offer.objects.update(phone_e164="")
    fill(apps, None)
    with_phone.refresh_from_db()
    without.refresh_from_db()
    assert with_phone.phone_e164 == "+447700900555" and without.phone_e164 == ""


def test_a_phone_search_is_one_query_on_the_index(in_essex, django_assert_num_queries):
    wanted = OfferFactory(phone="07700 900777")
    OfferFactory.create_batch(3, phone="07700 900778")
    with django_assert_num_queries(1), CaptureQueriesContext(connection) as queries:
        assert search.find_offers(search.offer_search(phone="+44 7700 900777")) == [wanted]
    # The search is an equality on the E.164 column, and that column is indexed. (Whether the
    # planner uses the index on a handful of test rows depends on the statistics left by
    # other tests, so the plan itself is not asserted.)
    assert '"booking_offer"."phone_e164" = ' in queries[0]["sql"]
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "booking_offer")
    assert constraints["offer_phone_e164"]["index"]
    assert constraints["offer_phone_e164"]["columns"] == ["phone_e164"]


def test_the_staff_search_and_the_console_find_the_same_caller(in_essex, essex_admin, client):
    offer = OfferFactory(reference="ESX-400001", first_name="Alex", last_name="Walker",
                         phone="07700 900444")
    client.force_login(essex_admin)
    for query in ("07700900444", "+44 7700 900444", "esx 400001", "Alex Walker",
                  "walker 27/03/1985"):
        page = client.get("/manage/offenders/", {"q": query}, **ESSEX).content.decode()
        assert "/manage/offenders/ESX-400001/" in page, query
    client.force_login(make_user("agent@calls.test", organisation=in_essex,
                                 role=Role.CONTACT_CENTRE_AGENT))
    found = client.post("/contact-centre/", {"by": "phone", "phone": "+44 7700 900444"},
                        **ESSEX).content.decode()
    assert "/contact-centre/offers/ESX-400001/" in found
    by_reference = client.post("/contact-centre/", {"by": "reference", "reference": "esx 400001"},
                               **ESSEX)
    assert by_reference["Location"] == "/contact-centre/offers/ESX-400001/"
    assert search.offer_with_reference("esx-400001") == offer


def test_nothing_is_found_for_what_cannot_be_a_number_or_postcode(in_essex):
    OfferFactory(phone="07700 900444", postcode="CM1 1QH", date_of_birth=timezone.localdate()
                 - timedelta(days=40 * 365))
    assert search.offer_search(phone="123") is None
    assert search.offer_search(postcode="not one") is None
    assert search.find_offers(search.offer_search(phone="123")) == []
    # A word that is no postcode, phone or name finds nobody, even beside a real birth date.
    born = (timezone.localdate() - timedelta(days=40 * 365)).strftime("%d/%m/%Y")
    assert search.search_offers(f"Nobody {born}") == []
    assert len(search.search_offers(born)) == 1


def test_the_public_look_up_reads_references_the_same_way(in_essex):
    offer = OfferFactory(reference="ESX-400002")
    assert find_offer(" esx-400002 ", offer.date_of_birth) == offer
    assert search.normalise_reference(" esx-400002 ") == "ESX-400002"
