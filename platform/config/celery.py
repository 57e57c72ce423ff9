"""The Celery app. tenant-schemas-celery's CeleryApp carries the sender's schema with each
task, so a task always runs in the schema of the client that sent it."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("waymark")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
