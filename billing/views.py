"""Billing pages. Console (control plane, provider staff): plans, every client's usage and
running invoice this month, invoices, month close. Client (/manage/billing/, the client's
administrator): their own plan, usage, running cost and invoices, nothing of anyone else's."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import requires_action

from . import documents
from .forecast_chart import chart
from .forecast_forms import ChannelShiftForm
from .forms import CloseMonthForm
from .models import CreditNote, Invoice, PricePlan
from .services import invoices as invoice_services
from .services.forecasts import DEFAULT_SHIFT_PERCENT, client_forecast
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
    return render(request, "billing/console_invoice.html",
                  {"invoice": _console_invoice(number), "ns": "billing"})


def _console_invoice(number):
    return get_object_or_404(Invoice.objects.select_related("client", "plan_version__plan"),
                             number=number)


def _console_credit_note(number):
    return get_object_or_404(CreditNote.objects.select_related("invoice__client"),
                             number=number)


@requires_action("billing.view_all")
def console_invoice_pdf(request, number):
    invoice = _console_invoice(number)
    return _download(documents.invoice_pdf(invoice), "application/pdf",
                     documents.pdf_filename(invoice))


@requires_action("billing.view_all")
def console_invoice_csv(request, number):
    invoice = _console_invoice(number)
    return _download(documents.invoice_csv(invoice), "text/csv; charset=utf-8",
                     documents.csv_filename(invoice))


@requires_action("billing.view_all")
def console_credit_note(request, number):
    return render(request, "billing/console_credit_note.html",
                  {"note": _console_credit_note(number), "ns": "billing"})


@requires_action("billing.view_all")
def console_credit_note_pdf(request, number):
    note = _console_credit_note(number)
    return _download(documents.credit_note_pdf(note), "application/pdf",
                     documents.pdf_filename(note))


def _download(content, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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
    forecast = client_forecast(client, period=period)
    shift_form = ChannelShiftForm(request.GET if "shift_percent" in request.GET else None,
                                  initial={"shift_percent": DEFAULT_SHIFT_PERCENT})
    shift_percent = (DEFAULT_SHIFT_PERCENT if not shift_form.is_bound
                     else shift_form.cleaned_data["shift_percent"] if shift_form.is_valid()
                     else None)
    return render(request, "billing/manage_billing.html", {
        "client": client, "period": period, "assigned": assigned, "version": version,
        "preview": invoice_services.preview(client, period),
        "invoices": Invoice.objects.filter(client=client),
        "forecast": forecast, "forecast_chart": chart(forecast.forecast.months),
        "shift_form": shift_form, "shift_percent": shift_percent,
        "shift_saving": (None if shift_percent is None
                         else forecast.channel_shift_saving(shift_percent)),
    })


@requires_action("billing.view")
def manage_invoice(request, number):
    invoice = (Invoice.objects.select_related("plan_version__plan")
               .filter(client=request.tenant, number=number).first())
    if invoice is None:
        raise Http404
    return render(request, "billing/manage_invoice.html",
                  {"invoice": invoice, "ns": "client_billing"})


# The client's own documents only: another client's number is not found, never forbidden, so
# the response says nothing about whether it exists.


def _own_invoice(request, number):
    invoice = (Invoice.objects.select_related("client", "plan_version__plan")
               .filter(client=request.tenant, number=number).first())
    if invoice is None:
        raise Http404
    return invoice


def _own_credit_note(request, number):
    note = (CreditNote.objects.select_related("invoice__client")
            .filter(invoice__client=request.tenant, number=number).first())
    if note is None:
        raise Http404
    return note


@requires_action("billing.view")
def manage_invoice_pdf(request, number):
    invoice = _own_invoice(request, number)
    return _download(documents.invoice_pdf(invoice), "application/pdf",
                     documents.pdf_filename(invoice))


@requires_action("billing.view")
def manage_invoice_csv(request, number):
    invoice = _own_invoice(request, number)
    return _download(documents.invoice_csv(invoice), "text/csv; charset=utf-8",
                     documents.csv_filename(invoice))


@requires_action("billing.view")
def manage_credit_note(request, number):
    return render(request, "billing/manage_credit_note.html",
                  {"note": _own_credit_note(request, number), "ns": "client_billing"})


@requires_action("billing.view")
def manage_credit_note_pdf(request, number):
    note = _own_credit_note(request, number)
    return _download(documents.credit_note_pdf(note), "application/pdf",
                     documents.pdf_filename(note))
