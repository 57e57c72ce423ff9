"""Telephone payments: MOTO card entry by an agent, and pay-by-link to the caller."""

import json
import re

from django.core import mail
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Booking, Offer, Payment
from booking.services.bookings import ContactDetails, book

from .conftest import deliver_outbox, enable_card_payments, make_user
from .journey_data import make_journey_data
from .test_payments import card_token

HOST = {"HTTP_HOST": "essex.localhost"}


def phone_booking(organisation, agent):
    offer, sessions = make_journey_data(organisation, reference="ESX-500001")
    with schema_context(organisation.schema_name):
        booking = book(offer.pk, channel="telephone", actor=agent, session_id=sessions[0].pk,
                       details=ContactDetails(email="caller@example.com", phone="07700 900982"))
    assert booking.status == "pending_payment"
    return offer, booking


def test_agent_takes_a_moto_payment(essex, south_wales, stripe_api, client):
    enable_card_payments(essex, allow_moto=True)
    agent = make_user("agent@essex.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT)
    offer, booking = phone_booking(essex, agent)
    client.force_login(agent)
    page = client.get(f"/contact-centre/payments/{booking.reference}/", **HOST)
    assert page.status_code == 200 and b"Card details read out by the caller" in page.content
    assert client.get(f"/contact-centre/payments/{booking.reference}/",
                      HTTP_HOST="south-wales.localhost").status_code == 403
    response = client.post(f"/contact-centre/payments/{booking.reference}/card/",
                           json.dumps({"token": card_token(stripe_api)}),
                           content_type="application/json", **HOST)
    assert response.status_code == 200, response.content
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
        payment = Payment.objects.get(booking=booking, status="succeeded")
        assert payment.moto and payment.channel == "telephone"


def test_moto_is_refused_where_the_client_does_not_allow_it(essex, stripe_api, client):
    enable_card_payments(essex, allow_moto=False)
    agent = make_user("agent@essex.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT)
    offer, booking = phone_booking(essex, agent)
    client.force_login(agent)
    page = client.get(f"/contact-centre/payments/{booking.reference}/", **HOST)
    assert b"Card details read out" not in page.content and b"Send payment link" in page.content
    response = client.post(f"/contact-centre/payments/{booking.reference}/card/",
                           json.dumps({"token": card_token(stripe_api)}),
                           content_type="application/json", **HOST)
    assert response.status_code == 403


def test_pay_by_link(essex, stripe_api, client):
    enable_card_payments(essex)
    agent = make_user("agent@essex.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT)
    offer, booking = phone_booking(essex, agent)
    client.force_login(agent)
    mail.outbox.clear()
    client.post(f"/contact-centre/payments/{booking.reference}/", {"action": "send_link"}, **HOST)
    with schema_context(essex.schema_name):
        deliver_outbox()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["caller@example.com"]
    link = re.search(r"https?://essex\.localhost(?::\d+)?(/pay/\S+/)", mail.outbox[0].body).group(1)
    client.logout()
    page = client.get(link, **HOST)
    assert page.status_code == 200 and b"Pay for your course" in page.content
    assert client.get(link.replace("/pay/", "/pay/x"), **HOST).status_code == 404
    response = client.post(link + "card/", json.dumps({"token": card_token(stripe_api)}),
                           content_type="application/json", **HOST)
    assert response.status_code == 200, response.content
    # Settled by the card request itself: straight to the link's "paid" page.
    assert json.loads(response.content)["redirect"] == link + "paid/"
    paid = client.get(json.loads(response.content)["redirect"], **HOST)
    assert paid.status_code == 200
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
        assert Offer.objects.get(pk=offer.pk).status == "booked"
    # The link is for that booking on that client only.
    assert client.get(link, HTTP_HOST="south-wales.localhost").status_code == 404


def test_taking_payment_by_phone_is_a_contact_centre_page(essex, stripe_api, client):
    """A booking officer may book, but the agent payment pages are the contact centre's, like
    every other console page: no card is taken and no link sent without "contact_centre.use"."""
    enable_card_payments(essex, allow_moto=True)
    agent = make_user("agent@essex.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT)
    officer = make_user("officer@essex.test", organisation=essex, role=Role.BOOKING_OFFICER)
    offer, booking = phone_booking(essex, agent)
    client.force_login(officer)
    mail.outbox.clear()
    page = f"/contact-centre/payments/{booking.reference}/"
    assert client.get(page, **HOST).status_code == 403
    assert client.post(page, {"action": "send_link"}, **HOST).status_code == 403
    assert client.post(page + "card/", json.dumps({"token": card_token(stripe_api)}),
                       content_type="application/json", **HOST).status_code == 403
    assert client.get(page + "return/", **HOST).status_code == 403
    assert mail.outbox == []
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "pending_payment"
        assert not Payment.objects.filter(booking=booking).exists()
