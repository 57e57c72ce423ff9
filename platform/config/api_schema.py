"""The error responses of the OpenAPI documents: what every operation can answer besides its
success, each in the one error shape of config.api_errors (the ErrorResponse component)."""

from drf_spectacular.utils import OpenApiResponse

ERROR_RESPONSE = {"$ref": "#/components/schemas/ErrorResponse"}
ERROR_RESPONSE_SCHEMA = {
    "type": "object",
    "required": ["errors"],
    "additionalProperties": False,
    "properties": {
        "errors": {
            "type": "object",
            "description": "Messages by field name; `__all__` for the request as a whole. A "
                           "rejected offer import lists its problems under `rows`, one object "
                           "per problem.",
            "additionalProperties": {
                "type": "array",
                "items": {"oneOf": [
                    {"type": "string"},
                    {"type": "object", "required": ["row", "field", "message"],
                     "properties": {"row": {"type": "integer",
                                            "description": "1 for the first offer sent"},
                                    "field": {"type": "string"},
                                    "message": {"type": "string"}}},
                ]},
            },
        },
    },
}

# Added to each operation they apply to, unless the view describes them itself.
BAD_INPUT = ("400", "The request is not valid; nothing was changed. `errors` says why, by field.")
NOT_AUTHENTICATED = ("401", "No credentials, or bad ones: an unknown or revoked key, a bad token.")
NOT_ALLOWED = ("403", "The credentials do not allow this: the key lacks the scope, or the "
                      "user's role at this client does not include it.")
NOT_FOUND = ("404", "Nothing has that identifier here.")
NOT_JSON = ("415", "The body is not JSON (`Content-Type: application/json`).")
THROTTLED = ("429", "Too many requests: wait for the seconds in `Retry-After`.")


def documented_error(description: str, *, examples=()) -> OpenApiResponse:
    """For a view's own error responses (a particular 400, a 413), in the one shape."""
    return OpenApiResponse(ERROR_RESPONSE, description=description, examples=list(examples))


def expected_errors(operation: dict) -> list[tuple[str, str]]:
    parameters = operation.get("parameters", [])
    takes_body = "requestBody" in operation
    expected = []
    if takes_body or parameters:
        expected.append(BAD_INPUT)
    if operation.get("security") and {} not in operation["security"]:
        expected += [NOT_AUTHENTICATED, NOT_ALLOWED]
    if any(parameter["in"] == "path" for parameter in parameters):
        expected.append(NOT_FOUND)
    if takes_body:
        expected.append(NOT_JSON)
    # Every view is throttled (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES).
    expected.append(THROTTLED)
    return expected


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorResponse"] = (
        ERROR_RESPONSE_SCHEMA)
    for operations in result["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            for status, description in expected_errors(operation):
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status.startswith("4"):
                    content = response.setdefault("content", {}).setdefault("application/json", {})
                    content["schema"] = ERROR_RESPONSE
    return result
