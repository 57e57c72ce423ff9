"""Meeting pages: members see published meetings and download them as .ics; provider staff
create, edit, publish and minute them. The calendar feed is reached by a signed token alone."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import access, ics, meetings, queries
from .forms import MeetingForm, MinutesForm
from .markdown import render as render_markdown
from .models import ChangeRequest, Meeting
from .views import _add_errors, _context


def _visible(user):
    visible = Meeting.objects.all()
    if not access.is_moderator(user):
        visible = visible.filter(status=Meeting.Status.PUBLISHED)
    return visible


def _get_meeting(request, pk):
    """A draft is no one's business but provider staff's: to members it does not exist."""
    return get_object_or_404(_visible(request.user).prefetch_related(
        "agenda_items__change_request"), pk=pk)


def _calendar_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@access.viewer_required
def meeting_list(request):
    now = timezone.now()
    visible = _visible(request.user)
    return render(request, "usergroup/meetings.html", _context(
        request, upcoming=visible.filter(ends_at__gte=now).order_by("starts_at"),
        past=visible.filter(ends_at__lt=now).order_by("-starts_at")[:50],
        feed_url=ics.feed_url(request.user)))


@access.viewer_required
def meeting_detail(request, pk):
    meeting = _get_meeting(request, pk)
    # Members read the minutes and decisions once provider staff publish them.
    shows_minutes = meeting.minutes_published or access.is_moderator(request.user)
    items = [(item, render_markdown(item.decision) if shows_minutes else "")
             for item in meeting.agenda_items.all()]
    return render(request, "usergroup/meeting.html", _context(
        request, meeting=meeting, items=items, shows_minutes=shows_minutes,
        minutes_html=render_markdown(meeting.minutes) if shows_minutes else "",
        attended=meeting.attended_organisations.order_by("name") if shows_minutes else [],
        has_started=meeting.starts_at <= timezone.now()))


def _save(request, meeting=None):
    form = MeetingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        fields = {"title": data["title"], "starts_at": data["starts_at"],
                  "ends_at": data["ends_at"], "place": data["place"],
                  "online_link": data["online_link"], "request_numbers": data["agenda_requests"],
                  "other_items": data["agenda_other"],
                  "publish": data["status"] == Meeting.Status.PUBLISHED}
        try:
            if meeting is None:
                meeting = meetings.create_meeting(**fields, acting_user=request.user)
            else:
                meeting = meetings.update_meeting(meeting, **fields, acting_user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The meeting is saved."))
            return redirect("usergroup:meeting", pk=meeting.pk)
    return render(request, "usergroup/meeting_form.html",
                  _context(request, form=form, meeting=meeting), status=400)


@access.moderator_required
def meeting_new(request):
    if request.method == "POST":
        return _save(request)
    # The agenda starts from the open requests most organisations voted for.
    top = (queries.request_list(sort="organisations")
           .exclude(status__in=ChangeRequest.CLOSED)[:5])
    form = MeetingForm(initial={"agenda_requests": ", ".join(str(r.pk) for r in top)})
    return render(request, "usergroup/meeting_form.html",
                  _context(request, form=form, meeting=None))


@access.moderator_required
def meeting_edit(request, pk):
    meeting = _get_meeting(request, pk)
    if request.method == "POST":
        return _save(request, meeting)
    return render(request, "usergroup/meeting_form.html", _context(
        request, form=MeetingForm(initial=MeetingForm.initial_for(meeting)), meeting=meeting))


@require_POST
@access.moderator_required
def meeting_publish(request, pk):
    meeting = _get_meeting(request, pk)
    meetings.publish_meeting(meeting, acting_user=request.user)
    messages.success(request, _("The meeting is published: members can see it."))
    return redirect("usergroup:meeting", pk=pk)


@access.moderator_required
def meeting_minutes(request, pk):
    meeting = _get_meeting(request, pk)
    items = list(meeting.agenda_items.all())
    if request.method != "POST":
        form = MinutesForm(initial={"minutes": meeting.minutes,
                                    "attended": list(meeting.attended_organisations.all()),
                                    "publish": meeting.minutes_published}, items=items)
        return render(request, "usergroup/meeting_minutes.html",
                      _context(request, form=form, meeting=meeting))
    form = MinutesForm(request.POST, items=items)
    if form.is_valid():
        try:
            meetings.record_minutes(
                meeting, minutes=form.cleaned_data["minutes"], decisions=form.decisions(),
                status_changes=form.status_changes(),
                attended=[org.pk for org in form.cleaned_data["attended"]],
                publish=form.cleaned_data["publish"], acting_user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The minutes are saved."))
            return redirect("usergroup:meeting", pk=pk)
    return render(request, "usergroup/meeting_minutes.html",
                  _context(request, form=form, meeting=meeting), status=400)


@access.viewer_required
def meeting_ics(request, pk):
    meeting = _get_meeting(request, pk)
    return _calendar_response(ics.calendar([meeting], uid=ics.meeting_uid(meeting)),
                              f"user-group-meeting-{meeting.pk}.ics")


def meeting_feed(request, token):
    """Every published meeting, for a calendar app that has no session: the token names the
    member, who must still take part in the user group; anything else is a 404."""
    user = ics.feed_user(token)
    if user is None or not access.can_view(user):
        raise Http404
    return _calendar_response(ics.calendar(ics.published_meetings(), uid=ics.FEED_UID,
                                           name=_("User group meetings")),
                              "user-group-meetings.ics")
