"""The client site shell: start page, accessibility statement, privacy notice, contact, the
client's logo and the language choice."""

import io
import logging
import mimetypes

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme

from config.headers import public_page
from integrations.object_storage import STORAGE_ERRORS
from tenants.accessibility_statement import statement_context
from tenants.opening_hours import opening_week

from .taking_bookings import while_taking_bookings

logger = logging.getLogger(__name__)


@public_page
@while_taking_bookings
def start(request):
    return render(request, "site/start.html")


@public_page
def accessibility(request):
    return render(request, "site/accessibility.html", statement_context(
        request.tenant, welsh=translation.get_language().startswith("cy")))


@public_page
def cookies(request):
    return render(request, "site/cookies.html", {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "session_hours": settings.SESSION_COOKIE_AGE // 3600,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "language_cookie": settings.LANGUAGE_COOKIE_NAME,
    })


@public_page
def privacy(request):
    return render(request, "site/privacy.html")


@public_page
def contact(request):
    return render(request, "site/contact.html", {"opening": opening_week(request.tenant)})


def logo(request):
    """The client's own header logo, from storage: only ever the logo of the site asked, so it
    needs no web-server set-up for uploads. Its URL carries the file name, so it may be cached."""
    organisation = request.tenant
    if not organisation.logo:
        raise Http404
    content_type = mimetypes.guess_type(organisation.logo.name)[0] or "application/octet-stream"
    try:
        # Read whole (a logo is at most 512 KB) so that a store that is away fails here, where
        # it can be answered, and not half-way through the response.
        with organisation.logo.open("rb") as image:
            data = image.read()
    except FileNotFoundError:  # e.g. development's in-memory object storage was restarted
        raise Http404 from None
    except STORAGE_ERRORS as error:
        logger.warning("logo of %s unavailable: %r", organisation.schema_name, error)
        unavailable = HttpResponse(status=503, content_type="text/plain")
        unavailable["Retry-After"] = "60"
        unavailable["Cache-Control"] = "no-store"
        return unavailable
    response = FileResponse(io.BytesIO(data), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response


def choose_language(request, code):
    """A plain link (GOV.UK's language toggle), not a form: sets the cookie and goes back."""
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = redirect(target)
    if code in dict(settings.LANGUAGES) and request.tenant.is_bilingual:
        translation.activate(code)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600,
                            samesite="Lax", secure=request.is_secure())
    return response
