"""Sent with `message=` once a message has gone, or has been given up on, in the schema it
belongs to: the app that queued it records that where its people look (booking's timeline)."""

from django.dispatch import Signal

message_sent = Signal()
message_failed = Signal()
