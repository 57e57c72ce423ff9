"""URLs of the control plane (the platform domain, public schema)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from billing.api import InvoiceDetail, InvoiceList, UsageView
from tenants.api import OrganisationList
from tenants.webhooks import stripe_webhook

from .api_docs import ApiReference
from .health import healthz

api_patterns = [
    path("organisations/", OrganisationList.as_view(), name="organisations"),
    path("invoices/", InvoiceList.as_view(), name="invoices"),
    path("invoices/<str:number>/", InvoiceDetail.as_view(), name="invoice"),
    path("usage/", UsageView.as_view(), name="usage"),
    path("schema/", SpectacularAPIView.as_view(urlconf="config.urls_platform"), name="schema"),
    path("docs/", ApiReference.as_view(url_name="platform_api:schema"), name="docs"),
]

# JSON in the API error shape under /api/, the HTML error pages elsewhere.
handler400 = "config.api_errors.bad_request"
handler403 = "config.api_errors.permission_denied"
handler404 = "config.api_errors.page_not_found"
handler500 = "config.api_errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("webhooks/stripe/", stripe_webhook, name="stripe_webhook"),
    path("api/platform/v1/", include((api_patterns, "platform_api"))),
    path("billing/", include("billing.urls")),
    path("user-group/", include("usergroup.urls")),
    path("reports/", include("reports.urls_platform")),
    path("", include("console.urls")),
]
