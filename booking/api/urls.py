"""/api/v1/ on every client domain (namespace `client_api`), included by config/urls_client.py."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from config.api_docs import ApiReference

from .views import CurrentOrganisation, OfferImport, OfferStatus, OfferWithdraw

app_name = "client_api"

urlpatterns = [
    path("organisation/", CurrentOrganisation.as_view(), name="organisation"),
    path("offers/", OfferImport.as_view(), name="offers"),
    path("offers/<str:reference>/", OfferStatus.as_view(), name="offer"),
    path("offers/<str:reference>/withdraw/", OfferWithdraw.as_view(), name="offer_withdraw"),
    path("schema/", SpectacularAPIView.as_view(urlconf="config.urls_client"), name="schema"),
    path("docs/", ApiReference.as_view(url_name="client_api:schema"), name="docs"),
]
