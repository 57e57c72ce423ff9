"""Meetings' rules: provider staff create and edit a meeting with its agenda (change requests and
free items), publish it to members, and after it record the minutes and each item's decision.
Each is one durable transaction that writes its own audit entry, as usergroup.services."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record

from . import access
from .models import TITLE_MAX, AgendaItem, ChangeRequest, Meeting

PLACE_MAX = 200
ITEM_MAX = 200


def _require_moderator(user):
    if not access.is_moderator(user):
        raise PermissionDenied(_("Only provider staff can do this."))


def _clean(*, title, starts_at, ends_at, place, online_link, request_numbers, other_items):
    """The meeting's fields tidied, or one ValidationError naming every field that is wrong."""
    errors = {}
    title = " ".join((title or "").split())
    if not title:
        errors["title"] = _("Enter a title")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("Title must be %(max)d characters or fewer") % {"max": TITLE_MAX}
    if starts_at is None:
        errors["starts_at"] = _("Enter the start time")
    if ends_at is None:
        errors["ends_at"] = _("Enter the end time")
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = _("The end time must be after the start time")
    place, online_link = (place or "").strip(), (online_link or "").strip()
    if not place and not online_link:
        errors["place"] = _("Enter a place or an online link")
    elif len(place) > PLACE_MAX:
        errors["place"] = _("Place must be 200 characters or fewer")
    if online_link:
        # Shown as a link to every member: only a web address, never javascript: or the like.
        try:
            URLValidator(schemes=["http", "https"])(online_link)
        except ValidationError:
            errors["online_link"] = _("Enter a full web address, like https://meet.example/abc")
    numbers = list(dict.fromkeys(request_numbers or ()))  # in order, each once
    requests = ChangeRequest.objects.in_bulk(numbers)
    missing = [str(number) for number in numbers if number not in requests]
    if missing:
        errors["agenda_requests"] = _("There is no change request numbered %(numbers)s") % {
            "numbers": ", ".join(missing)}
    others = [" ".join(item.split()) for item in other_items or ()]
    others = [item for item in others if item]
    if any(len(item) > ITEM_MAX for item in others):
        errors["agenda_other"] = _("Each agenda item must be 200 characters or fewer")
    if errors:
        raise ValidationError(errors)
    return {"title": title, "starts_at": starts_at, "ends_at": ends_at, "place": place,
            "online_link": online_link}, [requests[n] for n in numbers], others


def _set_agenda(meeting, requests, others):
    """Make the agenda the requests then the free items, in that order, keeping the decision
    already recorded on an item that stays."""
    kept = {}
    for item in meeting.agenda_items.all():
        key = ("request", item.change_request_id) if item.change_request_id else ("free", item.title)
        if key in kept:
            item.delete()
        else:
            kept[key] = item
    wanted = [("request", r.pk) for r in requests] + [("free", title) for title in others]
    for key in set(kept) - set(wanted):
        kept.pop(key).delete()
    for position, key in enumerate(wanted):
        item = kept.get(key)
        if item is None:
            kind, value = key
            AgendaItem.objects.create(meeting=meeting, position=position,
                                      change_request_id=value if kind == "request" else None,
                                      title=value if kind == "free" else "")
        elif item.position != position:
            item.position = position
            item.save(update_fields=["position"])


def _audit_fields(meeting) -> dict:
    return {"title": meeting.title, "starts_at": meeting.starts_at.isoformat(),
            "ends_at": meeting.ends_at.isoformat(), "status": meeting.status,
            "agenda": [item.change_request_id or item.title
                       for item in meeting.agenda_items.all()]}


@transaction.atomic(durable=True)
def create_meeting(*, title: str, starts_at, ends_at, place: str = "", online_link: str = "",
                   request_numbers=(), other_items=(), publish: bool = False,
                   acting_user) -> Meeting:
    _require_moderator(acting_user)
    fields, requests, others = _clean(
        title=title, starts_at=starts_at, ends_at=ends_at, place=place, online_link=online_link,
        request_numbers=request_numbers, other_items=other_items)
    meeting = Meeting.objects.create(
        **fields, created_by=acting_user,
        status=Meeting.Status.PUBLISHED if publish else Meeting.Status.DRAFT)
    _set_agenda(meeting, requests, others)
    record(actor=acting_user, action="usergroup.meeting_created", obj=meeting,
           after=_audit_fields(meeting))
    return meeting


@transaction.atomic(durable=True)
def update_meeting(meeting: Meeting, *, title: str, starts_at, ends_at, place: str = "",
                   online_link: str = "", request_numbers=(), other_items=(),
                   publish: bool = False, acting_user) -> Meeting:
    """Change a meeting, its agenda and who sees it (publish False takes it back to a draft)."""
    _require_moderator(acting_user)
    fields, requests, others = _clean(
        title=title, starts_at=starts_at, ends_at=ends_at, place=place, online_link=online_link,
        request_numbers=request_numbers, other_items=other_items)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    before = _audit_fields(meeting)
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.status = Meeting.Status.PUBLISHED if publish else Meeting.Status.DRAFT
    meeting.sequence += 1
    meeting.save()
    _set_agenda(meeting, requests, others)
    record(actor=acting_user, action="usergroup.meeting_changed", obj=meeting, before=before,
           after=_audit_fields(meeting))
    return meeting


@transaction.atomic(durable=True)
def publish_meeting(meeting: Meeting, *, acting_user) -> bool:
    """Members see the meeting from now on; False if it was already published."""
    _require_moderator(acting_user)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.is_published:
        return False
    meeting.status = Meeting.Status.PUBLISHED
    meeting.sequence += 1
    meeting.save(update_fields=["status", "sequence", "updated_at"])
    record(actor=acting_user, action="usergroup.meeting_published", obj=meeting,
           before={"status": Meeting.Status.DRAFT}, after={"status": meeting.status})
    return True


@transaction.atomic(durable=True)
def record_minutes(meeting: Meeting, *, minutes: str, decisions: dict, acting_user,
                   now=None) -> Meeting:
    """Write the minutes (Markdown) and each agenda item's decision ({item id: text}), once the
    meeting has started; recording again replaces them."""
    _require_moderator(acting_user)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.starts_at > (now or timezone.now()):
        raise ValidationError({"minutes": _("Minutes can be recorded once the meeting has "
                                            "started")})
    minutes = (minutes or "").strip()
    if not minutes:
        raise ValidationError({"minutes": _("Enter the minutes")})
    items = {item.pk: item for item in meeting.agenda_items.all()}
    unknown = set(decisions) - set(items)
    if unknown:
        raise ValidationError(_("A decision names an item that is not on this agenda."))
    before = {"minutes": meeting.minutes,
              "decisions": {str(pk): item.decision for pk, item in items.items()}}
    for pk, text in decisions.items():
        item = items[pk]
        item.decision = (text or "").strip()
        item.save(update_fields=["decision"])
    meeting.minutes = minutes
    meeting.save(update_fields=["minutes", "updated_at"])
    record(actor=acting_user, action="usergroup.minutes_recorded", obj=meeting, before=before,
           after={"minutes": minutes,
                  "decisions": {str(pk): item.decision for pk, item in items.items()}})
    return meeting
