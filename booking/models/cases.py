"""Special-circumstances cases."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .offers import Offer


class SpecialCircumstancesCase(models.Model):
    """A request for something the rules do not give by themselves (part payment, instalments,
    an interpreter, …), raised by an agent or administrator and decided by an administrator.
    While it is open an offer that was waiting to be booked shows "special arrangement
    pending"; the decision puts back the status it had."""

    class Kind(models.TextChoices):
        PART_PAYMENT = "part_payment", _("Part payment")
        INSTALMENTS = "instalments", _("Payment by instalments")
        MEDICAL = "medical", _("Medical")
        COMPASSIONATE = "compassionate", _("Compassionate")
        INTERPRETER = "interpreter", _("Interpreter")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    notes = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # The offer's status when the case was raised, put back when it is decided.
    offer_status_before = models.CharField(max_length=24, blank=True)
    raised_by = models.CharField(max_length=254)
    raised_by_user_id = models.BigIntegerField(null=True, blank=True)
    # Staff users live in the public schema: kept by id, with a label that stays readable.
    assigned_to_user_id = models.BigIntegerField(null=True, blank=True)
    assigned_to = models.CharField(max_length=254, blank=True)
    decision_note = models.TextField(blank=True)
    decided_by = models.CharField(max_length=254, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="case_status_created"),
            # The special-circumstances report: the cases raised in a period, from the index.
            models.Index(fields=["created_at"], name="case_raised",
                         include=["kind", "status", "decided_at", "offer"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["offer"], condition=models.Q(status="open"),
                                    name="one_open_case_per_offer"),
            models.CheckConstraint(
                condition=(models.Q(status="open", decided_at__isnull=True)
                           | (~models.Q(status="open") & models.Q(decided_at__isnull=False))),
                name="case_decided_when_closed",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.offer.reference}"
