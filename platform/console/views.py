"""Provider console: clients and their health, onboarding, status changes, the audit trail."""

from dataclasses import fields

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context

from accounts.forms import SignInReportForm
from accounts.permissions import requires_action
from accounts.sign_in_report import sign_in_events
from audit.models import AuditEntry
from audit.services import client_ip
from booking.services.setup_checklist import setup_checklist, taking_bookings
from config.replica_router import replica_lag
from tenants import services as tenant_services
from tenants.models import ClientOrganisation
from tenants.status import status_page

from .forms import MerchantAccountForm, OnboardingForm, StatusChangeForm


def add_errors(form, error: ValidationError) -> None:
    """Put a service's field-keyed errors on the form that collected the input."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


@requires_action("platform.view")
def home(request):
    clients = (
        ClientOrganisation.objects.filter(is_template=False)
        .annotate(staff=Count("memberships", filter=Q(memberships__is_active=True)))
        .prefetch_related("domains")
    )
    counts = {status: 0 for status in ClientOrganisation.Status.values}
    for client in clients:
        counts[client.status] += 1
    return render(request, "console/home.html", {"clients": clients, "counts": counts,
                                                 "replica": replica_lag(), **status_page()})


@requires_action("platform.onboard")
def onboard(request):
    form = OnboardingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wanted = {f.name for f in fields(tenant_services.NewClient)}
        data = {k: v for k, v in form.cleaned_data.items() if k in wanted}
        data["languages"] = data.get("languages") or ClientOrganisation.Languages.ENGLISH
        data["primary_colour"] = data.get("primary_colour") or "#1d70b8"
        try:
            organisation = tenant_services.onboard_client(
                tenant_services.NewClient(**data), acting_user=request.user,
                ip_address=client_ip(request),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("%(name)s is live. The administrator has been invited.")
                             % {"name": organisation.name})
            return redirect("console:client", slug=organisation.slug)
    return render(request, "console/onboard.html", {"form": form})


@requires_action("platform.view")
def client(request, slug):
    organisation = get_object_or_404(ClientOrganisation, slug=slug, is_template=False)
    return _client_page(request, organisation)


def _client_page(request, organisation, *, form=None, merchant_form=None, status=200):
    """The client page, whole: a form that was refused keeps its input and errors, the other
    form is drawn afresh (a page redrawn with one form missing had unlabelled fields)."""
    memberships = organisation.memberships.select_related("user").order_by("role", "user__email")
    with schema_context(organisation.schema_name):
        checklist = setup_checklist(organisation)
    return render(request, "console/client.html", {
        "client": organisation, "memberships": memberships,
        "checklist": checklist, "taking_bookings": taking_bookings(checklist),
        **status_page(organisation),
        "audit": AuditEntry.objects.filter(organisation=organisation)[:20],
        "form": form or StatusChangeForm(),
        "merchant_form": merchant_form or MerchantAccountForm(initial={
            "stripe_account_id": organisation.stripe_account_id,
            "allow_moto": organisation.allow_moto}),
    }, status=status)


@require_POST
@requires_action("platform.change_client_status")
def merchant_account(request, slug):
    from integrations.stripe_gateway import PaymentServiceUnavailable

    organisation = get_object_or_404(ClientOrganisation, slug=slug, is_template=False)
    form = MerchantAccountForm(request.POST)
    form.is_valid()
    try:
        if request.POST.get("action") == "create":
            tenant_services.connect_merchant_account(organisation, acting_user=request.user,
                                                     ip_address=client_ip(request))
        else:
            tenant_services.set_merchant_account(
                organisation, account_id=form.cleaned_data.get("stripe_account_id", ""),
                allow_moto=form.cleaned_data.get("allow_moto", False),
                acting_user=request.user, ip_address=client_ip(request))
    except ValidationError as error:
        add_errors(form, error)
        return _client_page(request, organisation, merchant_form=form, status=400)
    except PaymentServiceUnavailable:
        messages.error(request, _("Stripe could not be reached. Try again."))
        return redirect("console:client", slug=slug)
    messages.success(request, _("Merchant account saved."))
    return redirect("console:client", slug=slug)


STATUS_ACTIONS = {
    "suspend": tenant_services.suspend_client,
    "reactivate": tenant_services.reactivate_client,
    "offboard": tenant_services.offboard_client,
}


@require_POST
@requires_action("platform.change_client_status")
def change_status(request, slug, action):
    organisation = get_object_or_404(ClientOrganisation, slug=slug, is_template=False)
    change = STATUS_ACTIONS.get(action)
    if change is None:
        return redirect("console:client", slug=slug)
    form = StatusChangeForm(request.POST)
    form.is_valid()
    try:
        change(organisation, reason=form.cleaned_data.get("reason", ""),
               acting_user=request.user, ip_address=client_ip(request))
    except ValidationError as error:
        add_errors(form, error)
        return _client_page(request, organisation, form=form, status=400)
    messages.success(request, _("Status changed."))
    return redirect("console:client", slug=slug)


@requires_action("platform.view_audit")
def audit(request):
    entries = AuditEntry.objects.select_related("organisation")
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "console/audit.html", {"page": page, "action": action, "actor": actor})


@requires_action("platform.view_audit")
def sign_ins(request):
    """The sign-in report across the control plane and every client's site."""
    form = SignInReportForm(request.GET or None)
    events = sign_in_events(organisation=None, everywhere=True, filters=form.filters())
    if form.is_bound and not form.is_valid():
        events = events.none()
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "console/sign_ins.html", {
        "form": form, "page_obj": Paginator(events, 50).get_page(request.GET.get("page")),
        "query": query.urlencode()})
