"""Special-circumstances cases: raised from an offer by agents or administrators, assigned to
an administrator and decided (approved with the arrangement, or declined)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from booking.models import Offer, OfferEvent, SpecialCircumstancesCase
from booking.services.access_log import (
    listed,
    lists_offenders,
    offer_by_reference,
    offer_of_case,
    shows_offenders,
)
from booking.services.cases import assign_case, case_assignees, decide_case, raise_case
from booking.timeline import timeline

from ..access import add_service_errors, ip, page, posted, render_page
from ..forms import AssignCaseForm, DecideCaseForm, RaiseCaseForm

STATUSES = dict(SpecialCircumstancesCase.Status.choices)


@page("cases.view")
@lists_offenders("manage.cases")
def case_list(request):
    status = request.GET.get("status", SpecialCircumstancesCase.Status.OPEN)
    cases = SpecialCircumstancesCase.objects.select_related("offer__course_type")
    if status in STATUSES:
        cases = cases.filter(status=status)
    else:
        status = ""
    # Calls the contact centre referred that no case covers: none open for the offer, and
    # none opened since the call.
    covering_case = SpecialCircumstancesCase.objects.filter(
        Q(status=SpecialCircumstancesCase.Status.OPEN)
        | Q(created_at__gte=OuterRef("occurred_at")), offer=OuterRef("offer"))
    referrals = (OfferEvent.objects.select_related("offer")
                 .filter(kind="special_circumstances.raised")
                 .exclude(Exists(covering_case)).order_by("-occurred_at")[:50])
    cases, referrals = list(cases[:200]), list(referrals)
    listed(request, [item.offer_id for item in (*cases, *referrals)])
    return render_page(request, "manage/cases/list.html", {
        "cases": cases, "status": status, "statuses": STATUSES.items(),
        "referrals": referrals})


@page("cases.view", "cases.raise")
@shows_offenders("manage.case_raise", offer_by_reference())
def case_raise(request, reference):
    offer = get_object_or_404(Offer, reference=reference)
    open_case = offer.cases.filter(status=SpecialCircumstancesCase.Status.OPEN).first()
    form = RaiseCaseForm(posted(request))
    if request.method == "POST" and open_case is None and form.is_valid():
        try:
            case = raise_case(
                offer.pk, kind=form.cleaned_data["kind"], notes=form.cleaned_data["notes"],
                actor=request.user, organisation=request.tenant, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Case opened for %(reference)s.")
                             % {"reference": offer.reference})
            return redirect("manage:case", case_id=case.pk)
    return render_page(request, "manage/cases/raise.html",
                       {"offer": offer, "form": form, "open_case": open_case})


def _case(case_id):
    return get_object_or_404(SpecialCircumstancesCase.objects.select_related(
        "offer__course_type"), pk=case_id)


def _detail(request, case, *, assign_form=None, decide_form=None, status=200):
    events = (case.offer.events.filter(kind__startswith="case.", after__case=case.pk)
              .order_by("-occurred_at", "-id"))
    return render_page(request, "manage/cases/detail.html", {
        "case": case, "offer": case.offer, "timeline": timeline(events),
        "assign_form": assign_form or AssignCaseForm(
            initial={"assignee": case.assigned_to_user_id},
            assignees=case_assignees(request.tenant)),
        "decide_form": decide_form or DecideCaseForm(),
        "is_open": case.status == SpecialCircumstancesCase.Status.OPEN,
    }, status=status)


@page("cases.view")
@shows_offenders("manage.case", offer_of_case())
def case_detail(request, case_id):
    return _detail(request, _case(case_id))


@page("cases.view", "cases.decide")
@shows_offenders("manage.case_assign", offer_of_case())
def case_assign(request, case_id):
    case = _case(case_id)
    if request.method != "POST":
        return _detail(request, case)
    form = AssignCaseForm(request.POST, assignees=case_assignees(request.tenant))
    if form.is_valid():
        try:
            assign_case(case.pk, form.cleaned_data["assignee"],
                        actor=request.user, organisation=request.tenant,
                        ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error, default_field="assignee")
        else:
            messages.success(request, _("Case assigned."))
            return redirect("manage:case", case_id=case.pk)
    return _detail(request, case, assign_form=form)


@page("cases.view", "cases.decide")
@shows_offenders("manage.case_decide", offer_of_case())
def case_decide(request, case_id):
    case = _case(case_id)
    if request.method != "POST":
        return _detail(request, case)
    form = DecideCaseForm(request.POST)
    if form.is_valid():
        try:
            decide_case(
                case.pk, approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"], actor=request.user,
                organisation=request.tenant, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("manage:case", case_id=case.pk)
    return _detail(request, case, decide_form=form)
