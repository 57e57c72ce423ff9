"""The user group: change requests from clients' staff, their votes and comments, and the
status history the provider writes with a public response each time."""

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.utils.translation import gettext_lazy as _

TITLE_MAX = 120


class Area(models.Model):
    """Part of the service a request is about: a list the provider edits (Django admin)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class ChangeRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UNDER_REVIEW = "under_review", _("Under review")
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        RELEASED = "released", _("Released")
        DECLINED = "declined", _("Declined")
        DUPLICATE = "duplicate", _("Duplicate")

    CLOSED = frozenset({Status.RELEASED, Status.DECLINED, Status.DUPLICATE})

    title = models.CharField(_("title"), max_length=TITLE_MAX)
    description = models.TextField(_("description"), blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="requests")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="change_requests")
    organisation = models.ForeignKey("tenants.ClientOrganisation", on_delete=models.PROTECT,
                                     related_name="change_requests")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="merged_from")
    # The tally, for sorting thousands of requests without a pass over every vote: recounted
    # from the votes (services.refresh_tally) under this row's lock whenever they change, never
    # incremented, so it cannot drift from the rows it counts.
    votes_total = models.PositiveIntegerField(default=0)
    organisations_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        # The list's two main sorts, read in index order (the first page stops after 25).
        indexes = [models.Index(fields=["-votes_total", "-organisations_total", "-created_at"],
                                name="ug_request_by_votes"),
                   models.Index(fields=["-organisations_total", "-votes_total", "-created_at"],
                                name="ug_request_by_organisations"),
                   GinIndex(name="ug_request_title_trgm", fields=["title"],
                            opclasses=["gin_trgm_ops"]),
                   # The full-text search's own expression (queries.SEARCH_VECTOR), so the
                   # planner can use it.
                   GinIndex(SearchVector("title", "description", config="english"),
                            name="ug_request_fulltext")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(title=""), name="ug_request_title_not_empty"),
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | models.Q(status="duplicate"),
                name="ug_request_merged_is_duplicate"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED


class StatusChange(models.Model):
    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE,
                                related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=ChangeRequest.Status.choices)
    to_status = models.CharField(max_length=20, choices=ChangeRequest.Status.choices)
    response = models.TextField(_("public response"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                           related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.request_id}: {self.from_status} → {self.to_status}"


class Vote(models.Model):
    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="usergroup_votes")
    organisation = models.ForeignKey("tenants.ClientOrganisation", on_delete=models.CASCADE,
                                     related_name="usergroup_votes")
    # Provider staff who recorded the vote for the member (raised in a meeting); null when the
    # member voted themselves.
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "member"],
                                               name="ug_vote_one_per_member")]
        indexes = [models.Index(fields=["request", "created_at"])]

    def __str__(self):
        return f"{self.member_id} for {self.request_id}"


class Merge(models.Model):
    """What merging `source` into `target` did, so it can be undone exactly."""

    source = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="+")
    source_status = models.CharField(max_length=20, choices=ChangeRequest.Status.choices)
    # Votes moved to the target (member ids) and those left behind because the member had
    # already voted on the target: undoing puts each back where it was.
    moved_member_ids = models.JSONField(default=list)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.source_id} into {self.target_id}"


class Comment(models.Model):
    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    body = models.TextField(_("comment"))
    # A reply answers a top-level comment: one level only (services.add_comment checks).
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="replies")
    official = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Comment {self.pk} on {self.request_id}"


class CommentRevision(models.Model):
    """What a comment said before an edit: the history is kept and shown."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["replaced_at", "pk"]

    def __str__(self):
        return f"Revision of {self.comment_id}"


