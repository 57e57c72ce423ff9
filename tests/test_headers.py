"""Security headers on every page: the Content-Security-Policy (with Stripe.js's origins taken from
settings), Cache-Control that keeps signed-in and personal pages out of every cache, the
Permissions-Policy and the Referrer-Policy."""

import json
import re

import pytest
from django.contrib import messages
from django.core import mail
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from accounts.roles import Role
from booking.demo import seed_client_demo
from booking.services.api_keys import create_api_key

from .conftest import deliver_outbox, enable_card_payments, make_user, sign_in_verified
from .test_crawl import STARTS, crawl
from .test_journey import find
from .test_telephone_payments import phone_booking

ESSEX = {"HTTP_HOST": "essex.localhost"}
PLATFORM = {"HTTP_HOST": "localhost"}
PUBLIC_PAGES = ["/", "/accessibility/", "/privacy/", "/contact/", "/cookies/", "/status/"]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: sources for name, *sources in
            (directive.split() for directive in header.split(";") if directive.strip())}


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def assert_private(response, where):
    assert {"no-store", "private"} <= cache_control(response), (where, response.get("Cache-Control"))


# --- Content-Security-Policy ------------------------------------------------------------------

def test_the_policy_allows_only_our_own_origin_and_inline_code_by_nonce(essex, client):
    response = client.get("/", **ESSEX)
    directives = policy(response)
    assert directives["default-src"] == ["'none'"]
    for name in ("script-src", "style-src"):
        assert directives[name][0] == "'self'"
        assert "'unsafe-inline'" not in directives[name] and "'unsafe-eval'" not in directives[name]
    for name in ("img-src", "font-src", "form-action", "base-uri"):
        assert directives[name] == ["'self'"], name
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert not any("*" in source for sources in directives.values() for source in sources)


def test_the_inline_script_and_brand_colours_carry_the_responses_nonce(essex, client):
    response = client.get("/", **ESSEX)
    nonce = next(source for source in policy(response)["script-src"]
                 if source.startswith("'nonce-"))[len("'nonce-"):-1]
    assert f"'nonce-{nonce}'" in policy(response)["style-src"]
    page = response.content.decode()
    assert f'<script nonce="{nonce}">document.body.className' in page
    assert f'<style nonce="{nonce}">:root {{ --waymark-brand: #6a1b5d' in page
    # A new nonce for every response.
    assert nonce not in client.get("/", **ESSEX)["Content-Security-Policy"]


def test_no_page_markup_relies_on_inline_handlers_or_style_attributes(essex, essex_admin, client):
    client.force_login(essex_admin)
    for url in ("/", "/book/find/", "/manage/", "/manage/configure/branding/"):
        page = client.get(url, **ESSEX).content.decode()
        assert not re.search(r"\son[a-z]+=|\sstyle=", page), url
        # Every inline <script> and <style> has the nonce.
        assert not re.search(r"<(script|style)(?![^>]*(nonce=|src=))[^>]*>", page), url


