"""localstripe's own signed webhooks reach a live test server and confirm the booking."""

import time

import pytest
import requests
from django_tenants.utils import schema_context

from booking.models import Booking, Payment
from booking.services.payments import start_card_payment
from integrations import stripe_gateway as gateway
from tenants.models import StripeEvent

from .conftest import enable_card_payments
from .test_payments import card_token, pending_booking

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_real_webhook_from_localstripe_confirms_the_booking(essex, stripe_api, live_server):
    requests.post(f"{stripe_api}/_config/webhooks/waymark-tests", timeout=5, data={
        "url": f"{live_server.url}/webhooks/stripe/", "secret": "whsec_test_waymark"})
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex, reference="ESX-600001")
    with schema_context(essex.schema_name):
        payment, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                        actor="offender")
    # Paid through Stripe only: nothing on our side has heard of it yet.
    gateway.confirm_with_card_token(account_id=essex.stripe_account_id,
                                    intent_id=payment.stripe_payment_intent_id,
                                    token_id=card_token(stripe_api))
    deadline = time.monotonic() + 15
    status = None
    while time.monotonic() < deadline:
        with schema_context(essex.schema_name):
            status = Booking.objects.get(pk=booking.pk).status
        if status == "confirmed":
            break
        time.sleep(0.2)
    assert status == "confirmed"
    with schema_context(essex.schema_name):
        assert Payment.objects.get(pk=payment.pk).status == "succeeded"
    handled = StripeEvent.objects.filter(type="payment_intent.succeeded", outcome="handled")
    assert handled.filter(organisation=essex).exists()
    # Pointing the webhook nowhere again keeps later tests' events from this server.
    requests.post(f"{stripe_api}/_config/webhooks/waymark-tests", timeout=5, data={
        "url": "http://127.0.0.1:9/", "secret": "whsec_test_waymark"})
