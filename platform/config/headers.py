"""Response headers that every page gets: the Content-Security-Policy with Stripe.js's origins
added, and Cache-Control that keeps signed-in and personal pages out of every cache.

The policy is CONTENT_SECURITY_POLICY in settings. Stripe's part follows
settings.STRIPE_API_BASE at the time of the request (tests point it at a localstripe on a port of
their own), so it is added here, per response, rather than fixed when settings load.
"""

from functools import wraps
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.utils.cache import patch_cache_control, patch_vary_headers

from integrations import stripe_gateway

# 3-D Secure challenges that Stripe.js frames in the page (Stripe's published CSP guidance).
STRIPE_CHALLENGE_FRAMES = "https://hooks.stripe.com"
STRIPE_API = "https://api.stripe.com"
# Public pages change when the phone lines open or close, so they are kept only briefly.
PUBLIC_PAGE_MAX_AGE = 300


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stripe_sources() -> dict[str, list[str]]:
    """The origins Stripe.js needs in our pages, beside its own script."""
    script = _origin(stripe_gateway.js_url())
    if stripe_gateway.uses_localstripe():
        # localstripe's fake Stripe.js draws plain inputs in our page (no frames) and calls the
        # API on the origin it was served from.
        return {"script-src": [script], "connect-src": [script]}
    return {"script-src": [script], "frame-src": [script, STRIPE_CHALLENGE_FRAMES],
            "connect-src": [STRIPE_API]}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with Stripe.js's origins added to the enforced policy."""

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only:
            update = {directive: list(sources) for directive, sources in stripe_sources().items()}
            for directive, sources in (parts.update or {}).items():
                update.setdefault(directive, []).extend(sources)
            parts.update = update
        return parts


class PrivateByDefaultMiddleware:
    """`Cache-Control: private, no-store` on every response whose view did not choose its own, so
    a page added later without thinking about caching fails closed: no proxy keeps it, and the
    next person at a shared computer cannot bring it back with the Back button. Static files never
    get here (WhiteNoise answers them first, with their long caching)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A response that sets a cookie belongs to one visitor, whatever its view said: a shared
        # cache would hand the cookie (a session, a message shown once) to the next visitor.
        if response.cookies and "public" in _directives(response):
            del response["Cache-Control"]
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


def _directives(response) -> set[str]:
    """The directive names in the response's Cache-Control header."""
    header = response.get("Cache-Control", "")
    return {part.split("=")[0].strip().lower() for part in header.split(",") if part.strip()}


def public_page(view):
    """Marks a page that shows nothing personal, the same for everyone on a site in a language:
    browsers and shared caches may keep it for a few minutes."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        patch_cache_control(response, public=True, max_age=PUBLIC_PAGE_MAX_AGE)
        # The language comes from a cookie.
        patch_vary_headers(response, ("Cookie",))
        return response

    return wrapped
