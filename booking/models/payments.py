"""Card payments into the client's merchant account, and refunds."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .bookings import Booking, Channel


class Payment(models.Model):
    """One PaymentIntent on the client's own Stripe account, for a booking fee or a transfer
    fee. Money movements are recorded with their Stripe ids; refunds are rows of their own."""

    class Kind(models.TextChoices):
        BOOKING_FEE = "booking_fee", _("Booking fee")
        TRANSFER_FEE = "transfer_fee", _("Transfer fee")

    class Status(models.TextChoices):
        # Recorded before Stripe is asked, so the PaymentIntent is keyed on this row's own id.
        CREATING = "creating", _("Being set up")
        PENDING = "pending", _("Waiting for the card")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BOOKING_FEE)
    stripe_payment_intent_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    amount_pence = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="gbp")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    moto = models.BooleanField(default=False)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The remittance statement: the money taken in a period, read from the index alone.
            models.Index(fields=["succeeded_at"], name="payment_taken",
                         include=["booking", "kind", "amount_pence"],
                         condition=models.Q(status="succeeded")),
        ]

    def __str__(self):
        return f"{self.stripe_payment_intent_id} {self.amount_pence}p {self.status}"

    @property
    def refunded_pence(self) -> int:
        return sum(refund.amount_pence for refund in self.refunds.all())


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    stripe_refund_id = models.CharField(max_length=64, unique=True)
    amount_pence = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        # The remittance statement nets the refunds made in a period.
        indexes = [models.Index(fields=["created_at"], name="refund_made",
                                include=["payment", "amount_pence"])]

    def __str__(self):
        return f"{self.stripe_refund_id} {self.amount_pence}p"
