"""The user group: change requests from clients' staff, their votes and comments, and the
status history the provider writes with a public response each time."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [GinIndex(name="ug_request_title_trgm", fields=["title"],
                            opclasses=["gin_trgm_ops"])]
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
    official = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Comment {self.pk} on {self.request_id}"


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
