"""config.request_hygiene: NUL and lone surrogates are refused at the edge with a 400 that
says so (a page, or the API's JSON), and clean bodies pass exactly as they were sent."""

import hashlib
import hmac
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.parsers import JSONParser
from rest_framework.request import Request

from booking.api.views import MAX_IMPORT_BODY_BYTES
from config import request_hygiene
from config.request_hygiene import RequestHygieneMiddleware
from tenants.models import StripeEvent

from .conftest import make_user

ESSEX = {"HTTP_HOST": "essex.localhost"}
PROBLEM = b"There is a problem with the information you sent"


def refused_page(response):
    return response.status_code == 400 and PROBLEM in response.content


def refused_json(response):
    return response.status_code == 400 and list(response.json()["errors"]) == ["__all__"]


def test_nul_in_the_path_is_refused_on_pages_and_in_the_api(essex, client):
    assert refused_page(client.get("/manage/offenders/AB%00C/", **ESSEX))
    assert refused_page(client.get("/contact-centre/offers/AB%00C/", **ESSEX))
    response = client.get("/api/v1/offers/AB%00C/", **ESSEX)
    assert refused_json(response)
    assert "null character" in response.json()["errors"]["__all__"][0]


def test_nul_in_the_query_string_is_refused(essex, client):
    assert refused_page(client.get("/manage/offenders/?q=a%00b", **ESSEX))
    assert refused_page(client.get("/manage/offenders/?a%00b=1", **ESSEX))
    # Other percent-escapes, and a literal "%00" typed as text (%2500), are ordinary text.
    assert client.get("/?q=%2500%41", **ESSEX).status_code == 200


def test_nul_in_a_cookie_is_refused(essex, taking_bookings, client):
    # Django unquotes "\000" in a quoted cookie value to NUL; the session id is a query.
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert refused_page(client.get("/book/details/", **ESSEX))
    client.cookies["sessionid"] = "abcdefgh\\ijkl"  # a backslash alone is ordinary
    assert client.get("/book/details/", **ESSEX).status_code == 302


def test_nul_in_a_form_field_value_or_name_is_refused(essex, client):
    assert refused_page(client.post("/book/find/", {"reference": "a\x00b"}, **ESSEX))
    assert refused_page(client.post("/book/find/", "refer%00ence=x",
                                    content_type="application/x-www-form-urlencoded", **ESSEX))
    # The bytes of a lone surrogate cannot become one: they decode as replacement characters.
    response = client.post("/book/find/", "reference=%ED%A0%80",
                           content_type="application/x-www-form-urlencoded", **ESSEX)
    assert response.status_code == 200


def test_multipart_fields_are_checked_but_not_file_contents(essex, client):
    admin = make_user("hygiene@essex.test", organisation=essex, role="client_admin")
    client.force_login(admin)
    url = "/manage/configure/branding/"

    def logo(name="logo.png"):
        return SimpleUploadedFile(name, b"\x89PNG\x00\x00\x00", content_type="image/png")

    assert refused_page(client.post(url, {"action": "logo\x00", "logo": logo()}, **ESSEX))
    assert refused_page(client.post(url, {"action": "logo", "lo\x00go": logo()}, **ESSEX))
    # NUL bytes inside the file are the file's business: the logo check says it is no image.
    response = client.post(url, {"action": "logo", "logo": logo()}, **ESSEX)
    assert response.status_code in (200, 400) and PROBLEM not in response.content
    assert b"must be a PNG, JPEG, GIF or WebP image" in response.content


@pytest.mark.parametrize("body", [
    '{"token": "tok_a\\u0000b"}',
    '{"tok\\u0000en": "x"}',
    '{"token": "\\ud800"}',
    '{"token": ["ok", {"deep": "\\udfff"}]}',
    '{"token": "tok_\x00"}',
])
def test_nul_or_a_lone_surrogate_in_json_is_refused(essex, client, body):
    response = client.post("/api/v1/offers/", body.encode("utf-8", "surrogatepass"),
                           content_type="application/json", **ESSEX)
    assert refused_json(response)
    page = client.post("/book/pay/ESX-1/card/", body.encode("utf-8", "surrogatepass"),
                       content_type="application/json", **ESSEX)
    assert refused_page(page)


@pytest.mark.parametrize("body", [
    '{"name": "\\ud83d\\ude00"}',  # an emoji spelt as its surrogate pair
    '{"name": "a\\\\u0000b"}',  # a backslash followed by the text u0000
    '{"name": "\\u00e9"}',
])
def test_json_that_only_looks_suspicious_passes(body):
    seen = []

    def view(request):
        seen.append(request.body)
        return HttpResponse("ok")

    request = RequestFactory().post("/api/v1/offers/", body, content_type="application/json")
    assert RequestHygieneMiddleware(view)(request).status_code == 200
    assert seen == [body.encode()]


def test_a_big_clean_json_body_passes_untouched_and_is_never_decoded(settings, monkeypatch):
    """The offer import API takes JSON far larger than DATA_UPLOAD_MAX_MEMORY_SIZE, read by
    DRF's parser; the check must neither refuse it nor decode it."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"offers": [{"reference": f"ESX-{n:06d}", "first_name": "Siân"}
                                  for n in range(20_000)]}).encode()
    assert len(body) > 500_000

    class NoDecoding:
        @staticmethod
        def loads(*args, **kwargs):
            raise AssertionError("a clean body was decoded")

    monkeypatch.setattr(request_hygiene, "json", NoDecoding)
    parsed = []

    def view(request):
        parsed.append(Request(request, parsers=[JSONParser()]).data)
        return HttpResponse("ok")

    request = RequestFactory().post("/api/v1/offers/", body, content_type="application/json")
    assert RequestHygieneMiddleware(view)(request).status_code == 200
    monkeypatch.undo()
    assert parsed == [json.loads(body)]


def test_every_body_the_api_accepts_is_inspected():
    assert request_hygiene.LARGEST_JSON_BODY >= MAX_IMPORT_BODY_BYTES


def test_the_stripe_webhook_body_reaches_the_signature_check_as_sent(db, client, settings):
    payload = {"id": "evt_hygiene", "object": "event", "type": "customer.created",
               "data": {"object": {"id": "cus_1", "object": "customer",
                                   "name": "nul \u0000 and \ud800"}}}
    body = json.dumps(payload)  # escapes both, as Stripe's JSON would
    timestamp = int(time.time())
    signature = hmac.new(settings.STRIPE_WEBHOOK_SECRET.encode(),
                         f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    response = client.post("/webhooks/stripe/", body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=f"t={timestamp},v1={signature}",
                           HTTP_HOST="localhost")
    assert response.status_code == 200, response.content
    assert StripeEvent.objects.get(event_id="evt_hygiene").outcome == "ignored"


def test_the_page_is_in_the_visitors_language_on_a_bilingual_client(south_wales, client):
    client.cookies["waymark_language"] = "cy"
    response = client.get("/book/find/?reference=a%00b", HTTP_HOST="south-wales.localhost")
    assert response.status_code == 400 and b'<html lang="cy"' in response.content
    english = client.get("/book/find/?reference=a%00b", HTTP_HOST="south-wales.localhost",
                         HTTP_COOKIE="waymark_language=en-gb")
    assert b'<html lang="en-GB"' in english.content and PROBLEM in english.content
