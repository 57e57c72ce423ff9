"""Settling a payment again (a webhook redelivered days later, the retry job) never refunds the
payment that confirmed its booking; a payment the booking did not need is refunded."""

from datetime import timedelta

from django_tenants.utils import schema_context

from booking.models import Booking, CourseSession, Payment, Refund
from booking.services.changes import cancel_booking
from booking.services.payments import pay_with_card_token, settle_payment, start_card_payment
from integrations import stripe_gateway as gateway

from ..conftest import enable_card_payments
from ..test_payments import card_token, pending_booking


def test_settling_again_after_a_late_cancellation_refunds_nothing(essex, stripe_api):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex, reference="ESX-950001")
    with schema_context(essex.schema_name):
        payment, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                        actor="offender")
        pay_with_card_token(payment.pk, card_token(stripe_api), organisation=essex,
                            actor="offender")
        # Cancelled by phone a day before the course: inside the notice, nothing is due back.
        starts = CourseSession.objects.get(pk=sessions[0].pk).starts_at
        cancel_booking(booking.pk, channel="telephone", actor="agent",
                       now=starts - timedelta(days=1))
        assert settle_payment(payment.stripe_payment_intent_id, organisation=essex,
                              actor="stripe") == "already_confirmed"
        assert not Refund.objects.filter(payment=payment).exists()
        assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def test_a_second_payment_for_a_confirmed_booking_is_refunded(essex, stripe_api):
    enable_card_payments(essex, allow_moto=True)
    offer, sessions, booking = pending_booking(essex, reference="ESX-950002")
    with schema_context(essex.schema_name):
        # The person's own payment page and the agent's card entry, open at the same time.
        online, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                       actor="offender")
        by_phone, _ = start_card_payment(booking.pk, organisation=essex, channel="telephone",
                                         actor="agent", moto=True)
        pay_with_card_token(by_phone.pk, card_token(stripe_api), organisation=essex,
                            actor="agent")
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    gateway.confirm_with_card_token(account_id=essex.stripe_account_id,
                                    intent_id=online.stripe_payment_intent_id,
                                    token_id=card_token(stripe_api))
    with schema_context(essex.schema_name):
        assert settle_payment(online.stripe_payment_intent_id, organisation=essex,
                              actor="stripe") == "second_payment_refunded"
        assert Refund.objects.get(payment=online).amount_pence == 9500
        assert not Refund.objects.filter(payment=by_phone).exists()
        assert Payment.objects.get(pk=online.pk).status == "succeeded"
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
        # Settled once more, nothing more goes back.
        settle_payment(online.stripe_payment_intent_id, organisation=essex, actor="stripe")
        assert Refund.objects.filter(payment=online).count() == 1
