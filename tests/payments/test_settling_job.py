"""The settling job: a card payment Stripe took while both the return page and the webhook were
lost still ends as a confirmed booking, or as a refund when the booking cannot be had, without
anyone running reconcile_payments."""

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from booking import tasks
from booking.models import Booking, OfferEvent, Payment, Refund
from booking.services.changes import cancel_booking
from booking.services.payments import settle_pending_payments, start_card_payment
from integrations import stripe_gateway as gateway

from ..conftest import enable_card_payments
from ..test_payments import card_token, pending_booking


def paid_in_stripe_only(organisation, stripe_api, reference):
    """A booking whose PaymentIntent Stripe has taken the money for, nothing told us."""
    offer, sessions, booking = pending_booking(organisation, reference=reference)
    with schema_context(organisation.schema_name):
        payment, _intent = start_card_payment(booking.pk, organisation=organisation,
                                              channel="online", actor="offender")
    gateway.confirm_with_card_token(account_id=organisation.stripe_account_id,
                                    intent_id=payment.stripe_payment_intent_id,
                                    token_id=card_token(stripe_api))
    return booking, payment


def test_a_payment_nobody_settled_confirms_its_booking_once(essex, stripe_api):
    enable_card_payments(essex)
    booking, payment = paid_in_stripe_only(essex, stripe_api, "ESX-960001")
    later = timezone.now() + timedelta(minutes=3)
    with schema_context(essex.schema_name):
        # Too fresh: the person may still be on the return page.
        assert settle_pending_payments(organisation=essex, now=timezone.now()) == {}
        assert settle_pending_payments(organisation=essex, now=later) == {"confirmed": 1}
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
        assert Payment.objects.get(pk=payment.pk).status == "succeeded"
        # Run again (beat fires every five minutes): nothing left to settle, nothing doubled.
        assert settle_pending_payments(organisation=essex, now=later) == {}
        assert OfferEvent.objects.filter(booking=booking, kind="booking.confirmed").count() == 1
        assert (OfferEvent.objects.get(booking=booking, kind="payment.succeeded")
                .after["via"] == "settling job")


def test_a_payment_for_a_booking_that_has_gone_is_refunded(essex, stripe_api):
    enable_card_payments(essex)
    booking, payment = paid_in_stripe_only(essex, stripe_api, "ESX-960002")
    with schema_context(essex.schema_name):
        cancel_booking(booking.pk, channel="telephone", actor="agent")
        report = settle_pending_payments(organisation=essex,
                                         now=timezone.now() + timedelta(minutes=3))
        assert report == {"refunded": 1}
        assert Refund.objects.get(payment=payment).amount_pence == 9500
        assert settle_pending_payments(organisation=essex,
                                       now=timezone.now() + timedelta(minutes=3)) == {}
        assert Refund.objects.filter(payment=payment).count() == 1


def test_an_unpaid_attempt_stays_pending_and_is_asked_about_again(essex, stripe_api):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex, reference="ESX-960003")
    with schema_context(essex.schema_name):
        payment, _intent = start_card_payment(booking.pk, organisation=essex, channel="online",
                                              actor="offender")
        later = timezone.now() + timedelta(minutes=3)
        # Stripe still waits for a card ("failed" in settle_payment's words): nothing changes.
        assert settle_pending_payments(organisation=essex, now=later) == {"failed": 1}
        assert Payment.objects.get(pk=payment.pk).status == "pending"
        # Two days on, an abandoned attempt is no longer asked about.
        assert settle_pending_payments(organisation=essex,
                                       now=timezone.now() + timedelta(days=3)) == {}


def test_the_job_runs_for_the_client_it_is_sent_to(essex, stripe_api):
    enable_card_payments(essex)
    booking, _payment = paid_in_stripe_only(essex, stripe_api, "ESX-960004")
    created = timezone.now() - timedelta(minutes=10)
    with schema_context(essex.schema_name):
        Payment.objects.filter(booking=booking).update(created_at=created)
        assert tasks.settle_pending_payments.apply().get() == {
            "schema": essex.schema_name, "confirmed": 1}
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
