"""/manage/reports/: the client's reports (the `reports.view` action), each with its filters,
the previous period beside it, a chart with its data table, and CSV and XLSX downloads."""

from decimal import Decimal

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from booking.manage.access import page, render_page
from booking.models import CallLog, SatisfactionResponse, SpecialCircumstancesCase
from tenants.opening_hours import DAY_NAMES, DAYS

from . import charts
from .bookings import CHANNEL_LABELS, CHANNELS, bookings_report
from .calls import HOURS, ONLINE_CALL_TYPES, calls_report
from .cases import OUTCOMES, cases_report
from .exports import FORMATS, download
from .fill import fill_report
from .filters import RemittanceFilterForm, ReportFilterForm
from .funnel import ENDINGS, funnel_report
from .measures import LEVELS, measures_report
from .remittance import forces_named, remittance_report
from .statements import remittance_pdf


def _filtered(request):
    """The filter form, and the download format asked for ("" for the page). There is no
    download in any other format: asking for one is a page that does not exist."""
    export_format = request.GET.get("format", "")
    if export_format not in ("", *FORMATS):
        raise Http404("No such download format")
    return ReportFilterForm(request.GET), export_format


def month_ticks(months) -> list[tuple[str, str]]:
    """A chart's month labels: the short month, and the year under the first and each January."""
    return [(formats.date_format(month, "M"),
             str(month.year) if index == 0 or month.month == 1 else "")
            for index, month in enumerate(months)]


def _pounds(pence: int) -> Decimal:
    return Decimal(pence) / 100


@page("reports.view")
def report_list(request):
    return render_page(request, "reports/index.html")


@page("reports.view")
def bookings(request):
    form, export_format = _filtered(request)
    if not form.is_valid():
        return render_page(request, "reports/bookings.html", {"form": form})
    data = form.cleaned_data
    report = bookings_report(data["period"], course_type=data["course_type"],
                             venue=data["venue"])
    if export_format:
        header = [_("Month"), _("Course")]
        for channel in CHANNELS:
            header += [_("%(channel)s bookings") % {"channel": CHANNEL_LABELS[channel]},
                       _("%(channel)s fees (£)") % {"channel": CHANNEL_LABELS[channel]}]
        header += [_("All bookings"), _("All fees (£)")]
        rows = []
        for row in report.rows:
            cells = [f"{row.month:%Y-%m}", row.course_type]
            for channel in CHANNELS:
                cells += [row.channels[channel].count, _pounds(row.channels[channel].fees_pence)]
            rows.append(cells + [row.total.count, _pounds(row.total.fees_pence)])
        return download(export_format, f"bookings-by-channel-{report.period.first:%Y-%m}-to-"
                        f"{report.period.last:%Y-%m}", header, rows, sheet=_("Bookings"))
    months = report.period.months
    per_month = {channel: [0] * len(months) for channel in CHANNELS}
    for row in report.rows:
        for channel in CHANNELS:
            per_month[channel][months.index(row.month)] += row.channels[channel].count
    labels = month_ticks(months)
    totals, before = report.totals, report.previous
    return render_page(request, "reports/bookings.html", {
        "form": form, "report": report,
        "channel_labels": [CHANNEL_LABELS[channel] for channel in CHANNELS],
        "summary": [(CHANNEL_LABELS[channel], totals.channels[channel].count,
                     totals.share(channel), totals.channels[channel].fees_pence,
                     before.channels[channel].count) for channel in CHANNELS],
        "detail": [(row.month, row.course_type,
                    [row.channels[channel].count for channel in CHANNELS], row.total.count,
                    row.total.fees_pence) for row in report.rows],
        "per_month": [(month, [per_month[channel][index] for channel in CHANNELS])
                      for index, month in enumerate(months)],
        "chart": charts.grouped_bars(labels, [(CHANNEL_LABELS[channel], per_month[channel])
                                              for channel in CHANNELS]),
        "trend_chart": charts.share_line(month_ticks([month for month, *_rest in report.trend]),
                                         [share for *_rest, share in report.trend]),
        "query": form.query(),
    })


