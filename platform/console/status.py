"""The control plane's public status page (no sign-in), and the pages provider staff report
and update incidents on."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.permissions import requires_action
from audit.services import client_ip
from config.headers import public_page
from tenants import incidents as incident_services
from tenants.models import Incident
from tenants.status import status_page

from .incident_forms import IncidentForm, IncidentUpdateForm
from .views import add_errors


@require_safe
@public_page
def public_status(request):
    return render(request, "console/status.html", status_page())


@requires_action("platform.manage_incidents")
def incidents(request):
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = incident_services.report_incident(
                incident_services.NewIncident(
                    title=data["title"], title_cy=data["title_cy"],
                    started_at=data["started_at"], status=data["status"], text=data["text"],
                    text_cy=data["text_cy"], affects_all_clients=data["affects"] == "all",
                    client_ids=tuple(int(pk) for pk in data["clients"])),
                acting_user=request.user, ip_address=client_ip(request))
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Incident reported. It is on the status pages now."))
            return redirect("console:incident", pk=incident.pk)
    return render(request, "console/incidents.html", {
        "form": form, "incidents": Incident.objects.prefetch_related("updates", "clients")[:100]},
        status=400 if form.errors else 200)


@requires_action("platform.manage_incidents")
def incident(request, pk):
    incident = get_object_or_404(Incident.objects.prefetch_related("updates", "clients"), pk=pk)
    form = IncidentUpdateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident_services.post_incident_update(
                incident.pk, status=data["status"], text=data["text"], text_cy=data["text_cy"],
                ended_at=data["ended_at"], acting_user=request.user,
                ip_address=client_ip(request))
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Update posted."))
            return redirect("console:incident", pk=incident.pk)
    return render(request, "console/incident.html", {"incident": incident, "form": form},
                  status=400 if form.errors else 200)
