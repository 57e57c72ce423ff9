"""The data protection officer's pages: the retention schedule and the erasure log, one
person's record (who viewed it), their right-of-access export and erasure on request.

Reading needs "privacy.view" (administrators and auditors); exporting, erasing and changing the
schedule need "privacy.manage" (administrators only), so an agent or an auditor gets a 403."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking.models import ErasureRecord, OffenderRead, Offer
from booking.services import retention
from booking.services.access_log import offer_by_reference, shows_offenders

from ..access import add_service_errors, ip, page, posted, render_page
from ..privacy_forms import ErasureForm, FindRecordForm, RetentionScheduleForm

VIEW = "privacy.view"
MANAGE = "privacy.manage"
RECENT_ERASURES = 50
READS_SHOWN = 500
# The kinds of data an erasure log entry counts (booking.services.retention.erase_offer).
ERASED_KINDS = {
    "offer_details": gettext_lazy("Offer details"),
    "holds": gettext_lazy("Seat holds"),
    "call_notes": gettext_lazy("Call notes"),
    "case_text": gettext_lazy("Special-circumstances notes"),
    "messages": gettext_lazy("Messages"),
    "timeline": gettext_lazy("Timeline entries"),
    "audit_trail": gettext_lazy("Audit trail entries"),
    "survey_comments": gettext_lazy("Survey comments"),
}


def _offer(reference) -> Offer:
    return get_object_or_404(Offer.objects.select_related("course_type"), reference=reference,
                             erased_at__isnull=True)


@page(VIEW, MANAGE)
def privacy_home(request):
    schedule = retention.retention_schedule()
    initial = {name: getattr(schedule, name) for name in
               ("attended_months", "not_attended_months", "access_log_months")}
    form = RetentionScheduleForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            retention.set_retention_schedule(**form.cleaned_data, acting_user=request.user,
                                             organisation=request.tenant,
                                             ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The retention schedule has been saved."))
            return redirect("manage:privacy")
    find = FindRecordForm(request.GET if "reference" in request.GET else None)
    if find.is_bound and find.is_valid():
        reference = find.cleaned_data["reference"].strip().upper()
        if Offer.objects.filter(reference=reference, erased_at__isnull=True).exists():
            return redirect("manage:privacy_offender", reference=reference)
        find.add_error("reference", _("There is no offer with that reference."))
    errors = form if form.errors else find
    return render_page(request, "manage/privacy/home.html", {
        "form": form, "find": find, "schedule": schedule, "error_form": errors,
        "erasures": [(erasure, [(ERASED_KINDS.get(kind, kind), count)
                                for kind, count in erasure.erased.items()])
                     for erasure in ErasureRecord.objects.all()[:RECENT_ERASURES]],
    })


@page(VIEW)
@shows_offenders("manage.privacy_offender", offer_by_reference())
def privacy_offender(request, reference):
    """Who viewed this person's record, newest first."""
    offer = _offer(reference)
    reads = OffenderRead.objects.filter(offer=offer)
    return render_page(request, "manage/privacy/offender.html", {
        "offer": offer, "reads": reads[:READS_SHOWN], "read_count": reads.count()})


@page(VIEW, MANAGE)
@shows_offenders("manage.privacy_export", offer_by_reference())
def privacy_export(request, reference):
    """GET: what the export holds; POST: the file (JSON), recorded on the audit trail."""
    offer = _offer(reference)
    if request.method == "POST":
        data = retention.access_request(offer.pk, acting_user=request.user,
                                        organisation=request.tenant, ip_address=ip(request))
        response = HttpResponse(retention.access_request_file(data),
                                content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="access-request-{offer.reference}.json"')
        return response
    return render_page(request, "manage/privacy/export.html", {"offer": offer})


@page(VIEW, MANAGE)
@shows_offenders("manage.privacy_erase", offer_by_reference())
def privacy_erase(request, reference):
    """Erase the person's record on request: a reason and a confirmation."""
    offer = _offer(reference)
    form = ErasureForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            erasure = retention.erase_on_request(
                offer.reference, reason=form.cleaned_data["reason"], acting_user=request.user,
                organisation=request.tenant, ip_address=ip(request))
        except retention.ErasureRefused as refused:
            form.add_error(None, str(refused))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The record has been erased. It is now known as "
                                        "%(pseudonym)s.") % {"pseudonym": erasure.pseudonym})
            return redirect("manage:privacy")
    return render_page(request, "manage/privacy/erase.html", {"offer": offer, "form": form})
