"""/billing/ on the control plane (namespace `billing`)."""

from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.console_home, name="console"),
    path("close-month/", views.console_close_month, name="close_month"),
    path("invoices/<str:number>/", views.console_invoice, name="console_invoice"),
    path("invoices/<str:number>/pdf/", views.console_invoice_pdf, name="invoice_pdf"),
    path("invoices/<str:number>/csv/", views.console_invoice_csv, name="invoice_csv"),
    path("credit-notes/<str:number>/", views.console_credit_note, name="credit_note"),
    path("credit-notes/<str:number>/pdf/", views.console_credit_note_pdf,
         name="credit_note_pdf"),
]
