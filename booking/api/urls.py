"""/api/v1/ on every client domain (namespace `client_api`), included by config/urls_client.py."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from config.api_docs import ApiReference

from . import backoffice, webhooks
from .views import CurrentOrganisation, OfferImport, OfferStatus, OfferWithdraw

app_name = "client_api"

urlpatterns = [
    path("organisation/", CurrentOrganisation.as_view(), name="organisation"),
    path("offers/", OfferImport.as_view(), name="offers"),
    path("offers/<str:reference>/", OfferStatus.as_view(), name="offer"),
    path("offers/<str:reference>/withdraw/", OfferWithdraw.as_view(), name="offer_withdraw"),
    path("bookings/", backoffice.BookingChanges.as_view(), name="bookings"),
    path("outcomes/", backoffice.OutcomeChanges.as_view(), name="outcomes"),
    path("course-dates/", backoffice.CourseDateChanges.as_view(), name="course_dates"),
    path("venues/", backoffice.VenueChanges.as_view(), name="venues"),
    *[path(f"reports/{name}/", view.as_view(), name=f"report_{name}")
      for name, view in backoffice.REPORTS.items()],
    path("webhooks/endpoints/", webhooks.EndpointList.as_view(), name="webhook_endpoints"),
    path("webhooks/endpoints/<int:endpoint_id>/", webhooks.EndpointDetail.as_view(),
         name="webhook_endpoint"),
    path("webhooks/endpoints/<int:endpoint_id>/deliveries/",
         webhooks.EndpointDeliveries.as_view(), name="webhook_deliveries"),
    path("webhooks/endpoints/<int:endpoint_id>/test/", webhooks.EndpointTest.as_view(),
         name="webhook_test"),
    path("schema/", SpectacularAPIView.as_view(urlconf="config.urls_client"), name="schema"),
    path("docs/", ApiReference.as_view(url_name="client_api:schema"), name="docs"),
]
