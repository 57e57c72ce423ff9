"""URLs of the control plane (the platform domain, public schema)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from tenants.api import OrganisationList
from tenants.webhooks import stripe_webhook

from .health import healthz

api_patterns = [
    path("organisations/", OrganisationList.as_view(), name="organisations"),
    path("schema/", SpectacularAPIView.as_view(urlconf="config.urls_platform"), name="schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="platform_api:schema"), name="docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("webhooks/stripe/", stripe_webhook, name="stripe_webhook"),
    path("api/platform/v1/", include((api_patterns, "platform_api"))),
    path("", include("console.urls")),
]
