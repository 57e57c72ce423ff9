from celery import shared_task

from . import notifications


@shared_task(name="usergroup.send_digests", time_limit=1800, soft_time_limit=1700)
def send_digests_task() -> int:
    """Daily, in the public schema: each digest subscriber's one e-mail of the day's news
    (at most one a person a day, however often it runs). Returns how many were queued."""
    return notifications.send_digests()
