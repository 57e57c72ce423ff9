"""/billing/ on the control plane (namespace `billing`)."""

from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.console_home, name="console"),
    path("close-month/", views.console_close_month, name="close_month"),
    path("invoices/<str:number>/", views.console_invoice, name="console_invoice"),
]
