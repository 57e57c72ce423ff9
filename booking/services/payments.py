"""Card payments into the client's own merchant account, and settling what Stripe says happened.
Stripe is called outside our transactions; what it answered is then recorded in one durable
transaction, so a crash in between is mended by the next webhook or retry. Every face that takes
a card (the offender's site, the contact centre) pays through pay_by_card_token and maps its
outcome to its own page.

A booking has one open card attempt (a Payment row) at a time, chosen or recorded under the
booking's row lock before Stripe is asked, and Stripe's PaymentIntent is created with an
idempotency key made of that attempt's own id: two tabs, a double click or a retry all reach
the same PaymentIntent, and a PaymentIntent that another request confirmed first is settled,
never charged again."""

import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Exists
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import notifications
from booking.models import Booking, Channel, OfferEvent, Payment
from integrations import stripe_gateway as gateway

from .bookings import confirm_booking
from .changes import settle_transfer_fee
from .events import log_event
from .refunds import refund_payment
from .rules import BookingRefused
from .seats import lock_offer

log = logging.getLogger(__name__)

# The Stripe events settle_payment_event handles (registered with tenants.webhooks).
PAYMENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed",
                  "payment_intent.canceled", "payment_intent.processing"}
# What Stripe.js's card tokens look like; anything else is not worth sending to Stripe.
CARD_TOKEN = re.compile(r"tok_[A-Za-z0-9_]{1,250}")
# A card attempt still in play: being set up in Stripe, or waiting for the card.
OPEN_ATTEMPT = (Payment.Status.CREATING, Payment.Status.PENDING)
# What settling answers when the booking is confirmed (by this payment or, its second payment
# refunded, by another): the person's next page is the confirmation.
BOOKING_CONFIRMED = ("confirmed", "already_confirmed", "second_payment_refunded")


def merchant_account(organisation) -> str | None:
    """The client's connected account if it can take card payments, else None."""
    if organisation.stripe_account_id and organisation.stripe_charges_enabled:
        return organisation.stripe_account_id
    return None


def _refuse_unless_payable(booking: Booking) -> None:
    if booking.status not in Booking.AWAITING_PAYMENT:
        raise BookingRefused(_("This booking is not waiting for payment."), "booking_not_pending")


def payable_booking(booking_id) -> Booking:
    booking = Booking.objects.select_related("offer").get(pk=booking_id)
    _refuse_unless_payable(booking)
    return booking


def start_card_payment(booking_id, *, organisation, channel: str, actor, moto: bool = False
                       ) -> tuple[Payment, dict]:
    """The booking's open card attempt and its PaymentIntent: made once, then reused by every
    tab and request. An attempt whose PaymentIntent Stripe has cancelled, or no longer knows,
    gives way to a fresh one. The amount always comes from the booking, never from the browser;
    the PaymentIntent may already be paid (another tab finished first): the caller settles it."""
    account = _account_taking_cards(organisation, moto=moto)
    # Twice at most: a closed attempt is replaced by a fresh one, whose PaymentIntent is new.
    for _fresh in range(2):
        attempt = _open_attempt(booking_id, channel=channel, moto=moto)
        intent = _intent_for(attempt, organisation=organisation, account=account, actor=actor)
        if intent is not None:
            return attempt, intent
    raise gateway.PaymentServiceUnavailable("Stripe closed the new PaymentIntent at once")


def _account_taking_cards(organisation, *, moto: bool) -> str:
    account = merchant_account(organisation)
    if account is None:
        raise BookingRefused(_("Card payments are not available for this service yet."),
                             "no_merchant_account")
    if moto and not organisation.allow_moto:
        raise BookingRefused(_("This client does not allow card details to be taken by phone. "
                               "Send a payment link instead."), "moto_not_allowed")
    return account


