"""/manage/reports/schedules/: the client's scheduled reports, with each one's sendings and
failures; setting one up and stopping one. Reading needs reports.view; a change also needs
manage.change (page()), which auditors never have."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.models import User
from booking.manage.access import add_service_errors, ip, page, render_page

from .models import ScheduledReport
from .schedule_forms import ScheduleForm
from .scheduling import ScheduleRefused, ScheduleRequest, create_schedule, stop_schedule


@page("reports.view")
def schedule_list(request):
    schedules = list(ScheduledReport.objects.filter(is_active=True)
                     .select_related("course_type", "venue").prefetch_related("runs"))
    emails = dict(User.objects.filter(
        pk__in={user_id for schedule in schedules for user_id in schedule.recipient_ids})
        .values_list("pk", "email"))
    return render_page(request, "reports/schedules.html", {
        "schedules": [(schedule, [emails[user_id] for user_id in schedule.recipient_ids
                                  if user_id in emails],
                       schedule.runs.all()[:1]) for schedule in schedules],
    })


@page("reports.view", "reports.view")
def schedule_new(request):
    form = ScheduleForm(request.POST if request.method == "POST" else None,
                        organisation=request.tenant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            create_schedule(ScheduleRequest(
                report=data["report"], frequency=data["frequency"],
                day_of_month=data["day_of_month"], weekday=data["weekday"] or "",
                months=data["months"], export_format=data["export_format"],
                recipient_ids=tuple(data["recipients"]), course_type=data["course_type"],
                venue=data["venue"]), organisation=request.tenant, acting_user=request.user,
                ip_address=ip(request))
        except ScheduleRefused as refused:
            add_service_errors(form, refused)
        else:
            messages.success(request, _("The report is scheduled."))
            return redirect("reports:schedules")
    return render_page(request, "reports/schedule_form.html", {"form": form})


@page("reports.view", "reports.view")
def schedule_stop(request, pk):
    if request.method == "POST":
        try:
            stop_schedule(pk, organisation=request.tenant, acting_user=request.user,
                          ip_address=ip(request))
        except ScheduleRefused as refused:
            messages.error(request, refused.messages[0])
        else:
            messages.success(request, _("The scheduled report is stopped."))
    return redirect("reports:schedules")
