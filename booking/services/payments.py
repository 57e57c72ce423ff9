"""Card payments into the client's own merchant account, and settling what Stripe says happened.
Stripe is called outside our transactions; what it answered is then recorded in one durable
transaction, so a crash in between is mended by the next webhook or retry. Every face that takes
a card (the offender's site, the contact centre) pays through pay_by_card_token and maps its
outcome to its own page."""

import json
import logging
import re
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import notifications
from booking.models import Booking, Channel, Payment
from integrations import stripe_gateway as gateway

from .bookings import confirm_booking
from .events import log_event
from .refunds import refund_payment
from .rules import BookingRefused

log = logging.getLogger(__name__)

# The Stripe events settle_payment_event handles (registered with tenants.webhooks).
PAYMENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed",
                  "payment_intent.canceled", "payment_intent.processing"}
# What Stripe.js's card tokens look like; anything else is not worth sending to Stripe.
CARD_TOKEN = re.compile(r"tok_[A-Za-z0-9_]{1,250}")


def merchant_account(organisation) -> str | None:
    """The client's connected account if it can take card payments, else None."""
    if organisation.stripe_account_id and organisation.stripe_charges_enabled:
        return organisation.stripe_account_id
    return None


def payable_booking(booking_id) -> Booking:
    booking = Booking.objects.select_related("offer").get(pk=booking_id)
    if booking.status != Booking.Status.PENDING_PAYMENT:
        raise BookingRefused(_("This booking is not waiting for payment."), "booking_not_pending")
    return booking


def start_card_payment(booking_id, *, organisation, channel: str, actor, moto: bool = False
                       ) -> tuple[Payment, dict]:
    """The PaymentIntent for this booking's fee (made once, then reused). The amount always
    comes from the booking's fee snapshot, never from the browser."""
    account = merchant_account(organisation)
    if account is None:
        raise BookingRefused(_("Card payments are not available for this service yet."),
                             "no_merchant_account")
    if moto and not organisation.allow_moto:
        raise BookingRefused(_("This client does not allow card details to be taken by phone. "
                               "Send a payment link instead."), "moto_not_allowed")
    booking = payable_booking(booking_id)
    existing = booking.payments.filter(status=Payment.Status.PENDING,
                                       kind=Payment.Kind.BOOKING_FEE).first()
    if existing is not None and existing.moto == moto:
        intent = gateway.retrieve_payment_intent(account_id=account,
                                                 intent_id=existing.stripe_payment_intent_id)
        if intent["status"] not in ("canceled", "succeeded"):
            return existing, intent
    attempt = booking.payments.count() + 1
    intent = gateway.create_payment_intent(
        account_id=account, amount_pence=booking.fee_pence, moto=moto,
        metadata={"client_schema": connection.schema_name, "booking": booking.reference,
                  "offer_reference": booking.offer.reference, "client": organisation.slug},
        idempotency_key=f"{connection.schema_name}-booking-{booking.pk}-attempt-{attempt}",
    )
    with transaction.atomic(durable=True):
        payment = Payment.objects.create(
            booking=booking, stripe_payment_intent_id=intent["id"],
            amount_pence=intent["amount"], channel=channel, moto=moto)
        log_event(booking.offer, "payment.started", channel=channel, actor=actor, booking=booking,
                  after={"payment_intent": intent["id"], "amount_pence": intent["amount"],
                         "moto": moto})
    return payment, intent


def pay_with_card_token(payment_id, token_id: str, *, organisation, actor) -> dict:
    """Confirm the PaymentIntent with a Stripe.js card token. Returns the intent summary;
    a decline raises gateway.CardDeclined with Stripe's message."""
    payment = Payment.objects.select_related("booking").get(pk=payment_id)
    account = merchant_account(organisation)
    try:
        intent = gateway.confirm_with_card_token(
            account_id=account, intent_id=payment.stripe_payment_intent_id, token_id=token_id)
    except gateway.CardDeclined as declined:
        # A declined attempt is closed; a retry gets a fresh PaymentIntent (localstripe cannot
        # re-confirm a declined one, and a clean attempt per card is clearer in reconciliation).
        with transaction.atomic(durable=True):
            Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED,
                                                         last_error=str(declined)[:300])
            log_event(payment.booking.offer, "payment.declined", channel=payment.channel,
                      actor=actor, booking=payment.booking,
                      after={"payment_intent": payment.stripe_payment_intent_id,
                             "code": declined.code})
        raise
    if intent["status"] == "succeeded":
        settle_payment(payment.stripe_payment_intent_id, organisation=organisation, actor=actor)
    return intent


def card_token_in(body: bytes) -> str | None:
    """The Stripe.js token id a payment page's script posted as JSON, or None. Nothing else is
    read: no amount, no card data."""
    try:
        token = json.loads(body or b"{}").get("token", "")
    except (ValueError, AttributeError, RecursionError):
        return None
    return token if isinstance(token, str) and CARD_TOKEN.fullmatch(token) else None


class CardProblem:
    """Why a card payment did not reach Stripe's answer; nothing has been taken."""

    DECLINED = "declined"  # the card was declined: the outcome's `message` is Stripe's reason
    DETAILS_REFUSED = "details_refused"  # Stripe would not use the card details sent
    UNAVAILABLE = "unavailable"  # Stripe could not be reached
    BOOKING_REFUSED = "booking_refused"  # the booking cannot be paid: `message` says why


