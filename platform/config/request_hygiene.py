"""Refuse, with a 400, any request carrying a character no field can hold.

PostgreSQL refuses NUL in text and psycopg2 cannot encode a lone UTF-16 surrogate, so either one
in a path, a query string, a cookie, a form field or a JSON body would otherwise reach the
database as a 500. They are refused once here, at the edge, instead of in every form and
serializer.

Bodies are read as little as possible: the raw bytes are searched for the tell-tale bytes first
and decoded only when one is there. File contents in uploads are not inspected, and the Stripe
webhook is left alone: its raw body must reach the signature check exactly as sent.
"""

import json
import re
from functools import cache
from io import BytesIO

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _

from tenants.middleware import early_error

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A NUL byte, or JSON's escapes for NUL and for a surrogate. A real pair (an emoji written as
# two escapes) matches too; decoding joins the pair, so only a lone surrogate is refused.
MAYBE_UNSTORABLE_JSON = re.compile(rb"\x00|\\u0000|\\u[dD][89a-fA-F]")
# The largest body any endpoint accepts (the offer import API's, booking.api.views); anything bigger
# is refused by the endpoint itself, so it is not worth reading here.
LARGEST_JSON_BODY = 20 * 1024 * 1024


@cache
def _untouched_paths() -> tuple[str, ...]:
    return (reverse("stripe_webhook", urlconf=settings.PUBLIC_SCHEMA_URLCONF),)


class RequestHygieneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path not in _untouched_paths() and _carries_unstorable(request):
            return refusal(request)
        return self.get_response(request)


def _carries_unstorable(request) -> bool:
    if UNSTORABLE.search(request.path):
        return True
    # A quoted cookie may spell NUL as \000; the session id is looked up in the database.
    cookies = request.META.get("HTTP_COOKIE", "")
    if ("\\" in cookies or "\x00" in cookies) and _any_unstorable_text(
            *request.COOKIES, *request.COOKIES.values()):
        return True
    query = request.META.get("QUERY_STRING", "")
    if ("%00" in query or "\x00" in query) and _any_unstorable(request.GET):
        return True
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        # Parsing here uses up the stream, and DRF can only reuse the result with a form
        # parser; the API takes JSON and answers anything else with its own 415.
        return (request.method == "POST" and not request.path.startswith("/api/")
                and _any_unstorable(request.POST, request.FILES))
    if content_type == "application/x-www-form-urlencoded":
        body = request.body
        return (b"%00" in body or b"\x00" in body) and _any_unstorable(
            QueryDict(body, encoding="utf-8"))
    if content_type == "application/json" or content_type.endswith("+json"):
        body = _json_body(request)
        return body is not None and _json_unstorable(body)
    return False


def _any_unstorable(fields, files=None) -> bool:
    """A NUL or lone surrogate in a field's name or value, or in an upload's field name."""
    values = [value for _name, items in fields.lists() for value in items]
    return _any_unstorable_text(*fields, *(files or ()), *values)


def _any_unstorable_text(*texts) -> bool:
    return any(UNSTORABLE.search(text) for text in texts)


def _json_body(request) -> bytes | None:
    """The body, read as `request.body` would read it but without DATA_UPLOAD_MAX_MEMORY_SIZE
    (the offer import API takes JSON far larger), and left where `request.body` and DRF's
    parsers find it."""
    if hasattr(request, "_body"):
        return request._body
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= LARGEST_JSON_BODY:
        return None
    body = request.read()
    request._body, request._stream = body, BytesIO(body)
    return body


def _json_unstorable(body: bytes) -> bool:
    if not MAYBE_UNSTORABLE_JSON.search(body):
        return False
    if b"\x00" in body:
        return True
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False  # not JSON: the endpoint's own parser says so
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def refusal(request):
    return early_error(request, template="errors/bad_request.html", status=400, api_message=lambda: _(
        "The request contains a character this service cannot accept, such as a null character. "
        "Remove it and try again."))
