"""The contact-centre console (/contact-centre/ on each client's domain).

Agents find the caller's offer (by reference, by name and date of birth, or by phone), read its
timeline, book, transfer or cancel through booking.services with channel "telephone", log every
call and raise special circumstances for the client's administrators. Every view needs the
"contact_centre.use" action at the client whose domain answered; views that change bookings
need "bookings.book" as well. Views stay thin: the rules live in booking.services.
"""

import math
from datetime import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.permissions import is_allowed, requires_action
from accounts.roles import Role
from audit.services import client_ip
from booking.models import (
    Booking,
    CallLog,
    Channel,
    CourseSession,
    Offer,
)
from booking.services.access_log import (
    listed,
    lists_offenders,
    offer_by_reference,
    offer_of_booking,
    shows_offenders,
)
from booking.services.bookings import (
    ContactDetails,
    FeeWaiver,
    book,
    booking_made_with,
    seat_held_for,
)
from booking.services.calls import log_call
from booking.services.cases import open_case, raise_special_circumstances
from booking.services.changes import cancel_booking, refund_due
from booking.services.changes import transfer_booking as transfer_service
from booking.services.refunds import refund_promised
from booking.services.request_keys import new_request_key, posted_request_key
from booking.services.rules import BookingRefused, fee_breakdown, transfer_fee
from booking.services.search import (
    find_offers,
    offer_search,
    offer_with_reference,
    search_sessions,
)
from booking.templatetags.booking_format import pounds
from booking.timeline import offer_timeline
from integrations import postcodes
from tenants.client_session import ClientSessionData
from tenants.opening_hours import phone_lines
from tenants.site_urls import client_site_urls

from .forms import (
    CallLogForm,
    CancelForm,
    NameSearchForm,
    PhoneBookingForm,
    PhoneSearchForm,
    ReferenceSearchForm,
    SessionFilterForm,
    SpecialCircumstancesForm,
    TransferForm,
)

CONSOLE = "contact_centre.use"
BOOK = "bookings.book"
WAIVE = "bookings.waive_fee"
CALL_KEY = "contact_centre_call"

# What an agent most likely logs after each action; the agent can change both.
CALL_DEFAULTS = {
    "booked": (CallLog.Type.NEW_BOOKING, CallLog.Outcome.BOOKED),
    "transferred": (CallLog.Type.TRANSFER, CallLog.Outcome.TRANSFERRED),
    "cancelled": (CallLog.Type.CANCELLATION, CallLog.Outcome.CANCELLED),
}


# --- helpers ---------------------------------------------------------------------------------


def _offer(reference: str) -> Offer:
    offer = Offer.objects.select_related("course_type").filter(reference=reference).first()
    if offer is None:
        raise Http404
    return offer


def _booking(reference: str) -> Booking:
    booking = (Booking.objects.select_related("offer__course_type", "session__venue",
                                              "session__course_type")
               .filter(reference=reference).first())
    if booking is None:
        raise Http404
    return booking


def _active_booking(offer: Offer) -> Booking | None:
    return (Booking.objects.select_related("session__venue", "session__course_type")
            .filter(offer=offer, status__in=Booking.ACTIVE).first())


def _posted(request):
    """The form data of a POST (even an empty one, so it is checked), or None."""
    return request.POST if request.method == "POST" else None


def _language(request) -> str:
    return getattr(request, "LANGUAGE_CODE", "en-gb")


def _start_call(request, offer: Offer) -> None:
    """Remember when the agent started on this caller, to suggest the call's length."""
    call = ClientSessionData(request, CALL_KEY)
    current = call.get()
    if not current or current.get("offer") != offer.pk:
        call.set({"offer": offer.pk, "started": timezone.now().isoformat()})


def _call_started(request, offer: Offer | None) -> datetime | None:
    current = ClientSessionData(request, CALL_KEY).get()
    if not current or offer is None or current.get("offer") != offer.pk:
        return None
    try:
        return datetime.fromisoformat(current["started"])
    except (KeyError, TypeError, ValueError):
        return None


def _end_call(request) -> None:
    ClientSessionData(request, CALL_KEY).pop()


def _minutes_since(started: datetime | None) -> int | None:
    if started is None:
        return None
    seconds = (timezone.now() - started).total_seconds()
    return max(1, min(CallLog.MAX_MINUTES, math.ceil(seconds / 60)))


