"""/manage/reports/ on every client domain (namespace `reports`). The report pages read from the
streaming replica when one is configured (config/replica_router.py); the schedules, which
write, do not."""

from django.urls import path

from config.replica_router import on_replica

from . import schedule_views, views

app_name = "reports"

urlpatterns = [
    path("", on_replica(views.report_list), name="index"),
    path("bookings/", on_replica(views.bookings), name="bookings"),
    path("funnel/", on_replica(views.funnel), name="funnel"),
    path("fill/", on_replica(views.fill), name="fill"),
    path("calls/", on_replica(views.calls), name="calls"),
    path("remittance/", on_replica(views.remittance), name="remittance"),
    path("special-circumstances/", on_replica(views.cases), name="cases"),
    path("service-measures/", on_replica(views.measures), name="measures"),
    path("schedules/", schedule_views.schedule_list, name="schedules"),
    path("schedules/new/", schedule_views.schedule_new, name="schedule_new"),
    path("schedules/<int:pk>/stop/", schedule_views.schedule_stop, name="schedule_stop"),
]
