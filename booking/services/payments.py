"""Card payments into the client's own merchant account, refunds, and settling what Stripe
says happened. Stripe is called outside our transactions; what it answered is then recorded in
one durable transaction, so a crash in between is mended by the next webhook or retry."""

import logging

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking import text_messages
from booking.models import Booking, Channel, Payment, Refund
from tenants import stripe_gateway as gateway

from .bookings import confirm_booking, seat_held_for
from .events import log_event
from .rules import BookingRefused

log = logging.getLogger(__name__)


def merchant_account(organisation) -> str | None:
    """The client's connected account if it can take card payments, else None."""
    if organisation.stripe_account_id and organisation.stripe_charges_enabled:
        return organisation.stripe_account_id
    return None


def _payable(booking_id) -> Booking:
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
    booking = _payable(booking_id)
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
        _send("send_booking_confirmation", booking.pk)
        return "confirmed"
    # Cancelled meanwhile (or otherwise closed): the money goes back.
    return _refund_unplaceable(payment, organisation=organisation, actor=actor,
                               reason=f"booking_{booking.status}")


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
    transaction.on_commit(lambda: _tell_about_refund(payment.booking_id), robust=True)
    return "refunded"


def _tell_about_refund(booking_id) -> None:
    _send("send_unplaceable_payment_refunded", booking_id)


def _send(name: str, booking_id) -> None:
    """E-mail after the fact; a mail failure is logged and never undoes a payment."""
    try:
        from booking import notifications

        sender = getattr(notifications, name, None)
        if sender is not None:
            sender(Booking.objects.select_related("offer", "session").get(pk=booking_id))
    except Exception:  # noqa: BLE001
        log.exception("Could not send %s for booking %s", name, booking_id)


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


def refund_cancelled_booking(booking_id, refund_due_pence: int, *, organisation, actor) -> int:
    """After a cancellation: refund what the policy says is due from the booking's payments."""
    remaining = refund_due_pence
    chain, booking = [], Booking.objects.get(pk=booking_id)
    while booking is not None:  # a transferred booking's payment sits on the original
        chain.append(booking.pk)
        booking = booking.transferred_from
    for payment in Payment.objects.filter(booking_id__in=chain,
                                          status=Payment.Status.SUCCEEDED):
        if remaining <= 0:
            break
        refund = refund_payment(payment.pk, remaining, organisation=organisation, actor=actor,
                                reason="Cancelled with notice", key="cancellation")
        if refund is not None:
            remaining -= refund.amount_pence
    return refund_due_pence - remaining


class LinkBy:
    EMAIL = "email"
    TEXT = "text"


def send_pay_by_link(booking_id, *, organisation, actor, channel=Channel.TELEPHONE,
                     by: str = LinkBy.EMAIL, mobile: str = "") -> str:
    """Send the caller a link to a page that completes this booking's PaymentIntent, by e-mail
    or by text to `mobile` (default: the offer's phone). Returns the link. The event is written
    only once the message has gone, so a failed send leaves nothing behind."""
    from booking.payment_views import pay_link_url

    booking = _payable(booking_id)
    if merchant_account(organisation) is None:
        raise BookingRefused(_("Card payments are not available for this service yet."),
                             "no_merchant_account")
    if by == LinkBy.TEXT:
        if not text_messages.texts_available():
            raise BookingRefused(_("Payment links cannot be sent by text message here: send it "
                                   "by email."), "no_text_service")
        try:
            to = text_messages.uk_mobile(mobile or booking.offer.phone)
        except ValidationError as invalid:
            raise BookingRefused(invalid.messages[0], "bad_mobile") from None
    elif booking.offer.email:
        to = booking.offer.email
    else:
        raise BookingRefused(_("Add the caller's email address first: the payment link is sent "
                               "by email."), "no_email")
    link = pay_link_url(booking, organisation)
    if by == LinkBy.TEXT:
        text_messages.send_text(to, _payment_link_text(booking, organisation, link))
    else:
        _send_link(booking.pk, link)
    with transaction.atomic(durable=True):
        log_event(booking.offer, "payment.link_sent", channel=channel, actor=actor,
                  booking=booking, after={"to": to, "by": by})
    return link


def _payment_link_text(booking, organisation, link) -> str:
    from booking.notifications import language_of, pounds

    language = language_of(booking.offer)
    hold = seat_held_for(booking)
    values = {"client": organisation.display_name(language), "amount": pounds(booking.fee_pence),
              "reference": booking.reference, "link": link}
    with translation.override(language):
        text = gettext("%(client)s: pay %(amount)s for course booking %(reference)s at %(link)s"
                       ) % values
        if hold is not None:
            text += " " + gettext("Pay by %(time)s to keep your place.") % {
                "time": timezone.localtime(hold.expires_at).strftime("%H:%M")}
    return text


def _send_link(booking_id, link) -> None:
    from booking import notifications

    notifications.send_payment_link(
        Booking.objects.select_related("offer", "session").get(pk=booking_id), link)
