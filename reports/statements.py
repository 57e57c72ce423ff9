"""The remittance statement as a PDF a client can send to a police force (ReportLab, tagged
with its title, author and language, as billing's invoices are): one section per force, a
row per month, refunds netted."""

import io
from xml.sax.saxutils import escape as pdf_escape  # Paragraph text is XML-like markup

from django.utils import formats, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .remittance import RemittanceReport


def money(pence: int) -> str:
    """Plain ASCII for the PDF's standard fonts: −£1.50 would lose its minus sign."""
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) / 100:,.2f}"


def statement_header() -> list[str]:
    return [_("Month"), _("Fees taken"), _("Course fees"), _("Police cost recovery"), _("VAT"),
            _("Transfer fees"), _("Refunds"), _("Refunded"), _("Net police cost recovery"),
            _("Net total")]


def statement_cells(label: str, line) -> list[str]:
    net = line.net
    return [label, str(line.payments), money(line.paid.course), money(line.paid.police),
            money(line.paid.vat), money(line.paid.transfer), str(line.refunds),
            money(-line.refunded.total), money(net.police), money(net.total)]


def remittance_pdf(report: RemittanceReport, *, client: str, force_label) -> bytes:
    sheet = getSampleStyleSheet()
    title_style, body = sheet["Title"], sheet["BodyText"]
    first = formats.date_format(report.period.first, "F Y")
    last = formats.date_format(report.period.last, "F Y")
    title = _("Police cost-recovery remittance, %(first)s to %(last)s") % {
        "first": first, "last": last}
    story = []
    for index, statement in enumerate(report.forces):
        if index:
            story.append(PageBreak())
        force = force_label(statement.force)
        story += [
            Paragraph(pdf_escape(title), title_style),
            Paragraph(pdf_escape(_("From %(client)s to %(force)s.") % {
                "client": client, "force": force}), body),
            Paragraph(pdf_escape(_("Card payments taken and refunds made in each month (UK "
                                   "time). Refunds are netted in the month they were made.")),
                      body),
            Spacer(1, 5 * mm),
        ]
        rows = [statement_cells(formats.date_format(line.month, "M Y"), line)
                for line in statement.months]
        rows.append(statement_cells(_("Total"), statement.total))
        table = Table([statement_header(), *rows], repeatRows=1)
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
            ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
        ]))
        story += [table, Spacer(1, 5 * mm), Paragraph(pdf_escape(
            _("Police cost recovery due to %(force)s for the period: %(amount)s.") % {
                "force": force, "amount": money(statement.total.net.police)}), body)]
    if not story:
        story = [Paragraph(pdf_escape(title), title_style),
                 Paragraph(pdf_escape(_("No fees were taken or refunded in this period.")), body)]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=landscape(A4), title=title, author=client, subject=title,
                      creator="Waymark", lang=translation.get_language() or "en-GB",
                      leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                      bottomMargin=15 * mm).build(story)
    return buffer.getvalue()
