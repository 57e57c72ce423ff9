"""A client's own wording of the messages sent to people."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .catalogue import Language


class CorrespondenceTemplate(models.Model):
    """A client's own wording for one message in one language. Without one, the standard
    wording (booking/templates/email/) is used. Placeholders are {name} from
    booking.services.correspondence.PLACEHOLDERS; the body is plain text."""

    class Kind(models.TextChoices):
        # The values are the message names booking.notifications records on the timeline.
        BOOKING_CONFIRMATION = "booking_confirmation", _("Booking confirmation")
        REMINDER = "reminder", _("Reminder")
        JOINING_INSTRUCTIONS = "joining_instructions", _("Joining instructions")
        TRANSFER_CONFIRMATION = "transfer_confirmation", _("Transfer confirmation")
        CANCELLATION = "cancellation", _("Cancellation")
        SESSION_CANCELLED = "session_cancelled", _("Course date cancelled by us")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    language = models.CharField(max_length=2, choices=Language.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    updated_by = models.CharField(max_length=254)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "language"],
                                    name="one_template_per_kind_and_language"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_language_display()})"
