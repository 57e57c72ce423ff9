"""Course dates: the list, a single date, a weekly series, changing a date's capacity and
trainers, and cancelling a date (free transfers and notices for everyone booked)."""

import csv
import io
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from booking.models import Booking, CourseSession, CourseType, Trainer, Venue
from booking.services.access_log import offers_on_session, shows_offenders
from booking.services.search import live_holds
from booking.services.sessions import (
    ClosedDayError,
    SessionSpec,
    cancel_session,
    create_series,
    create_sessions,
    update_session,
    weekly_starts,
)
from integrations.spreadsheets import safe_cell

from ..access import add_service_errors, ip, page, posted, render_page
from ..forms import (
    CancelSessionForm,
    SeriesForm,
    SessionEditForm,
    SessionFilterForm,
    SessionForm,
)

VIEW, CONFIGURE = "configuration.view", "client.configure"
LISTED_DAYS = 56
PER_PAGE = 25


@page(VIEW)
def session_list(request):
    now = timezone.now()
    start = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    form = SessionFilterForm(request.GET or None, venues=Venue.objects.order_by("name"),
                             course_types=CourseType.objects.order_by("code"),
                             trainers=Trainer.objects.order_by("full_name"))
    sessions = (CourseSession.objects.select_related("course_type", "venue")
                .prefetch_related("trainers")
                .filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=LISTED_DAYS))
                .annotate(held=live_holds(now)).order_by("starts_at", "pk"))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["venue"] == SessionFilterForm.ONLINE:
            sessions = sessions.filter(venue__isnull=True)
        elif data["venue"]:
            sessions = sessions.filter(venue_id=data["venue"])
        if data["course_type"]:
            sessions = sessions.filter(course_type_id=data["course_type"])
        if data["trainer"]:
            sessions = sessions.filter(trainers__id=data["trainer"])
    elif form.is_bound:
        sessions = sessions.none()  # a choice that is not on the list (the form says which)
    if request.GET.get("format") == "csv":
        return _sessions_csv(sessions)
    page_obj = Paginator(sessions, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(request, "manage/sessions/list.html", {
        "sessions": page_obj, "page_obj": page_obj, "days": LISTED_DAYS, "form": form,
        "query": query.urlencode(), "pages": _page_links(page_obj)})


def _page_links(page_obj) -> list:
    """GOV.UK pagination's numbered items: first, last, the current one and its neighbours,
    None for an ellipsis."""
    if not page_obj.has_other_pages():
        return []
    return list(page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=1,
                                                         on_ends=1))


def _sessions_csv(sessions) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Start"), _("End"), _("Course"), _("Language"), _("Where"), _("Trainers"),
                     _("Booked"), _("Held"), _("Capacity"), _("Status")])
    for session in sessions:
        writer.writerow([safe_cell(cell) for cell in (
            timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M"),
            timezone.localtime(session.ends_at).strftime("%Y-%m-%d %H:%M"),
            session.course_type.code, session.get_language_display(),
            _("Online") if session.is_online else str(session.venue),
            ", ".join(trainer.full_name for trainer in session.trainers.all()),
            session.seats_booked, session.held, session.capacity,
            session.get_status_display())])
    # A byte-order mark, so that Excel reads it as UTF-8.
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="course-dates.csv"'
    return response


def _choices():
    return {"course_types": CourseType.objects.filter(is_active=True),
            "venues": Venue.objects.filter(is_active=True),
            "trainers": Trainer.objects.filter(is_active=True)}


def _spec(cleaned) -> SessionSpec:
    return SessionSpec(
        course_type_id=cleaned["course_type"], delivery_mode=cleaned["delivery_mode"],
        venue_id=cleaned["venue"], capacity=cleaned["capacity"], language=cleaned["language"],
        trainer_ids=tuple(cleaned["trainers"]), joining_url=cleaned["joining_url"])


