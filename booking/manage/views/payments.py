"""Taking the fee of a booking made, or a move asked for, in /manage/: a payment link sent to
the person by email or text (booking.services.pay_links). Card details read out over the phone
are taken in the contact centre's payment page, which the page links to for those who may use
it where the client allows it."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from booking.models import Booking, Channel
from booking.services.access_log import offer_by_reference, shows_offenders
from booking.services.bookings import seat_held_for
from booking.services.pay_links import LinkBy, send_pay_by_link
from booking.services.rules import BookingRefused
from integrations import stripe_gateway as gateway
from integrations.text_messages import TextMessageFailed, texts_available

from ..access import page, render_page
from ..forms import PaymentLinkTextForm


def _booking(reference, booking_reference) -> Booking:
    booking = (Booking.objects.select_related("offer", "session__venue", "session__course_type")
               .filter(reference=booking_reference, offer__reference=reference).first())
    if booking is None:
        raise Http404
    return booking


@page("offers.view", "bookings.book")
@shows_offenders("manage.offender_payment", offer_by_reference())
def payment_for(request, reference, booking_reference):
    booking = _booking(reference, booking_reference)
    offer = booking.offer
    text_form = PaymentLinkTextForm(initial={"mobile": offer.phone})
    error = None
    if request.method == "POST" and booking.status in Booking.AWAITING_PAYMENT:
        by, mobile = LinkBy.EMAIL, ""
        if request.POST.get("action") == "text_link":
            by, text_form = LinkBy.TEXT, PaymentLinkTextForm(request.POST)
            mobile = text_form.cleaned_data["mobile"] if text_form.is_valid() else None
        if mobile is not None:
            try:
                send_pay_by_link(booking.pk, organisation=request.tenant, actor=request.user,
                                 channel=Channel.ADMIN, by=by, mobile=mobile)
            except BookingRefused as refused:
                error = refused.messages[0]
            except TextMessageFailed:
                error = _("The text message could not be sent. Check the number, or send the "
                          "link by email.")
            except gateway.PaymentServiceUnavailable:
                error = _("We could not reach the payment service. Try again.")
            else:
                messages.success(request, _("Payment link sent to %(to)s.") % {
                    "to": mobile if by == LinkBy.TEXT else offer.email})
                return redirect(request.path)
        if error and by == LinkBy.TEXT:
            text_form.add_error("mobile", error)
            error = None
    return render_page(request, "manage/offenders/payment.html", {
        "offer": offer, "booking": booking, "hold": seat_held_for(booking),
        "awaiting": booking.status in Booking.AWAITING_PAYMENT, "error": error,
        "text_form": text_form, "can_text": texts_available(),
        "can_take_card": request.tenant.allow_moto,
    }, status=400 if error or text_form.errors else 200)
