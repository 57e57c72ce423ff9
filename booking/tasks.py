"""Scheduled jobs for each client, and the dispatcher beat runs in the public schema.

Beat (platform/config/beat.py) calls `run_for_every_client(<task name>)`; the dispatcher sends
the named per-client task into the schema of every live client. The app's task class
(tenant-schemas-celery) carries the schema the task was sent from, so each run reads and
writes only that client's tables. In eager mode (no REDIS_URL) everything runs inline.

Re-runs are safe: every message is queued at most once per booking (or per offer for the
nudge), under the offer's row lock and by the outbox's unique key; the outbox sends it after
commit, never under the lock.
"""

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from booking import notifications, tallies
from booking.models import Booking, CourseSession, DeliveryMode, Hold, Offer
from booking.services import refunds
from booking.services.offers import expire_offers
from booking.services.payments import settle_pending_payments as settle_pending
from booking.services.retention import erase_due
from config.celery import app
from integrations import stripe_gateway as gateway
from tenants.models import ClientOrganisation

logger = logging.getLogger(__name__)

# Beat's dispatcher may send only these into client schemas.
EXPIRE_OFFERS = "booking.expire_offers"
SEND_REMINDERS = "booking.send_reminders"
SEND_JOINING_INSTRUCTIONS = "booking.send_joining_instructions"
NUDGE_UNBOOKED_OFFERS = "booking.nudge_unbooked_offers"
COLLECT_EXPIRED_HOLDS = "booking.collect_expired_holds"
MAKE_REFUNDS_DUE = "booking.make_refunds_due"
ERASE_DUE = "booking.erase_due"
SETTLE_PENDING_PAYMENTS = "booking.settle_pending_payments"
FOLD_REPORT_TALLIES = "booking.fold_report_tallies"
CHECK_REPORT_TALLIES = "booking.check_report_tallies"
# reports.tasks' own job, named here so that the dispatcher may send it (booking never
# imports reports).
SEND_SCHEDULED_REPORTS = "reports.send_scheduled_reports"
PER_CLIENT_TASKS = frozenset({
    FOLD_REPORT_TALLIES, CHECK_REPORT_TALLIES, SEND_SCHEDULED_REPORTS,
    EXPIRE_OFFERS, SEND_REMINDERS, SEND_JOINING_INSTRUCTIONS, NUDGE_UNBOOKED_OFFERS,
    COLLECT_EXPIRED_HOLDS, MAKE_REFUNDS_DUE, ERASE_DUE, SETTLE_PENDING_PAYMENTS,
})

JOINING_INSTRUCTIONS_WINDOW = timedelta(hours=48)
NUDGE_WINDOW_DAYS = 7
HOLD_GRACE = timedelta(hours=1)


def _require_client_schema() -> str:
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise RuntimeError("This task runs in a client's schema; send it with "
                           "run_for_every_client or from inside the client's schema.")
    return schema


def _send_once(template: str, *, offer_id, still_due, send, booking_id=None) -> str:
    """Queue one message unless it was queued (or sent) already.

    Under the offer's row lock (the services lock the offer first too), `still_due(offer,
    booking)` re-checks the job's condition on fresh rows, then `send` queues the message in the
    same transaction, so two overlapping runs cannot both queue it. Returns queued, skipped,
    already or not_due."""
    with transaction.atomic():
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        booking = Booking.objects.get(pk=booking_id) if booking_id else None
        if not still_due(offer, booking):
            return "not_due"
        if notifications.already_sent(template, offer=offer, booking=booking):
            return "already"
        return "queued" if send(offer, booking) is not None else "skipped"


def _tally(results) -> dict:
    counts: dict[str, int] = {}
    for result in results:
        counts[result] = counts.get(result, 0) + 1
    return counts


# --- Per-client tasks -------------------------------------------------------------------------


@app.task(name=EXPIRE_OFFERS)
def expire_offers_task() -> dict:
    """Return unbooked offers whose critical date has passed to the police (nightly)."""
    schema = _require_client_schema()
    return {"schema": schema, "expired": expire_offers()}


