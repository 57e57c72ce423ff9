"""Billing pages. Console (control plane, provider staff): plans, every client's usage and
running invoice this month, invoices, month close. Client (/manage/billing/, the client's
administrator): their own plan, usage, running cost and invoices, nothing of anyone else's."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import requires_action

from .forms import CloseMonthForm
from .models import Invoice, PricePlan
from .services import invoices as invoice_services
from .services.periods import period_of
from .services.plans import plan_on

# --- console ------------------------------------------------------------------------------


@requires_action("billing.view_all")
def console_home(request, form=None):
    period = period_of(timezone.now())
    previews = [invoice_services.preview(client, period)
                for client in invoice_services.clients_live_in(period)]
    return render(request, "billing/console_home.html", {
        "period": period,
        "plans": PricePlan.objects.prefetch_related("versions"),
        "previews": previews,
        "invoices": Invoice.objects.select_related("client")[:100],
        "form": form or CloseMonthForm(),
    })


@requires_action("billing.view_all")
def console_invoice(request, number):
    invoice = get_object_or_404(Invoice.objects.select_related("client", "plan_version__plan"),
                                number=number)
    return render(request, "billing/console_invoice.html", {"invoice": invoice})


@require_POST
@requires_action("billing.close_month")
def console_close_month(request):
    form = CloseMonthForm(request.POST)
    if form.is_valid():
        try:
            done = invoice_services.close_month(form.cleaned_data["period"],
                                                acting_user=request.user)
        except ValidationError as error:
            for message in error.message_dict.get("period", error.messages):
                form.add_error("period", message)
        else:
            messages.success(request, _("%(count)d draft invoices are ready.")
                             % {"count": len(done)})
            return redirect("billing:console")
    return console_home(request, form=form)


# --- client: /manage/billing/ ---------------------------------------------------------------


@requires_action("billing.view")
def manage_billing(request):
    client = request.tenant
    now = timezone.now()
    period = period_of(now)
    assigned, version = plan_on(client, timezone.localdate(now))
    return render(request, "billing/manage_billing.html", {
        "client": client, "period": period, "assigned": assigned, "version": version,
        "preview": invoice_services.preview(client, period),
        "invoices": Invoice.objects.filter(client=client),
    })


@requires_action("billing.view")
def manage_invoice(request, number):
    invoice = (Invoice.objects.select_related("plan_version__plan")
               .filter(client=request.tenant, number=number).first())
    if invoice is None:
        raise Http404
    return render(request, "billing/manage_invoice.html", {"invoice": invoice})
