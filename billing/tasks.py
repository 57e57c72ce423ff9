from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from audit.services import SYSTEM_ACTOR

from .services import invoices, payment_status, stripe_invoices
from .services.check import check_ledger
from .services.periods import period_of


@shared_task(name="billing.check_ledger")
def check_ledger_task() -> int:
    """Nightly: report any client whose ledger differs from its events (returns how many)."""
    return len(check_ledger())


@shared_task(name="billing.finalise_due", time_limit=1800, soft_time_limit=1700)
def finalise_due_task() -> int:
    """Hourly: finalise every draft past its grace period (each is then sent to Stripe)."""
    return len(invoices.finalise_due(acting_user=SYSTEM_ACTOR))


@shared_task(name="billing.send_invoice", time_limit=120, soft_time_limit=100)
def send_invoice_task(invoice_id: int) -> str:
    """Put one finalised invoice on Stripe and send it (on commit of its finalisation), unless
    Stripe was just found unreachable: then the retry job sends it."""
    if stripe_invoices.stripe_recently_unreachable():
        return "left for the retry job"
    return stripe_invoices.send_invoice(invoice_id, acting_user=SYSTEM_ACTOR).stripe_status


@shared_task(name="billing.send_unsent", time_limit=1800, soft_time_limit=1700)
def send_unsent_task() -> dict:
    """The retry job: every finalised invoice Stripe has not had yet."""
    return stripe_invoices.send_unsent(acting_user=SYSTEM_ACTOR)


@shared_task(name="billing.mark_overdue", time_limit=600, soft_time_limit=540)
def mark_overdue_task() -> int:
    """Daily: sent, unpaid invoices past their due date become overdue."""
    return len(payment_status.mark_overdue(acting_user=SYSTEM_ACTOR))


@shared_task(name="billing.close_last_month", time_limit=3600, soft_time_limit=3500)
def close_last_month_task() -> int:
    """On the 1st: draft every live client's invoice for the month just ended."""
    this = period_of(timezone.now())
    last = (this - timedelta(days=1)).replace(day=1)
    return len(invoices.close_month(last, acting_user=SYSTEM_ACTOR))
