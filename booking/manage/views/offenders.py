"""Offenders: search, one offer's full timeline, and booking, moving or cancelling on the
person's behalf (channel "admin": the fee is paid, or waived by a role that may), extending the
critical date, or withdrawing the offer for the police."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.form_fields import ACCESS_CHOICES
from booking.models import Booking, Channel, CourseSession, Offer, SpecialCircumstancesCase
from booking.notifications.letters import confirmation_letter_pdf
from booking.services import offers
from booking.services.access_log import listed, lists_offenders, offer_by_reference, shows_offenders
from booking.services.bookings import FeeWaiver, book, booking_made_with
from booking.services.changes import (
    CLOSED_OFFER_STATUSES,
    cancel_booking,
    fee_paid,
    refund_due,
    transfer_booking,
    withdraw_offer,
)
from booking.services.offer_import import latest_import_conflict
from booking.services.refunds import refund_promised
from booking.services.request_keys import new_request_key, posted_request_key
from booking.services.rules import BookingRefused, fee_breakdown, transfer_fee
from booking.services.search import search_offers, search_sessions
from booking.templatetags.booking_format import pounds
from booking.timeline import offer_timeline

from ..access import add_service_errors, allowed_actions, ip, page, posted, render_page
from ..forms import (
    CancelBookingForm,
    ExtendCriticalDateForm,
    OffenderSearchForm,
    StaffBookingForm,
    WithdrawOfferForm,
)

ACCESS_LABELS = dict(ACCESS_CHOICES)


def _offer(reference) -> Offer:
    return get_object_or_404(Offer.objects.select_related("course_type"), reference=reference)


def _active_booking(offer):
    return (Booking.objects.select_related("session__course_type", "session__venue")
            .filter(offer=offer, status__in=Booking.ACTIVE).first())


@page("offers.view")
@lists_offenders("manage.offenders")
def search(request):
    form = OffenderSearchForm(request.GET or None)
    results = None
    if request.GET and form.is_valid():
        results = search_offers(form.cleaned_data["q"])
        listed(request, results)
    return render_page(request, "manage/offenders/search.html",
                       {"form": form, "results": results})


@page("offers.view")
@shows_offenders("manage.offender", offer_by_reference())
def detail(request, reference):
    offer = _offer(reference)
    bookings = (Booking.objects.select_related("session__course_type", "session__venue")
                .filter(offer=offer).order_by("-created_at"))
    return render_page(request, "manage/offenders/detail.html", {
        "offer": offer, "bookings": bookings, "active": _active_booking(offer),
        "timeline": offer_timeline(offer),
        "import_conflict": latest_import_conflict(offer),
        "access": [ACCESS_LABELS.get(code, code) for code in offer.access_requirements or []],
        "open_case": offer.cases.filter(status=SpecialCircumstancesCase.Status.OPEN).first(),
        "cases": offer.cases.all(),
        "awaiting_payment": [b for b in bookings if b.status in Booking.AWAITING_PAYMENT],
        "closed_statuses": CLOSED_OFFER_STATUSES,
    })


@page("offers.view")
@shows_offenders("manage.offender_letter", offer_by_reference())
def confirmation_letter(request, reference):
    """The booking confirmation as a PDF letter in the person's own language, to post to
    someone with no e-mail address or mobile."""
    offer = _offer(reference)
    booking = _active_booking(offer)
    if booking is None or booking.status != Booking.Status.CONFIRMED:
        raise Http404
    response = HttpResponse(confirmation_letter_pdf(booking, request.tenant, offer.language),
                            content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="confirmation-letter-{booking.reference}.pdf"')
    return response


def _options(offer, now, exclude_session_id=None):
    """Every bookable date of the offer's course, at any venue or online, soonest first."""
    options = search_sessions(offer, now=now) + search_sessions(offer, now=now, online=True)
    options = [o for o in options if o.session.pk != exclude_session_id]
    return sorted(options, key=lambda o: (o.session.starts_at, o.session.pk))


def _exists(form) -> bool:
    if CourseSession.objects.filter(pk=form.cleaned_data["session"]).exists():
        return True
    form.add_error("session", _("Select a course date"))
    return False


def _placed(request, offer, booking, message: str):
    """Booked or moved: the new reference on screen, back to the offer; or, when the fee is
    still to pay, on to taking it."""
    if booking.status in Booking.AWAITING_PAYMENT:
        messages.success(request, _("The place is held while the fee is paid. The booking "
                                    "reference is %(reference)s.") % {"reference": booking.reference})
        return redirect("manage:offender_payment", reference=offer.reference,
                        booking_reference=booking.reference)
    messages.success(request, message % {"reference": booking.reference})
    return redirect("manage:offender", reference=offer.reference)


def _staff_form(request) -> StaffBookingForm:
    return StaffBookingForm(posted(request),
                            can_waive="bookings.waive_fee" in allowed_actions(request))


def _waiver(form) -> FeeWaiver | None:
    return FeeWaiver(form.cleaned_data["waiver_reason"]) if form.cleaned_data.get(
        "waive_fee") else None


