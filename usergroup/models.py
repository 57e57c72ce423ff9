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
