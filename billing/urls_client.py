"""/manage/billing/ on every client domain (namespace `client_billing`)."""

from django.urls import path

from . import views

app_name = "client_billing"

urlpatterns = [
    path("", views.manage_billing, name="home"),
    path("invoices/<str:number>/", views.manage_invoice, name="invoice"),
]