class Meeting(models.Model):
    """A user-group meeting provider staff run: drafts are theirs alone; once published, members
    see it, download it and find it in their calendar feed."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=TITLE_MAX)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    online_link = models.URLField(_("online link"), blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    minutes = models.TextField(_("minutes"), blank=True)
    # Members read the minutes and decisions from then on (provider staff draft them before).
    minutes_published_at = models.DateTimeField(null=True, blank=True)
    # Which client organisations were there, recorded with the minutes.
    attended_organisations = models.ManyToManyField(
        "tenants.ClientOrganisation", blank=True, related_name="usergroup_meetings_attended")
    # Bumped on every change so calendar apps replace their copy (the .ics SEQUENCE).
    sequence = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(title=""), name="ug_meeting_title_not_empty"),
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="ug_meeting_ends_after_start"),
            models.CheckConstraint(condition=~models.Q(place="", online_link=""),
                                   name="ug_meeting_place_or_link"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def minutes_published(self) -> bool:
        return self.minutes_published_at is not None


class AgendaItem(models.Model):
    """One item on a meeting's agenda: a change request, or a free item with its own title; the
    decision is written after the meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveSmallIntegerField(default=0)
    change_request = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="agenda_items")
    title = models.CharField(_("title"), max_length=200, blank=True)
    decision = models.TextField(_("decision"), blank=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(change_request__isnull=False)
                                   | ~models.Q(title=""), name="ug_agenda_item_has_subject"),
            models.UniqueConstraint(fields=["meeting", "change_request"],
                                    condition=models.Q(change_request__isnull=False),
                                    name="ug_agenda_request_once_per_meeting"),
        ]

    def __str__(self):
        return self.title or str(self.change_request)

    @property
    def subject(self) -> str:
        return self.change_request.title if self.change_request_id else self.title


class Release(models.Model):
    """A version of the service: drafted by provider staff with the requests it delivers, and
    published once, which marks them released and tells everyone who asked for them."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    version = models.CharField(_("version"), max_length=40, unique=True)
    released_on = models.DateField(_("release date"))
    notes = models.TextField(_("release notes"), blank=True)
    requests = models.ManyToManyField(ChangeRequest, related_name="releases", blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-released_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(version=""), name="ug_release_has_version"),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="ug_release_published_has_time"),
        ]

    def __str__(self):
        return self.version

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Subscription(models.Model):
    """A person following a request: raisers, voters and commenters are subscribed as they act;
    `active` False keeps their choice to stop, so acting again does not resubscribe them."""

    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE,
                                related_name="subscriptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="usergroup_subscriptions")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "user"],
                                               name="ug_subscription_once")]

    def __str__(self):
        return f"{self.user_id} follows {self.request_id}"


class NotificationPreference(models.Model):
    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", _("An e-mail for each change")
        DIGEST = "digest", _("One e-mail a day with the day’s changes")
        NONE = "none", _("No e-mails")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="usergroup_preference")
    delivery = models.CharField(max_length=12, choices=Delivery.choices,
                                default=Delivery.IMMEDIATE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user_id}: {self.delivery}"


class DigestEntry(models.Model):
    """One event kept for a person who takes the daily digest, until a digest carries it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, null=True,
                                blank=True, related_name="+")
    kind = models.CharField(max_length=64)
    summary = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The day (UK) of the digest that carried it; null while it waits.
    digested_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["digested_on", "user"], name="ug_digest_waiting")]

    def __str__(self):
        return f"{self.kind} for {self.user_id}"


def screenshot_path(screenshot, filename):
    # Our own name, never the uploader's: the extension follows the checked content.
    return f"usergroup/requests/{screenshot.request_id}/{uuid.uuid4().hex}.{screenshot.extension}"


class Screenshot(models.Model):
    """An image on a request, stored as we re-encoded it (never the bytes that were sent)."""

    MAX_PER_REQUEST = 3
    EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}

    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE,
                                related_name="screenshots")
    image = models.FileField(upload_to=screenshot_path)
    content_type = models.CharField(max_length=20, choices=[(t, t) for t in EXTENSIONS])
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Screenshot {self.pk} of {self.request_id}"

    @property
    def extension(self) -> str:
        return self.EXTENSIONS[self.content_type]

    # Shown no wider than the page's two-thirds column (no inline style: the CSP forbids it).
    DISPLAY_WIDTH = 600

    @property
    def display_size(self) -> tuple[int, int]:
        if self.width <= self.DISPLAY_WIDTH:
            return self.width, self.height
        return self.DISPLAY_WIDTH, max(1, round(self.height * self.DISPLAY_WIDTH / self.width))

    @property
    def display_width(self) -> int:
        return self.display_size[0]

    @property
    def display_height(self) -> int:
        return self.display_size[1]
