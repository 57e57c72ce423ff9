from django.urls import path

from . import status, views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/new/", views.onboard, name="onboard"),
    path("clients/<slug:slug>/", views.client, name="client"),
    path("clients/<slug:slug>/merchant-account/", views.merchant_account, name="merchant_account"),
    path("clients/<slug:slug>/<str:action>/", views.change_status, name="change_status"),
    path("audit/", views.audit, name="audit"),
    path("sign-ins/", views.sign_ins, name="sign_ins"),
    path("status/", status.public_status, name="status"),
    path("incidents/", status.incidents, name="incidents"),
    path("incidents/<int:pk>/", status.incident, name="incident"),
]
