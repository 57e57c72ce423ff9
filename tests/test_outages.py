"""What a visitor sees while the database or Redis is away: the "Sorry, there is a problem with
the service" page (503, try again), never a traceback, a generic error or a bare "Bad Request";
and the offer look-up, whose limits lived only in Redis, keeps working with them in the
database."""

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import caches
from django.db import OperationalError
from django.test import Client
from django_redis.cache import RedisCache

from booking.site import lookup_limits
from tenants.middleware import ClientOrganisationMiddleware

from .journey_data import make_journey_data

ESSEX_HOST = {"HTTP_HOST": "essex.localhost"}
RIGHT = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}
WRONG = {"date_of_birth_0": "1", "date_of_birth_1": "1", "date_of_birth_2": "1990"}
SORRY = "Sorry, there is a problem with the service"


def database_gone(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def assert_service_problem(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert SORRY in page and "Traceback" not in page
    return page


@pytest.fixture
def outside_client():
    """A browser's view: a server error is a page, not an exception raised into the test."""
    return Client(raise_request_exception=False)


def test_the_client_cannot_be_looked_up(monkeypatch, db, outside_client):
    monkeypatch.setattr(ClientOrganisationMiddleware, "get_tenant", database_gone)
    page = assert_service_problem(outside_client.get("/book/find/", **ESSEX_HOST))
    assert 'href="/book/find/"' in page  # a GET can simply be tried again


def test_the_page_follows_a_browser_asking_for_welsh(monkeypatch, db, outside_client):
    monkeypatch.setattr(ClientOrganisationMiddleware, "get_tenant", database_gone)
    response = outside_client.get("/", HTTP_HOST="south-wales.localhost",
                                  HTTP_ACCEPT_LANGUAGE="cy")
    assert response.status_code == 503
    assert '<html lang="cy"' in response.content.decode()


def test_an_api_caller_gets_the_json_error_shape(monkeypatch, db, outside_client):
    monkeypatch.setattr(ClientOrganisationMiddleware, "get_tenant", database_gone)
    response = outside_client.get("/api/v1/offers/", **ESSEX_HOST)
    assert response.status_code == 503
    assert response.json()["errors"]["__all__"]


def test_the_database_going_during_a_view(monkeypatch, essex, outside_client):
    make_journey_data(essex)
    monkeypatch.setattr(lookup_limits, "refusal", database_gone)
    page = assert_service_problem(outside_client.post(
        "/book/find/", {"reference": "ESX-100001", **RIGHT}, **ESSEX_HOST))
    assert "Go back to the previous page" in page  # a POST is not replayed by a link


def test_a_session_that_could_not_be_saved_is_not_a_bad_request(monkeypatch, essex,
                                                                  outside_client):
    """Django answers a session it could not save with a bare 400 (SessionInterrupted); when
    the database is what failed, the visitor did nothing wrong."""
    make_journey_data(essex)
    outside_client.post("/book/find/", {"reference": "ESX-100001", **RIGHT}, **ESSEX_HOST)

    def save(self, must_create=False):
        if must_create:
            return original(self, must_create=True)
        try:
            database_gone()
        except OperationalError:
            raise UpdateError  # noqa: B904 — as Django does: the cause stays its context

    original = SessionStore.save
    monkeypatch.setattr(SessionStore, "save", save)
    response = outside_client.post("/book/find/", {"reference": "ESX-100001", **RIGHT},
                                   **ESSEX_HOST)
    assert_service_problem(response)


@pytest.fixture
def redis_away(monkeypatch):
    """The default cache is a Redis nobody answers at; the database's cache is real."""
    away = RedisCache("redis://127.0.0.1:9/0", {
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}})
    database = caches["database"]
    database.clear()
    monkeypatch.setattr(lookup_limits, "caches", {"default": away, "database": database})
    yield database
    database.clear()


def test_with_redis_away_a_person_still_finds_their_offer(essex, client, redis_away):
    make_journey_data(essex)
    response = client.post("/book/find/", {"reference": "ESX-100001", **RIGHT},
                           REMOTE_ADDR="203.0.113.7", **ESSEX_HOST)
    assert response.status_code == 302 and response["Location"] == "/book/where/"


def test_with_redis_away_the_limits_still_hold(essex, client, redis_away, caplog):
    make_journey_data(essex)
    for _guess in range(lookup_limits.MAX_FAILURES_PER_SOURCE_AND_REFERENCE):
        client.post("/book/find/", {"reference": "ESX-100001", **WRONG},
                    REMOTE_ADDR="198.51.100.9", **ESSEX_HOST)
    locked = client.post("/book/find/", {"reference": "ESX-100001", **RIGHT},
                         REMOTE_ADDR="198.51.100.9", **ESSEX_HOST)
    assert locked.status_code == 429
    assert "kept in the database" in caplog.text
