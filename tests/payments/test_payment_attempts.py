"""One open card attempt per booking, keyed on its own id: two tabs at once get one
PaymentIntent; a PaymentIntent Stripe cancelled or no longer knows gives way to a fresh one."""

import requests
from django.test import Client
from django_tenants.utils import schema_context

from booking.models import Booking, OfferEvent, Payment
from booking.services.bookings import book, place_hold
from booking.services.pay_links import pay_link_token
from booking.services.payments import start_card_payment
from integrations import stripe_gateway as gateway

from ..conftest import enable_card_payments
from ..journey_data import make_journey_data
from ..test_payments import _paid_outside_our_flow, card_token, pending_booking
from .conftest import at_once, host_of

STRIPE = {"Authorization": "Bearer sk_test_waymark"}


def intents_in_stripe(base) -> list[dict]:
    return requests.get(f"{base}/v1/payment_intents", headers=STRIPE, timeout=5).json()["data"]


def pay_link_booking(organisation, reference):
    offer, sessions = make_journey_data(organisation, reference=reference)
    with schema_context(organisation.schema_name):
        place_hold(offer.pk, sessions[0].pk, channel="online", actor="offender")
        booking = book(offer.pk, channel="online", actor="offender")
        return booking, f"/pay/{pay_link_token(booking)}/"


def test_two_tabs_opening_the_payment_page_at_once_share_one_payment_intent(own_client,
                                                                          stripe_api):
    booking, link = pay_link_booking(own_client, "PAY-100001")
    host = host_of(own_client)
    pages = at_once(*[(lambda: Client().get(link, **host)) for _ in range(2)])
    assert [page.status_code for page in pages] == [200, 200], pages
    assert all(b'id="payment-form"' in page.content for page in pages)
    with schema_context(own_client.schema_name):
        payment = Payment.objects.get(booking=booking)
        assert payment.status == "pending" and payment.amount_pence == 9500
        assert OfferEvent.objects.filter(booking=booking, kind="payment.started").count() == 1
    stripe_intents = intents_in_stripe(stripe_api)
    assert [intent["id"] for intent in stripe_intents] == [payment.stripe_payment_intent_id]
    assert stripe_intents[0]["metadata"]["payment"] == str(payment.pk)


def test_the_same_attempt_asked_again_reuses_its_payment_intent(essex, stripe_api):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex, reference="ESX-930001")
    with schema_context(essex.schema_name):
        first, first_intent = start_card_payment(booking.pk, organisation=essex,
                                                 channel="online", actor="offender")
        # A request that stopped after Stripe answered but before the answer was recorded
        # leaves the attempt being set up: asked again, Stripe's key gives the same intent.
        Payment.objects.filter(pk=first.pk).update(status="creating",
                                                   stripe_payment_intent_id=None)
        again, again_intent = start_card_payment(booking.pk, organisation=essex,
                                                 channel="online", actor="offender")
        assert again.pk == first.pk and again_intent["id"] == first_intent["id"]
        assert Payment.objects.get(pk=first.pk).stripe_payment_intent_id == first_intent["id"]
    assert len(intents_in_stripe(stripe_api)) == 1


def test_a_payment_intent_stripe_no_longer_knows_gives_way_to_a_fresh_one(essex, stripe_api,
                                                                        client):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex, reference="ESX-930002")
    with schema_context(essex.schema_name):
        lost, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                     actor="offender")
        link = f"/pay/{pay_link_token(booking)}/"
    requests.delete(stripe_api + "/_config/data", timeout=5)  # Stripe forgets everything
    page = client.get(link, HTTP_HOST="essex.localhost")
    assert page.status_code == 200 and b"Pay for your course" in page.content
    with schema_context(essex.schema_name):
        lost.refresh_from_db()
        assert lost.status == "cancelled" and "no longer knows" in lost.last_error
        fresh = Payment.objects.get(booking=booking, status="pending")
        assert fresh.stripe_payment_intent_id != lost.stripe_payment_intent_id
    paid = client.post(link + "card/", f'{{"token": "{card_token(stripe_api)}"}}',
                       content_type="application/json", HTTP_HOST="essex.localhost")
    assert paid.status_code == 200, paid.content
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"