def _search_options(request, offer: Offer):
    """The filter form (from the query string) and the bookable dates it finds."""
    initial_postcode = offer.postcode if "mode" not in request.GET else ""
    data = request.GET.copy() if "mode" in request.GET else {
        "mode": "classroom", "postcode": initial_postcode}
    form = SessionFilterForm(data)
    options = []
    if form.is_valid():
        cleaned = form.cleaned_data
        try:
            options = search_sessions(offer, near_postcode=cleaned["postcode"],
                                      online=cleaned["mode"] == "online",
                                      welsh_only=cleaned["welsh_only"],
                                      sort="distance" if cleaned["postcode"] else "date")
        except postcodes.PostcodeError as error:
            form.add_error("postcode", error.messages[0])
            options = []
    return form, options


def _refused(request, refused: BookingRefused) -> None:
    messages.error(request, refused.messages[0])


def _can_waive(request) -> bool:
    return is_allowed(request.user, request.tenant, WAIVE)


def _waiver(given: dict) -> FeeWaiver | None:
    """The fee waiver the form asked for (only offered to roles that may waive)."""
    return FeeWaiver(given["waiver_reason"]) if given.get("waive_fee") else None


# --- finding the caller ----------------------------------------------------------------------


@requires_action(CONSOLE)
@lists_offenders("contact_centre.home")
def home(request):
    by = request.POST.get("by") if request.method == "POST" else None
    forms = {
        "reference": ReferenceSearchForm(request.POST if by == "reference" else None),
        "name": NameSearchForm(request.POST if by == "name" else None),
        "phone": PhoneSearchForm(request.POST if by == "phone" else None),
    }
    results = None
    status = 200
    error_form = None
    if by in forms:
        form = forms[by]
        if not form.is_valid():
            status = 400
            error_form = form
        elif by == "reference":
            offer = offer_with_reference(form.cleaned_data["reference"])
            if offer is not None:
                return redirect("contact_centre:offer", reference=offer.reference)
            form.add_error("reference", _("No offer or booking has that reference. Check it "
                                          "with the caller, or search by name and date of "
                                          "birth."))
            status = 404
            error_form = form
        elif by == "name":
            given = form.cleaned_data
            results = find_offers(offer_search(last_name=given["last_name"],
                                               first_name=given["first_name"],
                                               date_of_birth=given["date_of_birth"]))
        else:
            results = find_offers(offer_search(phone=form.cleaned_data["phone"]))
    listed(request, results or ())
    return render(request, "contact_centre/home.html", {
        "forms": forms, "by": by, "results": results, "lines": phone_lines(request.tenant),
        "error_form": error_form,
    }, status=status)


@requires_action(CONSOLE)
def clients(request):
    """The clients this agent serves, each a link to its own console."""
    memberships = (Membership.objects.filter(
        user=request.user, is_active=True, role=Role.CONTACT_CENTRE_AGENT,
        organisation__is_template=False, organisation__status__in=["live", "onboarding"])
        .select_related("organisation").order_by("organisation__name"))
    organisations = [m.organisation for m in memberships]
    sites = client_site_urls(organisations)
    path = reverse("contact_centre:home")
    rows = [{"organisation": organisation, "url": sites[organisation.pk] + path,
             "current": organisation.pk == request.tenant.pk,
             "lines": phone_lines(organisation)} for organisation in organisations]
    return render(request, "contact_centre/clients.html", {"rows": rows})


# --- the offer -------------------------------------------------------------------------------


@requires_action(CONSOLE)
@shows_offenders("contact_centre.offer", offer_by_reference())
def offer_detail(request, reference):
    offer = _offer(reference)
    _start_call(request, offer)
    bookings = list(offer.bookings.select_related("session__venue", "session__course_type")
                    .order_by("-created_at"))
    active = next((b for b in bookings if b.status in Booking.ACTIVE), None)
    return render(request, "contact_centre/offer.html", {
        "offer": offer, "active": active, "bookings": bookings,
        "timeline": offer_timeline(offer),
        "calls": offer.calls.all()[:20], "language": _language(request),
        "can_book": offer.status == Offer.Status.OFFERED and active is None,
        "open_case": open_case(offer),
    })


