"""Messages to the people booking: what each says, in their language and the client's wording
(compose), queued in the outbox inside the change that causes it (messages), and their fate
recorded on the offer's timeline (timeline)."""

from .compose import content_language, current_client, language_of, pounds  # noqa: F401
from .messages import (  # noqa: F401
    BOOKING_CONFIRMATION,
    BOOKING_PERIOD_NUDGE,
    CANCELLATION,
    JOINING_INSTRUCTIONS,
    OFFER_WITHDRAWN,
    PAYMENT_LINK,
    PAYMENT_REFUNDED_PLACE_GONE,
    REMINDER_DAYS,
    SESSION_CANCELLED,
    SYSTEM,
    TRANSFER_CONFIRMATION,
    TRANSFER_FEE_REFUNDED,
    already_sent,
    queue_booking_confirmation,
    queue_booking_period_nudge,
    queue_cancellation,
    queue_joining_instructions,
    queue_offer_withdrawn,
    queue_payment_link,
    queue_payment_link_text,
    queue_reminder,
    queue_session_cancelled,
    queue_transfer_confirmation,
    queue_transfer_fee_refunded,
    queue_unplaceable_payment_refunded,
    reminder_template,
)
