"""Every message to a person, kept from the change that caused it until it has gone.

The table exists in the public schema (staff messages: invitations) and in each client's schema
(messages to the people booking). A row is written inside the transaction of the change it tells
about, so a message exists exactly when its change does; a task sends it after commit.
"""

from django.db import models
from django.utils import timezone


class OutboundMessage(models.Model):
    class Medium(models.TextChoices):
        EMAIL = "email", "E-mail"
        TEXT = "text", "Text message"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Could not be sent"

    medium = models.CharField(max_length=8, choices=Medium.choices)
    # What the message is (booking_confirmation, reminder_7, invitation…), for people and logs.
    kind = models.CharField(max_length=64)
    # A message that must go at most once names itself here; the database refuses a second.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    to = models.CharField(max_length=320)
    sender = models.CharField(max_length=320, blank=True)
    reply_to = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # [{"filename", "content", "mimetype"}]: text attachments (calendar files).
    attachments = models.JSONField(default=list, blank=True)
    # Ids the app that queued it wants back when it has gone or failed ({"offer": 1}).
    regarding = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outbox_sent_has_time"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.to} ({self.status})"


class WebhookEndpoint(models.Model):
    """Where an integrator wants to be told of events, signed with a secret of its own.

    The table exists in every client's schema (a client's endpoints, told of its own events
    only) and in the public schema (for the control plane's own events, such as the user
    group's). Which event types exist is the caller's business: this app only matches the
    names in `events`."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Event type names, e.g. ["booking.confirmed", "payment.refunded"].
    events = models.JSONField(default=list)
    # Kept to sign with (an HMAC needs the secret itself); shown to people once, when made.
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    # Whose endpoint it is where a schema holds several owners' (the public schema's user
    # group); blank in a client's schema, where every endpoint is the client's.
    owner = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint, and how sending it went: the endpoint's delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Given up"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")
    # The same for every endpoint told of one event: receivers use it to ignore a repeat.
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"],
                                    name="webhook_one_delivery_per_event"),
        ]

    def __str__(self):
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"
