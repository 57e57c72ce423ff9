"""Holds (a seat kept while details and payment are taken) and bookings."""

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .offers import Offer
from .sessions import CourseSession


class Hold(models.Model):
    """A seat kept for one offer while details and payment are taken. Expired holds simply stop
    counting; nothing has to run for their seat to come free."""

    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="hold")
    session = models.ForeignKey(CourseSession, on_delete=models.CASCADE, related_name="holds")
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["session", "expires_at"], name="hold_live_by_session")]

    def __str__(self):
        return f"Hold {self.offer} on {self.session_id} until {self.expires_at:%H:%M}"


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    TELEPHONE = "telephone", _("Telephone")
    ADMIN = "admin", _("Administrator")
    API = "api", _("API")
    SYSTEM = "system", _("System")


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Pending payment")
        CONFIRMED = "confirmed", _("Confirmed")
        TRANSFERRED = "transferred", _("Transferred")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Attended and completed")
        DID_NOT_ATTEND = "did_not_attend", _("Did not attend")
        REFUSED_ENTRY = "refused_entry", _("Refused entry")
        NOT_COMPLETED = "not_completed", _("Left early or not completed")
        # The new date of a move that waits for its transfer fee: the booking it moves stays
        # confirmed, and this one holds the new date's seat, until the fee is paid.
        TRANSFER_PENDING = "transfer_pending", _("Move waiting for the transfer fee")

    ACTIVE = (Status.PENDING_PAYMENT, Status.CONFIRMED)
    # Waiting for a payment: a new booking's fee, or a move's transfer fee.
    AWAITING_PAYMENT = (Status.PENDING_PAYMENT, Status.TRANSFER_PENDING)

    reference = models.CharField(max_length=12, unique=True)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="bookings")
    session = models.ForeignKey(CourseSession, on_delete=models.PROTECT, related_name="bookings")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    fee_pence = models.PositiveIntegerField()
    # What the person agreed to: the fee components and the policy at the time of booking.
    fee_snapshot = models.JSONField()
    policy_snapshot = models.JSONField()
    transfer_count = models.PositiveIntegerField(default=0)
    # The booking this one moved (or, while `transfer_pending`, is to move) from. A booking
    # moves once; moves abandoned before their fee was paid are kept, cancelled.
    transferred_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="transfers")
    made_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # When the row last changed, for the client API's `updated_since`. A database trigger
    # (migration 0017_api_change_times) sets it on every UPDATE, including queryset updates and saves with
    # update_fields, which Django's auto_now would miss; the default, for rows inserted in SQL.
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="booking_changed"),
            # Reports: bookings made in a period (a move is not a new booking), read from the
            # index alone.
            models.Index(fields=["confirmed_at"], name="booking_made",
                         condition=models.Q(transferred_from__isnull=True),
                         include=["channel", "fee_pence", "offer", "session"]),
            # Reports: an offer's first confirmed booking.
            models.Index(fields=["offer", "confirmed_at"], name="booking_offer_confirmed"),
            # Reports group by this month; the index's statistics tell the planner there are a
            # few dozen months (not a group per row), so it aggregates by hash without a sort.
            # (What TruncMonth("confirmed_at", tzinfo=London) writes, spelt so that a migration
            # can hold it.)
            models.Index(models.Func(
                models.Value("month"),
                models.Func(models.Value("Europe/London"), "confirmed_at", function="TIMEZONE"),
                function="DATE_TRUNC", output_field=models.DateTimeField()),
                name="booking_london_month"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["offer"], condition=models.Q(status__in=["pending_payment", "confirmed"]),
                name="one_active_booking_per_offer",
            ),
            models.UniqueConstraint(
                fields=["transferred_from"], condition=~models.Q(status="cancelled"),
                name="one_move_per_booking",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def amount_due_pence(self) -> int:
        """What paying for this booking takes: the transfer fee while its move waits for it,
        else the booking's fee."""
        if self.status == self.Status.TRANSFER_PENDING:
            return (self.fee_snapshot or {}).get("transfer_fee_pence", 0)
        return self.fee_pence
