"""Host → client organisation, with friendly pages for unknown hosts and suspended clients."""

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import set_urlconf
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_tenant_domain_model

from config.service_problem import service_problem

from . import routing_cache
from .models import ClientOrganisation

ALWAYS_AVAILABLE_PATHS = ("/healthz", "/readyz", "/static/")


class ClientOrganisationMiddleware(TenantMainMiddleware):
    """The platform domain serves the control plane from the public schema without a tenant
    row; every other host must be a live client's domain."""

    def process_request(self, request):
        try:
            return self._route(request)
        except DatabaseError:
            # The database is away: nobody can be told which client this is, only to try again.
            request.tenant = None
            return service_problem(request)

    def _route(self, request):
        connection.set_schema_to_public()
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            # Load balancers probing by IP must send the platform domain as Host.
            return HttpResponseBadRequest("Unknown host", content_type="text/plain")
        if hostname == settings.PLATFORM_DOMAIN:
            request.tenant = None
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return None
        domain_model = get_tenant_domain_model()
        try:
            organisation = routing_cache.organisation_for_host(
                hostname, lambda host: self.get_tenant(domain_model, host))
        except domain_model.DoesNotExist:
            return self._unavailable(request, "errors/unknown_host.html", 404)
        if organisation.status == ClientOrganisation.Status.OFFBOARDED:
            return self._unavailable(request, "errors/unknown_host.html", 404)
        organisation.domain_url = hostname
        request.tenant = organisation
        connection.set_tenant(organisation)
        self.setup_url_routing(request)
        if organisation.status == ClientOrganisation.Status.SUSPENDED and not request.path.startswith(
            ALWAYS_AVAILABLE_PATHS
        ):
            return self._unavailable(request, "errors/suspended.html", 503)
        return None

    @staticmethod
    def _unavailable(request, template: str, status: int):
        response = early_error(request, template=template, status=status,
                               api_message=lambda: _("No client answers at this address.")
                               if status == 404 else _("This service is suspended."))
        if status == 503:
            response["Retry-After"] = "3600"
        return response


def early_error(request, *, template: str, status: int, api_message):
    """An error answered before the language middleware has run: in the visitor's language on
    a bilingual client's site; in the APIs' JSON error shape (config.api_errors) under /api/.
    `api_message` is called under that language."""
    organisation = getattr(request, "tenant", None)
    language = settings.LANGUAGE_CODE
    if organisation is not None and organisation.is_bilingual:
        language = translation.get_language_from_request(request) or language
    with translation.override(language):
        if request.path.startswith("/api/"):
            return JsonResponse({"errors": {"__all__": [str(api_message())]}}, status=status)
        return render(request, template, {"organisation": organisation}, status=status)


class ClientLanguageMiddleware:
    """English-only clients always get English; bilingual clients honour the visitor's choice."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organisation = getattr(request, "tenant", None)
        if organisation is None or not organisation.is_bilingual:
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        response = self.get_response(request)
        return response
