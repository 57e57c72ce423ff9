"""Tasks run in the schema of the client that sent them, through a real Redis broker."""

import os

import pytest
from django.db import connection
from django_tenants.utils import schema_context

pytestmark = [pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                                 reason="needs a real Redis (REDIS_URL)"), pytest.mark.real_worker]


@pytest.fixture(scope="module")
def celery_worker_thread(django_db_setup, django_db_blocker):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with django_db_blocker.unblock(), start_worker(app, perform_ping_check=False, pool="solo",
                                                   loglevel="WARNING"):
        yield


def test_task_runs_in_the_senders_schema(essex, south_wales, celery_worker_thread):
    from tenants.tasks import worker_echo

    with schema_context("client_essex"):
        essex_result = worker_echo.delay()
    with schema_context("client_south_wales"):
        wales_result = worker_echo.delay()
    public_result = worker_echo.delay()
    assert essex_result.get(timeout=20) == {"schema": "client_essex", "organisation": "essex"}
    assert wales_result.get(timeout=20) == {"schema": "client_south_wales",
                                            "organisation": "south-wales"}
    assert public_result.get(timeout=20)["schema"] == "public"
    connection.set_schema_to_public()


def test_healthz_round_trip_through_a_worker(essex, client, celery_worker_thread):
    body = client.get("/readyz?worker=1", HTTP_HOST="essex.localhost").json()
    assert body["checks"]["broker"]["ok"] and body["checks"]["worker"]["ok"], body
