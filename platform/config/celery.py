"""The Celery app. tenant-schemas-celery's CeleryApp carries the sender's schema with each
task, so a task always runs in the schema of the client that sent it."""

import os

from celery.signals import setup_logging
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("waymark")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def log_as_the_web_hosts_do(**_kwargs):
    """Workers and beat log through settings.LOGGING (JSON lines with the client's schema),
    not Celery's own format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
