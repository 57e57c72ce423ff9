"""The event log: every change of an offer or booking, appended, never edited."""

from django.db import models

from .bookings import Booking, Channel
from .offers import Offer


class OfferEvent(models.Model):
    """The offer's timeline: one immutable row for every change of the offer or its bookings."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="events")
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="events")
    kind = models.CharField(max_length=48)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    actor = models.CharField(max_length=254)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["kind", "occurred_at"], name="event_kind_time")]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.offer_id} {self.kind}"
