"""The user group's rules: raising, voting, status changes with a public response, merging
duplicates, comments. Each is one durable transaction that writes its own audit entry (the
public schema's trail) and queues its messages in the outbox inside that transaction."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.services import record
from outbox.services import queue_email
from tenants.site_urls import site_url

from . import access
from .models import TITLE_MAX, Area, ChangeRequest, Comment, Merge, StatusChange, Vote

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
def raise_request(*, title: str, description: str, area: Area, acting_user) -> ChangeRequest:
    organisation = _require_member(acting_user)
    title = _clean_title(title)
    if area is None:
        raise ValidationError({"area": _("Select an area")})
    change_request = ChangeRequest.objects.create(
        title=title, description=description or "", area=area, raised_by=acting_user,
        organisation=organisation)
    # The raiser wants it: their vote is the first.
    Vote.objects.create(request=change_request, member=acting_user, organisation=organisation)
    record(actor=acting_user, action="usergroup.request_raised", obj=change_request,
           organisation=organisation, after={"title": title, "area": area.name})
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
    return True


@transaction.atomic(durable=True)
def unvote(change_request: ChangeRequest, *, acting_user) -> bool:
    deleted, _rows = Vote.objects.filter(request=change_request, member=acting_user).delete()
    return bool(deleted)


def _audience(change_request: ChangeRequest, *, exclude=None):
    """Raiser, voters and commenters of a request: those told of its changes."""
    from accounts.models import User

    users = User.objects.filter(
        Q(change_requests=change_request)
        | Q(usergroup_votes__request=change_request)
        | Q(pk__in=Comment.objects.filter(request=change_request).values("author_id")),
        is_active=True).distinct()
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return users


def request_url(change_request) -> str:
    return site_url(None) + reverse("usergroup:detail", args=[change_request.pk],
                                     urlconf="config.urls_platform")


@transaction.atomic(durable=True)
def change_status(change_request: ChangeRequest, *, to_status: str, response: str,
                  acting_user) -> StatusChange:
    _require_moderator(acting_user)
    if to_status not in Status.values:
        raise ValidationError({"to_status": _("Select a status")})
    if to_status == Status.DUPLICATE:
        raise ValidationError({"to_status": _("Merge the request to mark it a duplicate")})
    response = (response or "").strip()
    if not response:
        raise ValidationError({"response": _("Enter a public response")})
    locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
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
    status_name = locked.get_status_display()
    for user in _audience(locked, exclude=acting_user):
        queue_email(
            kind="usergroup.status_changed", to=user.email,
            subject=_("User group: “%(title)s” is now %(status)s")
            % {"title": locked.title, "status": status_name.lower()},
            text=_("“%(title)s” is now %(status)s.\n\n%(response)s\n\nSee the request: %(url)s\n")
            % {"title": locked.title, "status": status_name.lower(), "response": response,
               "url": request_url(locked)},
            dedupe_key=f"usergroup.status:{change.pk}:{user.pk}",
            regarding={"change_request": locked.pk})
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
    for user in told:
        queue_email(
            kind="usergroup.merged", to=user.email,
            subject=_("User group: “%(title)s” was merged") % {"title": source.title},
            text=_("“%(source)s” was merged into “%(target)s”; your vote counts there.\n\n"
                   "%(response)s\n\n%(url)s\n")
            % {"source": source.title, "target": target.title, "response": response,
               "url": request_url(target)},
            dedupe_key=f"usergroup.merged:{change.pk}:{user.pk}",
            regarding={"change_request": source.pk})
    return merge


@transaction.atomic(durable=True)
def undo_merge(merge: Merge, *, acting_user) -> None:
    """Put back what `merge` did: the moved votes return to the source (unless the member has
    since removed it), the source takes its status before the merge again."""
    _require_moderator(acting_user)
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ValidationError(_("This merge was already undone."))
    source = ChangeRequest.objects.select_for_update().get(pk=merge.source_id)
    Vote.objects.filter(request_id=merge.target_id,
                        member_id__in=merge.moved_member_ids).update(request=source)
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


@transaction.atomic(durable=True)
def add_comment(change_request: ChangeRequest, *, body: str, acting_user,
                official: bool = False) -> Comment:
    moderator = access.is_moderator(acting_user)
    if not moderator:
        _require_member(acting_user)
    if official and not moderator:
        raise PermissionDenied(_("Only provider staff can post an official response."))
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Enter a comment")})
    if len(body) > 10_000:
        raise ValidationError({"body": _("Comment must be 10,000 characters or fewer")})
    return Comment.objects.create(request=change_request, author=acting_user, body=body,
                                  official=official)


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
