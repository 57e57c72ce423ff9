"""A refund promised while the payment service is down is owed, reported, and made exactly once
when it is back: localstripe is stopped for real and started again on the same port."""

from datetime import timedelta
from io import StringIO

import requests
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import Offer, Payment, Refund
from booking.services.changes import cancel_booking
from booking.services.payments import pay_with_card_token, start_card_payment
from booking.services.refunds import refund_outstanding, refunds_due
from booking.tasks import make_refunds_due
from integrations import stripe_gateway as gateway

from ..conftest import deliver_outbox, enable_card_payments
from ..test_payments import card_token, pending_booking


def reconcile(organisation) -> str:
    today = timezone.localdate()
    out = StringIO()
    call_command("reconcile_payments", "--client", organisation.slug,
                 "--from", (today - timedelta(days=1)).isoformat(),
                 "--to", (today + timedelta(days=1)).isoformat(), stdout=out)
    return out.getvalue()


def test_a_refund_owed_while_stripe_is_down_is_made_once_it_is_back(
        essex, restartable_stripe, django_capture_on_commit_callbacks):
    enable_card_payments(essex)
    offer, sessions, booking = pending_booking(essex, reference="ESX-910001")
    with schema_context(essex.schema_name):
        Offer.objects.filter(pk=offer.pk).update(email="sam@example.com")
        payment, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                        actor="offender")
        pay_with_card_token(payment.pk, card_token(restartable_stripe.base), organisation=essex,
                            actor="offender")
        assert Payment.objects.get(pk=payment.pk).status == "succeeded"
    assert "No refunds owed." in reconcile(essex)

    restartable_stripe.stop()
    with schema_context(essex.schema_name):
        # The refund is asked for after commit, and the payment service cannot be reached.
        with django_capture_on_commit_callbacks(execute=True):
            cancelled = cancel_booking(booking.pk, channel="online", actor="offender")
        assert not Refund.objects.exists()
        assert refunds_due() == [cancelled.pk] and refund_outstanding(cancelled.pk) == 9500
        # The person is told the refund is coming all the same.
        cancellation = [m for m in deliver_outbox() if "cancelled" in m.subject]
        assert len(cancellation) == 1 and cancellation[0].to == ["sam@example.com"]
        assert "We will refund £95.00 to the card you paid with" in cancellation[0].body

    restartable_stripe.start()
    report = reconcile(essex)
    assert "1 refund(s) owed, £95.00 in all" in report
    assert f"{cancelled.reference}: £95.00 owed since" in report

    with schema_context(essex.schema_name):
        assert make_refunds_due.delay().get() == {"schema": essex.schema_name,
                                                  "refunded_pence": 9500, "waiting": 0}
        assert make_refunds_due.delay().get()["refunded_pence"] == 0  # nothing more to make
        refund = Refund.objects.get()
        assert refund.payment_id == payment.pk and refund.amount_pence == 9500
        assert refunds_due() == [] and refund_outstanding(cancelled.pk) == 0
    in_stripe = requests.get(f"{restartable_stripe.base}/v1/refunds", timeout=5,
                             headers={"Authorization": "Bearer sk_test_waymark"}).json()["data"]
    assert [r["id"] for r in in_stripe] == [refund.stripe_refund_id]
    assert gateway.retrieve_payment_intent(account_id=essex.stripe_account_id,
                                           intent_id=payment.stripe_payment_intent_id
                                           )["amount"] == 9500
    assert "No refunds owed." in reconcile(essex)