def _confirmed_bookings():
    return Booking.objects.filter(status=Booking.Status.CONFIRMED,
                                  session__status=CourseSession.Status.SCHEDULED)


@app.task(name=SEND_REMINDERS)
def send_reminders() -> dict:
    """Remind confirmed bookings whose course starts in 7 days and in 2 days (by local date).
    Each reminder goes once: `reminder_7` / `reminder_2` in the booking's event log."""
    schema = _require_client_schema()
    today = timezone.localdate()
    report = {"schema": schema}
    for days in notifications.REMINDER_DAYS:
        target = today + timedelta(days=days)
        due = _confirmed_bookings().filter(session__starts_at__date=target)
        template = notifications.reminder_template(days)
        results = [
            _send_once(
                template, offer_id=offer_id, booking_id=booking_id,
                still_due=lambda offer, booking, due=due: due.filter(pk=booking.pk).exists(),
                send=lambda offer, booking, days=days: notifications.queue_reminder(booking, days),
            )
            for booking_id, offer_id in due.values_list("pk", "offer_id")
        ]
        report[template] = _tally(results)
    return report


@app.task(name=SEND_JOINING_INSTRUCTIONS)
def send_joining_instructions_task() -> dict:
    """Joining instructions for online courses starting within the next 48 hours (hourly),
    once per booking. Sessions without a joining link yet are picked up when it is added."""
    schema = _require_client_schema()
    now = timezone.now()
    due = (_confirmed_bookings()
           .filter(session__delivery_mode=DeliveryMode.ONLINE, session__starts_at__gt=now,
                   session__starts_at__lte=now + JOINING_INSTRUCTIONS_WINDOW)
           .exclude(session__joining_url=""))
    results = [
        _send_once(
            notifications.JOINING_INSTRUCTIONS, offer_id=offer_id, booking_id=booking_id,
            still_due=lambda offer, booking: due.filter(pk=booking.pk).exists(),
            send=lambda offer, booking: notifications.queue_joining_instructions(booking),
        )
        for booking_id, offer_id in due.values_list("pk", "offer_id")
    ]
    return {"schema": schema, notifications.JOINING_INSTRUCTIONS: _tally(results)}


@app.task(name=NUDGE_UNBOOKED_OFFERS)
def nudge_unbooked_offers() -> dict:
    """Nudge offers still unbooked whose booking period ends within 7 days, once per offer."""
    schema = _require_client_schema()
    today = timezone.localdate()
    due = Offer.objects.filter(
        status=Offer.Status.OFFERED, booking_period_end__gte=today,
        booking_period_end__lte=today + timedelta(days=NUDGE_WINDOW_DAYS),
        critical_date__gte=today,
    )
    results = [
        _send_once(
            notifications.BOOKING_PERIOD_NUDGE, offer_id=offer_id,
            still_due=lambda offer, booking: due.filter(pk=offer.pk).exists(),
            send=lambda offer, booking: notifications.queue_booking_period_nudge(offer),
        )
        for offer_id in due.values_list("pk", flat=True)
    ]
    return {"schema": schema, notifications.BOOKING_PERIOD_NUDGE: _tally(results)}


@app.task(name=FOLD_REPORT_TALLIES)
def fold_report_tallies() -> dict:
    """Count the offers that moved in the funnel since the last count, and sum the new
    booking counts, so a report reads few rows (booking/tallies.py)."""
    schema = _require_client_schema()
    return {"schema": schema, "folded": tallies.fold()}


@app.task(name=CHECK_REPORT_TALLIES)
def check_report_tallies() -> dict:
    """Count the tallies again from the rows; a difference is logged as an error (there should
    be none) and repaired by counting everything again."""
    schema = _require_client_schema()
    differences = tallies.check(repair=True)
    if differences:
        logger.error("report tallies differed from the rows in %s, counted again: %s", schema,
                     differences)
    return {"schema": schema, "differences": differences}


