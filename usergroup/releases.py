"""Releases' rules: provider staff draft a release (version, date, Markdown notes, the requests
it delivers) and publish it once. Publishing is one durable transaction: every request it
delivers becomes released with a public response, and each person following any of them gets
exactly one "the change you asked for is live" message listing theirs. Publishing again finds
it published and does nothing."""

from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.services import record
from outbox.services import queue_emails

from . import access, notifications, webhooks
from .models import ChangeRequest, DigestEntry, Release, StatusChange, Subscription

Status = ChangeRequest.Status
VERSION_MAX = 40
# What a release can deliver: not what was declined or merged away.
DELIVERABLE = (Status.OPEN, Status.UNDER_REVIEW, Status.PLANNED, Status.IN_PROGRESS,
               Status.RELEASED)


def _require_moderator(user):
    if not access.is_moderator(user):
        raise PermissionDenied(_("Only provider staff can do this."))


def _clean(*, version, released_on, notes, request_numbers, release=None):
    errors = {}
    version = " ".join((version or "").split())
    if not version:
        errors["version"] = _("Enter the version")
    elif len(version) > VERSION_MAX:
        errors["version"] = _("Version must be 40 characters or fewer")
    elif Release.objects.filter(version__iexact=version).exclude(
            pk=release.pk if release else None).exists():
        errors["version"] = _("There is already a release %(version)s") % {"version": version}
    if released_on is None:
        errors["released_on"] = _("Enter the release date")
    numbers = list(dict.fromkeys(request_numbers or ()))
    requests = ChangeRequest.objects.in_bulk(numbers)
    missing = [str(n) for n in numbers if n not in requests]
    closed = [str(n) for n in numbers if n in requests and requests[n].status not in DELIVERABLE]
    if missing:
        errors["request_numbers"] = _("There is no change request numbered %(numbers)s") % {
            "numbers": ", ".join(missing)}
    elif closed:
        errors["request_numbers"] = _("Requests %(numbers)s were declined or merged: a release "
                                      "cannot deliver them") % {"numbers": ", ".join(closed)}
    elif not numbers:
        errors["request_numbers"] = _("Enter the numbers of the requests this release delivers")
    if errors:
        raise ValidationError(errors)
    return {"version": version, "released_on": released_on, "notes": (notes or "").strip()}, \
        [requests[n] for n in numbers]


def _audit_fields(release) -> dict:
    return {"version": release.version, "released_on": release.released_on.isoformat(),
            "requests": sorted(release.requests.values_list("pk", flat=True)),
            "status": release.status}


@transaction.atomic(durable=True)
def create_release(*, version: str, released_on, notes: str = "", request_numbers=(),
                   acting_user) -> Release:
    _require_moderator(acting_user)
    fields, requests = _clean(version=version, released_on=released_on, notes=notes,
                              request_numbers=request_numbers)
    release = Release.objects.create(**fields, created_by=acting_user)
    release.requests.set(requests)
    record(actor=acting_user, action="usergroup.release_created", obj=release,
           after=_audit_fields(release))
    return release


@transaction.atomic(durable=True)
def update_release(release: Release, *, version: str, released_on, notes: str = "",
                   request_numbers=(), acting_user) -> Release:
    """Change a draft. A published release's requests and people were told: it stays as it is
    (its notes included, as the e-mails quoted them)."""
    _require_moderator(acting_user)
    release = Release.objects.select_for_update().get(pk=release.pk)
    if release.is_published:
        raise ValidationError(_("This release is published and can no longer be changed."))
    fields, requests = _clean(version=version, released_on=released_on, notes=notes,
                              request_numbers=request_numbers, release=release)
    before = _audit_fields(release)
    for name, value in fields.items():
        setattr(release, name, value)
    release.save()
    release.requests.set(requests)
    record(actor=acting_user, action="usergroup.release_changed", obj=release, before=before,
           after=_audit_fields(release))
    return release


