"""The user group's rules: raising, voting, status changes with a public response, merging
duplicates, comments. Each is one durable transaction that writes its own audit entry (the
public schema's trail) and queues its messages in the outbox inside that transaction."""

import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.services import record

from . import access, notifications, webhooks
from .models import TITLE_MAX, Area, ChangeRequest, Comment, CommentRevision, Merge, StatusChange, Subscription, Vote
from .notifications import request_url

__all__ = ["request_url"]  # kept here for callers that read it from the services

Status = ChangeRequest.Status


@dataclass(frozen=True)
class Tally:
    votes: int
    organisations: int

    def __str__(self):
        votes = ngettext("%(count)d vote", "%(count)d votes", self.votes) % {"count": self.votes}
        organisations = ngettext("%(count)d organisation", "%(count)d organisations",
                                 self.organisations) % {"count": self.organisations}
        return _("%(votes)s from %(organisations)s") % {"votes": votes,
                                                         "organisations": organisations}


REFRESH_TALLIES = """
UPDATE usergroup_changerequest r
SET votes_total = t.votes, organisations_total = t.organisations
FROM (SELECT c.id, count(v.id) AS votes, count(DISTINCT v.organisation_id) AS organisations
      FROM usergroup_changerequest c LEFT JOIN usergroup_vote v ON v.request_id = c.id
      WHERE c.id = ANY(%s) GROUP BY c.id) t
WHERE r.id = t.id
"""


def refresh_tallies(request_ids) -> None:
    """Recount the stored tallies of these requests from their votes, inside the transaction
    that changed the votes (the caller holds the requests' locks, so the count is final)."""
    ids = sorted({int(pk) for pk in request_ids})
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(REFRESH_TALLIES, [ids])


def tally(change_request) -> Tally:
    counts = Vote.objects.filter(request=change_request).aggregate(
        votes=Count("pk"), organisations=Count("organisation", distinct=True))
    return Tally(counts["votes"], counts["organisations"])


def _require_member(user):
    organisation = access.voting_organisation(user)
    if organisation is None:
        raise PermissionDenied(_("Only members of the user group can do this."))
    return organisation


def _require_moderator(user):
    if not access.is_moderator(user):
        raise PermissionDenied(_("Only provider staff can do this."))


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": _("Enter a title")})
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": _("Title must be %(max)d characters or fewer")
                               % {"max": TITLE_MAX}})
    return title


@transaction.atomic(durable=True)
def raise_request(*, title: str, description: str, area: Area, acting_user,
                  screenshots=()) -> ChangeRequest:
    """A new request with the raiser's vote; `screenshots` are (image bytes, description)
    pairs, all checked before anything is written (a fake image refuses the whole request)."""
    from . import screenshots as screenshot_rules
    from .models import Screenshot

    organisation = _require_member(acting_user)
    title = _clean_title(title)
    if area is None:
        raise ValidationError({"area": _("Select an area")})
    screenshots = list(screenshots)
    if len(screenshots) > Screenshot.MAX_PER_REQUEST:
        raise ValidationError({"screenshots": _("Add up to 3 screenshots")})
    encoded = []
    for data, _description in screenshots:
        if len(data) > screenshot_rules.MAX_BYTES:
            raise ValidationError({"screenshots": _("Each image must be 5 MB or smaller")})
        try:
            encoded.append(screenshot_rules.reencode(data))
        except ValidationError as error:
            raise ValidationError({"screenshots": error.messages}) from None
    change_request = ChangeRequest.objects.create(
        title=title, description=description or "", area=area, raised_by=acting_user,
        organisation=organisation)
    # The raiser wants it: their vote is the first.
    Vote.objects.create(request=change_request, member=acting_user, organisation=organisation)
    refresh_tallies([change_request.pk])
    notifications.subscribe(change_request, acting_user)
    record(actor=acting_user, action="usergroup.request_raised", obj=change_request,
           organisation=organisation, after={"title": title, "area": area.name})
    for image, (_data, image_description) in zip(encoded, screenshots, strict=True):
        screenshot_rules.attach(change_request, image, description=image_description,
                                acting_user=acting_user)
    webhooks.announce_raised(change_request)
    return change_request


@transaction.atomic(durable=True)
def vote(change_request: ChangeRequest, *, acting_user) -> bool:
    """Add the member's vote; False if they had already voted. A race leaves one vote."""
    organisation = _require_member(acting_user)
    locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if locked.is_closed:
        raise ValidationError(_("This request is %(status)s and takes no new votes.")
                              % {"status": locked.get_status_display().lower()})
    try:
        with transaction.atomic():
            Vote.objects.create(request=locked, member=acting_user, organisation=organisation)
    except IntegrityError:
        return False
    refresh_tallies([locked.pk])
    notifications.subscribe(locked, acting_user)
    return True


