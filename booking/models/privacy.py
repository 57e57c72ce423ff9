"""Privacy: the client's retention schedule, the erasure log and the log of staff reads of a
person's record ("who viewed my record"). None of these rows holds the person's own details:
they name the offer by id, so erasing the offer leaves nothing to find here."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .offers import Offer

# The national database's periods, from the offence date. A client may keep data for less,
# never for longer; the database refuses a longer period whatever writes it.
NATIONAL_ATTENDED_MONTHS = 42  # 3 years 6 months
NATIONAL_NOT_ATTENDED_MONTHS = 12
# How long the log of staff reads is kept (no national figure: two years, shortenable).
LONGEST_ACCESS_LOG_MONTHS = 24


class RetentionSchedule(models.Model):
    """The client's one retention schedule (absent: the national defaults)."""

    # Only one row per schema: the unique, always-true flag says so in the database.
    singleton = models.BooleanField(default=True, unique=True, editable=False)
    attended_months = models.PositiveSmallIntegerField(default=NATIONAL_ATTENDED_MONTHS)
    not_attended_months = models.PositiveSmallIntegerField(default=NATIONAL_NOT_ATTENDED_MONTHS)
    access_log_months = models.PositiveSmallIntegerField(default=LONGEST_ACCESS_LOG_MONTHS)
    updated_by = models.CharField(max_length=254, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="retention_one_schedule"),
            models.CheckConstraint(
                condition=Q(attended_months__gte=1,
                            attended_months__lte=NATIONAL_ATTENDED_MONTHS),
                name="retention_attended_within_national"),
            models.CheckConstraint(
                condition=Q(not_attended_months__gte=1,
                            not_attended_months__lte=NATIONAL_NOT_ATTENDED_MONTHS),
                name="retention_not_attended_within_national"),
            models.CheckConstraint(
                condition=Q(access_log_months__gte=1,
                            access_log_months__lte=LONGEST_ACCESS_LOG_MONTHS),
                name="retention_access_log_within_policy"),
        ]

    def __str__(self):
        return f"{self.attended_months}/{self.not_attended_months}/{self.access_log_months}"


class ErasureRecord(models.Model):
    """One erasure of one person's details: what kinds of data, when, under which rule and by
    whom. The offer is named by id and by the pseudonym it now carries, never by its old
    reference or anything of the person's."""

    class Rule(models.TextChoices):
        ATTENDED = "attended", _("Attended: retention period after the offence ended")
        NOT_ATTENDED = "not_attended", _("Did not attend: retention period after the offence "
                                         "ended")
        REQUEST = "request", _("Erased on request")
        SURVEY_COMMENTS = "survey_comments", _("Survey comments: older than the shortest "
                                               "retention period")

    class Reason(models.TextChoices):
        SUBJECT_REQUEST = "subject_request", _("The person asked for their data to be erased")
        NO_LONGER_NEEDED = "no_longer_needed", _("The data is no longer needed")
        POLICE_INSTRUCTION = "police_instruction", _("The police asked for it to be erased")

    # Empty only for the nightly blanking of survey comments, which erases no one's record.
    offer = models.OneToOneField(Offer, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="erasure")
    pseudonym = models.CharField(max_length=32, blank=True)
    # A keyed digest of the reference the offer had (never the reference): a later import of
    # that reference is refused instead of bringing the person back. Empty for comments.
    reference_digest = models.CharField(max_length=64, blank=True, db_index=True)
    rule = models.CharField(max_length=16, choices=Rule.choices)
    reason = models.CharField(max_length=24, choices=Reason.choices, blank=True)
    # {"offer_details": 1, "call_notes": 2, "messages": 3, …}: rows changed, by kind of data.
    erased = models.JSONField(default=dict)
    actor = models.CharField(max_length=254)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    erased_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-erased_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(rule="request") | ~Q(reason=""),
                                   name="erasure_on_request_has_reason"),
            models.CheckConstraint(
                condition=Q(rule="survey_comments", offer__isnull=True)
                | (~Q(rule="survey_comments") & Q(offer__isnull=False)),
                name="erasure_of_a_record_names_its_offer"),
        ]

    def __str__(self):
        return f"{self.pseudonym} {self.rule} {self.erased_at:%Y-%m-%d}"


class OffenderRead(models.Model):
    """One staff read of one person's record: who, when, on which page."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="reads")
    # Staff users live in the public schema: kept by id, with a label that stays readable.
    viewer_user_id = models.BigIntegerField(null=True, blank=True)
    viewer = models.CharField(max_length=254)
    page = models.CharField(max_length=64)
    path = models.CharField(max_length=300)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["offer", "occurred_at"], name="read_offer_time")]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.viewer} {self.page}"
