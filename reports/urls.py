"""/manage/reports/ on every client domain (namespace `reports`)."""

from django.urls import path

from . import schedule_views, views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="index"),
    path("bookings/", views.bookings, name="bookings"),
    path("funnel/", views.funnel, name="funnel"),
    path("fill/", views.fill, name="fill"),
    path("calls/", views.calls, name="calls"),
    path("remittance/", views.remittance, name="remittance"),
    path("special-circumstances/", views.cases, name="cases"),
    path("service-measures/", views.measures, name="measures"),
    path("schedules/", schedule_views.schedule_list, name="schedules"),
    path("schedules/new/", schedule_views.schedule_new, name="schedule_new"),
    path("schedules/<int:pk>/stop/", schedule_views.schedule_stop, name="schedule_stop"),
]
