"""The OpenAPI documents are true to the APIs: every error an operation can answer is documented
in the one ErrorResponse shape, bodies are JSON only, and text is bounded by its column."""

import pytest

from accounts.models import User
from billing.models import PricePlan
from booking.models import Offer
from tenants.models import ClientOrganisation, Domain

DOCUMENTS = [("essex.localhost", "/api/v1/schema/"), ("localhost", "/api/platform/v1/schema/")]
ERROR_RESPONSE = {"$ref": "#/components/schemas/ErrorResponse"}


@pytest.fixture(params=DOCUMENTS, ids=["client API", "platform API"])
def document(request, essex, client):
    host, path = request.param
    response = client.get(path, {"format": "json"}, HTTP_HOST=host)
    assert response.status_code == 200
    return response.json()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_documents_its_errors(document):
    for name, operation in operations(document):
        codes = set(operation["responses"])
        takes_body = "requestBody" in operation
        path_parameters = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        assert {"401", "403", "429"} <= codes, name
        assert ("400" in codes) == bool(takes_body or operation.get("parameters")), name
        assert ("415" in codes) == takes_body, name
        assert ("404" in codes) == bool(path_parameters), name


def test_every_error_uses_the_one_error_shape(document):
    errors = document["components"]["schemas"]["ErrorResponse"]
    assert errors["required"] == ["errors"]
    for name, operation in operations(document):
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                assert response["content"]["application/json"]["schema"] == ERROR_RESPONSE, (
                    name, code)
    assert not [name for name in document["components"]["schemas"]
                if name != "ErrorResponse" and "Error" in name]


def test_bodies_are_json_only(document):
    for name, operation in operations(document):
        if "requestBody" in operation:
            assert list(operation["requestBody"]["content"]) == ["application/json"], name
        for response in operation["responses"].values():
            assert set(response.get("content", {})) <= {"application/json"}, name


def max_lengths(document, component) -> dict:
    return {name: field.get("maxLength")
            for name, field in document["components"]["schemas"][component]["properties"].items()}


def column(model, name):
    return model._meta.get_field(name).max_length


def test_onboarding_text_is_bounded_by_its_columns(essex, client):
    document = client.get("/api/platform/v1/schema/", {"format": "json"},
                          HTTP_HOST="localhost").json()
    bounds = max_lengths(document, "NewOrganisation")
    assert bounds == {
        **{name: column(ClientOrganisation, name) for name in (
            "name", "slug", "kind", "display_name_en", "display_name_cy", "primary_colour",
            "contact_phone", "contact_email", "languages")},
        "admin_email": column(User, "email"), "admin_name": column(User, "full_name"),
        "domain": column(Domain, "domain"),
        "plan": column(PricePlan, "code"),  # billing's column: tenants/api.py cannot import it
    }


def test_offer_text_is_bounded_by_its_columns(essex, client):
    document = client.get("/api/v1/schema/", {"format": "json"},
                          HTTP_HOST="essex.localhost").json()
    bounds = max_lengths(document, "OfferRow")
    for name in ("reference", "first_name", "last_name", "postcode", "email", "phone"):
        assert bounds[name] == column(Offer, name), name
    assert bounds["course_type"] == 12 and bounds["address"] == 1000
    # Dates are checked by their format, the language by its choices; the licence number's
    # bound applies once its spaces are removed, which a schema cannot say.
    assert {name for name, bound in bounds.items() if bound is None} == {
        "offence_date", "booking_period_end", "critical_date", "date_of_birth", "language",
        "licence_number"}
