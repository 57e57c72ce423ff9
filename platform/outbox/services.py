"""Queueing a message inside a change's transaction, and sending it once after commit.

`queue_email` / `queue_text` write the row inside the caller's transaction and ask for a
`deliver` task once it commits. `deliver_message` claims the row under a lock and commits the
claim before sending, so nothing is ever sent while a row lock is held and two workers never
send the same message; a failure is retried with a growing delay, then marked failed. A worker
that stops between sending and recording leaves the row "sending": the sweep marks it failed
(outcome unknown) rather than risk sending it twice.
"""

import base64
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import OutboundMessage
from .signals import message_failed, message_sent

log = logging.getLogger(__name__)

# After the first try fails: 1 minute, 5, 15, an hour, 4 hours; then it is given up.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                timedelta(hours=1), timedelta(hours=4))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A claim older than this was left by a worker that stopped mid-send.
CLAIM_TIMEOUT = timedelta(minutes=15)


def queue_email(*, kind: str, to: str, subject: str, text: str, html: str = "", sender: str = "",
                reply_to: str = "", headers: dict | None = None, attachments=(),
                dedupe_key: str | None = None, regarding: dict | None = None
                ) -> OutboundMessage | None:
    """Queue an e-mail; None if `dedupe_key` was queued before (it goes once)."""
    return _queue(_email(kind=kind, to=to, subject=subject, text=text, html=html, sender=sender,
                         reply_to=reply_to, headers=headers, attachments=attachments,
                         dedupe_key=dedupe_key, regarding=regarding))


def queue_emails(emails: list[dict]) -> list[OutboundMessage]:
    """Queue many e-mails at once (each dict holds `queue_email`'s arguments), in a few
    statements rather than a savepoint each: those whose `dedupe_key` was queued before are
    skipped. Returns the messages queued."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Queue a message inside the transaction of the change it tells about")
    keys = [email["dedupe_key"] for email in emails if email.get("dedupe_key")]
    seen = set(OutboundMessage.objects.filter(dedupe_key__in=keys)
               .values_list("dedupe_key", flat=True)) if keys else set()
    fresh = []
    for email in emails:
        key = email.get("dedupe_key")
        if key and key in seen:
            continue
        seen.add(key)
        fresh.append(email)
    try:
        with transaction.atomic():
            messages = OutboundMessage.objects.bulk_create(
                [_email(**email) for email in fresh], batch_size=500)
    except IntegrityError:
        # Another transaction queued one of them meanwhile: one at a time, each deduplicated.
        return [message for message in (queue_email(**email) for email in fresh) if message]
    schema = connection.schema_name
    ids = [message.pk for message in messages]
    transaction.on_commit(lambda: [dispatch(message_id, schema) for message_id in ids])
    return messages


def _email(*, kind: str, to: str, subject: str, text: str, html: str = "", sender: str = "",
           reply_to: str = "", headers: dict | None = None, attachments=(),
           dedupe_key: str | None = None, regarding: dict | None = None) -> OutboundMessage:
    return OutboundMessage(
        medium=OutboundMessage.Medium.EMAIL, kind=kind, to=to, subject=subject[:300],
        body_text=text, body_html=html, sender=sender or settings.DEFAULT_FROM_EMAIL,
        reply_to=reply_to, headers=headers or {},
        attachments=[{"filename": name, "content": content, "mimetype": mimetype}
                     for name, content, mimetype in attachments],
        dedupe_key=dedupe_key, regarding=regarding or {})


def queue_text(*, kind: str, to: str, body: str, dedupe_key: str | None = None,
               regarding: dict | None = None) -> OutboundMessage | None:
    """Queue a text message to `to` (E.164); None if `dedupe_key` was queued before."""
    return _queue(OutboundMessage(medium=OutboundMessage.Medium.TEXT, kind=kind, to=to,
                                  body_text=body, dedupe_key=dedupe_key,
                                  regarding=regarding or {}))


def _queue(message: OutboundMessage) -> OutboundMessage | None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Queue a message inside the transaction of the change it tells about")
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        if message.dedupe_key and OutboundMessage.objects.filter(
                dedupe_key=message.dedupe_key).exists():
            return None
        raise
    schema = connection.schema_name
    transaction.on_commit(lambda: dispatch(message.pk, schema))
    return message


def dispatch(message_id: int, schema: str, *, countdown: int | None = None) -> None:
    """Ask a worker to deliver the message. If the broker cannot be reached the row waits for
    the sweep, so a change never fails because its message could not be handed over."""
    from .tasks import deliver

    try:
        deliver.apply_async(args=(message_id,), headers={"_schema_name": schema},
                            countdown=countdown)
    except Exception:  # noqa: BLE001 — the broker is down: the sweep hands it over later
        log.warning("Could not hand message %s (%s) to a worker; the sweep will", message_id,
                    schema, exc_info=True)


def deliver_message(message_id: int, *, now=None) -> str:
    """Send one queued message if it is due: "sent", "retry", "failed" or "not_due"."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        message = (OutboundMessage.objects.select_for_update(skip_locked=True)
                   .filter(pk=message_id, status=OutboundMessage.Status.PENDING,
                           next_attempt_at__lte=now).first())
        if message is None:
            return "not_due"
        message.status = OutboundMessage.Status.SENDING
        message.attempts += 1
        message.next_attempt_at = now
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
    try:
        _send(message)
    except Exception as error:  # noqa: BLE001 — any failure of the mail or text service
        log.warning("Sending %s %s failed (attempt %s): %s", message.kind, message.pk,
                    message.attempts, error)
        return _failed_attempt(message, error, now)
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=OutboundMessage.Status.SENT, sent_at=timezone.now(), last_error="")
    message.status = OutboundMessage.Status.SENT
    message_sent.send(sender=OutboundMessage, message=message)
    return "sent"


