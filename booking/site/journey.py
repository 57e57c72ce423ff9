"""The public booking journey: find your offer → where → date → your details → check → book →
confirmation, and manage my booking (transfer, cancel). Views are thin: every change goes
through booking.services; the person's place in the journey lives in their session."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from audit.services import client_ip
from booking.models import Booking, Channel, CourseSession, Hold, Offer
from booking.notifications import current_client
from booking.notifications.compose import build_calendar
from booking.notifications.letters import receipt_for, receipt_pdf
from booking.services import request_keys
from booking.services.bookings import (
    ContactDetails,
    book,
    booking_made_with,
    change_contact_details,
    place_hold,
)
from booking.services.changes import cancel_booking, fee_paid, refund_due, transfer_booking
from booking.services.measures import count_journey_start
from booking.services.offers import example_reference, find_offer
from booking.services.refunds import refund_promised
from booking.services.rules import BookingRefused, fee_breakdown, transfer_fee
from booking.services.search import TIMES_OF_DAY, WEEKDAYS, group_sessions, search_sessions
from booking.templatetags.booking_format import pounds
from tenants.client_session import ClientSessionData

from . import lookup_limits, payments
from .forms import ChooseSessionForm, ContactForm, DetailsForm, FindOfferForm, WhereForm
from .taking_bookings import bookings_open_to, not_taking_bookings_page, while_taking_bookings

JOURNEY = "offer_journey"
JOURNEY_MINUTES = 30
# How stale the journey's expiry may be before a page restamps it (so it lasts between 29 and
# 30 minutes after the last page).
JOURNEY_RESTAMP_SECONDS = 60
ACTOR = "offender"


# --- the journey's session ---------------------------------------------------------------

def _journey_data(request) -> ClientSessionData:
    return ClientSessionData(request, JOURNEY)


def _start_journey(request, offer: Offer) -> None:
    request.session.cycle_key()  # a fresh session id once the person has proved who they are
    _journey_data(request).set({
        "offer": offer.pk, "reference": offer.reference,
        "until": (timezone.now() + timedelta(minutes=JOURNEY_MINUTES)).isoformat()})


def _journey(request) -> dict | None:
    stored = _journey_data(request)
    state = stored.get()
    if not state:
        return None
    try:
        until = timezone.datetime.fromisoformat(state["until"])
    except (KeyError, TypeError, ValueError):
        until = None
    now = timezone.now()
    if until is None or until < now:
        stored.pop()
        return None
    # Every page visited keeps the journey alive for another 30 minutes, restamped at most once
    # a minute: a page that changes nothing else then does not write the session (issue 13).
    renewed = now + timedelta(minutes=JOURNEY_MINUTES)
    if renewed - until >= timedelta(seconds=JOURNEY_RESTAMP_SECONDS):
        state["until"] = renewed.isoformat()
        stored.touch()
    return state


def _offer_or_restart(request):
    state = _journey(request)
    if state is None:
        return None, None
    # The reference as well as the id: the person proved this offer, not whichever row has its id.
    offer = (Offer.objects.select_related("course_type")
             .filter(pk=state.get("offer"), reference=state.get("reference")).first())
    return state, offer


def needs_offer(view):
    def wrapped(request, *args, **kwargs):
        state, offer = _offer_or_restart(request)
        if offer is None:
            messages.info(request, _("For your security, we have cleared your answers. "
                                     "Find your offer again to carry on."))
            return redirect("journey:find")
        return view(request, state, offer, *args, **kwargs)
    wrapped.__name__ = view.__name__
    return wrapped


def _active_booking(offer):
    return (Booking.objects.select_related("session__venue", "session__course_type")
            .filter(offer=offer, status__in=Booking.ACTIVE).first())


def _language(request) -> str:
    return getattr(request, "LANGUAGE_CODE", "en-gb")


# --- pages --------------------------------------------------------------------------------

def find(request):
    form = FindOfferForm(request.POST or None)
    example = example_reference()
    form.fields["reference"].help_text = (
        _("This is on the letter the police sent you, for example %(reference)s")
        % {"reference": example} if example else _("This is on the letter the police sent you"))
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        reference = form.cleaned_data["reference"]
        refused = lookup_limits.refusal(ip, reference)
        if refused is not None:
            response = render(request, "journey/locked.html", {"refusal": refused}, status=429)
            response["Retry-After"] = str(refused.wait_seconds or lookup_limits.WINDOW_SECONDS)
            return response
        offer = find_offer(reference, form.cleaned_data["date_of_birth"],
                           form.cleaned_data["postcode"])
        if offer is None:
            lookup_limits.record_failure(ip, reference)
            form.add_error(None, _("We cannot find an offer with those details. Check the "
                                   "reference and date of birth match your letter."))
        else:
            lookup_limits.record_success(ip, reference)
            _start_journey(request, offer)
            if _active_booking(offer) or offer.status != Offer.Status.OFFERED:
                return redirect("journey:manage")
            if not bookings_open_to(request):
                return not_taking_bookings_page(request)
            count_journey_start()  # completion rate: journeys started (a count, no one named)
            return redirect("journey:where")
    return render(request, "journey/find.html", {"form": form})


@while_taking_bookings
@needs_offer
def where(request, state, offer):
    initial = {"mode": state.get("mode"), "postcode": state.get("postcode") or offer.postcode,
               "welsh_only": state.get("welsh_only", False)}
    form = WhereForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        state.update(mode=form.cleaned_data["mode"], postcode=form.cleaned_data.get("postcode", ""),
                     welsh_only=bool(form.cleaned_data.get("welsh_only")))
        request.session.modified = True
        return redirect(reverse("journey:dates") + _return_to(request))
    return render(request, "journey/where.html", {"form": form, "offer": offer,
                                                  "modes": offer.course_type.delivery_modes})


def _return_to(request) -> str:
    """Carries ?purpose=transfer through the search pages when changing a booking, and
    ?return=check when a "Change" link on Check your answers began the detour."""
    if request.GET.get("purpose") == "transfer":
        return "?purpose=transfer"
    return "?return=check" if request.GET.get("return") == "check" else ""


def order_language_choices(form, request) -> None:
    """The letter-language radios: English only on an English-only site; on a bilingual one,
    the page's own language first (Cymraeg before Saesneg on a Welsh page)."""
    field = form.fields["language"]
    if not request.tenant.is_bilingual:
        field.choices = [("en", _("English"))]
    elif _language(request).startswith("cy"):
        field.choices = [("cy", _("Welsh")), ("en", _("English"))]


