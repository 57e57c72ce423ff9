"""Telephone payments from the contact centre (/contact-centre/payments/): card details read out
by the caller (MOTO) where the client allows it, and a pay-by-link by e-mail or text always.
Like every contact-centre page they need "contact_centre.use"; taking payment also needs
"bookings.book"."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import requires_action
from booking.models import Booking
from booking.services.access_log import offer_of_booking, shows_offenders
from booking.services.bookings import seat_held_for
from booking.services.card_declines import decline_message
from booking.services.pay_links import LinkBy, send_pay_by_link
from booking.services.payments import (
    CardProblem,
    card_token_in,
    merchant_account,
    pay_by_card_token,
    settle_latest_payment,
    start_card_payment,
)
from booking.services.rules import BookingRefused
from integrations import stripe_gateway as gateway
from integrations.text_messages import TextMessageFailed, texts_available

from .forms import TextLinkForm
from .views import BOOK, CONSOLE


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


@requires_action(CONSOLE)
@requires_action(BOOK)
@shows_offenders("agent_payments.take", offer_of_booking())
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
    if booking.status in Booking.AWAITING_PAYMENT and request.tenant.allow_moto and (
            merchant_account(request.tenant)):
        try:
            payment, intent = start_card_payment(booking.pk, organisation=request.tenant,
                                                 channel="telephone", actor=request.user,
                                                 moto=True)
        except gateway.PaymentServiceUnavailable:
            context["error"] = _("We could not reach the payment service. Try again.")
        except BookingRefused:  # paid or closed since the page began: it now says which
            return redirect(request.path)
        else:
            if intent["status"] == "succeeded":  # paid in another tab
                return redirect("agent_payments:returned", reference=reference)
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
@requires_action(CONSOLE)
@requires_action(BOOK)
@shows_offenders("agent_payments.card", offer_of_booking())
def agent_card(request, reference):
    if not request.tenant.allow_moto:
        return JsonResponse({"status": "error", "message": _("This client does not allow card "
                                                             "details to be taken by phone.")},
                            status=403)
    booking = _agent_booking(reference)
    token = card_token_in(request.body)
    if token is None:
        return JsonResponse({"status": "error", "message": _("Enter the card details.")},
                            status=400)
    paid = pay_by_card_token(booking.pk, token, organisation=request.tenant,
                             channel="telephone", actor=request.user, moto=True)
    if paid.problem == CardProblem.DECLINED:
        # Our own sentence for Stripe's code (the agent reads it to the caller), never
        # Stripe's English text.
        return JsonResponse({"status": "declined", "message": decline_message(paid.decline_code)},
                            status=402)
    if paid.problem == CardProblem.DETAILS_REFUSED:
        return JsonResponse({"status": "error", "message": _(
            "The card details could not be used. Nothing has been taken: check them with the "
            "caller and enter them again.")}, status=400)
    if paid.problem == CardProblem.UNAVAILABLE:
        return JsonResponse({"status": "error", "message": _(
            "We could not reach the payment service. Nothing has been taken; try again.")},
            status=503)
    if paid.problem == CardProblem.BOOKING_REFUSED:
        return JsonResponse({"status": "error", "message": paid.message}, status=409)
    return JsonResponse({"status": paid.intent_status,
                         "redirect": _agent_urls(reference)["return"]})


@requires_action(CONSOLE)
@requires_action(BOOK)
@shows_offenders("agent_payments.returned", offer_of_booking())
def agent_returned(request, reference):
    booking = _agent_booking(reference)
    try:
        settle_latest_payment(booking, organisation=request.tenant, actor=request.user)
    except gateway.PaymentServiceUnavailable:
        messages.error(request, _("We could not reach the payment service. Try again."))
    return redirect("agent_payments:take", reference=reference)
