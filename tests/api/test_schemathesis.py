"""Both APIs against their own OpenAPI documents with schemathesis: requests generated from the
documents (their examples, boundary and invalid values, then random ones) sent in-process
through WSGI with real credentials. Every response must be no server error, with a documented
status code, Content-Type and body.

The run is bounded and derandomised (a fixed seed and number of examples per operation), so CI
repeats it exactly. Requests are committed, as in production (the services' transactions are
durable), so the client API is fuzzed on a client of its own and every schema the run creates
is dropped afterwards."""

import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django_tenants.utils import schema_context
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.authtoken.models import Token
from rest_framework.views import APIView

from accounts.roles import CLIENT_ACTIONS
from booking.services.api_keys import create_api_key
from tenants.services import NewClient, onboard_client

APP = WSGIHandler()
FUZZED = NewClient(name="Fuzzed County Council", slug="fuzzed", kind="county_council",
                   admin_email="admin@fuzzed.test")
CLIENT_HOST, PLATFORM_HOST = FUZZED.hostname(), "localhost"
CLIENT_URLCONF, PLATFORM_URLCONF = "config.urls_client", "config.urls_platform"


def document(urlconf: str) -> dict:
    """The OpenAPI document the schema view of `urlconf` serves (see
    test_the_fuzzed_documents_are_the_served_ones). Built at collection time, when there is no
    database yet, because each operation becomes a test of its own."""
    generator = SchemaGenerator(urlconf=urlconf)
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


CONFIG = {
    "seed": 20260101,
    "suppress-health-check": ["all"],
    "checks": {"enabled": False,
               "not_a_server_error": {"enabled": True},
               "status_code_conformance": {"enabled": True},
               "content_type_conformance": {"enabled": True},
               "response_schema_conformance": {"enabled": True},
               # Methods an operation lacks: 405 with an Allow header.
               "unsupported_method": {"enabled": True},
               "allow_header_conformance": {"enabled": True}},
    "generation": {"max-examples": 30, "deterministic": True, "database": "none"},
    # Each successful onboarding clones a schema: fewer random examples there.
    "operations": [{"include-operation-id": "organisations_create",
                    "generation": {"max-examples": 10}}],
}


def load(urlconf: str):
    schema = schemathesis.openapi.from_dict(document(urlconf),
                                            config=schemathesis.Config.from_dict(CONFIG))
    schema.app = APP  # called in-process, as schemathesis.openapi.from_wsgi sets it
    return schema


client_api = load(CLIENT_URLCONF)
platform_api = load(PLATFORM_URLCONF)


@pytest.fixture
def no_throttling(monkeypatch):
    # Hundreds of requests a minute from one key are the run's doing, not a caller's.
    monkeypatch.setattr(APIView, "throttle_classes", [])


def _client_schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(r"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'client\_%'")
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def new_schemas_dropped(transactional_db, no_throttling):
    """The flush after a transactional test empties the public tables but keeps schemas."""
    before = _client_schemas()
    yield
    connection.set_schema_to_public()
    for name in sorted(_client_schemas() - before):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture
def client_api_key(new_schemas_dropped):
    """A key with every scope, on a client of the run's own."""
    organisation = onboard_client(FUZZED, acting_user="tests")
    with schema_context(organisation.schema_name):
        return create_api_key("schemathesis", sorted(CLIENT_ACTIONS), actor="tests")[1]


@pytest.fixture
def provider_token(new_schemas_dropped, provider_admin):
    return Token.objects.create(user=provider_admin).key


def call_client_api(case, key):
    return case.call_and_validate(f"http://{CLIENT_HOST}",
                                  headers={"Authorization": f"Api-Key {key}"})


@client_api.parametrize()
def test_client_api(case, client_api_key):
    call_client_api(case, client_api_key)


@platform_api.parametrize()
def test_platform_api(case, provider_token):
    case.call_and_validate(f"http://{PLATFORM_HOST}",
                           headers={"Authorization": f"Token {provider_token}"})


def test_an_imported_offer_and_its_status_match_the_document(client_api_key):
    """Random references are never known, so the status of a known offer is asked for here."""
    example = client_api.raw_schema["paths"]["/api/v1/offers/"]["post"]["requestBody"][
        "content"]["application/json"]["examples"]["OneOffer"]["value"]
    imported = call_client_api(client_api["/api/v1/offers/"]["POST"].Case(
        body=example, media_type="application/json"), client_api_key)
    assert imported.status_code == 201, imported.text
    offer = call_client_api(client_api["/api/v1/offers/{reference}/"]["GET"].Case(
        path_parameters={"reference": example["offers"][0]["reference"]}), client_api_key)
    assert offer.status_code == 200, offer.text
    assert offer.json()["status"] == "offered"


@pytest.mark.parametrize("host, path, urlconf", [
    ("essex.localhost", "/api/v1/schema/", CLIENT_URLCONF),
    ("localhost", "/api/platform/v1/schema/", PLATFORM_URLCONF),
])
def test_the_fuzzed_documents_are_the_served_ones(essex, client, host, path, urlconf):
    served = client.get(path, {"format": "json"}, HTTP_HOST=host)
    assert served.status_code == 200
    assert json.loads(served.content) == document(urlconf)
