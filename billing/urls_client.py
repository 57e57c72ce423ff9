"""/manage/billing/ on every client domain (namespace `client_billing`)."""

from django.urls import path

from . import views

app_name = "client_billing"

urlpatterns = [
    path("", views.manage_billing, name="home"),
    path("invoices/<str:number>/", views.manage_invoice, name="invoice"),
    path("invoices/<str:number>/pdf/", views.manage_invoice_pdf, name="invoice_pdf"),
    path("invoices/<str:number>/csv/", views.manage_invoice_csv, name="invoice_csv"),
    path("credit-notes/<str:number>/", views.manage_credit_note, name="credit_note"),
    path("credit-notes/<str:number>/pdf/", views.manage_credit_note_pdf,
         name="credit_note_pdf"),
]
