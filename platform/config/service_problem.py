"""The page everyone gets while the database or Redis is away: GOV.UK's "Sorry, there is a
problem with the service", with a 503 and Retry-After, so that a person knows to try again
rather than wonder whether their booking or payment happened.

It is rendered without the request's context processors (they read the session and the
database, which is what failed), so it never fails itself. Every way an outage reaches a
visitor ends here: the tenant look-up (tenants.middleware), an exception in a view or middleware
(config.api_errors.server_error), and the session save Django turns into a bare "Bad Request"
when the database has gone (config.api_errors.bad_request).
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import get_template
from django.utils import translation
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# What a service being away looks like from here: PostgreSQL refusing or dropping the
# connection, or Redis doing the same.
OUTAGES = (OperationalError, InterfaceError, RedisError)
RETRY_AFTER_SECONDS = 30


def caused_by_outage(error: BaseException | None) -> bool:
    """Whether `error`, or anything it was raised from or while handling, is an outage."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OUTAGES):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def service_problem(request) -> HttpResponse:
    """The 503 page (or the APIs' JSON error shape under /api/), in Welsh when the visitor's
    browser asks for it and the site may be bilingual."""
    organisation = getattr(request, "tenant", None)
    language = settings.LANGUAGE_CODE
    # A client not yet known (the database went before it was looked up) may be bilingual, so
    # a browser asking for Welsh gets it; a known English-only client's site stays English.
    if organisation is None or getattr(organisation, "is_bilingual", False):
        language = translation.get_language_from_request(request) or language
    with translation.override(language):
        if request.path.startswith("/api/"):
            response = JsonResponse({"errors": {"__all__": [
                _("Sorry, there is a problem with the service. Try again later.")]}}, status=503)
        else:
            retry = request.get_full_path() if request.method in ("GET", "HEAD") else ""
            body = get_template("errors/service_problem.html").render(
                {"organisation": organisation, "retry_path": retry})
            response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
