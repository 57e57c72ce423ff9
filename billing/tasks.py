from celery import shared_task

from .services.check import check_ledger


@shared_task(name="billing.check_ledger")
def check_ledger_task() -> int:
    """Nightly: report any client whose ledger differs from its events (returns how many)."""
    return len(check_ledger())
