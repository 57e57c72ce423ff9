"""/manage/reports/ on every client domain (namespace `reports`)."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="index"),
    path("bookings/", views.bookings, name="bookings"),
    path("funnel/", views.funnel, name="funnel"),
    path("fill/", views.fill, name="fill"),
    path("calls/", views.calls, name="calls"),
]