def test_a_payment_intent_cancelled_in_stripe_gives_way_to_a_fresh_one(essex, stripe_api):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex, reference="ESX-930003")
    with schema_context(essex.schema_name):
        cancelled, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                          actor="offender")
        requests.post(f"{stripe_api}/v1/payment_intents/{cancelled.stripe_payment_intent_id}"
                      "/cancel", headers=STRIPE, timeout=5).raise_for_status()
        fresh, intent = start_card_payment(booking.pk, organisation=essex, channel="online",
                                           actor="offender")
        assert fresh.pk != cancelled.pk and intent["status"] == "requires_payment_method"
        assert Payment.objects.get(pk=cancelled.pk).status == "cancelled"
        assert Payment.objects.filter(booking=booking, status="pending").count() == 1


def test_a_payment_page_opened_after_another_tab_paid_settles_instead_of_asking_again(
        essex, stripe_api, client):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex, reference="ESX-930004")
    payment = _paid_outside_our_flow(stripe_api, essex, booking)  # we have not heard yet
    with schema_context(essex.schema_name):
        link = f"/pay/{pay_link_token(booking)}/"
    page = client.get(link, HTTP_HOST="essex.localhost")
    assert page.status_code == 302 and page["Location"] == link + "return/"
    assert client.get(page["Location"], HTTP_HOST="essex.localhost")["Location"] == (
        link + "paid/")
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
        assert list(Payment.objects.filter(booking=booking).values_list("pk", "status")) == [
            (payment.pk, "succeeded")]
    assert len(intents_in_stripe(stripe_api)) == 1


# The card request confirms the attempt's PaymentIntent without retrieving it first: each way
# Stripe may have moved on since the payment page still ends in one payment, never two.

def payment_page_opened(organisation, client, reference):
    """A pay-by-link booking whose payment page has made its attempt and PaymentIntent."""
    enable_card_payments(organisation)
    booking, link = pay_link_booking(organisation, reference)
    assert client.get(link, HTTP_HOST="essex.localhost").status_code == 200
    with schema_context(organisation.schema_name):
        return booking, link, Payment.objects.get(booking=booking)


def _card(client, link, stripe_api):
    return client.post(link + "card/", f'{{"token": "{card_token(stripe_api)}"}}',
                       content_type="application/json", HTTP_HOST="essex.localhost")


def test_a_card_for_a_payment_intent_stripe_forgot_since_the_page_pays_a_fresh_one(
        essex, stripe_api, client):
    booking, link, first = payment_page_opened(essex, client, "ESX-930005")
    requests.delete(stripe_api + "/_config/data", timeout=5)  # Stripe forgets everything
    paid = _card(client, link, stripe_api)
    assert paid.status_code == 200 and paid.json()["redirect"] == link + "paid/", paid.content
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
        assert sorted(Payment.objects.filter(booking=booking).values_list("status", flat=True)
                      ) == ["cancelled", "succeeded"]


def test_a_card_for_a_payment_intent_cancelled_since_the_page_pays_a_fresh_one(
        essex, stripe_api, client):
    booking, link, first = payment_page_opened(essex, client, "ESX-930006")
    requests.post(f"{stripe_api}/v1/payment_intents/{first.stripe_payment_intent_id}/cancel",
                  headers=STRIPE, timeout=5).raise_for_status()
    paid = _card(client, link, stripe_api)
    assert paid.status_code == 200 and paid.json()["redirect"] == link + "paid/", paid.content
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
        assert Payment.objects.get(pk=first.pk).status == "cancelled"
        assert Payment.objects.filter(booking=booking, status="succeeded").count() == 1
    succeeded = [i for i in intents_in_stripe(stripe_api) if i["status"] == "succeeded"]
    assert len(succeeded) == 1


def test_a_card_after_another_tab_paid_settles_that_payment_and_takes_nothing_more(
        essex, stripe_api, client):
    booking, link, first = payment_page_opened(essex, client, "ESX-930007")
    gateway.confirm_with_card_token(  # the other tab, not yet heard of
        account_id=essex.stripe_account_id, intent_id=first.stripe_payment_intent_id,
        token_id=card_token(stripe_api))
    paid = _card(client, link, stripe_api)
    assert paid.status_code == 200 and paid.json() == {"status": "succeeded",
                                                       "redirect": link + "paid/"}, paid.content
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
        assert list(Payment.objects.filter(booking=booking).values_list("pk", "status")) == [
            (first.pk, "succeeded")]
    assert [i["status"] for i in intents_in_stripe(stripe_api)] == ["succeeded"]

