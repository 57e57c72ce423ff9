"""Operability: JSON log lines carrying the client, the request id and the user; X-Request-ID
in and out; /healthz (liveness, touches nothing) and /readyz (database, Redis, broker)."""

import io
import json
import logging

from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django_tenants.log import TenantContextFilter

from config import health
from config.log_context import JsonFormatter, RequestContextFilter, RequestContextMiddleware

from .conftest import make_user


def json_lines(logger_name):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TenantContextFilter())
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, handler, stream


def test_a_line_logged_in_a_request_names_the_client_the_request_and_the_user(essex):
    user = make_user("someone@essex.test")
    logger, handler, stream = json_lines("waymark.test.request")

    def view(request):
        request._cached_user = user  # as AuthenticationMiddleware leaves it once it has looked
        logger.warning("Something happened", extra={"booking": "B-123"})
        return HttpResponse("ok")

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="lb-7f3a")
    connection.set_tenant(essex)
    try:
        response = RequestContextMiddleware(view)(request)
        logger.info("after the request")
    finally:
        logger.removeHandler(handler)
    during, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert response["X-Request-ID"] == "lb-7f3a"
    assert during["message"] == "Something happened" and during["level"] == "WARNING"
    assert (during["schema"], during["request_id"], during["user_id"]) == (
        "client_essex", "lb-7f3a", user.pk)
    assert during["booking"] == "B-123"
    assert after["request_id"] is None and after["user_id"] is None


def test_an_exception_is_one_line_too(db):
    logger, handler, stream = json_lines("waymark.test.exception")
    try:
        try:
            raise ValueError("broken")
        except ValueError:
            logger.exception("It broke")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "ValueError: broken" in json.loads(lines[0])["exception"]


def test_every_response_carries_a_request_id(essex, client):
    given = client.get("/healthz", HTTP_HOST="essex.localhost", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", HTTP_HOST="essex.localhost")
    assert len(made["X-Request-ID"]) == 32
    # A header that could forge log lines is replaced, not copied.
    odd = client.get("/healthz", HTTP_HOST="essex.localhost",
                     HTTP_X_REQUEST_ID='x" injected\n')
    assert odd["X-Request-ID"] != 'x" injected\n' and len(odd["X-Request-ID"]) == 32


def test_healthz_is_liveness_and_touches_nothing(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="localhost")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_readyz_reports_what_is_away(essex, client, monkeypatch):
    ready = client.get("/readyz", HTTP_HOST="localhost").json()
    assert ready["status"] == "ok"
    assert set(ready["checks"]) == {"database", "cache", "broker"}

    def redis_away():
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(health, "_cache", redis_away)
    response = client.get("/readyz", HTTP_HOST="essex.localhost")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy" and body["site"] == "essex"
    assert body["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"]