DAY_CHOICES = [("mon", _lazy("Monday")), ("tue", _lazy("Tuesday")),
               ("wed", _lazy("Wednesday")), ("thu", _lazy("Thursday")),
               ("fri", _lazy("Friday")), ("sat", _lazy("Saturday")), ("sun", _lazy("Sunday"))]
TIME_CHOICES = [("morning", _lazy("Morning (starts before 12:00)")),
                ("afternoon", _lazy("Afternoon (starts 12:00 to 16:59)")),
                ("evening", _lazy("Evening (starts 17:00 or later)"))]


@while_taking_bookings
@needs_offer
def dates(request, state, offer):
    transferring = request.GET.get("purpose") == "transfer"
    if "mode" not in state:
        return redirect(reverse("journey:where") + _return_to(request))
    sort = request.GET.get("sort", "distance" if state["mode"] == "classroom" else "date")
    # The filter is a plain GET form (no script needed): days of the week, times of day, and
    # whether dates are grouped by venue or by week.
    days = [day for day in request.GET.getlist("day") if day in WEEKDAYS]
    times = [part for part in request.GET.getlist("time") if part in TIMES_OF_DAY]
    group_by = request.GET.get("group")
    if group_by not in ("venue", "week"):
        group_by = "venue" if state["mode"] == "classroom" else "week"
    search = {"near_postcode": state.get("postcode", ""), "online": state["mode"] == "online",
              "welsh_only": state.get("welsh_only", False), "sort": sort, "weekdays": days,
              "times_of_day": times}
    form = ChooseSessionForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        session_id = form.cleaned_data["session"]
        try:
            if transferring:
                state["transfer_to"] = session_id
                request.session.modified = True
                return redirect("journey:transfer_check")
            place_hold(offer.pk, session_id, channel=Channel.ONLINE, actor=ACTOR)
            if request.GET.get("return") == "check" and "details" in state:
                return redirect("journey:check")
        except BookingRefused as refused:
            error = refused.messages[0]
        else:
            return redirect("journey:details")
    elif request.method == "POST":
        error = form.errors["session"][0]
    # Searched only for the page shown: a hold that succeeds redirects without it, and a
    # refused one shows the dates as they are after it (who else took the seat).
    options = search_sessions(offer, **search)
    return render(request, "journey/dates.html", {
        "offer": offer, "options": options, "error": error, "sort": sort, "state": state,
        "transferring": transferring, "language": _language(request),
        "fees": fee_breakdown(offer.course_type),
        "groups": group_sessions(options, group_by), "group_by": group_by,
        "days": days, "times": times, "filtered": bool(days or times),
        "carry": _return_to(request), "day_choices": DAY_CHOICES, "time_choices": TIME_CHOICES,
    }, status=400 if error else 200)


