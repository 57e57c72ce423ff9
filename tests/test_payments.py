"""Card payments against localstripe: confirm, decline and retry, webhooks (duplicates, order,
routing, signatures), late payments, refunds."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import Booking, CourseSession, Hold, Offer, OfferEvent, Payment, Refund
from booking.services.bookings import book, place_hold
from booking.services.changes import cancel_booking
from booking.services.payments import pay_with_card_token, settle_payment, start_card_payment
from booking.services.refunds import make_refund_due, refund_outstanding, refunds_due
from integrations import stripe_gateway as gateway
from tenants.models import ClientOrganisation, StripeEvent

from .conftest import enable_card_payments
from .journey_data import make_journey_data

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"


def card_token(base, number=GOOD_CARD):
    response = requests.post(base + "/v1/tokens", data={
        "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030",
        "card[cvc]": "123", "key": "pk_test_waymark"}, timeout=5)
    return response.json()["id"]


def pending_booking(organisation, reference="ESX-300001", session_index=0):
    offer, sessions = make_journey_data(organisation, reference=reference)
    with schema_context(organisation.schema_name):
        place_hold(offer.pk, sessions[session_index].pk, channel="online", actor="offender")
        booking = book(offer.pk, channel="online", actor="offender")
    assert booking.status == "pending_payment" and booking.fee_pence == 9500
    return offer, sessions, booking


def find_offer_as_its_person(client, offer):
    client.post("/book/find/", {"reference": offer.reference, "date_of_birth_0": "27",
                                "date_of_birth_1": "3", "date_of_birth_2": "1985"},
                HTTP_HOST="essex.localhost")


def signed_event(payload: dict, secret="whsec_test_waymark"):
    body = json.dumps(payload)
    timestamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={signature}"


def deliver(client, event_id, kind, intent_id, schema="client_essex", account="", secret=None):
    payload = {"id": event_id, "object": "event", "type": kind, "account": account or None,
               "data": {"object": {"id": intent_id, "object": "payment_intent",
                                   "metadata": {"client_schema": schema}}}}
    body, signature = signed_event(payload, *( [secret] if secret else []))
    return client.post("/webhooks/stripe/", body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=signature, HTTP_HOST="localhost")


def test_pay_by_card_confirms_the_booking(essex, stripe_api):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    with schema_context(essex.schema_name):
        payment, intent = start_card_payment(booking.pk, organisation=essex, channel="online",
                                             actor="offender")
        assert intent["amount"] == 9500 and intent["metadata"]["client_schema"] == "client_essex"
        # Asking again reuses the same PaymentIntent: one charge per booking.
        again, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                      actor="offender")
        assert again.pk == payment.pk
        result = pay_with_card_token(payment.pk, card_token(stripe_api), organisation=essex,
                                     actor="offender")
        assert result["status"] == "succeeded"
        booking.refresh_from_db()
        assert booking.status == "confirmed"
        assert Payment.objects.get(pk=payment.pk).status == "succeeded"
        assert CourseSession.objects.get(pk=sessions[0].pk).seats_booked == 1
        assert not Hold.objects.filter(offer=offer).exists()


def test_declined_card_then_retry(essex, stripe_api):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    with schema_context(essex.schema_name):
        payment, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                        actor="offender")
        with pytest.raises(gateway.CardDeclined):
            pay_with_card_token(payment.pk, card_token(stripe_api, DECLINED_CARD),
                                organisation=essex, actor="offender")
        booking.refresh_from_db()
        assert booking.status == "pending_payment"
        assert Hold.objects.filter(offer=offer).exists()  # the place is still held
        retry, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                      actor="offender")
        assert retry.pk != payment.pk and retry.amount_pence == 9500
        pay_with_card_token(retry.pk, card_token(stripe_api), organisation=essex,
                            actor="offender")
        booking.refresh_from_db()
        assert booking.status == "confirmed"
        assert OfferEvent.objects.filter(offer=offer, kind="payment.declined").count() == 1


def _paid_outside_our_flow(stripe_api, essex, booking):
    """The card is charged (e.g. Stripe.js finished) but we have not heard yet."""
    with schema_context(essex.schema_name):
        payment, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                        actor="offender")
    gateway.confirm_with_card_token(account_id=essex.stripe_account_id,
                                    intent_id=payment.stripe_payment_intent_id,
                                    token_id=card_token(stripe_api))
    return payment


def test_same_event_three_times_confirms_once(essex, stripe_api, client):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    payment = _paid_outside_our_flow(stripe_api, essex, booking)
    for _ in range(3):
        response = deliver(client, "evt_1", "payment_intent.succeeded",
                           payment.stripe_payment_intent_id)
        assert response.status_code == 200
    connection.set_schema_to_public()
    assert StripeEvent.objects.filter(event_id="evt_1").count() == 1
    # A different event id for the same payment is also harmless.
    deliver(client, "evt_2", "payment_intent.succeeded", payment.stripe_payment_intent_id)
    with schema_context(essex.schema_name):
        booking.refresh_from_db()
        assert booking.status == "confirmed"
        assert CourseSession.objects.get(pk=sessions[0].pk).seats_booked == 1
        assert OfferEvent.objects.filter(offer=offer, kind="booking.confirmed").count() == 1
        assert OfferEvent.objects.filter(offer=offer, kind="payment.succeeded").count() == 1


def test_out_of_order_failed_event_after_success_changes_nothing(essex, stripe_api, client):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    payment = _paid_outside_our_flow(stripe_api, essex, booking)
    deliver(client, "evt_ok", "payment_intent.succeeded", payment.stripe_payment_intent_id)
    deliver(client, "evt_old_fail", "payment_intent.payment_failed",
            payment.stripe_payment_intent_id)
    with schema_context(essex.schema_name):
        booking.refresh_from_db()
        assert booking.status == "confirmed"
        assert Payment.objects.get(pk=payment.pk).status == "succeeded"


def test_payment_after_hold_expiry_with_a_seat_free_is_honoured(essex, stripe_api):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    payment = _paid_outside_our_flow(stripe_api, essex, booking)
    with schema_context(essex.schema_name):
        Hold.objects.filter(offer=offer).update(expires_at=timezone.now() - timedelta(minutes=1))
        assert settle_payment(payment.stripe_payment_intent_id, organisation=essex,
                              actor="stripe") == "confirmed"
        assert OfferEvent.objects.filter(offer=offer, kind="booking.confirmed").get().after["late"]


def test_payment_after_hold_expiry_with_the_seat_gone_is_refunded(essex, stripe_api):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    payment = _paid_outside_our_flow(stripe_api, essex, booking)
    with schema_context(essex.schema_name):
        Hold.objects.filter(offer=offer).update(expires_at=timezone.now() - timedelta(minutes=1))
        CourseSession.objects.filter(pk=sessions[0].pk).update(seats_booked=20)
        assert settle_payment(payment.stripe_payment_intent_id, organisation=essex,
                              actor="stripe") == "refunded"
        refund = Refund.objects.get(payment=payment)
        assert refund.amount_pence == 9500 and refund.stripe_refund_id.startswith("re_")
        booking.refresh_from_db()
        assert booking.status == "cancelled"
        # Settling again (a webhook retry) refunds nothing more.
        assert settle_payment(payment.stripe_payment_intent_id, organisation=essex,
                              actor="stripe") == "refunded"
        assert Refund.objects.filter(payment=payment).count() == 1
        assert CourseSession.objects.get(pk=sessions[0].pk).seats_booked == 20


def test_bad_signature_is_refused_and_nothing_changes(essex, stripe_api, client):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    payment = _paid_outside_our_flow(stripe_api, essex, booking)
    response = deliver(client, "evt_forged", "payment_intent.succeeded",
                       payment.stripe_payment_intent_id, secret="whsec_wrong")
    assert response.status_code == 400
    connection.set_schema_to_public()
    assert not StripeEvent.objects.filter(event_id="evt_forged").exists()
    with schema_context(essex.schema_name):
        booking.refresh_from_db()
        assert booking.status == "pending_payment"


def test_events_for_unknown_clients_or_accounts_change_nothing(essex, south_wales, stripe_api,
                                                              client):
    enable_card_payments(essex)
    enable_card_payments(south_wales)
    offer, sessions, booking = pending_booking(essex)
    payment = _paid_outside_our_flow(stripe_api, essex, booking)
    intent = payment.stripe_payment_intent_id
    assert deliver(client, "evt_a", "payment_intent.succeeded", intent,
                   schema="client_nowhere").json()["outcome"] == "ignored"
    # The event names essex but comes from south-wales's account: not routed anywhere.
    assert deliver(client, "evt_b", "payment_intent.succeeded", intent,
                   account=south_wales.stripe_account_id).json()["outcome"] == "ignored"
    # Routed to south-wales, the essex payment is unknown there: nothing happens in either.
    assert deliver(client, "evt_c", "payment_intent.succeeded", intent,
                   schema="client_south_wales").json()["detail"] == "unknown"
    with schema_context(essex.schema_name):
        booking.refresh_from_db()
        assert booking.status == "pending_payment"
    # The right account and client: confirmed in essex only.
    assert deliver(client, "evt_d", "payment_intent.succeeded", intent,
                   account=essex.stripe_account_id).json()["detail"] == "confirmed"
    with schema_context(essex.schema_name):
        booking.refresh_from_db()
        assert booking.status == "confirmed"
    with schema_context(south_wales.schema_name):
        assert not Payment.objects.exists()


def test_cancelling_with_notice_refunds_in_full(essex, stripe_api):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    with schema_context(essex.schema_name):
        payment, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                        actor="offender")
        pay_with_card_token(payment.pk, card_token(stripe_api), organisation=essex,
                            actor="offender")
        cancelled = cancel_booking(booking.pk, channel="online", actor="offender")
        assert refund_outstanding(cancelled.pk) == 9500
        assert refunds_due() == [cancelled.pk]
        assert make_refund_due(cancelled.pk, organisation=essex, actor="system") == 9500
        assert Refund.objects.get(payment=payment).amount_pence == 9500
        # Asked again (the job, a retry): nothing more is refunded.
        assert make_refund_due(cancelled.pk, organisation=essex, actor="system") == 0
        assert refund_outstanding(cancelled.pk) == 0 and refunds_due() == []


def test_without_a_merchant_account_the_page_says_pay_by_phone(essex, stripe_api, client):
    offer, sessions, booking = pending_booking(essex)
    # The merchant account went away after the booking was made (account.updated).
    ClientOrganisation.objects.filter(pk=essex.pk).update(stripe_account_id="",
                                                          stripe_charges_enabled=False)
    with schema_context(essex.schema_name):
        Offer.objects.filter(pk=offer.pk).update(email="sam@example.com")
    find_offer_as_its_person(client, offer)
    page = client.get(f"/book/pay/{booking.reference}/", HTTP_HOST="essex.localhost")
    assert page.status_code == 200 and b"Pay by phone" in page.content
    assert b"0300 123 4567" in page.content


def test_stripe_unreachable_keeps_the_hold_and_says_so(essex, stripe_api, client, settings):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    find_offer_as_its_person(client, offer)
    page = client.get(f"/book/pay/{booking.reference}/", HTTP_HOST="essex.localhost")
    assert page.status_code == 503
    assert b"could not reach the payment service" in page.content
    with schema_context(essex.schema_name):
        assert Hold.objects.filter(offer=offer).exists()
        assert Booking.objects.get(pk=booking.pk).status == "pending_payment"


def test_the_card_endpoint_takes_no_amount_and_only_a_token(essex, stripe_api, client):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    find_offer_as_its_person(client, offer)
    client.get(f"/book/pay/{booking.reference}/", HTTP_HOST="essex.localhost")
    url = f"/book/pay/{booking.reference}/card/"
    bad = client.post(url, json.dumps({"token": "4242424242424242", "amount": 1}),
                      content_type="application/json", HTTP_HOST="essex.localhost")
    assert bad.status_code == 400
    good = client.post(url, json.dumps({"token": card_token(stripe_api), "amount": 1}),
                       content_type="application/json", HTTP_HOST="essex.localhost")
    assert good.status_code == 200, good.content
    with schema_context(essex.schema_name):
        assert Payment.objects.get(booking=booking).amount_pence == 9500
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    # Settled by this request: the script goes straight to the confirmation, no return page.
    assert good.json()["redirect"] == f"/book/confirmation/{booking.reference}/"
    assert client.get(good.json()["redirect"], HTTP_HOST="essex.localhost").status_code == 200


def test_a_card_paid_after_the_place_went_is_sent_to_the_return_page_that_says_refunded(
        essex, stripe_api, client):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    find_offer_as_its_person(client, offer)
    client.get(f"/book/pay/{booking.reference}/", HTTP_HOST="essex.localhost")
    with schema_context(essex.schema_name):
        Hold.objects.filter(offer=offer).update(expires_at=timezone.now() - timedelta(minutes=1))
        CourseSession.objects.filter(pk=sessions[0].pk).update(seats_booked=20)
    paid = client.post(f"/book/pay/{booking.reference}/card/",
                       json.dumps({"token": card_token(stripe_api)}),
                       content_type="application/json", HTTP_HOST="essex.localhost")
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded"
    assert paid.json()["redirect"] == f"/book/pay/{booking.reference}/return/"
    page = client.get(paid.json()["redirect"], HTTP_HOST="essex.localhost")
    assert page.status_code == 409 and b"refund" in page.content.lower()
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "cancelled"
        assert Refund.objects.filter(payment__booking=booking).count() == 1


def test_reconcile_lists_differences(essex, stripe_api):
    from io import StringIO

    from django.core.management import call_command

    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex)
    with schema_context(essex.schema_name):
        payment, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                        actor="offender")
        pay_with_card_token(payment.pk, card_token(stripe_api), organisation=essex,
                            actor="offender")
    # A day either side: a payment made just before midnight is still in the range when the
    # report runs just after it (each test starts with an empty localstripe).
    today = timezone.localdate()
    since, until = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    out = StringIO()
    call_command("reconcile_payments", "--client", "essex", "--from", since, "--to", until,
                 stdout=out)
    assert "No differences." in out.getvalue()
    # A charge made in Stripe that we never recorded, and one of ours marked wrongly.
    gateway.create_payment_intent(account_id=essex.stripe_account_id, amount_pence=500,
                                  metadata={}, idempotency_key="stray")
    with schema_context(essex.schema_name):
        Payment.objects.filter(pk=payment.pk).update(status="failed")
    out = StringIO()
    call_command("reconcile_payments", "--client", "essex", "--from", since, "--to", until,
                 stdout=out)
    report = out.getvalue()
    assert "but not recorded here" in report and "status differs" in report
    assert "2 difference(s)." in report


def test_provider_sets_the_merchant_account(essex, provider_admin, client, stripe_api):
    from .conftest import sign_in_verified

    sign_in_verified(client, provider_admin)
    bad = client.post("/clients/essex/merchant-account/", {"stripe_account_id": "nope"},
                      HTTP_HOST="localhost")
    assert bad.status_code == 400 and b"starts with acct_" in bad.content
    client.post("/clients/essex/merchant-account/", {"action": "create", "allow_moto": "on"},
                HTTP_HOST="localhost")
    essex.refresh_from_db()
    assert essex.stripe_account_id.startswith("acct_") and essex.stripe_charges_enabled
    client.post("/clients/essex/merchant-account/",
                {"stripe_account_id": "acct_live_123456", "allow_moto": "on"},
                HTTP_HOST="localhost")
    essex.refresh_from_db()
    assert essex.stripe_account_id == "acct_live_123456" and essex.allow_moto