def _failed_attempt(message: OutboundMessage, error: Exception, now) -> str:
    reason = f"{type(error).__name__}: {error}"[:300]
    if message.attempts >= MAX_ATTEMPTS:
        _give_up(message, reason)
        return "failed"
    delay = RETRY_DELAYS[message.attempts - 1]
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=OutboundMessage.Status.PENDING, next_attempt_at=now + delay, last_error=reason)
    from config.celery import app

    if not app.conf.task_always_eager:  # eager mode has no timer: the sweep retries
        dispatch(message.pk, connection.schema_name, countdown=int(delay.total_seconds()))
    return "retry"


def _give_up(message: OutboundMessage, reason: str) -> None:
    OutboundMessage.objects.filter(pk=message.pk).update(status=OutboundMessage.Status.FAILED,
                                                         last_error=reason)
    message.status, message.last_error = OutboundMessage.Status.FAILED, reason
    message_failed.send(sender=OutboundMessage, message=message)


def _send(message: OutboundMessage) -> None:
    if message.medium == OutboundMessage.Medium.TEXT:
        from integrations.text_messages import send_text

        send_text(message.to, message.body_text)
        return
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body_text, from_email=message.sender,
        to=[message.to], reply_to=[message.reply_to] if message.reply_to else None,
        headers=message.headers or None)
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments:
        content = attachment["content"]
        if not attachment["mimetype"].startswith("text/"):
            content = base64.b64decode(content)  # a binary file is kept as base64 text
        email.attach(attachment["filename"], content, attachment["mimetype"])
    email.send()


def sweep(*, now=None) -> dict:
    """In the current schema: hand over every message that is due (its task was lost, or it
    waits for a retry in eager mode) and give up on claims a stopped worker left behind."""
    now = now or timezone.now()
    stale = list(OutboundMessage.objects.filter(status=OutboundMessage.Status.SENDING,
                                                next_attempt_at__lt=now - CLAIM_TIMEOUT))
    for message in stale:
        if OutboundMessage.objects.filter(pk=message.pk, status=OutboundMessage.Status.SENDING
                                          ).update(status=OutboundMessage.Status.FAILED) == 1:
            _give_up(message, "The sender stopped while sending: it may or may not have gone, "
                              "so it is not sent again.")
    due = list(OutboundMessage.objects.filter(status=OutboundMessage.Status.PENDING,
                                              next_attempt_at__lte=now)
               .order_by("next_attempt_at").values_list("pk", flat=True)[:1000])
    for message_id in due:
        dispatch(message_id, connection.schema_name)
    return {"due": len(due), "abandoned": len(stale)}
