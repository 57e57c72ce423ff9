"""Meetings' rules: provider staff create and edit a meeting with its agenda (change requests and
free items), publish it to members (each member is sent an invitation with the .ics file, and an
update when a published meeting moves), and after it record in one go the minutes, which
organisations attended, each item's decision and the status changes decided, then publish the
minutes to members. Each is one durable transaction that writes its own audit entry, as
usergroup.services."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from outbox.services import queue_emails
from tenants.models import ClientOrganisation

from . import access, ics, notifications, services
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


def _invite(meeting: Meeting, *, update: bool = False) -> int:
    """An e-mail with the meeting's .ics file to every member (not those who asked for no
    user-group e-mails), once per version of the meeting (its SEQUENCE). Returns how many."""
    people = list(access.members())
    how = notifications.deliveries(people)
    calendar = ics.calendar([meeting], uid=ics.meeting_uid(meeting)).decode()
    when = timezone.localtime(meeting.starts_at, ics.LONDON)
    facts = {"title": meeting.title, "when": when.strftime("%d/%m/%Y %H:%M"),
             "where": meeting.place or meeting.online_link, "url": ics.meeting_url(meeting)}
    if update:
        subject = _("User group meeting changed: %(title)s") % facts
        text = _("The user group meeting “%(title)s” has changed. It is now on %(when)s "
                 "(UK time) at %(where)s.\n\nThe attached calendar file updates your "
                 "calendar.\n\nAgenda: %(url)s\n") % facts
    else:
        subject = _("Invitation: user group meeting %(title)s") % facts
        text = _("You are invited to the user group meeting “%(title)s” on %(when)s (UK time) "
                 "at %(where)s.\n\nThe attached calendar file adds it to your calendar.\n\n"
                 "Agenda: %(url)s\n") % facts
    emails = []
    for person in people:
        if how[person.pk] == notifications.Delivery.NONE:
            continue
        email = notifications.email_to(
            person, kind="usergroup.meeting_invitation", subject=subject, text=text,
            dedupe_key=f"usergroup.meeting:{meeting.pk}:{meeting.sequence}:{person.pk}",
            regarding={"meeting": meeting.pk})
        email["attachments"] = [("meeting.ics", calendar, "text/calendar; method=PUBLISH")]
        emails.append(email)
    return len(queue_emails(emails)) if emails else 0


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
    if meeting.is_published:
        _invite(meeting)
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
    was_published = meeting.is_published
    moved = any(getattr(meeting, name) != fields[name]
                for name in ("starts_at", "ends_at", "place", "online_link"))
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.status = Meeting.Status.PUBLISHED if publish else Meeting.Status.DRAFT
    meeting.sequence += 1
    meeting.save()
    _set_agenda(meeting, requests, others)
    record(actor=acting_user, action="usergroup.meeting_changed", obj=meeting, before=before,
           after=_audit_fields(meeting))
    # Invited when members first see it; told again only when it moves (not for a typo).
    if meeting.is_published and (not was_published or moved):
        _invite(meeting, update=was_published)
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
    _invite(meeting)
    return True


@transaction.atomic(durable=True)
def record_minutes(meeting: Meeting, *, minutes: str, decisions: dict, acting_user,
                   status_changes: dict | None = None, attended=None, publish: bool = False,
                   now=None) -> Meeting:
    """After the meeting has started, in one go: the minutes (Markdown), each agenda item's
    decision ({item id: text}), the organisations that attended (ids; None keeps them), the
    statuses decided for the items' requests ({item id: status}, each a public status change
    whose response is the decision) and, with `publish`, the minutes published to members, who
    are told once. Recording again replaces the minutes; a status already reached is left."""
    _require_moderator(acting_user)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.starts_at > (now or timezone.now()):
        raise ValidationError({"minutes": _("Minutes can be recorded once the meeting has "
                                            "started")})
    minutes = (minutes or "").strip()
    if not minutes:
        raise ValidationError({"minutes": _("Enter the minutes")})
    items = {item.pk: item for item in meeting.agenda_items.all()}
    status_changes = {pk: status for pk, status in (status_changes or {}).items() if status}
    unknown = (set(decisions) | set(status_changes)) - set(items)
    if unknown:
        raise ValidationError(_("A decision names an item that is not on this agenda."))
    if any(not items[pk].change_request_id for pk in status_changes):
        raise ValidationError(_("Only an item about a change request can change a status."))
    organisations = None
    if attended is not None:
        wanted = set(attended)
        organisations = list(ClientOrganisation.objects.filter(pk__in=wanted, is_template=False))
        if len(organisations) != len(wanted):
            raise ValidationError({"attended": _("Choose organisations from the list")})
    before = {"minutes": meeting.minutes,
              "decisions": {str(pk): item.decision for pk, item in items.items()},
              "attended": sorted(meeting.attended_organisations.values_list("pk", flat=True))}
    for pk, text in decisions.items():
        item = items[pk]
        item.decision = (text or "").strip()
        item.save(update_fields=["decision"])
    # Locked in primary-key order, as merges and releases lock them.
    requests = {r.pk: r for r in ChangeRequest.objects.select_for_update().filter(
        pk__in=[items[pk].change_request_id for pk in status_changes]).order_by("pk")}
    changed = {}
    for pk, to_status in sorted(status_changes.items()):
        change_request = requests[items[pk].change_request_id]
        if change_request.status == to_status:
            continue
        response = items[pk].decision or _("Decided at the user group meeting “%(title)s”.") % {
            "title": meeting.title}
        try:
            services.apply_status_change(change_request, to_status=to_status, response=response,
                                         acting_user=acting_user)
        except ValidationError as error:
            # Named by the item's field on the form, so the person sees which request it was.
            raise ValidationError({f"status_{pk}": error.messages}) from None
        changed[str(change_request.pk)] = to_status
    if organisations is not None:
        meeting.attended_organisations.set(organisations)
    meeting.minutes = minutes
    first_publication = publish and meeting.minutes_published_at is None
    if first_publication:
        meeting.minutes_published_at = now or timezone.now()
    meeting.save(update_fields=["minutes", "minutes_published_at", "updated_at"])
    record(actor=acting_user, action="usergroup.minutes_recorded", obj=meeting, before=before,
           after={"minutes": minutes,
                  "decisions": {str(pk): item.decision for pk, item in items.items()},
                  "attended": sorted(meeting.attended_organisations.values_list("pk",
                                                                                flat=True)),
                  "status_changes": changed, "published": meeting.minutes_published})
    if first_publication:
        notifications.tell(
            access.members(), kind="usergroup.minutes_published",
            subject=_("User group: the minutes of %(title)s") % {"title": meeting.title},
            text=_("The minutes of the user group meeting “%(title)s” are published, with "
                   "the decisions on each agenda item.\n\n%(url)s\n")
            % {"title": meeting.title, "url": ics.meeting_url(meeting)},
            dedupe_key=f"usergroup.minutes:{meeting.pk}")
    return meeting
