"""Meetings as iCalendar (the icalendar library does the folding and escaping), and the signed
token that lets a calendar app fetch a member's feed without a session."""

from datetime import UTC, date
from zoneinfo import ZoneInfo

import icalendar
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from tenants.site_urls import site_url

from .models import Meeting

LONDON = ZoneInfo("Europe/London")
PRODID = "-//Waymark//User group meetings//EN"
FEED_SALT = "usergroup.meetings.feed"
FEED_UID = "usergroup-meetings@waymark"


def meeting_url(meeting) -> str:
    return site_url(None) + reverse("usergroup:meeting", args=[meeting.pk],
                                    urlconf="config.urls_platform")


def meeting_uid(meeting) -> str:
    """The same for every download of the meeting, so a calendar updates its entry."""
    return f"usergroup-meeting-{meeting.pk}@waymark"


def _event(meeting, stamp) -> icalendar.Event:
    agenda = [f"{number}. {item.subject}"
              for number, item in enumerate(meeting.agenda_items.all(), start=1)]
    url = meeting_url(meeting)
    event = icalendar.Event.new(
        uid=meeting_uid(meeting),
        # Local times with TZID=Europe/London: the calendar moves them across a clock change.
        start=meeting.starts_at.astimezone(LONDON),
        end=meeting.ends_at.astimezone(LONDON),
        stamp=stamp,
        summary=meeting.title,
        location=meeting.place or meeting.online_link,
        description="\n".join([*agenda, "", url]).strip(),
        sequence=meeting.sequence,
        status="CONFIRMED",
        url=meeting.online_link or url,
    )
    return event


def calendar(meetings, *, uid: str, name: str | None = None) -> bytes:
    stamp = timezone.now().astimezone(UTC)
    meetings = list(meetings)
    cal = icalendar.Calendar.new(prodid=PRODID, method="PUBLISH", name=name, uid=uid,
                                 subcomponents=[_event(m, stamp) for m in meetings])
    if meetings:
        # The VTIMEZONE's rules cover the years the meetings span, not 1970 to 2038.
        first = min(m.starts_at for m in meetings).astimezone(LONDON).year
        last = max(m.ends_at for m in meetings).astimezone(LONDON).year
        cal.add_missing_timezones(first_date=date(first - 1, 1, 1),
                                  last_date=date(last + 1, 12, 31))
    return cal.to_ical()


def feed_token(user) -> str:
    # No timestamp: the URL a calendar app subscribes to stays the same on every page view.
    return signing.Signer(salt=FEED_SALT).sign_object(user.pk)


def feed_user(token: str):
    """The user a feed token was made for, or None if it was tampered with or they are gone."""
    from accounts.models import User

    try:
        pk = signing.Signer(salt=FEED_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=pk, is_active=True).first() if isinstance(pk, int) else None


def feed_url(user) -> str:
    return site_url(None) + reverse("usergroup:meeting_feed", args=[feed_token(user)],
                                    urlconf="config.urls_platform")


def published_meetings():
    return Meeting.objects.filter(status=Meeting.Status.PUBLISHED).prefetch_related(
        "agenda_items__change_request")