@requires_action(CONSOLE)
@requires_action(BOOK)
@shows_offenders("contact_centre.book", offer_by_reference())
def book_offer(request, reference):
    offer = _offer(reference)
    key = posted_request_key(request.POST)
    earlier = booking_made_with(offer.pk, key)
    if earlier is not None:  # a double click or a retry: the booking the first one made
        return redirect("contact_centre:booking", reference=earlier.reference)
    if _active_booking(offer) is not None:
        messages.info(request, _("This offer already has a booking."))
        return redirect("contact_centre:offer", reference=offer.reference)
    filters, options = _search_options(request, offer)
    form = PhoneBookingForm(_posted(request), can_waive=_can_waive(request), initial={
        "email": offer.email, "phone": offer.phone, "language": offer.language,
        "access": offer.access_requirements, "access_notes": offer.access_notes})
    if not request.tenant.is_bilingual:
        form.fields["language"].choices = [("en", _("English"))]
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            booking = _book_by_phone(request, offer, form.cleaned_data, key)
        except BookingRefused as refused:
            error = refused.messages[0]
            filters, options = _search_options(request, offer)
        else:
            if booking.status == Booking.Status.CONFIRMED:
                messages.success(request, _("Booked. The booking reference is %(reference)s.")
                                 % {"reference": booking.reference})
            else:
                messages.success(request, _("Booked. The place is held while you take payment. "
                                            "The booking reference is %(reference)s.")
                                 % {"reference": booking.reference})
            return redirect("contact_centre:booking", reference=booking.reference)
    status = 400 if (error or form.errors) else 200
    return render(request, "contact_centre/book.html", {
        "offer": offer, "filters": filters, "options": options, "form": form, "error": error,
        "fees": fee_breakdown(offer.course_type), "language": _language(request),
        "chosen": str(form["session"].value() or ""), "request_key": key or new_request_key(),
    }, status=status)


def _book_by_phone(request, offer: Offer, given: dict, request_key: str | None) -> Booking:
    if not CourseSession.objects.filter(pk=given["session"]).exists():
        raise BookingRefused(_("That course date does not exist. Choose another date."),
                             "unknown_session")
    return book(offer.pk, channel=Channel.TELEPHONE, actor=request.user,
                session_id=given["session"], waiver=_waiver(given), request_key=request_key,
                details=ContactDetails(
                    email=given["email"], phone=given["phone"], language=given["language"],
                    access_requirements=tuple(given["access"]),
                    access_notes=given["access_notes"]))


# --- a booking -------------------------------------------------------------------------------


@requires_action(CONSOLE)
@shows_offenders("contact_centre.booking", offer_of_booking())
def booking_detail(request, reference):
    booking = _booking(reference)
    _start_call(request, booking.offer)
    return render(request, "contact_centre/booking.html", {
        "booking": booking, "offer": booking.offer, "session": booking.session,
        "language": _language(request), "refund": refund_due(booking, timezone.now()),
        "transfer_fee": (booking.fee_snapshot or {}).get("transfer_fee_pence", 0),
        "log_defaults": _log_query(booking),
        "hold": seat_held_for(booking) if booking.status in Booking.AWAITING_PAYMENT else None,
    })


def _log_query(booking: Booking) -> str:
    """The "log this call" link for a booking, with the likely type and outcome filled in."""
    made = {Booking.Status.PENDING_PAYMENT: "booked", Booking.Status.CONFIRMED: "booked",
            Booking.Status.CANCELLED: "cancelled"}.get(booking.status)
    if booking.transferred_from_id and booking.status in Booking.ACTIVE:
        made = "transferred"
    call_type, outcome = CALL_DEFAULTS.get(made, ("", ""))
    return urlencode({"type": call_type, "outcome": outcome, "booking": booking.reference})


@requires_action(CONSOLE)
@requires_action(BOOK)
@shows_offenders("contact_centre.transfer", offer_of_booking())
def transfer(request, reference):
    booking = _booking(reference)
    offer = booking.offer
    if booking.status != Booking.Status.CONFIRMED:
        messages.error(request, _("Only a confirmed booking can be moved to another date."))
        return redirect("contact_centre:booking", reference=booking.reference)
    fee = transfer_fee(booking, timezone.now())
    filters, options = _search_options(request, offer)
    options = [o for o in options if o.session.pk != booking.session_id]
    form = TransferForm(_posted(request), fee_pence=fee, can_waive=_can_waive(request))
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            new = transfer_service(booking.pk, form.cleaned_data["session"],
                                   channel=Channel.TELEPHONE, actor=request.user,
                                   waiver=_waiver(form.cleaned_data))
        except BookingRefused as refused:
            error = refused.messages[0]
        else:
            if new.status == Booking.Status.TRANSFER_PENDING:
                messages.success(request, _(
                    "The new date is held while you take the transfer fee. The booking moves "
                    "once it is paid; until then the caller keeps the current date."))
                return redirect("agent_payments:take", reference=new.reference)
            messages.success(request, _("Moved to the new date. The new booking reference is "
                                        "%(reference)s.") % {"reference": new.reference})
            return redirect("contact_centre:booking", reference=new.reference)
    return render(request, "contact_centre/transfer.html", {
        "booking": booking, "offer": offer, "filters": filters, "options": options,
        "form": form, "error": error, "fee": fee, "language": _language(request),
        "chosen": str(form["session"].value() or ""),
    }, status=400 if (error or form.errors) else 200)