@dataclass(frozen=True)
class CardPayment:
    """What paying by a card token came to: Stripe's PaymentIntent status (with the secret
    Stripe.js needs for 3-D Secure), or a CardProblem."""

    intent_status: str = ""
    client_secret: str = ""
    problem: str = ""
    message: str = ""


def pay_by_card_token(booking_id, token: str, *, organisation, channel: str, actor,
                      moto: bool = False) -> CardPayment:
    """Pay the booking's fee with a Stripe.js card token: the PaymentIntent made (or reused),
    then confirmed; a success confirms the booking."""
    try:
        payment, _intent = start_card_payment(booking_id, organisation=organisation,
                                              channel=channel, actor=actor, moto=moto)
        intent = pay_with_card_token(payment.pk, token, organisation=organisation, actor=actor)
    except gateway.CardDeclined as declined:
        return CardPayment(problem=CardProblem.DECLINED, message=str(declined))
    except gateway.CardDetailsRefused:
        return CardPayment(problem=CardProblem.DETAILS_REFUSED)
    except gateway.PaymentServiceUnavailable:
        return CardPayment(problem=CardProblem.UNAVAILABLE)
    except BookingRefused as refused:
        return CardPayment(problem=CardProblem.BOOKING_REFUSED, message=refused.messages[0])
    return CardPayment(intent_status=intent["status"], client_secret=intent["client_secret"])


def settle_payment(intent_id: str, *, organisation, actor, source: str = "return") -> str:
    """Act on what Stripe says about a PaymentIntent (re-fetched, never trusted from a webhook
    body). Idempotent: any number of calls, in any order, confirm once or refund once.
    Returns what happened: "confirmed", "already_confirmed", "refunded", "pending", "failed"."""
    payment = (Payment.objects.select_related("booking__offer")
               .filter(stripe_payment_intent_id=intent_id).first())
    if payment is None:
        return "unknown"
    account = organisation.stripe_account_id
    intent = gateway.retrieve_payment_intent(account_id=account, intent_id=intent_id)
    if intent["status"] != "succeeded":
        if intent["status"] in ("requires_payment_method", "canceled"):
            with transaction.atomic(durable=True):
                Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
                    last_error=intent["error"][:300])
            return "failed"
        return "pending"
    if intent["amount"] != payment.amount_pence:
        log.error("PaymentIntent %s amount %s differs from our %s", intent_id, intent["amount"],
                  payment.amount_pence)
    with transaction.atomic(durable=True):
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.SUCCEEDED:
            locked.status = Payment.Status.SUCCEEDED
            locked.succeeded_at = timezone.now()
            locked.save(update_fields=["status", "succeeded_at"])
            log_event(payment.booking.offer, "payment.succeeded", channel=payment.channel,
                      actor=actor, booking=payment.booking,
                      after={"payment_intent": intent_id, "amount_pence": intent["amount"],
                             "via": source})
    booking = Booking.objects.get(pk=payment.booking_id)
    if booking.status == Booking.Status.CONFIRMED:
        return "already_confirmed"
    if booking.status == Booking.Status.PENDING_PAYMENT:
        try:
            confirm_booking(booking.pk, channel=payment.channel, actor=actor,
                            payment={"payment_intent": intent_id, "amount_pence": intent["amount"]})
        except BookingRefused as refused:
            log.warning("Payment %s arrived but booking %s could not be confirmed: %s",
                        intent_id, booking.reference, refused.code)
            return _refund_unplaceable(payment, organisation=organisation, actor=actor,
                                       reason=refused.code)
        return "confirmed"
    # Cancelled meanwhile (or otherwise closed): the money goes back.
    return _refund_unplaceable(payment, organisation=organisation, actor=actor,
                               reason=f"booking_{booking.status}")


def settle_latest_payment(booking: Booking, *, organisation, actor) -> str | None:
    """settle_payment for the booking's latest PaymentIntent, once Stripe.js has finished (3-D
    Secure or not); None when the booking has none."""
    payment = booking.payments.order_by("-created_at").first()
    if payment is None:
        return None
    return settle_payment(payment.stripe_payment_intent_id, organisation=organisation,
                          actor=actor)


def settle_payment_event(intent: dict, *, organisation, event_type: str) -> str:
    """tenants.webhooks' handler for PAYMENT_EVENTS, in the client's schema."""
    return settle_payment(intent["id"], organisation=organisation, actor="stripe",
                          source=f"webhook {event_type}")


def _refund_unplaceable(payment, *, organisation, actor, reason: str) -> str:
    refund_payment(payment.pk, payment.amount_pence - payment.refunded_pence,
                   organisation=organisation, actor=actor,
                   reason=f"Paid after the place was gone ({reason})", key="unplaceable")
    with transaction.atomic(durable=True):
        booking = Booking.objects.select_for_update().get(pk=payment.booking_id)
        if booking.status == Booking.Status.PENDING_PAYMENT:
            booking.status = Booking.Status.CANCELLED
            booking.ended_at = timezone.now()
            booking.save(update_fields=["status", "ended_at"])
            log_event(booking.offer, "booking.cancelled", channel=Channel.SYSTEM, actor=actor,
                      booking=booking, after={"reason": "paid after the place was gone; "
                                                        "refunded in full"})
        notifications.queue_unplaceable_payment_refunded(booking)  # once, whoever settles
    return "refunded"
