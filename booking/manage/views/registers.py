"""Registers: who is booked on a course date, with their access requirements; trainers record
each person's outcome and the ID they showed. A trainer sees only their own dates."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.form_fields import ACCESS_CHOICES
from booking.models import Booking, CourseSession, OfferEvent
from booking.services.access_log import offers_on_session, shows_offenders
from booking.services.offers import record_outcome
from booking.services.rules import BookingRefused

from ..access import page, render_page, sees_only_own_sessions
from ..forms import ID_CHOICES, OUTCOMES, OutcomeForm

ON_REGISTER = (Booking.Status.CONFIRMED, Booking.Status.COMPLETED, Booking.Status.DID_NOT_ATTEND,
               Booking.Status.REFUSED_ENTRY, Booking.Status.NOT_COMPLETED)
ACCESS_LABELS = dict(ACCESS_CHOICES)
ID_LABELS = dict(ID_CHOICES)


def visible_sessions(request):
    sessions = (CourseSession.objects.select_related("course_type", "venue")
                .prefetch_related("trainers"))
    if sees_only_own_sessions(request):
        sessions = sessions.filter(trainers__user_id=request.user.pk).distinct()
    return sessions


@page("registers.view")
def register_list(request):
    today = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    sessions = visible_sessions(request)
    upcoming = sessions.filter(starts_at__gte=today,
                               starts_at__lt=today + timedelta(days=15)).order_by("starts_at")
    recent = sessions.filter(starts_at__gte=today - timedelta(days=14),
                             starts_at__lt=today).order_by("-starts_at")
    return render_page(request, "manage/registers/list.html",
                       {"upcoming": upcoming, "recent": recent})


def _choice_for(booking, recorded) -> str:
    if booking.status == Booking.Status.REFUSED_ENTRY:
        return "refused_no_id" if recorded.get("id_seen") == "none" else "refused_late"
    return booking.status if booking.status in OUTCOMES else ""


def attendees(session) -> list[dict]:
    bookings = list(session.bookings.select_related("offer").filter(status__in=ON_REGISTER)
                    .order_by("offer__last_name", "offer__first_name", "pk"))
    recorded = {}
    for event in (OfferEvent.objects.filter(booking__in=bookings,
                                            kind="booking.outcome_recorded")
                  .order_by("occurred_at", "pk")):
        recorded[event.booking_id] = event.after or {}
    rows = []
    for booking in bookings:
        after = recorded.get(booking.pk, {})
        offer = booking.offer
        rows.append({
            "booking": booking, "offer": offer,
            "access": [ACCESS_LABELS.get(code, code) for code in offer.access_requirements or []],
            "initial": {"outcome": _choice_for(booking, after), "id_seen": after.get("id_seen", ""),
                        "note": after.get("note", "")},
            "id_label": ID_LABELS.get(after.get("id_seen", ""), after.get("id_seen", "")),
        })
    return rows


def _session(request, session_id) -> CourseSession:
    return get_object_or_404(visible_sessions(request), pk=session_id)


@page("registers.view", "registers.record")
@shows_offenders("manage.register", offers_on_session())
def register(request, session_id):
    session = _session(request, session_id)
    now = timezone.now()
    started = session.starts_at <= now
    rows = attendees(session)
    for row in rows:
        row["form"] = OutcomeForm(request.POST if request.method == "POST" else None,
                                  initial=row["initial"], prefix=f"b{row['booking'].pk}")
    valid = [row["form"].is_valid() for row in rows] if request.method == "POST" else []
    if request.method == "POST" and not started:
        messages.error(request, _("Outcomes can be recorded once the course has started."))
        return redirect("manage:register", session_id=session.pk)
    if request.method == "POST" and all(valid):
        saved, failed = 0, False
        for row in rows:
            form, initial = row["form"], row["initial"]
            choice = form.cleaned_data["outcome"]
            changed = any(form.cleaned_data[k] != initial[k] for k in initial)
            if not changed:
                continue
            if not choice:
                form.add_error("outcome", _("An outcome cannot be removed: choose the right "
                                            "one"))
                failed = True
                continue
            status, _reason = OUTCOMES[choice]
            id_seen = "none" if choice == "refused_no_id" else form.cleaned_data["id_seen"]
            try:
                record_outcome(row["booking"].pk, status, actor=request.user,
                               note=form.cleaned_data["note"], id_seen=id_seen, now=now)
            except BookingRefused as refused:
                form.add_error("outcome", refused.messages[0])
                failed = True
            else:
                saved += 1
        if not failed:
            messages.success(request, _("Outcomes saved: %(count)d.") % {"count": saved})
            return redirect("manage:register", session_id=session.pk)
    errors = [(row, field, error) for row in rows for field in row["form"]
              for error in field.errors]
    return render_page(request, "manage/registers/register.html", {
        "session": session, "rows": rows, "started": started, "errors": errors,
        "trainers": session.trainers.all()})


@page("registers.view")
@shows_offenders("manage.register_print", offers_on_session())
def register_print(request, session_id):
    session = _session(request, session_id)
    return render_page(request, "manage/registers/print.html", {
        "session": session, "rows": attendees(session), "trainers": session.trainers.all(),
        "printed_at": timezone.now()})
