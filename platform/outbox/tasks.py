"""The outbox's tasks: deliver one message or webhook (sent after commit, in its schema), and
the sweep beat runs every minute over the public schema and every client's."""

from django.db import connection
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from config.celery import app

from . import services, webhooks


@app.task(name="outbox.deliver", ignore_result=True)
def deliver(message_id: int) -> str:
    return services.deliver_message(message_id)


@app.task(name="outbox.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: int) -> str:
    return webhooks.deliver(delivery_id)


@app.task(name="outbox.sweep")
def sweep_every_schema() -> dict:
    schemas = [get_public_schema_name(), *get_tenant_model().objects.filter(is_template=False)
               .exclude(status="offboarded").order_by("schema_name")
               .values_list("schema_name", flat=True)]
    report = {}
    for schema in schemas:
        with schema_context(schema):
            report[schema] = services.sweep()
            report[f"{schema}:webhooks"] = webhooks.sweep()
    connection.set_schema_to_public()
    return report
