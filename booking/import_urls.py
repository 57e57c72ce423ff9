"""Offer import pages, included at manage/offers/import/ by config/urls_client.py."""

from django.urls import path

from . import import_views

app_name = "offer_import"

urlpatterns = [
    path("", import_views.upload, name="upload"),
    path("done/", import_views.done, name="done"),
    path("template.csv", import_views.template_csv, name="template"),
]
