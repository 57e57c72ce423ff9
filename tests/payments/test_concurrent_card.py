"""Five card submissions for one booking at the same moment, on each of the three card
endpoints: every answer is JSON with a 2xx or 4xx status (a PaymentIntent another submission
already confirmed is settled and reported), one payment is taken, the booking is confirmed
once and one confirmation is queued."""

import json

import pytest
import requests
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking import notifications
from booking.models import Booking, Offer, OfferEvent, Payment
from booking.services.bookings import ContactDetails, book, place_hold
from booking.services.pay_links import pay_link_token
from outbox.models import OutboundMessage

from ..conftest import make_user
from ..journey_data import make_journey_data
from ..test_payments import card_token
from .conftest import at_once, host_of

SUBMISSIONS = 5
DETAILS = ContactDetails(email="sam@example.com", phone="07700 900982")


def online_booking(organisation):
    offer, sessions = make_journey_data(organisation, reference="PAY-200001")
    with schema_context(organisation.schema_name):
        place_hold(offer.pk, sessions[0].pk, channel="online", actor="offender")
        return book(offer.pk, channel="online", actor="offender", details=DETAILS)


def journey_clients(organisation, booking):
    """Tabs of one journey: the offer found once, the session cookie shared."""
    cache.clear()
    first = Client()
    found = first.post("/book/find/", {"reference": "PAY-200001", "date_of_birth_0": "27",
                                       "date_of_birth_1": "3", "date_of_birth_2": "1985"},
                       **host_of(organisation))
    assert found.status_code == 302, found.content
    tabs = [Client() for _ in range(SUBMISSIONS)]
    for tab in tabs:
        tab.cookies = first.cookies
    return tabs, f"/book/pay/{booking.reference}/card/"


def link_clients(organisation, booking):
    with schema_context(organisation.schema_name):
        token = pay_link_token(booking)
    return [Client() for _ in range(SUBMISSIONS)], f"/pay/{token}/card/"


def agent_clients(organisation, booking):
    agent = make_user(f"agent@{organisation.slug}.test", organisation=organisation,
                      role=Role.CONTACT_CENTRE_AGENT)
    tabs = [Client() for _ in range(SUBMISSIONS)]
    for tab in tabs:
        tab.force_login(agent)
    return tabs, f"/contact-centre/payments/{booking.reference}/card/"


@pytest.mark.parametrize("endpoint", [journey_clients, link_clients, agent_clients],
                         ids=["journey", "pay-by-link", "contact-centre"])
def test_five_submissions_at_once_take_one_payment(own_client, stripe_api, endpoint):
    booking = online_booking(own_client)
    tabs, url = endpoint(own_client, booking)
    tokens = [card_token(stripe_api) for _ in tabs]
    host = host_of(own_client)
    responses = at_once(*[
        (lambda tab=tab, token=token: tab.post(url, json.dumps({"token": token}),
                                               content_type="application/json", **host))
        for tab, token in zip(tabs, tokens, strict=True)])
    problems = [r for r in responses if isinstance(r, Exception) or not 200 <= r.status_code < 500]
    assert not problems, problems
    answers = [json.loads(r.content) for r in responses]
    assert any(answer["status"] == "succeeded" for answer in answers), answers

    with schema_context(own_client.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
        assert Payment.objects.filter(booking=booking, status="succeeded").count() == 1
        offer = Offer.objects.get(pk=booking.offer_id)
        assert OfferEvent.objects.filter(offer=offer, kind="booking.confirmed").count() == 1
        assert OfferEvent.objects.filter(offer=offer, kind="payment.succeeded").count() == 1
        assert OutboundMessage.objects.filter(
            kind=notifications.BOOKING_CONFIRMATION).count() == 1
    intents = requests.get(f"{stripe_api}/v1/payment_intents", timeout=5,
                           headers={"Authorization": "Bearer sk_test_waymark"}).json()["data"]
    assert [intent["status"] for intent in intents] == ["succeeded"]
