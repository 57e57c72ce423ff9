"""Every API error in one JSON shape, {"errors": {field or "__all__": [messages]}}, whoever
answers it (DRF or Django's error handlers); pages keep their HTML error pages."""

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import get_resolver
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from booking.api.views import OfferStatus
from booking.services.api_keys import create_api_key

CLIENT_API = {"HTTP_HOST": "essex.localhost"}
PLATFORM = {"HTTP_HOST": "localhost"}


def assert_error_shape(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    errors = response.json()["errors"]
    assert set(response.json()) == {"errors"}
    assert all(isinstance(messages, list) and messages for messages in errors.values())
    return errors


@pytest.fixture
def offer_reader(essex):
    with schema_context(essex.schema_name):
        key = create_api_key("reader", ["offers.view"], actor="tests")[1]
    return {**CLIENT_API, "HTTP_AUTHORIZATION": f"Api-Key {key}"}


@pytest.mark.parametrize("host, path", [
    ("essex.localhost", "/api/v1/no-such-thing/"),
    ("essex.localhost", "/api/v2/offers/"),
    ("localhost", "/api/platform/v1/no-such-thing/"),
    ("localhost", "/api/nothing"),
])
def test_an_address_no_endpoint_answers_gets_json(essex, client, host, path):
    errors = assert_error_shape(client.get(path, HTTP_HOST=host), 404)
    assert errors == {"__all__": ["Not found."]}


def test_pages_keep_the_html_error_page(essex, client):
    response = client.get("/no-such-page/", **CLIENT_API)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Page not found" in response.content


def test_an_unhandled_exception_in_the_api_gets_json(essex, offer_reader, monkeypatch):
    def broken(self, request, reference):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(OfferStatus, "get", broken)
    response = Client(raise_request_exception=False).get("/api/v1/offers/ESX-100001/",
                                                         **offer_reader)
    errors = assert_error_shape(response, 500)
    assert errors == {"__all__": ["A server error occurred."]}
    assert b"fell over" not in response.content


def test_an_unhandled_exception_on_a_page_gets_the_html_page(essex, taking_bookings, monkeypatch):
    from booking.site import journey

    def broken(*args, **kwargs):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(journey, "render", broken)
    response = Client(raise_request_exception=False).get("/book/find/", **CLIENT_API)
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_a_request_django_refuses_in_the_api_gets_json(essex, offer_reader, monkeypatch):
    def suspicious(self, request, reference):
        raise SuspiciousOperation("a forged header")

    monkeypatch.setattr(OfferStatus, "get", suspicious)
    errors = assert_error_shape(Client().get("/api/v1/offers/ESX-100001/", **offer_reader), 400)
    assert errors == {"__all__": ["Malformed request."]}


@pytest.mark.parametrize("urlconf", ["config.urls_client", "config.urls_platform"])
@pytest.mark.parametrize("status, exception", [
    (400, SuspiciousOperation()), (403, PermissionDenied()), (404, Http404()), (500, None)])
def test_both_url_trees_name_the_handlers(urlconf, status, exception):
    handler = get_resolver(urlconf).resolve_error_handler(status)
    arguments = () if exception is None else (exception,)
    api = handler(RequestFactory().get("/api/v1/anything/"), *arguments)
    assert api.status_code == status and api["Content-Type"] == "application/json"
    page = handler(RequestFactory().get("/anything/"), *arguments)
    assert page.status_code == status and page["Content-Type"].startswith("text/html")


# --- JSON only ---------------------------------------------------------------------------------

@pytest.fixture
def admin_tokens(essex_admin, provider_admin):
    return {host: f"Token {Token.objects.create(user=user).key}"
            for host, user in (("essex.localhost", essex_admin), ("localhost", provider_admin))}


@pytest.mark.parametrize("host, path", [("essex.localhost", "/api/v1/offers/"),
                                        ("localhost", "/api/platform/v1/organisations/")])
def test_a_form_encoded_body_gets_415(essex, admin_tokens, host, path):
    response = Client().post(path, "offers=x&name=Norfolk",
                             content_type="application/x-www-form-urlencoded",
                             HTTP_AUTHORIZATION=admin_tokens[host], HTTP_HOST=host)
    errors = assert_error_shape(response, 415)
    assert "application/x-www-form-urlencoded" in errors["__all__"][0]


def test_a_multipart_body_gets_415(essex, admin_tokens):
    response = Client().post("/api/v1/offers/", {"offers": "x"},
                             HTTP_AUTHORIZATION=admin_tokens["essex.localhost"], **CLIENT_API)
    errors = assert_error_shape(response, 415)
    assert "multipart/form-data" in errors["__all__"][0]


def test_a_browser_gets_json_too(essex, offer_reader):
    response = Client().get("/api/v1/offers/ESX-100001/", **offer_reader,
                            HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert_error_shape(response, 404)


def test_errors_of_the_request_as_a_whole_are_under___all__(provider_admin):
    token = Token.objects.create(user=provider_admin).key
    response = Client().post("/api/platform/v1/organisations/", ["not", "an", "object"],
                             content_type="application/json",
                             HTTP_AUTHORIZATION=f"Token {token}", **PLATFORM)
    assert set(assert_error_shape(response, 400)) == {"__all__"}


def test_a_document_nested_too_deeply_gets_a_400(essex, offer_reader):
    from booking.services.api_keys import create_api_key as new_key

    with schema_context(essex.schema_name):
        key = new_key("importer", ["offers.import"], actor="tests")[1]
    body = "[" * 100_000 + "]" * 100_000
    response = Client().post("/api/v1/offers/", body, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Api-Key {key}", **CLIENT_API)
    assert "nested too deeply" in assert_error_shape(response, 400)["__all__"][0]


def test_an_unknown_or_suspended_client_answers_the_api_in_json(essex, client):
    assert_error_shape(client.get("/api/v1/organisation/", HTTP_HOST="nowhere.localhost"), 404)
    essex.status = essex.Status.SUSPENDED
    essex.save(update_fields=["status"])
    assert_error_shape(client.get("/api/v1/organisation/", **CLIENT_API), 503)
    page = client.get("/", **CLIENT_API)
    assert page.status_code == 503 and "text/html" in page["Content-Type"]
