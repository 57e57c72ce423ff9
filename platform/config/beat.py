"""Celery beat: every job runs through the dispatcher in the public schema, which sends the
per-client task into each live client's schema (booking.tasks.run_for_every_client).

Times are Europe/London wall-clock times (CELERY_TIMEZONE). `expires` drops a dispatch that a
worker could not pick up before the next one is due, so a backlog never runs twice over.
"""

from celery.schedules import crontab

DISPATCHER = "booking.run_for_every_client"


def _every_client(task_name: str, schedule, expires: int) -> dict:
    return {"task": DISPATCHER, "schedule": schedule, "args": (task_name,),
            "options": {"expires": expires}}


CELERY_BEAT_SCHEDULE = {
    # Messages whose task was lost or that wait for a retry, in every schema.
    "sweep-outbox": {"task": "outbox.sweep", "schedule": crontab(), "options": {"expires": 50}},
    # Stripe events that failed or were left half-handled, until each is handled.
    "retry-stripe-events": {"task": "tenants.retry_stripe_events", "schedule": crontab(),
                            "options": {"expires": 50}},
    # The status pages' availability: this minute's readiness checks, one row (tenants/status.py).
    "record-availability": {"task": "tenants.record_availability", "schedule": crontab(),
                            "options": {"expires": 50}},
    # Billing, in the public schema: month close on the 1st, drafts finalised once their grace
    # period is over, finalised invoices Stripe has not had yet, then overdue ones.
    "billing-close-last-month": {"task": "billing.close_last_month",
                                 "schedule": crontab(minute=30, hour=1, day_of_month=1),
                                 "options": {"expires": 6 * 3600}},
    "billing-finalise-due": {"task": "billing.finalise_due", "schedule": crontab(minute=5),
                             "options": {"expires": 50 * 60}},
    "billing-send-unsent": {"task": "billing.send_unsent", "schedule": crontab(minute="*/15"),
                            "options": {"expires": 10 * 60}},
    "billing-mark-overdue": {"task": "billing.mark_overdue",
                             "schedule": crontab(minute=0, hour=6),
                             "options": {"expires": 6 * 3600}},
    # Each client's usage rows against its own events for the open month: any difference is
    # logged as an error (there should be none).
    "billing-check-ledger": {"task": "billing.check_ledger",
                             "schedule": crontab(minute=45, hour=2),
                             "options": {"expires": 6 * 3600}},
    # The user group's daily digest (public schema), late afternoon so it carries the day.
    "usergroup-send-digests": {"task": "usergroup.send_digests",
                               "schedule": crontab(minute=0, hour=17),
                               "options": {"expires": 6 * 3600}},
    "expire-offers-nightly": _every_client(
        "booking.expire_offers", crontab(minute=15, hour=0), expires=6 * 3600),
    "send-reminders-daily": _every_client(
        "booking.send_reminders", crontab(minute=0, hour=9), expires=6 * 3600),
    "send-joining-instructions-hourly": _every_client(
        "booking.send_joining_instructions", crontab(minute=0), expires=50 * 60),
    "nudge-unbooked-offers-daily": _every_client(
        "booking.nudge_unbooked_offers", crontab(minute=0, hour=10), expires=6 * 3600),
    "make-refunds-due": _every_client(
        "booking.make_refunds_due", crontab(minute="*/10"), expires=9 * 60),
    # Card payments nobody settled (return page and webhook both lost), settled from Stripe.
    "settle-pending-payments": _every_client(
        "booking.settle_pending_payments", crontab(minute="*/5"), expires=4 * 60),
    # Scheduled reports due today, each sent once a day at most (reports/scheduling.py); hourly
    # so that a missed hour is made up the same day.
    "send-scheduled-reports": _every_client(
        "reports.send_scheduled_reports", crontab(minute=20), expires=50 * 60),
    # Personal data past its retention period, erased after the offers have expired.
    "erase-due-nightly": _every_client(
        "booking.erase_due", crontab(minute=45, hour=0), expires=6 * 3600),
    # The reports' counts of offers that changed, and new bookings summed (booking/tallies.py).
    "fold-report-tallies": _every_client(
        "booking.fold_report_tallies", crontab(), expires=50),
    "check-report-tallies-nightly": _every_client(
        "booking.check_report_tallies", crontab(minute=30, hour=3), expires=6 * 3600),
    "collect-expired-holds": _every_client(
        "booking.collect_expired_holds", crontab(minute="*/15"), expires=10 * 60),
}