def _live_hold(offer):
    return (Hold.objects.select_related("session__venue", "session__course_type")
            .filter(offer=offer, expires_at__gt=timezone.now()).first())


def _hold_ran_out(request):
    messages.info(request, _("Your seat was held for 15 minutes and the time ran out. "
                             "Choose a date again."))
    return redirect("journey:dates")


@while_taking_bookings
@needs_offer
def details(request, state, offer):
    hold = _live_hold(offer)
    if hold is None:
        return _hold_ran_out(request)
    saved = state.get("details") or {
        "email": offer.email, "phone": offer.phone, "language": offer.language,
        "access": offer.access_requirements, "access_notes": offer.access_notes}
    form = DetailsForm(request.POST or None, initial=saved)
    order_language_choices(form, request)
    if request.method == "POST" and form.is_valid():
        state["details"] = form.cleaned_data
        request.session.modified = True
        return redirect("journey:check")
    return render(request, "journey/details.html", {"form": form, "hold": hold, "offer": offer})


@while_taking_bookings
@needs_offer
def check(request, state, offer):
    key = _request_key(request, state)
    if request.method == "POST":
        earlier = booking_made_with(offer.pk, key)
        if earlier is not None:  # a double click, a retry or a second tab: the first's result
            return _booked(earlier)
    hold = _live_hold(offer)
    if hold is None:
        return _hold_ran_out(request)
    if "details" not in state:
        return redirect("journey:details")
    fees = fee_breakdown(hold.session.course_type)
    if request.method == "POST":
        given = state["details"]
        try:
            booking = book(offer.pk, channel=Channel.ONLINE, actor=ACTOR, request_key=key,
                           details=ContactDetails(
                               email=given["email"], phone=given["phone"],
                               language=given["language"],
                               access_requirements=tuple(given.get("access") or ()),
                               access_notes=given.get("access_notes", "")))
        except BookingRefused as refused:
            messages.error(request, refused.messages[0])
            return redirect("journey:dates")
        state.pop("details", None)
        state.pop(request_keys.FIELD, None)  # the next check page books afresh
        request.session.modified = True
        return _booked(booking)
    return render(request, "journey/check.html", {
        "offer": offer, "hold": hold, "session": hold.session, "fees": fees,
        "details": state["details"], "language": _language(request), "request_key": key,
    })


def _request_key(request, state) -> str:
    """The check page's one-time key: the one its form posted, else the journey's, which every
    tab's check page shares until it has booked."""
    posted = request_keys.posted_request_key(request.POST)
    if posted:
        return posted
    if not state.get(request_keys.FIELD):
        state[request_keys.FIELD] = request_keys.new_request_key()
        request.session.modified = True
    return state[request_keys.FIELD]


def _booked(booking: Booking):
    if booking.status == Booking.Status.CONFIRMED:
        return redirect("journey:confirmation", reference=booking.reference)
    return redirect("journey:pay", reference=booking.reference)


def _own_booking(offer, reference) -> Booking:
    booking = (Booking.objects.select_related("session__venue", "session__course_type")
               .filter(offer=offer, reference=reference).first())
    if booking is None:
        raise Http404
    return booking


def _pay_urls(reference):
    return {"pay": reverse("journey:pay", args=[reference]),
            "card": reverse("journey:pay_card", args=[reference]),
            "return": reverse("journey:pay_return", args=[reference]),
            "done": reverse("journey:confirmation", args=[reference])}


@needs_offer
def pay(request, state, offer, reference):
    return payments.render_payment_page(request, _own_booking(offer, reference),
                                        urls=_pay_urls(reference), actor=ACTOR)


@require_POST
@needs_offer
def pay_card(request, state, offer, reference):
    return payments.card_token(request, _own_booking(offer, reference),
                               urls=_pay_urls(reference), actor=ACTOR)


@needs_offer
def pay_return(request, state, offer, reference):
    return payments.returned(request, _own_booking(offer, reference),
                             urls=_pay_urls(reference), actor=ACTOR)


@needs_offer
def confirmation(request, state, offer, reference):
    booking = _own_booking(offer, reference)
    return render(request, "journey/confirmation.html", {
        "booking": booking, "offer": offer, "session": booking.session,
        "language": _language(request)})


def _page_language(request) -> str:
    """"cy" or "en" for documents: the page's language on a bilingual site, else English."""
    return "cy" if request.tenant.is_bilingual and _language(request).startswith("cy") else "en"