@transaction.atomic(durable=True)
def vote_on_behalf(change_request: ChangeRequest, *, member, acting_user) -> Vote | None:
    """Provider staff record `member`'s vote (asked for in a meeting, on the phone): the vote
    counts for the member's organisation, names who recorded it, and the member is told.
    None if the member had already voted."""
    _require_moderator(acting_user)
    organisation = access.voting_organisation(member)
    if organisation is None:
        raise ValidationError({"member": _("That person is not a member of the user group")})
    locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if locked.is_closed:
        raise ValidationError(_("This request is %(status)s and takes no new votes.")
                              % {"status": locked.get_status_display().lower()})
    try:
        with transaction.atomic():
            cast = Vote.objects.create(request=locked, member=member, organisation=organisation,
                                       recorded_by=acting_user)
    except IntegrityError:
        return None
    refresh_tallies([locked.pk])
    notifications.subscribe(locked, member)
    record(actor=acting_user, action="usergroup.vote_recorded_on_behalf", obj=locked,
           organisation=organisation, after={"member": member.pk})
    # Told their way (a person who asked for no e-mails still sees the vote on the page).
    notifications.tell(
        [member], kind="usergroup.vote_on_behalf", change_request=locked,
        dedupe_key=f"usergroup.vote_on_behalf:{cast.pk}",
        subject=_("User group: a vote was recorded for you on “%(title)s”")
        % {"title": locked.title},
        text=_("%(staff)s recorded your vote for “%(title)s”. If you did not ask for it, "
               "remove it on the request's page.\n\n%(url)s\n")
        % {"staff": acting_user.email, "title": locked.title, "url": request_url(locked)})
    return cast


@transaction.atomic(durable=True)
def unvote(change_request: ChangeRequest, *, acting_user) -> bool:
    # Locked as a vote locks it, so the recount sees every vote committed before.
    locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    deleted, _rows = Vote.objects.filter(request=locked, member=acting_user).delete()
    if deleted:
        refresh_tallies([locked.pk])
    return bool(deleted)


def _audience(change_request: ChangeRequest, *, exclude=None):
    """Those told of a request's changes: its subscribers (raiser, voters, commenters, unless
    they stopped following it)."""
    return notifications.subscribers(change_request, exclude=exclude)


@transaction.atomic(durable=True)
def change_status(change_request: ChangeRequest, *, to_status: str, response: str,
                  acting_user) -> StatusChange:
    _require_moderator(acting_user)
    locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    return apply_status_change(locked, to_status=to_status, response=response,
                               acting_user=acting_user)


def apply_status_change(locked: ChangeRequest, *, to_status: str, response: str,
                        acting_user) -> StatusChange:
    """The status change itself, inside the caller's transaction with `locked` locked and the
    caller known to be provider staff: change_status, and a meeting's decisions, use it."""
    if to_status not in Status.values:
        raise ValidationError({"to_status": _("Select a status")})
    if to_status == Status.DUPLICATE:
        raise ValidationError({"to_status": _("Merge the request to mark it a duplicate")})
    response = (response or "").strip()
    if not response:
        raise ValidationError({"response": _("Enter a public response")})
    if locked.status == Status.DUPLICATE:
        raise ValidationError(_("Undo the merge before changing this request's status."))
    if locked.status == to_status:
        raise ValidationError({"to_status": _("The request is already %(status)s")
                               % {"status": locked.get_status_display().lower()}})
    change = StatusChange.objects.create(request=locked, from_status=locked.status,
                                         to_status=to_status, response=response, by=acting_user)
    before = locked.status
    locked.status = to_status
    locked.save(update_fields=["status", "updated_at"])
    record(actor=acting_user, action="usergroup.status_changed", obj=locked,
           organisation=locked.organisation, before={"status": before},
           after={"status": to_status})
    webhooks.announce_status_changed(locked, from_status=before, response=response)
    status_name = locked.get_status_display()
    notifications.tell(
        _audience(locked, exclude=acting_user), kind="usergroup.status_changed",
        change_request=locked,
        subject=_("User group: “%(title)s” is now %(status)s")
        % {"title": locked.title, "status": status_name.lower()},
        text=_("“%(title)s” is now %(status)s.\n\n%(response)s\n\nSee the request: %(url)s\n")
        % {"title": locked.title, "status": status_name.lower(), "response": response,
           "url": request_url(locked)},
        dedupe_key=f"usergroup.status:{change.pk}")
    return change


