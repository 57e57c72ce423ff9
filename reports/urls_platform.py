"""/reports/ on the control plane (namespace `platform_reports`)."""

from django.urls import path

from . import platform_views

app_name = "platform_reports"

urlpatterns = [path("", platform_views.platform_reports, name="home")]