def test_stripe_js_comes_from_localstripe_in_development(essex, client, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    directives = policy(client.get("/", **ESSEX))
    assert "http://127.0.0.1:8420" in directives["script-src"]
    assert "http://127.0.0.1:8420" in directives["connect-src"]
    assert "frame-src" not in directives  # default-src 'none': localstripe draws no frames


def test_stripe_js_comes_from_stripe_in_production(essex, client, settings):
    settings.STRIPE_API_BASE = None
    directives = policy(client.get("/", **ESSEX))
    assert directives["script-src"] == ["'self'", directives["script-src"][1], "https://js.stripe.com"]
    assert directives["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    assert directives["connect-src"] == ["'self'", "https://api.stripe.com"]


def test_error_pages_and_the_control_plane_have_the_policy(essex, client):
    for response in (client.get("/no-such-page/", **ESSEX), client.get("/", **PLATFORM),
                     client.get("/admin/login/", **PLATFORM)):
        assert policy(response)["default-src"] == ["'none'"]
    page = client.get("/no-such-page/", **ESSEX)
    assert page.status_code == 404
    nonce = re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in page.content.decode()


# --- Cache-Control ---------------------------------------------------------------------------

class RecordingClient:
    """The test client, keeping every answer's Cache-Control for the walk to be checked."""

    def __init__(self, client):
        self.client, self.cache_control = client, {}

    def get(self, url, **extra):
        response = self.client.get(url, **extra)
        self.cache_control[url] = cache_control(response)
        return response


def test_every_staff_page_is_no_store(essex, client):
    seed_client_demo(essex, today=timezone.localdate())
    for role, starts in STARTS.items():
        client.force_login(make_user(f"headers-{role}@essex.test", organisation=essex, role=role))
        walk = RecordingClient(client)
        answers = crawl(walk, starts)
        assert sum(status == 200 for status in answers.values()) >= 5, role
        exposed = {url: sorted(directives) for url, directives in walk.cache_control.items()
                   if url not in PUBLIC_PAGES and not {"no-store", "private"} <= directives}
        assert not exposed, (role, exposed)
        client.logout()


def test_the_booking_journey_is_no_store(essex, client):
    from .journey_data import make_journey_data

    cache.clear()
    offer, sessions = make_journey_data(essex)
    assert_private(client.get("/book/find/", **ESSEX), "find")
    assert_private(find(client), "find (POST)")
    for url in ("/book/where/", "/booking/"):
        response = client.get(url, **ESSEX)
        assert response.status_code == 200, url
        assert_private(response, url)
    cache.clear()


def test_pay_by_link_pages_are_no_store(essex, stripe_api, client):
    enable_card_payments(essex)
    agent = make_user("agent@essex.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT)
    offer, booking = phone_booking(essex, agent)
    client.force_login(agent)
    agent_page = client.get(f"/contact-centre/payments/{booking.reference}/", **ESSEX)
    assert_private(agent_page, "agent payment page")
    mail.outbox.clear()
    client.post(f"/contact-centre/payments/{booking.reference}/", {"action": "send_link"}, **ESSEX)
    with schema_context(essex.schema_name):
        deliver_outbox()
    link = re.search(r"https?://essex\.localhost(?::\d+)?(/pay/\S+/)", mail.outbox[0].body).group(1)
    client.logout()
    page = client.get(link, **ESSEX)
    assert page.status_code == 200
    assert_private(page, link)
    # The payment page loads Stripe.js from the origin the policy allows.
    script = re.search(r'<script src="([^"]+)"></script><script src="/static/js/payment.js"',
                       page.content.decode()).group(1)
    assert script.startswith(stripe_api)
    assert stripe_api in policy(page)["script-src"] and stripe_api in policy(page)["connect-src"]
    answer = client.post(link + "card/", json.dumps({"token": "tok_unknown"}),
                         content_type="application/json", **ESSEX)
    assert_private(answer, "card answer")


def test_api_answers_are_no_store(essex, provider_admin, client):
    with schema_context(essex.schema_name):
        key = create_api_key("headers", ["offers.view"], actor="tests")[1]
    answer = client.get("/api/v1/offers/ESX-NOPE/", HTTP_AUTHORIZATION=f"Api-Key {key}", **ESSEX)
    assert answer["Content-Type"] == "application/json"
    assert_private(answer, "client API")
    token = Token.objects.create(user=provider_admin).key
    answer = client.get("/api/platform/v1/organisations/", HTTP_AUTHORIZATION=f"Token {token}",
                        **PLATFORM)
    assert answer.status_code == 200
    assert_private(answer, "platform API")


def test_the_provider_console_and_sign_in_are_no_store(provider_admin, client):
    assert_private(client.get("/accounts/sign-in/", **PLATFORM), "sign-in")
    sign_in_verified(client, provider_admin)
    response = client.get("/", **PLATFORM)
    assert response.status_code == 200
    assert_private(response, "console")


def test_public_pages_may_be_cached_briefly(essex, client):
    for url in PUBLIC_PAGES:
        response = client.get(url, **ESSEX)
        assert response.status_code == 200
        assert cache_control(response) == {"public", "max-age=300"}, url
        assert "Cookie" in response["Vary"], url  # the language is chosen by a cookie


def test_a_public_page_that_sets_a_cookie_is_not_cached(essex, client):
    # A message waiting to be shown once, as after signing out, is for this visitor only.
    client.cookies["messages"] = _message_cookie("You have signed out")
    shown = client.get("/", **ESSEX)
    assert "You have signed out" in shown.content.decode()
    assert shown.cookies["messages"].value == ""  # shown, so the cookie is cleared
    assert_private(shown, "start page showing a message")
    assert "public" not in cache_control(shown)


def _message_cookie(text):
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage

    storage = CookieStorage(RequestFactory().get("/"))
    return storage._encode([Message(messages.SUCCESS, text)])


def test_logo_keeps_its_own_caching_and_health_is_no_store(essex, client):
    from django.core.files.base import ContentFile

    essex.logo.save("logo.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=True)
    try:
        assert cache_control(client.get("/branding/logo/", **ESSEX)) == {"public",
                                                                          "max-age=86400"}
    finally:
        essex.logo.delete(save=True)
    assert_private(client.get("/healthz", **ESSEX), "healthz")


def test_static_files_keep_their_long_caching(essex, client):
    response = client.get("/static/js/init.js", **ESSEX)
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert "max-age" in response["Cache-Control"]


# --- Permissions-Policy, Referrer-Policy ----------------------------------------------------

@pytest.mark.parametrize("host, url", [(ESSEX, "/"), (ESSEX, "/book/find/"), (PLATFORM, "/")])
def test_powerful_features_are_denied_and_referrers_stay_on_site(essex, client, host, url):
    response = client.get(url, **host)
    features = dict(item.split("=") for item in response["Permissions-Policy"].split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial"):
        assert features[feature] == "()", feature
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("host, url", [(ESSEX, "/api/v1/docs/"), (PLATFORM, "/api/platform/v1/docs/")])
def test_the_api_docs_alone_allow_inline_styles_and_load_redoc_from_us(essex, client, host, url):
    response = client.get(url, **host)
    assert response.status_code == 200
    directives = policy(response)
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert "'unsafe-inline'" not in directives["script-src"]
    page = response.content.decode()
    assert '<script src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js">' in page
    assert "https://" not in page