@transaction.atomic(durable=True)
def merge_requests(source: ChangeRequest, target: ChangeRequest, *, response: str,
                   acting_user) -> Merge:
    """Merge duplicate `source` into `target`: each of source's voters gets one vote on target
    (none lost, none doubled), source reads "merged into target" and its voters are told."""
    _require_moderator(acting_user)
    if source.pk == target.pk:
        raise ValidationError({"target": _("Choose a different request to merge into")})
    # Lock both in primary-key order, so two merges never deadlock.
    locked = {r.pk: r for r in ChangeRequest.objects.select_for_update()
              .filter(pk__in=[source.pk, target.pk]).order_by("pk")}
    source, target = locked[source.pk], locked[target.pk]
    if source.status == Status.DUPLICATE or target.status == Status.DUPLICATE:
        raise ValidationError(_("A merged request cannot be merged again: merge into the "
                                "request it was merged into."))
    told = list(_audience(source, exclude=acting_user))  # before its votes move
    target_members = set(Vote.objects.filter(request=target).values_list("member_id", flat=True))
    moving = Vote.objects.filter(request=source).exclude(member_id__in=target_members)
    moved_ids = sorted(moving.values_list("member_id", flat=True))
    moving.update(request=target)
    refresh_tallies([source.pk, target.pk])
    # Source's followers follow the target too (each once; a choice to stop is kept).
    Subscription.objects.bulk_create(
        [Subscription(request=target, user_id=user_id) for user_id in
         Subscription.objects.filter(request=source, active=True).values_list("user_id",
                                                                              flat=True)],
        ignore_conflicts=True)
    merge = Merge.objects.create(source=source, target=target, source_status=source.status,
                                 moved_member_ids=moved_ids, by=acting_user)
    response = (response or "").strip() or _("Merged into “%(title)s”.") % {"title": target.title}
    change = StatusChange.objects.create(request=source, from_status=source.status,
                                         to_status=Status.DUPLICATE, response=response,
                                         by=acting_user)
    source.status = Status.DUPLICATE
    source.merged_into = target
    source.save(update_fields=["status", "merged_into", "updated_at"])
    record(actor=acting_user, action="usergroup.merged", obj=source,
           organisation=source.organisation, after={"into": target.pk, "moved": len(moved_ids)})
    webhooks.announce_status_changed(source, from_status=change.from_status, response=response)
    notifications.tell(
        told, kind="usergroup.merged", change_request=source,
        subject=_("User group: “%(title)s” was merged") % {"title": source.title},
        text=_("“%(source)s” was merged into “%(target)s”; your vote counts there.\n\n"
               "%(response)s\n\n%(url)s\n")
        % {"source": source.title, "target": target.title, "response": response,
           "url": request_url(target)},
        dedupe_key=f"usergroup.merged:{change.pk}")
    return merge


@transaction.atomic(durable=True)
def undo_merge(merge: Merge, *, acting_user) -> None:
    """Put back what `merge` did: the moved votes return to the source (unless the member has
    since removed it), the source takes its status before the merge again."""
    _require_moderator(acting_user)
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ValidationError(_("This merge was already undone."))
    # Both locked in primary-key order, as a merge locks them.
    locked = {r.pk: r for r in ChangeRequest.objects.select_for_update()
              .filter(pk__in=[merge.source_id, merge.target_id]).order_by("pk")}
    source = locked[merge.source_id]
    Vote.objects.filter(request_id=merge.target_id,
                        member_id__in=merge.moved_member_ids).update(request=source)
    refresh_tallies([merge.source_id, merge.target_id])
    StatusChange.objects.create(request=source, from_status=source.status,
                                to_status=merge.source_status,
                                response=_("No longer treated as a duplicate."), by=acting_user)
    source.status = merge.source_status
    source.merged_into = None
    source.save(update_fields=["status", "merged_into", "updated_at"])
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_at"])
    record(actor=acting_user, action="usergroup.merge_undone", obj=source,
           organisation=source.organisation, after={"from": merge.target_id})
    webhooks.announce_status_changed(source, from_status=Status.DUPLICATE,
                                     response=_("No longer treated as a duplicate."))


COMMENT_MAX = 10_000
# "@jo.smith" (the part of an e-mail address before the @) or "@jo.smith@essex.gov.uk".
MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")


