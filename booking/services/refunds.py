"""Refunds to the card a booking was paid with: once per key (Stripe's idempotency key and
ours), and what a cancellation's policy says is due.

The event log is the list of refunds owed: a `booking.cancelled` event records the refund due,
and `refunds_due()` finds every cancellation whose refund due is more than what its refunds add
up to. The cancellation asks for its refund after commit; the refunds-due job asks again for any
the payment service could not take at the time, so a refund promised is a refund made.
"""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from booking.models import Booking, Channel, OfferEvent, Payment, Refund
from integrations import stripe_gateway as gateway

from .events import log_event

CANCELLATION_REFUND = "Cancelled with notice"
# Card refunds are refused by the card schemes long before this; older cancellations are settled.
REFUNDABLE_FOR = timedelta(days=180)


def refund_payment(payment_id, amount_pence: int, *, organisation, actor, reason: str,
                   key: str) -> Refund | None:
    """Refund part or all of a payment, once per `key` (Stripe's idempotency key and ours)."""
    if amount_pence <= 0:
        return None
    payment = Payment.objects.select_related("booking__offer").get(pk=payment_id)
    already = payment.refunded_pence
    amount = min(amount_pence, payment.amount_pence - already)
    if amount <= 0:
        return None
    result = gateway.refund(account_id=organisation.stripe_account_id,
                            intent_id=payment.stripe_payment_intent_id, amount_pence=amount,
                            idempotency_key=f"{connection.schema_name}-refund-{payment.pk}-{key}")
    with transaction.atomic(durable=True):
        refund, created = Refund.objects.get_or_create(
            stripe_refund_id=result["id"],
            defaults={"payment": payment, "amount_pence": result["amount"], "reason": reason})
        if created:
            log_event(payment.booking.offer, "payment.refunded", channel=Channel.SYSTEM,
                      actor=actor, booking=payment.booking,
                      after={"refund": result["id"], "amount_pence": result["amount"],
                             "reason": reason})
    return refund


def _paid_with(booking_id) -> list[int]:
    """The booking and those it was transferred from: the payment sits on the first."""
    chain, booking = [], Booking.objects.get(pk=booking_id)
    while booking is not None:
        chain.append(booking.pk)
        booking = booking.transferred_from
    return chain


def refund_promised(booking_id) -> int:
    """The refund the booking's cancellation gave the person, in pence (0 if none)."""
    return sum(value or 0 for value in OfferEvent.objects.filter(
        kind="booking.cancelled", booking_id=booking_id)
        .values_list("after__refund_due_pence", flat=True))


def refund_outstanding(booking_id) -> int:
    """What the booking's cancellation still owes the person, in pence."""
    due = refund_promised(booking_id)
    refunded = Refund.objects.filter(payment__booking_id__in=_paid_with(booking_id),
                                     reason=CANCELLATION_REFUND).aggregate(
        total=Sum("amount_pence"))["total"] or 0
    paid = Payment.objects.filter(booking_id__in=_paid_with(booking_id),
                                  status=Payment.Status.SUCCEEDED).aggregate(
        total=Sum("amount_pence"))["total"] or 0
    return max(0, min(due, paid) - refunded)


def refunds_due(*, now=None) -> list[int]:
    """Bookings whose cancellation refund is not yet (all) made."""
    since = (now or timezone.now()) - REFUNDABLE_FOR
    cancelled = (OfferEvent.objects.filter(kind="booking.cancelled", occurred_at__gte=since,
                                           after__refund_due_pence__gt=0)
                 .values_list("booking_id", flat=True).distinct())
    return [booking_id for booking_id in cancelled if refund_outstanding(booking_id) > 0]


def make_refund_due(booking_id, *, organisation, actor) -> int:
    """Refund what the booking's cancellation still owes from its payments; returns the pence
    refunded now. Stripe's idempotency key is built from our ids, so asking twice refunds once;
    gateway.PaymentServiceUnavailable means "later", and the refunds-due job asks again."""
    remaining = refund_outstanding(booking_id)
    made = 0
    for payment in Payment.objects.filter(booking_id__in=_paid_with(booking_id),
                                          status=Payment.Status.SUCCEEDED).order_by("pk"):
        if remaining <= 0:
            break
        refund = refund_payment(payment.pk, remaining, organisation=organisation, actor=actor,
                                reason=CANCELLATION_REFUND, key=f"cancellation-{booking_id}")
        if refund is not None:
            remaining -= refund.amount_pence
            made += refund.amount_pence
    return made
