"""The per-client job beat dispatches (booking.run_for_every_client): send the scheduled
reports due today in this client's schema."""

from django.db import connection

from config.celery import app
from tenants.models import ClientOrganisation

from .scheduling import send_due_reports

SEND_SCHEDULED_REPORTS = "reports.send_scheduled_reports"


@app.task(name=SEND_SCHEDULED_REPORTS)
def send_scheduled_reports() -> dict:
    organisation = ClientOrganisation.objects.get(schema_name=connection.schema_name)
    return send_due_reports(organisation=organisation)