def _open_attempt(booking_id, *, channel: str, moto: bool) -> Payment:
    """The booking's open attempt, or a new one recorded before Stripe is asked, chosen under
    the booking's row lock so that concurrent requests share one."""
    with transaction.atomic(durable=True):
        booking = (Booking.objects.select_for_update(of=("self",)).select_related("offer")
                   .get(pk=booking_id))
        _refuse_unless_payable(booking)
        kind = (Payment.Kind.TRANSFER_FEE if booking.status == Booking.Status.TRANSFER_PENDING
                else Payment.Kind.BOOKING_FEE)
        # A payment that succeeded is settled by a separate transaction from the one that
        # confirms the booking: in between, a concurrent request is given that payment (its
        # caller settles it) rather than a fresh attempt that would take the money twice.
        attempt = (booking.payments.filter(kind=kind, status=Payment.Status.SUCCEEDED,
                                           refunds__isnull=True).order_by("-pk").first()
                   or booking.payments.filter(kind=kind, moto=moto, status__in=OPEN_ATTEMPT)
                   .order_by("-pk").first())
        if attempt is None:
            attempt = Payment.objects.create(
                booking=booking, kind=kind, status=Payment.Status.CREATING,
                amount_pence=booking.amount_due_pence, channel=channel, moto=moto)
        attempt.booking = booking
        return attempt


def _intent_for(attempt: Payment, *, organisation, account: str, actor) -> dict | None:
    """The attempt's PaymentIntent, created if it has none yet; None once Stripe has closed it
    (the attempt is then closed too)."""
    if attempt.stripe_payment_intent_id is None:
        return _create_intent(attempt, organisation=organisation, account=account, actor=actor)
    try:
        intent = gateway.retrieve_payment_intent(account_id=account,
                                                 intent_id=attempt.stripe_payment_intent_id)
    except gateway.PaymentIntentMissing:
        _close_attempt(attempt, "Stripe no longer knows this PaymentIntent")
        return None
    if intent["status"] == "canceled":
        _close_attempt(attempt, "The PaymentIntent was cancelled in Stripe")
        return None
    return intent


def _create_intent(attempt: Payment, *, organisation, account: str, actor) -> dict:
    booking = attempt.booking
    schema = connection.schema_name
    intent = gateway.create_payment_intent(
        account_id=account, amount_pence=attempt.amount_pence, moto=attempt.moto,
        metadata={"client_schema": schema, "booking": booking.reference,
                  "offer_reference": booking.offer.reference, "client": organisation.slug,
                  "payment": str(attempt.pk)},
        idempotency_key=f"{schema}-payment-{attempt.pk}",
    )
    with transaction.atomic(durable=True):
        lock_offer(booking.offer_id)
        # Another request on the same attempt got the same PaymentIntent (same key) and may
        # have recorded it first: then there is nothing more to record.
        recorded = Payment.objects.filter(pk=attempt.pk, status=Payment.Status.CREATING).update(
            stripe_payment_intent_id=intent["id"], status=Payment.Status.PENDING)
        if recorded:
            log_event(booking.offer, "payment.started", channel=attempt.channel, actor=actor,
                      booking=booking,
                      after={"payment_intent": intent["id"], "amount_pence": intent["amount"],
                             "moto": attempt.moto, "kind": attempt.kind})
    attempt.stripe_payment_intent_id, attempt.status = intent["id"], Payment.Status.PENDING
    return intent


def _close_attempt(attempt: Payment, reason: str) -> None:
    with transaction.atomic(durable=True):
        Payment.objects.filter(pk=attempt.pk, status__in=OPEN_ATTEMPT).update(
            status=Payment.Status.CANCELLED, last_error=reason)


def pay_with_card_token(payment_id, token_id: str, *, organisation, actor) -> dict:
    """Confirm the PaymentIntent with a Stripe.js card token. Returns the intent summary;
    a decline raises gateway.CardDeclined with Stripe's message."""
    payment = Payment.objects.select_related("booking__offer").get(pk=payment_id)
    return _confirm_with_card_token(payment, token_id, organisation=organisation, actor=actor)[0]


