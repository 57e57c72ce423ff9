"""The public booking journey through Django's test client (the browser test covers the UI)."""

from django.core.cache import cache
from django_tenants.utils import schema_context

from booking.models import Booking, Hold, Offer, OfferEvent

from .journey_data import make_journey_data

HOST = {"HTTP_HOST": "essex.localhost"}
DOB = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}


def find(client, reference="ESX-100001", **extra):
    return client.post("/book/find/", {"reference": reference, **DOB, **extra}, **HOST)


def test_wrong_details_give_one_message_and_then_a_lock_out(essex, client):
    cache.clear()
    make_journey_data(essex)
    wrong_dob = client.post("/book/find/", {"reference": "ESX-100001", "date_of_birth_0": "1",
                                            "date_of_birth_1": "1", "date_of_birth_2": "1990"},
                            **HOST)
    unknown = find(client, reference="ESX-999999")
    for response in (wrong_dob, unknown):
        assert response.status_code == 200
        assert "We cannot find an offer with those details" in response.content.decode()
    for _ in range(9):
        client.post("/book/find/", {"reference": "ESX-100001", "date_of_birth_0": "1",
                                    "date_of_birth_1": "1", "date_of_birth_2": "1990"}, **HOST)
    locked = find(client)  # even the right details, from this source, after 10 failures
    assert locked.status_code == 429 and b"Too many attempts" in locked.content
    assert locked["Retry-After"] == "3600"
    cache.clear()


def test_bad_dates_are_named(essex, taking_bookings, client):
    response = client.post("/book/find/", {"reference": "ESX-100001", "date_of_birth_0": "31",
                                           "date_of_birth_1": "2", "date_of_birth_2": "1985"},
                           **HOST)
    assert "Date of birth must be a real date" in response.content.decode()
    response = client.post("/book/find/", {"reference": "", "date_of_birth_0": "3"}, **HOST)
    page = response.content.decode()
    assert "Enter your offer reference" in page and "Date of birth must include a month" in page


def test_free_course_books_end_to_end_and_transfers(essex, client, django_capture_on_commit_callbacks):
    cache.clear()
    offer, sessions = make_journey_data(essex, fee_pence=0)
    assert find(client)["Location"] == "/book/where/"
    bad = client.post("/book/where/", {"mode": "classroom", "postcode": "ZZ99 9ZZ"}, **HOST)
    assert "There is a problem" in bad.content.decode()
    assert client.post("/book/where/", {"mode": "classroom", "postcode": "cm1 1qh"},
                       **HOST)["Location"] == "/book/dates/"
    page = client.get("/book/dates/", **HOST).content.decode()
    assert "County Hall" in page and "20 places left" in page
    assert client.post("/book/dates/", {"session": sessions[0].pk}, **HOST)["Location"] == (
        "/book/details/")
    assert client.post("/book/details/", {"email": "sam@example.com", "phone": "07700 900982",
                                          "language": "en", "access": ["step_free"]},
                       **HOST)["Location"] == "/book/check/"
    check = client.get("/book/check/", **HOST).content.decode()
    assert "Check your answers" in check and "sam@example.com" in check and "£0.00" in check
    with django_capture_on_commit_callbacks(execute=False):
        done = client.post("/book/check/", **HOST)
    assert done.status_code == 302 and "/book/confirmation/" in done["Location"]
    with schema_context(essex.schema_name):
        booking = Booking.objects.get(offer=offer)
        assert booking.status == "confirmed" and booking.channel == "online"
        assert Offer.objects.get(pk=offer.pk).access_requirements == ["step_free"]
        assert not Hold.objects.filter(offer=offer).exists()
    confirmation = client.get(done["Location"], **HOST).content.decode()
    assert booking.reference in confirmation

    # Transfer to another date through the same search pages.
    assert client.get("/booking/transfer/", **HOST)["Location"] == "/book/where/?purpose=transfer"
    client.post("/book/where/?purpose=transfer", {"mode": "online"}, **HOST)
    assert client.post("/book/dates/?purpose=transfer", {"session": sessions[2].pk},
                       **HOST)["Location"] == "/booking/transfer/check/"
    assert "There is no charge" in client.get("/booking/transfer/check/", **HOST).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        client.post("/booking/transfer/check/", **HOST)
    with schema_context(essex.schema_name):
        active = Booking.objects.get(offer=offer, status="confirmed")
        assert active.session_id == sessions[2].pk and active.transferred_from_id == booking.pk
        kinds = list(OfferEvent.objects.filter(offer=offer).values_list("kind", flat=True))
    assert {"hold.placed", "booking.confirmed", "booking.transferred"} <= set(kinds)
    cache.clear()


def test_a_session_that_filled_shows_the_rule_and_other_dates(essex, client):
    cache.clear()
    offer, sessions = make_journey_data(essex)
    with schema_context(essex.schema_name):
        sessions[0].seats_booked = sessions[0].capacity
        sessions[0].save()
    find(client)
    client.post("/book/where/", {"mode": "classroom", "postcode": "CM1 1QH"}, **HOST)
    response = client.post("/book/dates/", {"session": sessions[0].pk}, **HOST)
    page = response.content.decode()
    assert response.status_code == 400
    assert "that course date has just filled up" in page
    assert f'value="{sessions[1].pk}"' in page and f'value="{sessions[0].pk}"' not in page
    cache.clear()


def test_paid_course_waits_for_payment(essex, client):
    cache.clear()
    offer, sessions = make_journey_data(essex)
    find(client)
    client.post("/book/where/", {"mode": "online"}, **HOST)
    client.post("/book/dates/", {"session": sessions[2].pk}, **HOST)
    client.post("/book/details/", {"email": "sam@example.com", "phone": "07700 900982",
                                   "language": "en"}, **HOST)
    assert "£95.00" in client.get("/book/check/", **HOST).content.decode()
    response = client.post("/book/check/", **HOST)
    assert "/book/pay/" in response["Location"]
    with schema_context(essex.schema_name):
        assert Booking.objects.get(offer=offer).status == "pending_payment"
        assert Hold.objects.filter(offer=offer).exists()  # the seat stays held meanwhile
    cache.clear()


def test_journey_pages_need_a_found_offer(essex, taking_bookings, client):
    for path in ("/book/where/", "/book/dates/", "/book/details/", "/book/check/", "/booking/"):
        response = client.get(path, **HOST)
        assert response.status_code == 302 and response["Location"] == "/book/find/"


def test_offers_of_one_client_cannot_be_found_on_another(essex, south_wales, taking_bookings,
                                                        client):
    cache.clear()
    make_journey_data(essex)
    response = client.post("/book/find/", {"reference": "ESX-100001", **DOB},
                           HTTP_HOST="south-wales.localhost")
    assert "We cannot find an offer" in response.content.decode()
    cache.clear()