@page("offers.view", "bookings.book")
@shows_offenders("manage.offender_book", offer_by_reference())
def book_for(request, reference):
    offer = _offer(reference)
    key = posted_request_key(request.POST)
    earlier = booking_made_with(offer.pk, key)
    if earlier is not None:  # a double click or a retry: where the first one went
        if earlier.status in Booking.AWAITING_PAYMENT:
            return redirect("manage:offender_payment", reference=offer.reference,
                            booking_reference=earlier.reference)
        return redirect("manage:offender", reference=offer.reference)
    now = timezone.now()
    form = _staff_form(request)
    bookable = offer.status == Offer.Status.OFFERED and _active_booking(offer) is None
    if request.method == "POST" and bookable and form.is_valid() and _exists(form):
        try:
            booking = book(offer.pk, session_id=form.cleaned_data["session"],
                           channel=Channel.ADMIN, actor=request.user, waiver=_waiver(form),
                           request_key=key, now=now)
        except BookingRefused as refused:
            form.add_error("session", refused.messages[0])
        else:
            return _placed(request, offer, booking, _("Booked. The booking reference is %(reference)s."))
    return render_page(request, "manage/offenders/book.html", {
        "offer": offer, "form": form, "bookable": bookable,
        "options": _options(offer, now) if bookable else [],
        "fees": fee_breakdown(offer.course_type), "request_key": key or new_request_key(),
    })


@page("offers.view", "bookings.book")
@shows_offenders("manage.offender_transfer", offer_by_reference())
def transfer_for(request, reference):
    offer = _offer(reference)
    now = timezone.now()
    booking = _active_booking(offer)
    form = _staff_form(request)
    movable = booking is not None and booking.status == Booking.Status.CONFIRMED
    if request.method == "POST" and movable and form.is_valid() and _exists(form):
        try:
            new = transfer_booking(booking.pk, form.cleaned_data["session"],
                                   channel=Channel.ADMIN, actor=request.user,
                                   waiver=_waiver(form), now=now)
        except BookingRefused as refused:
            form.add_error("session", refused.messages[0])
        else:
            return _placed(request, offer, new, _("Moved. The new booking reference is %(reference)s."))
    context = {"offer": offer, "form": form, "booking": booking, "movable": movable,
               "options": [], "fee": 0}
    if movable:
        # What moving costs depends on the notice the current date gives, not the new one.
        context.update(options=_options(offer, now, exclude_session_id=booking.session_id),
                       fee=transfer_fee(booking, now))
    return render_page(request, "manage/offenders/transfer.html", context)


@page("offers.view", "bookings.book")
@shows_offenders("manage.offender_cancel", offer_by_reference())
def cancel_for(request, reference):
    offer = _offer(reference)
    now = timezone.now()
    booking = _active_booking(offer)
    form = CancelBookingForm(posted(request))
    if request.method == "POST" and booking is not None and form.is_valid():
        try:
            cancelled = cancel_booking(booking.pk, channel=Channel.ADMIN, actor=request.user,
                                       reason=form.cleaned_data["reason"], now=now)
        except BookingRefused as refused:
            form.add_error(None, refused.messages[0])
        else:
            due = refund_promised(cancelled.pk)
            messages.success(request, _("The booking has been cancelled.") + (
                " " + _("%(amount)s will be refunded to the card it was paid with.") % {
                    "amount": pounds(due)} if due else ""))
            return redirect("manage:offender", reference=offer.reference)
    refund = None
    if booking is not None and booking.status == Booking.Status.CONFIRMED:
        refund = refund_due(booking, now)
    return render_page(request, "manage/offenders/cancel.html", {
        "offer": offer, "form": form, "booking": booking, "refund": refund})


@page("offers.view", "offers.change")
@shows_offenders("manage.offender_extend", offer_by_reference())
def extend_critical_date(request, reference):
    offer = _offer(reference)
    form = ExtendCriticalDateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            offers.extend_critical_date(
                offer.pk, form.cleaned_data["critical_date"],
                booking_period_end=form.cleaned_data["booking_period_end"],
                reason=form.cleaned_data["reason"], actor=request.user,
                organisation=request.tenant, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The critical date has been extended."))
            return redirect("manage:offender", reference=offer.reference)
    return render_page(request, "manage/offenders/extend.html", {"offer": offer, "form": form})


@page("offers.view", "offers.change")
@shows_offenders("manage.offender_withdraw", offer_by_reference())
def withdraw_for(request, reference):
    """The police withdraw the offer: any booking cancelled and refunded, the person told."""
    offer = _offer(reference)
    form = WithdrawOfferForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            withdrawal = withdraw_offer(offer.pk, reason=form.cleaned_data["reason"],
                                        actor=request.user, channel=Channel.ADMIN)
        except BookingRefused as refused:
            form.add_error(None, refused.messages[0])
        else:
            refund = withdrawal.refund_due_pence
            messages.success(request, _("The offer has been withdrawn.") + (
                " " + _("%(amount)s will be refunded to the card it was paid with.") % {
                    "amount": pounds(refund)} if refund else ""))
            return redirect("manage:offender", reference=offer.reference)
    booking = _active_booking(offer)
    refund = fee_paid(booking) if booking and booking.status == Booking.Status.CONFIRMED else 0
    return render_page(request, "manage/offenders/withdraw.html", {
        "offer": offer, "form": form, "booking": booking, "refund": refund,
        "closed": offer.status in CLOSED_OFFER_STATUSES})