def _created(request, count, skipped=()):
    messages.success(request, ngettext("%(count)d course date created.",
                                       "%(count)d course dates created.", count)
                     % {"count": count})
    for day in skipped:
        messages.warning(request, _("Not scheduled: %(why)s") % {"why": day.why()})
    return redirect("manage:sessions")


@page(VIEW, CONFIGURE)
def session_create(request):
    form = SessionForm(posted(request), initial={"language": "en"}, **_choices())
    refused_as_closed = False
    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        start = timezone.make_aware(datetime.combine(cleaned["start_date"], cleaned["start_time"]))
        try:
            created = create_sessions(
                _spec(cleaned), [start], actor=request.user, organisation=request.tenant,
                ip_address=ip(request), run_on_closed_days=cleaned["run_anyway"])
        except ValidationError as error:
            add_service_errors(form, error)
            refused_as_closed = isinstance(error, ClosedDayError)
        else:
            return _created(request, len(created))
    # "Run it anyway" appears only with the refusal it answers (and stays while ticked).
    if not refused_as_closed and not form.data.get("run_anyway"):
        form.hide_run_anyway()
    return render_page(request, "manage/sessions/create.html", {"form": form})


@page(VIEW, CONFIGURE)
def series_create(request):
    form = SeriesForm(posted(request), initial={"language": "en"}, **_choices())
    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        try:
            series = create_series(
                _spec(cleaned), weekly_starts(cleaned["start_date"], cleaned["weekday"],
                                              cleaned["start_time"], cleaned["count"]),
                actor=request.user, organisation=request.tenant, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _created(request, len(series.created), series.skipped)
    return render_page(request, "manage/sessions/series.html", {"form": form})


def _session(session_id):
    return get_object_or_404(CourseSession.objects.select_related("course_type", "venue"),
                             pk=session_id)


@page(VIEW, CONFIGURE)
@shows_offenders("manage.session", offers_on_session())
def session_detail(request, session_id):
    session = _session(session_id)
    form = SessionEditForm(posted(request), trainers=Trainer.objects.filter(is_active=True),
                           initial={"capacity": session.capacity,
                                    "trainers": list(session.trainers.values_list("pk",
                                                                                  flat=True)),
                                    "joining_url": session.joining_url})
    if request.method == "POST" and form.is_valid():
        try:
            update_session(
                session.pk, capacity=form.cleaned_data["capacity"],
                trainer_ids=form.cleaned_data["trainers"],
                joining_url=form.cleaned_data["joining_url"], actor=request.user,
                organisation=request.tenant, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Course date saved."))
            return redirect("manage:session", session_id=session.pk)
    bookings = (Booking.objects.select_related("offer")
                .filter(session=session, status__in=Booking.ACTIVE).order_by("created_at"))
    return render_page(request, "manage/sessions/detail.html", {
        "session": session, "form": form, "bookings": bookings,
        "trainers": session.trainers.all(),
        "scheduled": session.status == CourseSession.Status.SCHEDULED})


@page(VIEW, CONFIGURE)
@shows_offenders("manage.session_cancel", offers_on_session())
def session_cancel(request, session_id):
    session = _session(session_id)
    form = CancelSessionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            result = cancel_session(
                session.pk, reason=form.cleaned_data["reason"], actor=request.user,
                organisation=request.tenant, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, ngettext(
                "Course date cancelled. %(count)d person has been told they can move to "
                "another date free of charge.",
                "Course date cancelled. %(count)d people have been told they can move to "
                "another date free of charge.",
                len(result.notified_booking_ids)) % {"count": len(result.notified_booking_ids)})
            return redirect("manage:session", session_id=session.pk)
    confirmed = Booking.objects.filter(session=session, status=Booking.Status.CONFIRMED).count()
    return render_page(request, "manage/sessions/cancel.html", {
        "session": session, "form": form, "confirmed": confirmed,
        "scheduled": session.status == CourseSession.Status.SCHEDULED})