def _confirm_with_card_token(payment: Payment, token_id: str, *, organisation, actor
                             ) -> tuple[dict, str]:
    """Stripe's PaymentIntent after confirming it with the token, and what settling it came to
    ("" when it did not succeed, so nothing was settled)."""
    account = merchant_account(organisation)
    try:
        intent = gateway.confirm_with_card_token(
            account_id=account, intent_id=payment.stripe_payment_intent_id, token_id=token_id)
    except gateway.CardDeclined as declined:
        # A declined attempt is closed; a retry gets a fresh PaymentIntent (localstripe cannot
        # re-confirm a declined one, and a clean attempt per card is clearer in reconciliation).
        with transaction.atomic(durable=True):
            lock_offer(payment.booking.offer_id)
            Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED,
                                                         last_error=str(declined)[:300])
            log_event(payment.booking.offer, "payment.declined", channel=payment.channel,
                      actor=actor, booking=payment.booking,
                      after={"payment_intent": payment.stripe_payment_intent_id,
                             "code": declined.code})
        raise
    if intent["status"] == "succeeded":
        # Stripe's own answer to the confirmation: settled as it is, not asked for again.
        return intent, settle_payment(payment.stripe_payment_intent_id,
                                      organisation=organisation, actor=actor, intent=intent)
    return intent, ""


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
    # For a decline: the issuer's decline code, else Stripe's error code (card_errors.py words it).
    decline_code: str = ""
    # The booking is confirmed now, this request having settled the payment (or found it
    # settled): the page can go straight to the confirmation, with no return page to settle it.
    booking_confirmed: bool = False


def pay_by_card_token(booking_id, token: str, *, organisation, channel: str, actor,
                      moto: bool = False) -> CardPayment:
    """Pay the booking's fee with a Stripe.js card token: the PaymentIntent made (or reused),
    then confirmed; a success confirms the booking. A PaymentIntent another submission already
    paid, or a booking it already confirmed, is settled and reported as paid."""
    try:
        intent, settled = _confirm_recorded_intent(booking_id, token, organisation=organisation,
                                                   channel=channel, actor=actor, moto=moto)
        if intent is None:
            payment, intent = start_card_payment(booking_id, organisation=organisation,
                                                 channel=channel, actor=actor, moto=moto)
            if intent["status"] in gateway.AWAITING_CARD:
                intent, settled = _confirm_with_card_token(payment, token,
                                                           organisation=organisation, actor=actor)
            elif intent["status"] == "succeeded":
                settled = settle_payment(intent["id"], organisation=organisation, actor=actor,
                                         intent=intent)
    except gateway.CardDeclined as declined:
        return CardPayment(problem=CardProblem.DECLINED, message=str(declined),
                           decline_code=declined.decline_code or declined.code)
    except gateway.CardDetailsRefused:
        return CardPayment(problem=CardProblem.DETAILS_REFUSED)
    except gateway.PaymentServiceUnavailable:
        return CardPayment(problem=CardProblem.UNAVAILABLE)
    except BookingRefused as refused:
        if Booking.objects.filter(pk=booking_id, status=Booking.Status.CONFIRMED).exists():
            return CardPayment(intent_status="succeeded", booking_confirmed=True)
        return CardPayment(problem=CardProblem.BOOKING_REFUSED, message=refused.messages[0])
    return CardPayment(intent_status=intent["status"], client_secret=intent["client_secret"],
                       booking_confirmed=settled in BOOKING_CONFIRMED)


def _confirm_recorded_intent(booking_id, token: str, *, organisation, channel: str, actor,
                             moto: bool) -> tuple[dict | None, str]:
    """The usual card payment: the payment page made the PaymentIntent, so it is confirmed
    without asking Stripe first what it is (a round trip to Stripe fewer on the person's
    request). A PaymentIntent another tab paid first comes back as it now is, Stripe having
    refused to confirm it twice, and is settled. (None, "") when there is no PaymentIntent yet
    or Stripe has closed it (that attempt is closed too): the caller starts afresh."""
    _account_taking_cards(organisation, moto=moto)
    attempt = _open_attempt(booking_id, channel=channel, moto=moto)
    if attempt.status != Payment.Status.PENDING or attempt.stripe_payment_intent_id is None:
        return None, ""
    try:
        intent, settled = _confirm_with_card_token(attempt, token, organisation=organisation,
                                                   actor=actor)
    except gateway.PaymentIntentMissing:
        _close_attempt(attempt, "Stripe no longer knows this PaymentIntent")
        return None, ""
    if intent["status"] == "canceled":
        _close_attempt(attempt, "The PaymentIntent was cancelled in Stripe")
        return None, ""
    return intent, settled


