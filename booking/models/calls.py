"""Calls the contact centre logs."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .bookings import Booking
from .offers import Offer


class CallLog(models.Model):
    """One telephone call handled by a contact-centre agent: what it was about, how it ended,
    how long it took. A call about an offer also appends "call.logged" to the offer's timeline.
    Rows are never changed once written."""

    class Type(models.TextChoices):
        NEW_BOOKING = "new_booking", _("New booking")
        TRANSFER = "transfer", _("Transfer")
        CANCELLATION = "cancellation", _("Cancellation")
        PAYMENT = "payment", _("Payment")
        ENQUIRY = "enquiry", _("Enquiry")
        COMPLAINT = "complaint", _("Complaint")
        SPECIAL_CIRCUMSTANCES = "special_circumstances", _("Special circumstances")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        BOOKED = "booked", _("Booked")
        TRANSFERRED = "transferred", _("Transferred to another date")
        CANCELLED = "cancelled", _("Cancelled")
        PAYMENT_TAKEN = "payment_taken", _("Payment taken")
        INFORMATION_GIVEN = "information_given", _("Question answered")
        REFERRED = "referred", _("Referred to the client's administrators")
        CALL_BACK = "call_back", _("Call back needed")
        NOT_RESOLVED = "not_resolved", _("Not resolved")
        CALL_DROPPED = "call_dropped", _("Call dropped")

    MAX_MINUTES = 600

    call_type = models.CharField(max_length=24, choices=Type.choices)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    duration_minutes = models.PositiveIntegerField()
    notes = models.TextField(blank=True)
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="calls")
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="calls")
    # The agent is a user of the public schema: kept by id and label, like OfferEvent's actor.
    agent_user_id = models.BigIntegerField(null=True, blank=True)
    agent_label = models.CharField(max_length=254)
    started_at = models.DateTimeField()
    logged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["call_type", "started_at"], name="call_type_time"),
            models.Index(fields=["agent_user_id", "started_at"], name="call_agent_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(duration_minutes__lte=600),
                                   name="call_duration_at_most_10_hours"),
        ]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.call_type} {self.outcome}"