@page("reports.view")
def funnel(request):
    form, export_format = _filtered(request)
    if not form.is_valid():
        return render_page(request, "reports/funnel.html", {"form": form})
    data = form.cleaned_data
    report = funnel_report(data["period"], course_type=data["course_type"], venue=data["venue"])
    if export_format:
        header = [_("Month of offer"), _("Offered"), _("Booked"),
                  *[label for _key, label, _statuses in ENDINGS],
                  _("Median days from offer to booking")]
        rows = [[f"{row.month:%Y-%m}", row.offered, row.booked,
                 *[row.endings[key] for key, _label, _statuses in ENDINGS],
                 row.median_days_to_book] for row in report.rows]
        return download(export_format, f"offer-funnel-{report.period.first:%Y-%m}-to-"
                        f"{report.period.last:%Y-%m}", header, rows, sheet=_("Offer funnel"))
    labels = month_ticks([row.month for row in report.rows])
    total, before = report.total, report.previous
    stages = [(_("Offered"), total.offered, None, before.offered),
              (_("Booked"), total.booked, total.booked_share, before.booked)]
    stages += [(label, total.endings[key], total.endings[key] / total.offered
                if total.offered else None, before.endings[key])
               for key, label, _statuses in ENDINGS]
    return render_page(request, "reports/funnel.html", {
        "form": form, "report": report, "endings": ENDINGS, "stages": stages,
        "monthly": [(row.month, row.offered, row.booked,
                     [row.endings[key] for key, _label, _statuses in ENDINGS],
                     row.median_days_to_book) for row in report.rows],
        "chart": charts.grouped_bars(labels, [(_("Offered"), [r.offered for r in report.rows]),
                                              (_("Booked"), [r.booked for r in report.rows]),
                                              (_("Completed"),
                                               [r.endings["completed"] for r in report.rows])]),
        "query": form.query(),
    })


def _short(name: str, length: int = 14) -> str:
    """A chart's category label: the table beside the chart has the whole name."""
    return name if len(name) <= length else name[:length - 1] + "…"


def _share(count: int, every: int) -> float | None:
    return count / every if every else None


@page("reports.view")
def fill(request):
    form, export_format = _filtered(request)
    if not form.is_valid():
        return render_page(request, "reports/fill.html", {"form": form})
    data = form.cleaned_data
    # A download has every date; the page lists them a page at a time.
    report = fill_report(data["period"], course_type=data["course_type"], venue=data["venue"],
                         page=None if export_format else _page_number(request))
    if export_format:
        header = [_("Date"), _("Time"), _("Course"), _("Venue"), _("Capacity"), _("Booked"),
                  _("Held"), _("Attended"), _("Did not attend"), _("Fill (%)")]
        rows = []
        for row in report.dates:
            local = timezone.localtime(row.starts_at)
            share = row.fill.share
            rows.append([f"{local:%Y-%m-%d}", f"{local:%H:%M}", row.course_type,
                         row.venue or _("Online"), row.fill.capacity, row.fill.booked,
                         row.fill.held, row.fill.attended, row.fill.did_not_attend,
                         None if share is None else round(share * 100, 1)])
        return download(export_format, f"course-date-fill-{report.period.first:%Y-%m}-to-"
                        f"{report.period.last:%Y-%m}", header, rows, sheet=_("Fill"))
    venues = [(venue.venue or _("Online"), venue.dates, venue.fill,
               report.previous_venues[venue.venue_id].share
               if venue.venue_id in report.previous_venues else None)
              for venue in report.venues]
    percents = [min(round((venue.fill.share or 0) * 100), 100) for venue in report.venues]
    page_obj = Paginator(range(report.date_count), report.per_page).page(report.page)
    return render_page(request, "reports/fill.html", {
        "form": form, "report": report, "venues": venues, "page_obj": page_obj,
        "pages": list(page_obj.paginator.get_elided_page_range(
            page_obj.number, on_each_side=1, on_ends=1)) if page_obj.has_other_pages() else [],
        "chart": charts.grouped_bars([(_short(name), "") for name, *_rest in venues],
                                     [(_("Fill (%)"), percents)], top=100, unit="%"),
        "query": form.query(),
    })


def _page_number(request) -> int:
    """The page of course dates asked for: anything but a whole number is the first."""
    number = request.GET.get("page", "")
    return int(number) if number.isdigit() and len(number) < 7 else 1


def _call_labels():
    return dict(CallLog.Type.choices), dict(CallLog.Outcome.choices)