@transaction.atomic(durable=True)
def publish_release(release: Release, *, acting_user, now=None) -> int | None:
    """Publish: mark its requests released and tell their followers, each person once with the
    list of their requests. Returns how many e-mails were queued; None if it was published
    before (nothing is done or sent again)."""
    _require_moderator(acting_user)
    release = Release.objects.select_for_update().get(pk=release.pk)
    if release.is_published:
        return None
    # Locked in primary-key order, as merges lock them, so the two never deadlock.
    requests = list(ChangeRequest.objects.select_for_update()
                    .filter(releases=release).order_by("pk"))
    if not requests:
        raise ValidationError(_("Add the requests this release delivers before publishing it."))
    closed = [str(r.pk) for r in requests if r.status not in DELIVERABLE]
    if closed:
        raise ValidationError(_("Requests %(numbers)s were declined or merged since: take them "
                                "out of the release first") % {"numbers": ", ".join(closed)})
    response = _("Released in version %(version)s.") % {"version": release.version}
    changing = [r for r in requests if r.status != Status.RELEASED]
    StatusChange.objects.bulk_create(
        [StatusChange(request=r, from_status=r.status, to_status=Status.RELEASED,
                      response=response, by=acting_user) for r in changing])
    ChangeRequest.objects.filter(pk__in=[r.pk for r in changing]).update(
        status=Status.RELEASED, updated_at=now or timezone.now())
    release.status = Release.Status.PUBLISHED
    release.published_at = now or timezone.now()
    release.published_by = acting_user
    release.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    record(actor=acting_user, action="usergroup.release_published", obj=release,
           before={"status": Release.Status.DRAFT},
           after={"status": release.status, "released": [r.pk for r in changing]})
    if webhooks.wanted("change_request.status_changed"):
        for change_request in changing:
            from_status = change_request.status
            change_request.status = Status.RELEASED
            webhooks.announce_status_changed(change_request, from_status=from_status,
                                             response=response)
    webhooks.announce_release(release, requests)
    return _tell_followers(release, requests, acting_user=acting_user)


def _tell_followers(release: Release, requests, *, acting_user) -> int:
    """One message per person following any of the release's requests, listing theirs."""
    from accounts.models import User

    by_pk = {r.pk: r for r in requests}
    theirs = defaultdict(list)
    for user_id, request_id in (Subscription.objects
                                .filter(request__in=requests, active=True)
                                .exclude(user=acting_user)
                                .order_by("request_id").values_list("user_id", "request_id")):
        theirs[user_id].append(by_pk[request_id])
    people = User.objects.filter(pk__in=theirs, is_active=True).order_by("pk")
    how = notifications.deliveries(people)
    url = notifications.platform_url("release", release.pk)
    urls = {r.pk: notifications.request_url(r) for r in requests}
    emails, waiting = [], []
    for person in people:
        asked = theirs[person.pk]
        titles = "\n".join(f"- {r.title}\n  {urls[r.pk]}" for r in asked)
        subject = ngettext("User group: the change you asked for is live",
                           "User group: the changes you asked for are live",
                           len(asked))
        text = ngettext(
            "Version %(version)s is live. It delivers the change you asked for:\n\n%(titles)s\n\n"
            "Release notes: %(url)s\n",
            "Version %(version)s is live. It delivers the changes you asked for:\n\n%(titles)s\n\n"
            "Release notes: %(url)s\n", len(asked)) % {
            "version": release.version, "titles": titles, "url": url}
        delivery = how[person.pk]
        if delivery == notifications.Delivery.IMMEDIATE:
            emails.append(notifications.email_to(
                person, kind="usergroup.release", subject=subject, text=text,
                change_request=asked[0] if len(asked) == 1 else None,
                dedupe_key=f"usergroup.release:{release.pk}:{person.pk}",
                regarding={"release": release.pk}))
        elif delivery == notifications.Delivery.DIGEST:
            waiting.append(DigestEntry(
                user=person, kind="usergroup.release",
                summary=_("Version %(version)s is live: %(titles)s") % {
                    "version": release.version,
                    "titles": "; ".join(r.title for r in asked)}))
    DigestEntry.objects.bulk_create(waiting)
    return len(queue_emails(emails)) if emails else 0