@requires_action(CONSOLE)
@requires_action(BOOK)
@shows_offenders("contact_centre.cancel", offer_of_booking())
def cancel(request, reference):
    booking = _booking(reference)
    if booking.status not in Booking.ACTIVE:
        messages.error(request, _("This booking is not active, so it cannot be cancelled."))
        return redirect("contact_centre:booking", reference=booking.reference)
    form = CancelForm(_posted(request))
    refund = refund_due(booking, timezone.now()) if booking.status == Booking.Status.CONFIRMED \
        else 0
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = cancel_booking(booking.pk, channel=Channel.TELEPHONE, actor=request.user,
                                       reason=form.cleaned_data["reason"])
        except BookingRefused as refused:
            _refused(request, refused)
            return redirect("contact_centre:booking", reference=booking.reference)
        message = _("The booking has been cancelled.")
        due = refund_promised(cancelled.pk)
        if due:
            message += " " + _("%(amount)s will be refunded to the card it was paid with.") % {
                "amount": pounds(due)}
        messages.success(request, message)
        return redirect("contact_centre:booking", reference=cancelled.reference)
    return render(request, "contact_centre/cancel.html", {
        "booking": booking, "offer": booking.offer, "session": booking.session, "form": form,
        "refund": refund, "language": _language(request),
    }, status=400 if form.errors else 200)


# --- calls -----------------------------------------------------------------------------------


@requires_action(CONSOLE)
@shows_offenders("contact_centre.log_call", offer_by_reference())
def log_offer_call(request, reference=None):
    """Log a call: about an offer (reached from its page) or a quick log for any call."""
    offer = _offer(reference) if reference else None
    booking = None
    if offer is not None and request.GET.get("booking"):
        booking = offer.bookings.filter(reference=request.GET["booking"]).first()
    started = _call_started(request, offer)
    call_type, outcome = request.GET.get("type", ""), request.GET.get("outcome", "")
    form = CallLogForm(_posted(request), with_reference=offer is None, initial={
        "call_type": call_type if call_type in CallLog.Type.values else "",
        "outcome": outcome if outcome in CallLog.Outcome.values else "",
        "duration_minutes": _minutes_since(started)})
    if request.method == "POST" and form.is_valid():
        about = offer
        given = form.cleaned_data
        if about is None and given.get("offer_reference"):
            about = offer_with_reference(given["offer_reference"])
            if about is None:
                form.add_error("offer_reference", _("No offer or booking has that reference. "
                                                    "Leave it empty if the call was not about "
                                                    "an offer."))
        if not form.errors:
            try:
                log_call(actor=request.user, call_type=given["call_type"],
                         outcome=given["outcome"], duration_minutes=given["duration_minutes"],
                         notes=given["notes"], offer_id=about.pk if about else None,
                         booking_id=booking.pk if booking else None,
                         started_at=_call_started(request, about))
            except BookingRefused as refused:
                form.add_error(None, refused.messages[0])
            else:
                _end_call(request)
                messages.success(request, _("The call has been logged."))
                if about is not None:
                    return redirect("contact_centre:offer", reference=about.reference)
                return redirect("contact_centre:home")
    return render(request, "contact_centre/log_call.html", {
        "form": form, "offer": offer, "booking": booking,
    }, status=400 if form.errors else 200)


@requires_action(CONSOLE)
@shows_offenders("contact_centre.special_circumstances", offer_by_reference())
def special_circumstances(request, reference):
    offer = _offer(reference)
    current_case = open_case(offer)
    form = SpecialCircumstancesForm(_posted(request), initial={
        "duration_minutes": _minutes_since(_call_started(request, offer))})
    if request.method == "POST" and form.is_valid():
        given = form.cleaned_data
        try:
            _call, case = raise_special_circumstances(
                offer.pk, actor=request.user, kind=given["kind"], details=given["details"],
                duration_minutes=given["duration_minutes"], organisation=request.tenant,
                ip_address=client_ip(request), started_at=_call_started(request, offer))
        except BookingRefused as refused:
            form.add_error(None, refused.messages[0])
        else:
            _end_call(request)
            if case is not None:
                messages.success(request, _("A case has been opened for the client's "
                                            "administrators and the call has been logged. Tell "
                                            "the caller the administrators will decide and "
                                            "contact them."))
            else:
                messages.success(request, _("Added for the administrators to the offer's open "
                                            "case, and the call has been logged."))
            return redirect("contact_centre:offer", reference=offer.reference)
    return render(request, "contact_centre/special_circumstances.html", {
        "form": form, "offer": offer, "open_case": current_case},
        status=400 if form.errors else 200)