@page("reports.view")
def calls(request):
    form, export_format = _filtered(request)
    if not form.is_valid():
        return render_page(request, "reports/calls.html", {"form": form})
    data = form.cleaned_data
    report = calls_report(data["period"], organisation=request.tenant,
                          course_type=data["course_type"], venue=data["venue"])
    types, outcomes = _call_labels()
    pairs = sorted(report.by_type_and_outcome.items(),
                   key=lambda item: (list(types).index(item[0][0]),
                                     list(outcomes).index(item[0][1])))
    if export_format:
        header = [_("Call type"), _("Outcome"), _("Calls"), _("Minutes"),
                  _("Could have been online")]
        rows = [[types[call_type], outcomes[outcome], count, minutes,
                 _("Yes") if call_type in ONLINE_CALL_TYPES else _("No")]
                for (call_type, outcome), (count, minutes) in pairs]
        return download(export_format, f"calls-{report.period.first:%Y-%m}-to-"
                        f"{report.period.last:%Y-%m}", header, rows, sheet=_("Calls"))
    total, before = report.total, report.previous
    summary = [
        (_("Calls"), total.calls, None, before.calls),
        (_("Ended in a booking"), total.ended_in_booking, total.share(total.ended_in_booking),
         before.ended_in_booking),
        (_("While the phone lines were closed"), total.out_of_hours,
         total.share(total.out_of_hours), before.out_of_hours),
        (_("Could have been done online"), total.could_be_online,
         total.share(total.could_be_online), before.could_be_online),
    ]
    return render_page(request, "reports/calls.html", {
        "form": form, "report": report, "summary": summary,
        "by_type": [(types[key], report.by_type.get(key, 0),
                     _share(report.by_type.get(key, 0), total.calls), key in ONLINE_CALL_TYPES)
                    for key in types if report.by_type.get(key)],
        "pairs": [(types[call_type], outcomes[outcome], count, minutes)
                  for (call_type, outcome), (count, minutes) in pairs],
        "hours": [(f"{hour:02d}:00", report.by_hour[hour], report.out_of_hours_by_hour[hour])
                  for hour in HOURS],
        "weekdays": [(DAY_NAMES[day], report.by_weekday[index])
                     for index, day in enumerate(DAYS)],
        "online_types": [types[key] for key in ONLINE_CALL_TYPES],
        "chart": charts.grouped_bars(
            [(f"{hour:02d}", "") for hour in HOURS],
            [(_("Calls"), report.by_hour),
             (_("While the phone lines were closed"), report.out_of_hours_by_hour)]),
        "query": form.query(),
    })


def _own_force(request) -> str:
    """What an offer naming no referring force means: the client itself, when it is a force."""
    tenant = request.tenant
    if tenant.kind == tenant.Kind.POLICE_FORCE:
        return tenant.name
    return _("Not named on the offer")