@app.task(name=COLLECT_EXPIRED_HOLDS)
def collect_expired_holds() -> dict:
    """Delete holds that expired more than an hour ago. Only rubbish collection: availability
    never counts an expired hold. One DELETE … WHERE, so a hold renewed meanwhile (its
    expires_at moved on) is re-checked by PostgreSQL and kept."""
    schema = _require_client_schema()
    cutoff = timezone.now() - HOLD_GRACE
    deleted, _by_model = Hold.objects.filter(expires_at__lt=cutoff).delete()
    return {"schema": schema, "deleted": deleted}


@app.task(name=ERASE_DUE)
def erase_due_task() -> dict:
    """Erase the personal data whose retention period has ended, and the access log's old
    rows (nightly). Each offer is erased in its own transaction; a re-run erases nothing more."""
    schema = _require_client_schema()
    run = erase_due()
    return {"schema": schema, "erased": run.erased, "skipped": run.skipped,
            "reads_purged": run.reads_purged, "comments_blanked": run.comments_blanked}


# --- Refunds owed ---------------------------------------------------------------------------


def _this_client() -> ClientOrganisation:
    return ClientOrganisation.objects.get(schema_name=_require_client_schema())


@app.task(name="booking.make_refund_due", ignore_result=True)
def make_refund_due(booking_id: int) -> int:
    """The refund a cancellation promised, asked for right after it commits. If the payment
    service cannot be reached, the refunds-due job asks again."""
    try:
        return refunds.make_refund_due(booking_id, organisation=_this_client(), actor="system")
    except gateway.PaymentServiceUnavailable:
        logger.warning("Refund for booking %s waits: the payment service is unreachable",
                       booking_id)
        return 0


@app.task(name=MAKE_REFUNDS_DUE)
def make_refunds_due() -> dict:
    """Every refund a cancellation promised and the payment service did not take yet."""
    organisation = _this_client()
    report = {"schema": organisation.schema_name, "refunded_pence": 0, "waiting": 0}
    for booking_id in refunds.refunds_due():
        try:
            report["refunded_pence"] += refunds.make_refund_due(
                booking_id, organisation=organisation, actor="system")
        except gateway.PaymentServiceUnavailable:
            report["waiting"] += 1
    return report


@app.task(name=SETTLE_PENDING_PAYMENTS)
def settle_pending_payments() -> dict:
    """Card attempts left pending (return page never loaded, webhook lost) settled from
    Stripe: each ends as a confirmed booking or a refund."""
    organisation = _this_client()
    return {"schema": organisation.schema_name,
            **settle_pending(organisation=organisation, actor="system")}


# --- The dispatcher ---------------------------------------------------------------------------


def live_client_schemas() -> list[str]:
    with schema_context(get_public_schema_name()):
        return list(
            ClientOrganisation.objects
            .filter(status=ClientOrganisation.Status.LIVE, is_template=False)
            .exclude(schema_name=get_public_schema_name())
            .order_by("schema_name").values_list("schema_name", flat=True)
        )


@app.task(name="booking.run_for_every_client")
def run_for_every_client(task_name: str) -> dict:
    """Send the per-client task `task_name` into the schema of every live, non-template
    client. Only names in PER_CLIENT_TASKS are accepted. One client's failure (possible only
    in eager mode, where the task runs inline) does not stop the others."""
    if task_name not in PER_CLIENT_TASKS:
        raise ValueError(f"{task_name!r} is not a per-client task that may be dispatched.")
    task = app.tasks[task_name]
    dispatched, failed = [], []
    for schema in live_client_schemas():
        try:
            with schema_context(schema):
                # apply_async (not send_task) so eager mode runs it inline; the task class
                # stamps the message with the schema we are in.
                task.apply_async()
        except Exception:
            logger.exception("Running %s for %s failed", task_name, schema)
            failed.append(schema)
        else:
            dispatched.append(schema)
    return {"task": task_name, "dispatched": dispatched, "failed": failed}
