"""Issue 14, item 14: until a client's set-up checklist has every item a booking needs, its
public site says "<Client> is not taking bookings online yet" (with the phone line and its
hours) instead of letting a person reach a pay page that cannot work; the client's staff still
preview the journey, under a banner."""

import pytest
from django_tenants.utils import schema_context

from tenants.models import ClientOrganisation

from .factories import book_offer, complete_setup
from .journey_data import make_journey_data

ESSEX = {"HTTP_HOST": "essex.localhost"}
WALES = {"HTTP_HOST": "south-wales.localhost"}
NOT_TAKING = "Essex Driver Awareness is not taking bookings online yet"
# Every page a new booking passes through before the card is taken. Finding an offer still
# works, for someone who booked already (the pay page of a booking made before the merchant
# account went away offers to pay by phone: test_payments).
BOOKING_PAGES = ("/", "/book/where/", "/book/dates/", "/book/details/", "/book/check/")
FOUND = {"reference": "ESX-100001", "date_of_birth_0": "27", "date_of_birth_1": "3",
         "date_of_birth_2": "1985", "postcode": "CM1 1QH"}


def without_merchant_account(organisation):
    ClientOrganisation.objects.filter(pk=organisation.pk).update(stripe_account_id="",
                                                                 stripe_charges_enabled=False)
    organisation.refresh_from_db()


@pytest.fixture
def unready_essex(essex):
    """Essex with dates, venues, trainers and fees, but no merchant account yet."""
    make_journey_data(essex)
    without_merchant_account(essex)
    return essex


def test_every_page_before_payment_says_not_taking_bookings(unready_essex, client):
    for path in BOOKING_PAGES:
        response = client.get(path, **ESSEX)
        page = response.content.decode()
        assert response.status_code == 200, path
        assert f'<h1 class="govuk-heading-l" data-setup="not-taking-bookings">{NOT_TAKING}</h1>' \
            in page, path
        assert "Telephone: 0300 123 4567" in page and "Telephone opening hours" in page
        assert "Monday" in page and "08:00 to 17:00" in page
        # Not the phone-lines banner's promise that online booking is open.
        assert "Online booking is open 24 hours a day" not in page
        assert "Start now" not in page and 'name="date_of_birth_0"' not in page
        assert 'you can still <a class="govuk-link" href="/book/find/">view, pay for or cancel' \
            in page
    # Finding an offer not yet booked does not start a booking either.
    posted = client.post("/book/find/", FOUND, **ESSEX)
    assert posted.status_code == 200 and NOT_TAKING in posted.content.decode()
    assert NOT_TAKING in client.get("/book/where/", **ESSEX).content.decode()


def test_someone_who_booked_already_still_reaches_their_booking(unready_essex, client):
    from booking.models import Booking

    with schema_context(unready_essex.schema_name):
        offer, sessions = make_journey_data(unready_essex, reference="ESX-100002", fee_pence=0)
        without_merchant_account(unready_essex)
        book_offer(offer, sessions[0], channel="admin", waived=True)
        assert Booking.objects.filter(offer=offer).exists()
    assert 'name="date_of_birth_0"' in client.get("/book/find/", **ESSEX).content.decode()
    found = client.post("/book/find/", {**FOUND, "reference": "ESX-100002"}, **ESSEX)
    assert found.status_code == 302 and found["Location"] == "/booking/"
    assert "Your booking" in client.get("/booking/", **ESSEX).content.decode()


@pytest.mark.parametrize("undo", ["merchant_account", "course_types", "dates", "trainers"])
def test_each_item_a_booking_needs_stops_the_bookings(essex, client, undo):
    from booking.models import CourseSession, CourseType, Trainer

    make_journey_data(essex)
    with schema_context(essex.schema_name):
        if undo == "merchant_account":
            without_merchant_account(essex)
        elif undo == "course_types":
            CourseType.objects.update(is_active=False)
        elif undo == "dates":
            CourseSession.objects.update(status=CourseSession.Status.CANCELLED)
        else:
            Trainer.objects.update(is_active=False)
    assert NOT_TAKING in client.get("/", **ESSEX).content.decode()


def test_a_client_that_is_set_up_takes_bookings(essex, client):
    make_journey_data(essex)
    start = client.get("/", **ESSEX).content.decode()
    assert "Start now" in start and NOT_TAKING not in start
    find = client.get("/book/find/", **ESSEX).content.decode()
    assert 'name="date_of_birth_0"' in find and 'data-setup="preview"' not in find


def test_staff_preview_the_journey_under_a_banner(unready_essex, client, essex_admin):
    client.force_login(essex_admin)
    page = client.get("/", **ESSEX).content.decode()
    assert "Start now" in page and 'data-setup="not-taking-bookings"' not in page
    assert 'data-setup="preview"' in page and "Preview for staff" in page
    found = client.post("/book/find/", FOUND, **ESSEX)
    assert found.status_code == 302 and found["Location"] == "/book/where/"
    where = client.get("/book/where/", **ESSEX).content.decode()
    assert 'data-setup="preview"' in where and 'name="mode"' in where
    assert "The public see “Essex Driver Awareness is not taking bookings online yet”" in page
    assert 'href="/manage/"' in page


def test_the_welsh_site_says_it_in_welsh(south_wales, client):
    with schema_context(south_wales.schema_name):
        complete_setup(south_wales)
    without_merchant_account(south_wales)
    client.cookies["waymark_language"] = "cy"
    page = client.get("/", **WALES).content.decode()
    assert '<html lang="cy"' in page
    assert "Nid yw Ymwybyddiaeth Gyrwyr De Cymru yn cymryd archebion ar-lein eto" in page
    assert "South Wales Driver Awareness" not in page.split("<main")[1]


def test_the_welsh_site_takes_bookings_once_set_up(south_wales, client):
    with schema_context(south_wales.schema_name):
        complete_setup(south_wales)
    client.cookies["waymark_language"] = "cy"
    page = client.get("/book/find/", **WALES).content.decode()
    assert 'name="date_of_birth_0"' in page
    assert "Nid yw Ymwybyddiaeth Gyrwyr De Cymru yn cymryd archebion" not in page
