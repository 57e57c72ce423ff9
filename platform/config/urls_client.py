"""URLs of every client domain (the client's own schema)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from booking.api import CurrentOrganisation, OfferImport, OfferStatus

from .api_docs import ApiReference
from .health import healthz

api_patterns = [
    path("organisation/", CurrentOrganisation.as_view(), name="organisation"),
    path("offers/", OfferImport.as_view(), name="offers"),
    path("offers/<str:reference>/", OfferStatus.as_view(), name="offer"),
    path("schema/", SpectacularAPIView.as_view(urlconf="config.urls_client"), name="schema"),
    path("docs/", ApiReference.as_view(url_name="client_api:schema"), name="docs"),
]

# JSON in the API error shape under /api/, the HTML error pages elsewhere.
handler400 = "config.api_errors.bad_request"
handler403 = "config.api_errors.permission_denied"
handler404 = "config.api_errors.page_not_found"
handler500 = "config.api_errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include((api_patterns, "client_api"))),
    path("pay/", include("booking.payment_urls")),
    path("contact-centre/payments/", include("booking.agent_payment_urls")),
    path("", include("booking.journey_urls")),
    path("manage/offers/import/", include("booking.import_urls")),
    path("contact-centre/", include("booking.contact_centre.urls")),
    path("manage/", include("booking.manage.urls")),
    path("", include("booking.urls")),
]
