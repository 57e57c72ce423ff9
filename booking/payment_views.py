"""Paying for a booking by card: the same page reached from the online journey and from a
pay-by-link the contact centre sends. Card details go from Stripe.js straight to Stripe; our
server only ever sees a token id."""

import json
import re

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import requires_action
from tenants import stripe_gateway as gateway

from .models import Booking, Hold
from .payment_forms import TextLinkForm
from .services.bookings import seat_held_for
from .services.payments import (
    LinkBy,
    merchant_account,
    pay_with_card_token,
    send_pay_by_link,
    settle_payment,
    start_card_payment,
)
from .services.rules import BookingRefused
from .text_messages import TextMessageFailed, texts_available

LINK_SALT = "waymark.pay-by-link"
# What Stripe.js's card tokens look like; anything else is not worth sending to Stripe.
CARD_TOKEN = re.compile(r"tok_[A-Za-z0-9_]{1,250}")
LINK_MAX_AGE = 48 * 3600


def pay_link_token(booking: Booking) -> str:
    from django.db import connection

    return signing.dumps({"booking": booking.reference, "client": connection.schema_name},
                         salt=LINK_SALT)


def pay_link_url(booking: Booking, organisation) -> str:
    from accounts.invitations import site_url

    return site_url(organisation) + reverse("payments:link", args=[pay_link_token(booking)],
                                            urlconf="config.urls_client")


def booking_from_link(token: str) -> Booking:
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        raise Http404 from None
    from django.db import connection

    if data.get("client") != connection.schema_name:  # a link works only on its own client's site
        raise Http404
    booking = Booking.objects.select_related("offer", "session__venue", "session__course_type"
                                             ).filter(reference=data["booking"]).first()
    if booking is None:
        raise Http404
    return booking


def render_payment_page(request, booking, *, urls: dict, actor):
    if booking.status == Booking.Status.CONFIRMED:
        return redirect(urls["done"])
    hold = Hold.objects.filter(offer=booking.offer, expires_at__gt=timezone.now()).first()
    context = {"booking": booking, "offer": booking.offer, "hold": hold, "urls": urls}
    if booking.status != Booking.Status.PENDING_PAYMENT:
        return render(request, "payments/closed.html", context, status=410)
    if merchant_account(request.tenant) is None:
        return render(request, "payments/unavailable.html", context)
    try:
        payment, intent = start_card_payment(booking.pk, organisation=request.tenant,
                                             channel=booking.channel, actor=actor)
    except gateway.PaymentServiceUnavailable:
        context["error"] = _("We could not reach the payment service. Your place is still held: "
                             "try again in a minute.")
        return render(request, "payments/pay.html", context, status=503)
    context.update(
        payment=payment, client_secret=intent["client_secret"],
        stripe_js=gateway.js_url(), publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        stripe_account=request.tenant.stripe_account_id,
        error=request.GET.get("error") and _("The payment did not go through. Try again or "
                                             "use a different card."),
    )
    return render(request, "payments/pay.html", context)


def _card_token_from(request) -> str | None:
    """The Stripe.js token id the page's script posted, or None. Nothing else is read: no
    amount, no card data."""
    try:
        token = json.loads(request.body or b"{}").get("token", "")
    except (ValueError, AttributeError, RecursionError):
        return None
    return token if isinstance(token, str) and CARD_TOKEN.fullmatch(token) else None


def card_token(request, booking, *, urls: dict, actor):
    """JSON endpoint for the payment page's script: confirm with the Stripe.js token."""
    token = _card_token_from(request)
    if token is None:
        return JsonResponse({"status": "error", "message": _("Enter your card details.")},
                            status=400)
    try:
        payment, _intent = start_card_payment(booking.pk, organisation=request.tenant,
                                              channel=booking.channel, actor=actor)
        intent = pay_with_card_token(payment.pk, token, organisation=request.tenant, actor=actor)
    except gateway.CardDeclined as declined:
        return JsonResponse({"status": "declined", "message": _(
            "Your card was declined: %(reason)s Try again or use a different card.")
            % {"reason": str(declined)}}, status=402)
    except gateway.CardDetailsRefused:
        return JsonResponse({"status": "error", "message": _(
            "We could not use those card details. Nothing has been taken: enter them again "
            "or use a different card.")}, status=400)
    except gateway.PaymentServiceUnavailable:
        return JsonResponse({"status": "error", "message": _(
            "We could not reach the payment service. Nothing has been taken; try again.")},
            status=503)
    except BookingRefused as refused:
        return JsonResponse({"status": "error", "message": refused.messages[0]}, status=409)
    if intent["status"] == "requires_action":
        return JsonResponse({"status": "requires_action", "client_secret": intent["client_secret"],
                             "return": urls["return"]})
    return JsonResponse({"status": intent["status"], "redirect": urls["return"]})


def returned(request, booking, *, urls: dict, actor):
    """After Stripe.js finished (3-D Secure or not): ask Stripe what happened and act on it."""
    payment = booking.payments.order_by("-created_at").first()
    if payment is None:
        return redirect(urls["pay"])
    try:
        outcome = settle_payment(payment.stripe_payment_intent_id, organisation=request.tenant,
                                 actor=actor)
    except gateway.PaymentServiceUnavailable:
        return redirect(urls["pay"] + "?error=unavailable")
    if outcome in ("confirmed", "already_confirmed"):
        return redirect(urls["done"])
    if outcome == "refunded":
        return render(request, "payments/refunded.html", {"booking": booking}, status=409)
    return redirect(urls["pay"] + "?error=1")


# --- pay-by-link (no journey session: the signed link is the key) ------------------------

