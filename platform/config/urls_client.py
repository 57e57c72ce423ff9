"""URLs of every client domain (the client's own schema)."""

from django.urls import include, path

from booking.contact_centre import urls as contact_centre_urls
from booking.manage import urls as manage_urls
from booking.site import urls as site_urls

from .health import healthz, readyz

# JSON in the API error shape under /api/, the HTML error pages elsewhere.
handler400 = "config.api_errors.bad_request"
handler403 = "config.api_errors.permission_denied"
handler404 = "config.api_errors.page_not_found"
handler500 = "config.api_errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("booking.api.urls")),
    path("pay/", include((site_urls.payment_patterns, "payments"))),
    path("contact-centre/payments/", include((contact_centre_urls.payment_patterns,
                                              "agent_payments"))),
    path("", include((site_urls.journey_patterns, "journey"))),
    path("manage/offers/import/", include((manage_urls.offer_import_patterns, "offer_import"))),
    path("contact-centre/", include("booking.contact_centre.urls")),
    path("manage/billing/", include("billing.urls_client")),
    path("manage/reports/", include("reports.urls")),
    path("manage/", include("booking.manage.urls")),
    path("", include((site_urls.site_patterns, "site"))),
]