def _clean_comment(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Enter a comment")})
    if len(body) > COMMENT_MAX:
        raise ValidationError({"body": _("Comment must be 10,000 characters or fewer")})
    return body


def mentioned_people(body: str):
    """Who `body` mentions: each handle names the person with that e-mail address, or the one
    person whose address starts with it; a handle two people share names nobody (the writer
    can use the whole address). Only people who can see the user group count."""
    from accounts.models import User

    handles = {handle.rstrip(".").lower() for handle in MENTION.findall(body or "")}
    found = {}
    for handle in sorted(handles):
        if "@" in handle:
            matches = list(User.objects.filter(email__iexact=handle, is_active=True))
        else:
            matches = list(User.objects.filter(email__istartswith=f"{handle}@", is_active=True)[:2])
        if len(matches) == 1 and access.can_view(matches[0]):
            found[matches[0].pk] = matches[0]
    return list(found.values())


def _tell_mentioned(comment: Comment, people, *, acting_user) -> None:
    change_request = comment.request
    notifications.tell(
        [person for person in people if person.pk != acting_user.pk],
        kind="usergroup.mentioned", change_request=change_request,
        subject=_("User group: you were mentioned on “%(title)s”") % {"title": change_request.title},
        text=_("%(author)s mentioned you in a comment on “%(title)s”:\n\n%(body)s\n\n%(url)s\n")
        % {"author": acting_user.email, "title": change_request.title, "body": comment.body,
           "url": request_url(change_request)},
        dedupe_key=f"usergroup.mention:{comment.pk}:{comment.revisions.count()}")


@transaction.atomic(durable=True)
def add_comment(change_request: ChangeRequest, *, body: str, acting_user,
                official: bool = False, parent: Comment | None = None) -> Comment:
    """A comment, or a reply to a top-level comment (one level). The commenter follows the
    request; people it @mentions are told; an official response is told to every follower."""
    moderator = access.is_moderator(acting_user)
    if not moderator:
        _require_member(acting_user)
    if official and not moderator:
        raise PermissionDenied(_("Only provider staff can post an official response."))
    body = _clean_comment(body)
    if parent is not None:
        if parent.request_id != change_request.pk:
            raise ValidationError(_("That comment is on another request."))
        if parent.parent_id is not None:
            parent = parent.parent  # replies stay one level deep: answer the thread
        if parent.hidden:
            raise ValidationError(_("That comment is hidden and takes no replies."))
    comment = Comment.objects.create(request=change_request, author=acting_user, body=body,
                                     official=official, parent=parent)
    notifications.subscribe(change_request, acting_user)
    mentioned = mentioned_people(body)
    _tell_mentioned(comment, mentioned, acting_user=acting_user)
    if official:
        notifications.tell(
            _audience(change_request, exclude=acting_user).exclude(
                pk__in=[person.pk for person in mentioned]),
            kind="usergroup.official_response", change_request=change_request,
            subject=_("User group: an official response on “%(title)s”")
            % {"title": change_request.title},
            text=_("The provider responded on “%(title)s”:\n\n%(body)s\n\n%(url)s\n")
            % {"title": change_request.title, "body": body, "url": request_url(change_request)},
            dedupe_key=f"usergroup.official:{comment.pk}")
    return comment


@transaction.atomic(durable=True)
def edit_comment(comment: Comment, *, body: str, acting_user) -> Comment:
    """The author changes their comment; what it said before is kept (and shown). People newly
    @mentioned are told; those mentioned before are not told again."""
    comment = Comment.objects.select_for_update().select_related("request").get(pk=comment.pk)
    if comment.author_id != acting_user.pk:
        raise PermissionDenied(_("Only the comment's author can edit it."))
    if comment.hidden:
        raise ValidationError(_("A hidden comment cannot be edited."))
    body = _clean_comment(body)
    if body == comment.body:
        return comment
    before = {person.pk for person in mentioned_people(comment.body)}
    CommentRevision.objects.create(comment=comment, body=comment.body)
    comment.body, comment.edited_at = body, timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    _tell_mentioned(comment, [p for p in mentioned_people(body) if p.pk not in before],
                    acting_user=acting_user)
    return comment


@transaction.atomic(durable=True)
def hide_comment(comment: Comment, *, reason: str, acting_user) -> Comment:
    _require_moderator(acting_user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Enter why the comment is hidden")})
    comment.hidden, comment.hidden_reason = True, reason[:300]
    comment.save(update_fields=["hidden", "hidden_reason"])
    record(actor=acting_user, action="usergroup.comment_hidden", obj=comment,
           organisation=comment.request.organisation, after={"reason": reason[:300]})
    return comment
