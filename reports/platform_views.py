"""/reports/ on the control plane (the `reports.view_all` action: provider staff)."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.permissions import requires_action

from . import charts
from .exports import FORMATS, download
from .filters import PlatformFilterForm
from .platform import CHANNELS, platform_report
from .views import month_ticks


@requires_action("reports.view_all")
def platform_reports(request):
    form = PlatformFilterForm(request.GET)
    export_format = request.GET.get("format", "")
    if export_format not in ("", *FORMATS):
        export_format = ""
    if not form.is_valid():
        return render(request, "reports/platform.html", {"form": form})
    report = platform_report(form.cleaned_data["period"])
    months = report.period.months
    if export_format:
        header = [_("Client"), _("Month"), _("Online"), _("Telephone"), _("Staff")]
        rows = [[volume.client.name, f"{month:%Y-%m}",
                 *[volume.months[month][channel] for channel in CHANNELS]]
                for volume in report.clients for month in months if month in volume.months]
        return download(export_format, f"platform-bookings-{report.period.first:%Y-%m}-to-"
                        f"{report.period.last:%Y-%m}", header, rows, sheet=_("Bookings"))
    return render(request, "reports/platform.html", {
        "form": form, "report": report,
        "shift_chart": charts.share_line(month_ticks(months),
                                         [share for *_rest, share in report.shift]),
        "revenue_chart": charts.grouped_bars(
            month_ticks(months), [(_("Invoiced (£)"),
                                   [total // 100 for _month, _n, total in report.revenue])]),
        "query": form.query(),
    })