@page("reports.view")
def remittance(request):
    export_format = request.GET.get("format", "")
    if export_format not in ("", "pdf", *FORMATS):
        raise Http404("No such download format")
    own = _own_force(request)
    form = RemittanceFilterForm(request.GET, forces=forces_named(), own_force=own)
    if not form.is_valid():
        return render_page(request, "reports/remittance.html", {"form": form})
    data = form.cleaned_data
    report = remittance_report(data["period"], course_type=data["course_type"],
                               venue=data["venue"], force=data["force_name"])

    def force_label(name):
        return name or own

    filename = (f"police-remittance-{report.period.first:%Y-%m}-to-"
                f"{report.period.last:%Y-%m}")
    if export_format == "pdf":
        response = HttpResponse(remittance_pdf(report, client=request.tenant.name,
                                               force_label=force_label),
                                content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
        return response
    if export_format:
        header = [_("Police force"), _("Month"), _("Fees taken"), _("Course fees (£)"),
                  _("Police cost recovery (£)"), _("VAT (£)"), _("Transfer fees taken"),
                  _("Transfer fees (£)"), _("Refunds"), _("Course fees refunded (£)"),
                  _("Police cost recovery refunded (£)"), _("VAT refunded (£)"),
                  _("Transfer fees refunded (£)"), _("Net police cost recovery (£)"),
                  _("Net total (£)")]
        rows = [[force_label(statement.force), f"{line.month:%Y-%m}", line.payments,
                 _pounds(line.paid.course), _pounds(line.paid.police), _pounds(line.paid.vat),
                 line.transfer_payments, _pounds(line.paid.transfer), line.refunds,
                 _pounds(line.refunded.course), _pounds(line.refunded.police),
                 _pounds(line.refunded.vat), _pounds(line.refunded.transfer),
                 _pounds(line.net.police), _pounds(line.net.total)]
                for statement in report.forces for line in statement.months]
        return download(export_format, filename, header, rows, sheet=_("Remittance"))
    months = report.period.months
    per_month = [0] * len(months)
    for statement in report.forces:
        for index, line in enumerate(statement.months):
            per_month[index] += line.net.police
    return render_page(request, "reports/remittance.html", {
        "form": form, "report": report,
        "statements": [(force_label(statement.force), statement) for statement in report.forces],
        "per_month": list(zip(months, per_month, strict=True)),
        "chart": charts.grouped_bars(month_ticks(months),
                                     [(_("Net police cost recovery (£)"),
                                       [max(round(pence / 100), 0) for pence in per_month])]),
        "query": form.query(),
    })


@page("reports.view")
def cases(request):
    form, export_format = _filtered(request)
    if not form.is_valid():
        return render_page(request, "reports/cases.html", {"form": form})
    data = form.cleaned_data
    report = cases_report(data["period"], course_type=data["course_type"], venue=data["venue"])
    kinds = dict(SpecialCircumstancesCase.Kind.choices)
    outcomes = dict(SpecialCircumstancesCase.Status.choices)
    if export_format:
        header = [_("Month raised"), _("Kind"), *[outcomes[key] for key in OUTCOMES],
                  _("Median days to decide"), _("Days to decide, 90th percentile")]
        rows = [[f"{month:%Y-%m}", kinds[kind], *[line.outcomes[key] for key in OUTCOMES],
                 line.median_days, line.p90_days]
                for (month, kind), line in sorted(report.by_month_and_kind.items(),
                                                  key=lambda item: (item[0][0],
                                                                    list(kinds).index(item[0][1])))]
        return download(export_format, f"special-circumstances-{report.period.first:%Y-%m}-to-"
                        f"{report.period.last:%Y-%m}", header, rows,
                        sheet=_("Special circumstances"))
    return render_page(request, "reports/cases.html", {
        "form": form, "report": report,
        "outcome_labels": [outcomes[key] for key in OUTCOMES],
        "by_kind": [(kinds[line.key], [line.outcomes[key] for key in OUTCOMES], line)
                    for line in report.kinds],
        "monthly": [(line.key, [line.outcomes[key] for key in OUTCOMES], line)
                    for line in report.months],
        "chart": charts.grouped_bars(month_ticks(report.period.months),
                                     [(outcomes[key], [line.outcomes[key]
                                                       for line in report.months])
                                      for key in OUTCOMES]),
        "query": form.query(),
    })


@page("reports.view")
def measures(request):
    form, export_format = _filtered(request)
    if not form.is_valid():
        return render_page(request, "reports/measures.html", {"form": form})
    data = form.cleaned_data
    report = measures_report(data["period"], client=request.tenant,
                             course_type=data["course_type"], venue=data["venue"])
    if export_format:
        header = [_("Month"), _("Bookings made online"), _("All bookings made"),
                  _("Digital take-up (%)"), _("Journeys started"),
                  _("Bookings made online, every course"), _("Completion rate (%)"),
                  _("Survey answers"), _("Satisfied or very satisfied (%)")]

        def as_percent(share):
            return None if share is None else round(share * 100, 1)

        rows = [[f"{line.month:%Y-%m}", line.online, line.bookings, as_percent(line.take_up),
                 line.started, line.completed, as_percent(line.completion), line.responses,
                 as_percent(line.satisfied_share)] for line in report.months]
        return download(export_format, f"service-measures-{report.period.first:%Y-%m}-to-"
                        f"{report.period.last:%Y-%m}", header, rows, sheet=_("Service measures"))
    levels = dict(SatisfactionResponse.Level.choices)
    satisfaction = report.satisfaction
    cost = report.cost
    return render_page(request, "reports/measures.html", {
        "form": form, "report": report,
        "levels": [(levels[level], satisfaction.levels[level],
                    _share(satisfaction.levels[level], satisfaction.responses))
                   for level in LEVELS],
        "costs": [(CHANNEL_LABELS[channel], cost.bookings[channel], cost.per_booking(channel))
                  for channel in CHANNELS],
        "take_up_chart": charts.share_line(month_ticks(report.period.months),
                                           [line.take_up for line in report.months]),
        "satisfaction_chart": charts.grouped_bars(
            [(_short(levels[level], 16), "") for level in LEVELS],
            [(_("Answers"), [satisfaction.levels[level] for level in LEVELS])]),
        "query": form.query(),
    })


# The reports a schedule can send: its report code → the view whose download it sends.
SCHEDULABLE = {"bookings": "bookings", "funnel": "funnel", "fill": "fill", "calls": "calls",
               "remittance": "remittance", "cases": "cases", "measures": "measures"}