def _payment_to_settle(**lookup) -> Payment | None:
    # The booking's offer, date and course are what the events below describe (webhooks,
    # tallies): read with the payment rather than one by one.
    return (Payment.objects.select_related("booking__offer", "booking__session__course_type")
            .filter(**lookup).first())


def settle_payment(intent_id: str, *, organisation, actor, source: str = "return",
                   intent: dict | None = None) -> str:
    """Act on what Stripe says about a PaymentIntent (re-fetched, never trusted from a webhook
    body; `intent` only when the caller has Stripe's own answer of this request, as confirming
    the card gives). Idempotent: any number of calls, in any order, confirm once or refund once;
    a payment that confirmed its booking is never refunded by settling it again, whatever has
    happened to the booking since. Returns what happened: "confirmed", "already_confirmed",
    "refunded", "second_payment_refunded", "pending", "failed" or "unknown"."""
    payment = _payment_to_settle(stripe_payment_intent_id=intent_id)
    if payment is None:
        return "unknown"
    return _settle(payment, organisation=organisation, actor=actor, source=source,
                   intent=intent)


def _already_settled(payment: Payment) -> bool:
    """A booking fee we recorded as succeeded whose booking it confirmed: settling it again
    would change nothing (the return page and the webhook after the card's own settling), so
    Stripe need not be asked. Anything else goes the whole way."""
    if payment.status != Payment.Status.SUCCEEDED or payment.kind != Payment.Kind.BOOKING_FEE:
        return False
    return _booking_as_paid(payment)[1]


def _settle(payment: Payment, *, organisation, actor, source: str, intent: dict | None) -> str:
    intent_id = payment.stripe_payment_intent_id
    if intent is None and _already_settled(payment):
        return "already_confirmed"
    if intent is None:
        try:
            intent = gateway.retrieve_payment_intent(account_id=organisation.stripe_account_id,
                                                     intent_id=intent_id)
        except gateway.PaymentIntentMissing:
            return "unknown"
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
        # The offer first, as every booking service locks (the event row below needs it):
        # taking the payment's lock first deadlocks against a concurrent confirmation.
        lock_offer(payment.booking.offer_id)
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.SUCCEEDED:
            locked.status = Payment.Status.SUCCEEDED
            locked.succeeded_at = timezone.now()
            locked.save(update_fields=["status", "succeeded_at"])
            log_event(payment.booking.offer, "payment.succeeded", channel=payment.channel,
                      actor=actor, booking=payment.booking,
                      after={"payment_intent": intent_id, "amount_pence": intent["amount"],
                             "via": source})
        if payment.kind != Payment.Kind.TRANSFER_FEE:
            # Read under the offer's lock this transaction already holds (rather than in a
            # transaction of its own afterwards, locking it again), as _booking_as_paid reads.
            status, confirmed_by_it = _booking_state(payment)
    if payment.kind == Payment.Kind.TRANSFER_FEE:
        return settle_transfer_fee(payment, organisation=organisation, actor=actor)
    if confirmed_by_it:
        return "already_confirmed"
    if status == Booking.Status.PENDING_PAYMENT:
        try:
            confirm_booking(payment.booking_id, channel=payment.channel, actor=actor,
                            payment={"payment_intent": intent_id, "amount_pence": intent["amount"]})
        except BookingRefused as refused:
            log.warning("Payment %s arrived but booking %s could not be confirmed: %s",
                        intent_id, payment.booking.reference, refused.code)
            return _refund_unplaceable(payment, organisation=organisation, actor=actor,
                                       reason=refused.code)
        return "confirmed"
    if status == Booking.Status.CONFIRMED:
        # Confirmed without this payment (another attempt paid first, or the fee was waived):
        # it would be taken twice, so it goes back.
        refund_payment(payment.pk, payment.amount_pence - payment.refunded_pence,
                       organisation=organisation, actor=actor,
                       reason="Paid twice: the booking was already confirmed", key="second")
        return "second_payment_refunded"
    # Cancelled meanwhile (or otherwise closed) before this payment confirmed it: it goes back.
    return _refund_unplaceable(payment, organisation=organisation, actor=actor,
                               reason=f"booking_{status}")


