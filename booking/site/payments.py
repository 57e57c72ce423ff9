"""Paying for a booking by card: the same page reached from the online journey and from a
pay-by-link the contact centre sends. Card details go from Stripe.js straight to Stripe; our
server only ever sees a token id."""

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from booking.models import Booking, Hold
from booking.services.card_declines import decline_message
from booking.services.pay_links import booking_for_link
from booking.services.payments import (
    BOOKING_CONFIRMED,
    CardProblem,
    card_token_in,
    merchant_account,
    pay_by_card_token,
    settle_latest_payment,
    start_card_payment,
)
from booking.services.rules import BookingRefused
from integrations import stripe_gateway as gateway


def render_payment_page(request, booking, *, urls: dict, actor):
    if booking.status == Booking.Status.CONFIRMED:
        return redirect(urls["done"])
    hold = Hold.objects.filter(offer=booking.offer, expires_at__gt=timezone.now()).first()
    context = {"booking": booking, "offer": booking.offer, "hold": hold, "urls": urls}
    if booking.status not in Booking.AWAITING_PAYMENT:
        return render(request, "payments/closed.html", context, status=410)
    if merchant_account(request.tenant) is None:
        return render(request, "payments/unavailable.html", context)
    try:
        payment, intent = start_card_payment(booking.pk, organisation=request.tenant,
                                             channel=booking.channel, actor=actor)
    except gateway.PaymentServiceUnavailable:
        context["error"] = _("We could not reach the payment service. Your place is still held: "
                             "try again in a minute.")
        response = render(request, "payments/pay.html", context, status=503)
        response["Retry-After"] = "30"  # as the service-problem page says
        return response
    except BookingRefused:  # paid or closed since this page began: it now says which
        return redirect(urls["pay"])
    if intent["status"] == "succeeded":  # paid in another tab
        return redirect(urls["return"])
    context.update(
        payment=payment, client_secret=intent["client_secret"],
        stripe_js=gateway.js_url(), publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        stripe_account=request.tenant.stripe_account_id,
        error=request.GET.get("error") and _("The payment did not go through. Try again or "
                                             "use a different card."),
    )
    return render(request, "payments/pay.html", context)


def card_token(request, booking, *, urls: dict, actor):
    """JSON endpoint for the payment page's script: confirm with the Stripe.js token."""
    token = card_token_in(request.body)
    if token is None:
        return JsonResponse({"status": "error", "message": _("Enter your card details.")},
                            status=400)
    paid = pay_by_card_token(booking.pk, token, organisation=request.tenant,
                             channel=booking.channel, actor=actor)
    if paid.problem == CardProblem.DECLINED:
        return JsonResponse({"status": "declined",
                             "message": decline_message(paid.decline_code)}, status=402)
    if paid.problem == CardProblem.DETAILS_REFUSED:
        return JsonResponse({"status": "error", "message": _(
            "We could not use those card details. Nothing has been taken: enter them again "
            "or use a different card.")}, status=400)
    if paid.problem == CardProblem.UNAVAILABLE:
        return JsonResponse({"status": "error", "message": _(
            "We could not reach the payment service. Nothing has been taken; try again.")},
            status=503)
    if paid.problem == CardProblem.BOOKING_REFUSED:
        return JsonResponse({"status": "error", "message": paid.message}, status=409)
    if paid.intent_status == "requires_action":
        return JsonResponse({"status": "requires_action", "client_secret": paid.client_secret,
                             "return": urls["return"]})
    # Settled in this request: straight to the confirmation. Anything else (the booking
    # refunded because its place went, a payment still processing) is the return page's to say.
    return JsonResponse({"status": paid.intent_status,
                         "redirect": urls["done"] if paid.booking_confirmed else urls["return"]})


def returned(request, booking, *, urls: dict, actor):
    """After Stripe.js finished (3-D Secure or not): ask Stripe what happened and act on it."""
    try:
        outcome = settle_latest_payment(booking, organisation=request.tenant, actor=actor)
    except gateway.PaymentServiceUnavailable:
        return redirect(urls["pay"] + "?error=unavailable")
    if outcome is None:
        return redirect(urls["pay"])
    if outcome in BOOKING_CONFIRMED:
        return redirect(urls["done"])
    if outcome == "refunded":
        return render(request, "payments/refunded.html", {"booking": booking}, status=409)
    return redirect(urls["pay"] + "?error=1")


# --- pay-by-link (no journey session: the signed link is the key) ------------------------

def booking_from_link(token: str) -> Booking:
    booking = booking_for_link(token)
    if booking is None:  # forged, stale, another client's, or no such booking
        raise Http404
    return booking


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
