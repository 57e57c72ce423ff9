"""URLs of the control plane (the platform domain, public schema)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from billing.api import InvoiceDetail, InvoiceList, UsageView
from tenants.api import OrganisationList
from tenants.webhooks import stripe_webhook
from usergroup import api as usergroup_api

from .api_docs import ApiReference
from .health import healthz, readyz

api_patterns = [
    path("organisations/", OrganisationList.as_view(), name="organisations"),
    path("invoices/", InvoiceList.as_view(), name="invoices"),
    path("invoices/<str:number>/", InvoiceDetail.as_view(), name="invoice"),
    path("usage/", UsageView.as_view(), name="usage"),
    path("user-group/requests/", usergroup_api.ChangeRequestList.as_view(),
         name="usergroup_requests"),
    path("user-group/requests/<int:pk>/", usergroup_api.ChangeRequestDetail.as_view(),
         name="usergroup_request"),
    path("user-group/requests/<int:pk>/vote/", usergroup_api.VoteView.as_view(),
         name="usergroup_vote"),
    path("user-group/requests/<int:pk>/status/", usergroup_api.StatusChangeView.as_view(),
         name="usergroup_status"),
    path("user-group/requests/<int:pk>/comments/", usergroup_api.CommentList.as_view(),
         name="usergroup_comments"),
    path("user-group/releases/", usergroup_api.ReleaseList.as_view(), name="usergroup_releases"),
    path("user-group/releases/<int:pk>/", usergroup_api.ReleaseDetail.as_view(),
         name="usergroup_release"),
    path("user-group/releases/<int:pk>/publish/", usergroup_api.ReleasePublish.as_view(),
         name="usergroup_release_publish"),
    path("user-group/webhooks/", usergroup_api.WebhookEndpointList.as_view(),
         name="usergroup_webhooks"),
    path("user-group/webhooks/<int:pk>/", usergroup_api.WebhookEndpointDetail.as_view(),
         name="usergroup_webhook"),
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
    path("readyz", readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("webhooks/stripe/", stripe_webhook, name="stripe_webhook"),
    path("api/platform/v1/", include((api_patterns, "platform_api"))),
    path("billing/", include("billing.urls")),
    path("user-group/", include("usergroup.urls")),
    path("reports/", include("reports.urls_platform")),
    path("", include("console.urls")),
]
