"""The per-process cache of host → client (tenants.routing_cache): each host keeps its own
client, and a domain renamed, moved or removed, or a client suspended, takes effect at the next
request, in this process and (through the shared generation token) in every other."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenants import routing_cache
from tenants.middleware import ClientOrganisationMiddleware
from tenants.models import ClientOrganisation, Domain

middleware = ClientOrganisationMiddleware(lambda request: HttpResponse("ok"))


@pytest.fixture(autouse=True)
def routing_cache_on(settings):
    """On, as in production (the suite's settings switch it off), and empty: entries of an
    earlier test may name rows its rollback removed without a signal."""
    settings.TENANT_ROUTING_CACHE_SECONDS = 60
    routing_cache._entries.clear()
    yield
    routing_cache._entries.clear()


def route(host: str):
    """(the request's organisation or None, the early response or None, the SQL it ran)."""
    request = RequestFactory().get("/", HTTP_HOST=host)
    with CaptureQueriesContext(connection) as queries:
        response = middleware.process_request(request)
    connection.set_schema_to_public()
    return getattr(request, "tenant", None), response, [q["sql"] for q in queries]


def domain_queries(sql: list[str]) -> list[str]:
    return [statement for statement in sql if "tenants_domain" in statement]


def test_each_host_keeps_its_own_client_and_is_not_looked_up_again(essex, south_wales):
    for _round in range(3):
        first, _, _ = route("essex.localhost")
        second, _, _ = route("south-wales.localhost")
        assert first.schema_name == essex.schema_name
        assert second.schema_name == south_wales.schema_name
    again, _, sql = route("essex.localhost")
    assert again.schema_name == essex.schema_name
    assert domain_queries(sql) == []  # remembered
    assert again is not route("essex.localhost")[0]  # each request gets its own copy


def test_a_renamed_domain_takes_effect_at_the_next_request(essex):
    assert route("essex.localhost")[0].schema_name == essex.schema_name
    domain = Domain.objects.get(domain="essex.localhost")
    domain.domain = "essex-renamed.localhost"
    domain.save()
    gone, response, _ = route("essex.localhost")
    assert gone is None and response.status_code == 404
    assert route("essex-renamed.localhost")[0].schema_name == essex.schema_name


def test_a_domain_moved_to_another_client_serves_that_client(essex, south_wales):
    assert route("essex.localhost")[0].schema_name == essex.schema_name
    Domain.objects.filter(domain="essex.localhost").update(is_primary=False)
    moved = Domain.objects.get(domain="essex.localhost")
    moved.tenant = south_wales
    moved.save()
    assert route("essex.localhost")[0].schema_name == south_wales.schema_name


def test_a_removed_domain_is_unknown_at_once(essex):
    assert route("essex.localhost")[0] is not None
    Domain.objects.filter(domain="essex.localhost").delete()
    organisation, response, _ = route("essex.localhost")
    assert organisation is None and response.status_code == 404


def test_a_suspended_client_is_suspended_at_once(essex):
    assert route("essex.localhost")[1] is None
    essex.status = ClientOrganisation.Status.SUSPENDED
    essex.save(update_fields=["status"])
    assert route("essex.localhost")[1].status_code == 503


def test_another_process_changing_a_domain_is_seen_through_the_generation(essex):
    """Another process's change reaches this one only through the shared token, which it
    replaces after committing (simulated here: the row changed without this process's signals,
    then the token replaced)."""
    assert route("essex.localhost")[0] is not None
    Domain.objects.filter(domain="essex.localhost").update(domain="essex-elsewhere.localhost")
    assert route("essex.localhost")[0] is not None  # this process was not told
    with schema_context("public"):
        caches["default"].set(routing_cache.GENERATION_KEY, "changed-by-another-process", None)
    organisation, response, sql = route("essex.localhost")
    assert organisation is None and response.status_code == 404 and domain_queries(sql)


def test_a_committed_change_replaces_the_shared_token(essex, django_capture_on_commit_callbacks):
    route("essex.localhost")
    with schema_context("public"):
        before = caches["default"].get(routing_cache.GENERATION_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        essex.save(update_fields=["name"])
    with schema_context("public"):
        assert caches["default"].get(routing_cache.GENERATION_KEY) != before


def test_unknown_hosts_are_not_remembered(db):
    assert route("nobody.localhost")[1].status_code == 404
    assert "nobody.localhost" not in routing_cache._entries


def test_switched_off_every_request_looks_the_host_up(essex, settings):
    settings.TENANT_ROUTING_CACHE_SECONDS = 0
    route("essex.localhost")
    assert domain_queries(route("essex.localhost")[2])