@needs_offer
def confirmation_calendar(request, state, offer, reference):
    booking = _own_booking(offer, reference)
    if booking.status != Booking.Status.CONFIRMED:
        raise Http404
    language = _page_language(request)
    with translation.override(language):
        content = build_calendar(booking, current_client(), language)
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="course-{booking.reference}.ics"'
    return response


def _paid_booking(offer, reference) -> Booking:
    booking = _own_booking(offer, reference)
    if booking.status != Booking.Status.CONFIRMED:
        raise Http404
    return booking


@needs_offer
def receipt(request, state, offer, reference):
    booking = _paid_booking(offer, reference)
    return render(request, "journey/receipt.html", {
        "booking": booking, "receipt": receipt_for(booking, request.tenant,
                                                   _page_language(request))})


@needs_offer
def receipt_download(request, state, offer, reference):
    booking = _paid_booking(offer, reference)
    response = HttpResponse(receipt_pdf(booking, request.tenant, _page_language(request)),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{booking.reference}.pdf"'
    return response


@needs_offer
def contact_details(request, state, offer):
    """Change how we reach the person, and the language of their letters, after booking."""
    form = ContactForm(request.POST or None, initial={
        "email": offer.email, "phone": offer.phone, "language": offer.language})
    order_language_choices(form, request)
    if request.method == "POST" and form.is_valid():
        try:
            change_contact_details(offer.pk, email=form.cleaned_data["email"],
                                   phone=form.cleaned_data["phone"],
                                   language=form.cleaned_data["language"],
                                   channel=Channel.ONLINE, actor=ACTOR)
        except BookingRefused as refused:
            form.add_error(None, refused.messages[0])
        else:
            messages.success(request, _("Your contact details have been saved."))
            return redirect("journey:manage")
    return render(request, "journey/contact_details.html", {"form": form, "offer": offer},
                  status=400 if form.errors else 200)


@needs_offer
def manage(request, state, offer):
    booking = _active_booking(offer)
    history = offer.bookings.exclude(pk=getattr(booking, "pk", None)).select_related("session")
    return render(request, "journey/manage.html", {
        "offer": offer, "booking": booking, "history": history, "language": _language(request)})


@needs_offer
def transfer_start(request, state, offer):
    booking = _active_booking(offer)
    if booking is None or booking.status != Booking.Status.CONFIRMED:
        return redirect("journey:manage")
    state.setdefault("mode", "online" if booking.session.is_online else "classroom")
    if booking.session.venue_id and not state.get("postcode"):
        state["postcode"] = booking.session.venue.postcode
    request.session.modified = True
    return redirect(reverse("journey:where") + "?purpose=transfer")


@needs_offer
def transfer_check(request, state, offer):
    booking = _active_booking(offer)
    target = CourseSession.objects.select_related("venue", "course_type").filter(
        pk=state.get("transfer_to")).first()
    if booking is None or target is None:
        return redirect("journey:manage")
    if request.method == "POST":
        try:
            new = transfer_booking(booking.pk, target.pk, channel=Channel.ONLINE, actor=ACTOR)
        except BookingRefused as refused:
            messages.error(request, refused.messages[0])
            return redirect("journey:manage")
        state.pop("transfer_to", None)
        request.session.modified = True
        if new.status == Booking.Status.TRANSFER_PENDING:
            # The move is made once its fee is paid: the same payment page as a booking's.
            return redirect("journey:pay", reference=new.reference)
        messages.success(request, _("Your booking has been moved. Your new booking reference "
                                    "is %(reference)s.") % {"reference": new.reference})
        return redirect("journey:manage")
    return render(request, "journey/transfer_check.html", {
        "offer": offer, "booking": booking, "target": target,
        "fee": transfer_fee(booking, timezone.now()), "language": _language(request)})


@needs_offer
def cancel(request, state, offer):
    booking = _active_booking(offer)
    if booking is None:
        return redirect("journey:manage")
    if request.method == "POST":
        try:
            cancelled = cancel_booking(booking.pk, channel=Channel.ONLINE, actor=ACTOR,
                                       reason="Cancelled online by the person booked")
        except BookingRefused as refused:
            messages.error(request, refused.messages[0])
            return redirect("journey:manage")
        due = refund_promised(cancelled.pk)
        messages.success(request, _("Your booking has been cancelled.") + (
            " " + _("We will refund %(amount)s to the card you paid with.") % {
                "amount": pounds(due)} if due else ""))
        return redirect("journey:manage")
    return render(request, "journey/cancel.html", {
        "offer": offer, "booking": booking, "refund": refund_due(booking, timezone.now()),
        "paid": fee_paid(booking)})


@require_POST
def sign_out(request):
    _journey_data(request).pop()
    return redirect("site:start")