def _booking_as_paid(payment: Payment) -> tuple[str, bool]:
    """The booking's status, and whether this payment is the one that confirmed it. Read under
    the offer's row lock (which confirming takes too), so a confirmation by a concurrent
    settle has either committed, event and all, or not begun."""
    with transaction.atomic(durable=True):
        lock_offer(payment.booking.offer_id)
        return _booking_state(payment)


def _booking_state(payment: Payment) -> tuple[str, bool]:
    """_booking_as_paid's reads; the caller holds the offer's row lock."""
    confirmed_by_it = Exists(OfferEvent.objects.filter(
        booking_id=payment.booking_id, kind="booking.confirmed",
        after__payment__payment_intent=payment.stripe_payment_intent_id))
    return (Booking.objects.filter(pk=payment.booking_id)
            .values_list("status", confirmed_by_it).get())


def settle_latest_payment(booking: Booking, *, organisation, actor) -> str | None:
    """settle_payment for the booking's latest PaymentIntent, once Stripe.js has finished (3-D
    Secure or not); None when the booking has none."""
    latest = (booking.payments.exclude(stripe_payment_intent_id=None)
              .order_by("-created_at").values_list("pk", flat=True).first())
    if latest is None:
        return None
    return _settle(_payment_to_settle(pk=latest), organisation=organisation, actor=actor,
                   source="return", intent=None)


def settle_payment_event(intent: dict, *, organisation, event_type: str) -> str:
    """tenants.webhooks' handler for PAYMENT_EVENTS, in the client's schema."""
    return settle_payment(intent["id"], organisation=organisation, actor="stripe",
                          source=f"webhook {event_type}")


def _refund_unplaceable(payment, *, organisation, actor, reason: str) -> str:
    refund_payment(payment.pk, payment.amount_pence - payment.refunded_pence,
                   organisation=organisation, actor=actor,
                   reason=f"Paid after the place was gone ({reason})", key="unplaceable")
    with transaction.atomic(durable=True):
        # The offer first, as every booking service locks: the event row below needs it.
        lock_offer(payment.booking.offer_id)
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


# Settling is left to the return page and the webhook for this long first; after this long a
# PaymentIntent nobody finished (3-D Secure abandoned) is no longer asked about.
SETTLE_AFTER = timedelta(minutes=2)
SETTLE_WITHIN = timedelta(days=2)
SETTLE_BATCH = 200


def settle_pending_payments(*, organisation, actor="system", now=None) -> dict:
    """Ask Stripe about every card attempt still pending after SETTLE_AFTER and act on it as
    settle_payment does: a payment taken while the webhook and the return page were both lost
    confirms its booking, or is refunded if the place has gone. Run by a job (beat), so a taken
    payment always ends as a booking or a refund without anyone running reconcile_payments.
    Returns how many came to each outcome ("waiting": Stripe could not be reached)."""
    now = now or timezone.now()
    due = (Payment.objects.filter(status=Payment.Status.PENDING,
                                  created_at__lte=now - SETTLE_AFTER,
                                  created_at__gte=now - SETTLE_WITHIN)
           .exclude(stripe_payment_intent_id=None).order_by("created_at")
           .values_list("stripe_payment_intent_id", flat=True)[:SETTLE_BATCH])
    report: dict[str, int] = {}
    for intent_id in list(due):
        try:
            outcome = settle_payment(intent_id, organisation=organisation, actor=actor,
                                     source="settling job")
        except gateway.PaymentServiceUnavailable:
            outcome = "waiting"
        report[outcome] = report.get(outcome, 0) + 1
    return report