def _link_urls(token):
    return {"pay": reverse("payments:link", args=[token]),
            "card": reverse("payments:link_card", args=[token]),
            "return": reverse("payments:link_return", args=[token]),
            "done": reverse("payments:link_done", args=[token])}


def link_pay(request, token):
    return render_payment_page(request, booking_from_link(token), urls=_link_urls(token),
                               actor="offender (payment link)")


@require_POST
def link_card(request, token):
    return card_token(request, booking_from_link(token), urls=_link_urls(token),
                      actor="offender (payment link)")


def link_return(request, token):
    return returned(request, booking_from_link(token), urls=_link_urls(token),
                    actor="offender (payment link)")


def link_done(request, token):
    booking = booking_from_link(token)
    return render(request, "payments/paid.html", {"booking": booking, "session": booking.session})


# --- telephone payments from the contact centre -------------------------------------------

def _agent_urls(reference):
    return {"pay": reverse("agent_payments:take", args=[reference]),
            "card": reverse("agent_payments:card", args=[reference]),
            "return": reverse("agent_payments:returned", args=[reference]),
            "done": reverse("agent_payments:take", args=[reference])}


def _agent_booking(reference) -> Booking:
    booking = Booking.objects.select_related("offer", "session__venue", "session__course_type"
                                             ).filter(reference=reference).first()
    if booking is None:
        raise Http404
    return booking


@requires_action("bookings.book")
def agent_take_payment(request, reference):
    """MOTO card entry where the client allows it, and pay-by-link always."""
    booking = _agent_booking(reference)
    context = {"booking": booking, "offer": booking.offer, "urls": _agent_urls(reference),
               "can_take_card": False, "error": None, "can_text": texts_available(),
               "text_form": TextLinkForm(initial={"mobile": booking.offer.phone}),
               "hold": seat_held_for(booking)}
    if request.method == "POST" and request.POST.get("action") in ("send_link", "text_link"):
        if _send_payment_link(request, booking, context):
            return redirect(request.path)
    if booking.status == Booking.Status.PENDING_PAYMENT and request.tenant.allow_moto and (
            merchant_account(request.tenant)):
        try:
            payment, intent = start_card_payment(booking.pk, organisation=request.tenant,
                                                 channel="telephone", actor=request.user,
                                                 moto=True)
        except gateway.PaymentServiceUnavailable:
            context["error"] = _("We could not reach the payment service. Try again.")
        else:
            context.update(can_take_card=True, client_secret=intent["client_secret"],
                           stripe_js=gateway.js_url(),
                           publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
                           stripe_account=request.tenant.stripe_account_id)
    return render(request, "payments/agent.html", context)


def _send_payment_link(request, booking: Booking, context: dict) -> bool:
    """One of the two pay-by-link buttons (e-mail, or text to the number typed in); True once
    the link has gone, else the problem is put on the page."""
    by, mobile = LinkBy.EMAIL, ""
    if request.POST["action"] == "text_link":
        by, form = LinkBy.TEXT, TextLinkForm(request.POST)
        context["text_form"] = form
        if not form.is_valid():
            return False
        mobile = form.cleaned_data["mobile"]
    try:
        send_pay_by_link(booking.pk, organisation=request.tenant, actor=request.user, by=by,
                         mobile=mobile)
    except BookingRefused as refused:
        problem = refused.messages[0]
    except TextMessageFailed:
        problem = _("The text message could not be sent. Check the number, or send the link by "
                    "email.")
    except gateway.PaymentServiceUnavailable:
        problem = _("We could not reach the payment service. Try again.")
    else:
        messages.success(request, _("Payment link sent to %(to)s.") % {
            "to": mobile if by == LinkBy.TEXT else booking.offer.email})
        return True
    if by == LinkBy.TEXT:
        context["text_form"].add_error("mobile", problem)
    else:
        context["error"] = problem
    return False


@require_POST
@requires_action("bookings.book")
def agent_card(request, reference):
    if not request.tenant.allow_moto:
        return JsonResponse({"status": "error", "message": _("This client does not allow card "
                                                             "details to be taken by phone.")},
                            status=403)
    booking = _agent_booking(reference)
    token = _card_token_from(request)
    if token is None:
        return JsonResponse({"status": "error", "message": _("Enter the card details.")},
                            status=400)
    try:
        payment, _intent = start_card_payment(booking.pk, organisation=request.tenant,
                                              channel="telephone", actor=request.user, moto=True)
        intent = pay_with_card_token(payment.pk, token, organisation=request.tenant,
                                     actor=request.user)
    except gateway.CardDeclined as declined:
        return JsonResponse({"status": "declined", "message": _(
            "The card was declined: %(reason)s") % {"reason": str(declined)}}, status=402)
    except gateway.CardDetailsRefused:
        return JsonResponse({"status": "error", "message": _(
            "The card details could not be used. Nothing has been taken: check them with the "
            "caller and enter them again.")}, status=400)
    except gateway.PaymentServiceUnavailable:
        return JsonResponse({"status": "error", "message": _(
            "We could not reach the payment service. Nothing has been taken; try again.")},
            status=503)
    except BookingRefused as refused:
        return JsonResponse({"status": "error", "message": refused.messages[0]}, status=409)
    return JsonResponse({"status": intent["status"],
                         "redirect": _agent_urls(reference)["return"]})


@requires_action("bookings.book")
def agent_returned(request, reference):
    booking = _agent_booking(reference)
    payment = booking.payments.order_by("-created_at").first()
    if payment is not None:
        try:
            settle_payment(payment.stripe_payment_intent_id, organisation=request.tenant,
                           actor=request.user)
        except gateway.PaymentServiceUnavailable:
            messages.error(request, _("We could not reach the payment service. Try again."))
    return redirect("agent_payments:take", reference=reference)
