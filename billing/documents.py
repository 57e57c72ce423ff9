"""Invoice and credit-note documents: a PDF (ReportLab, tagged with its title, author and
language so a screen reader announces it) and a CSV of an invoice's lines (UTF-8 with a BOM so
Excel reads the £ and accents, every text cell made formula-safe)."""

import csv
import io
from decimal import Decimal
from xml.sax.saxutils import escape as pdf_escape  # Paragraph text is XML-like markup

from django.utils import formats, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing.models import CreditNote, Invoice
from integrations.spreadsheets import safe_cell

PROVIDER = "Waymark"
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").


def pdf_filename(document) -> str:
    kind = "credit-note" if isinstance(document, CreditNote) else "invoice"
    return f"{kind}-{document.number}.pdf"


def csv_filename(invoice: Invoice) -> str:
    return f"invoice-{invoice.number}.csv"


def money(pence: int) -> str:
    """Plain ASCII for the PDF's standard fonts: −£1.50 would lose its minus sign."""
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) / 100:,.2f}"


def percent(basis_points: int) -> str:
    return f"{basis_points / 100:g}%"


def month(period) -> str:
    return formats.date_format(period, "F Y")


# --- PDF ------------------------------------------------------------------------------------


def _styles():
    sheet = getSampleStyleSheet()
    return sheet["Title"], sheet["Heading2"], sheet["BodyText"]


def _pdf(title: str, story) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, author=PROVIDER, subject=title, creator=PROVIDER,
        lang=translation.get_language() or "en-GB",
        leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm)
    document.build(story)
    return buffer.getvalue()


def _facts(rows) -> Table:
    table = Table([[label, value] for label, value in rows], colWidths=[50 * mm, None],
                  hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table


def _amounts(header, rows, totals) -> Table:
    """Lines then the totals, with a ruled header and the money right-aligned."""
    data = [header, *rows, *totals]
    table = Table(data, colWidths=[None, 22 * mm, 28 * mm, 28 * mm], repeatRows=1)
    first_total = len(rows) + 1
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEABOVE", (0, first_total), (-1, first_total), 0.5, colors.black),
        ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def invoice_pdf(invoice: Invoice) -> bytes:
    title_style, heading, body = _styles()
    title = _("Invoice %(number)s") % {"number": invoice.number}
    lines = [[Paragraph(pdf_escape(line.description), body), str(line.quantity),
              money(line.unit_pence), money(line.amount_pence)]
             for line in invoice.lines.all()]
    if not lines:
        lines = [[_("Nothing to charge."), "", "", ""]]
    totals = [[_("Subtotal"), "", "", money(invoice.subtotal_pence)],
              [_("VAT at %(rate)s") % {"rate": percent(invoice.vat_rate_basis_points)}, "", "",
               money(invoice.vat_pence)],
              [_("Total"), "", "", money(invoice.total_pence)]]
    story = [
        Paragraph(pdf_escape(title), title_style),
        _facts([(_("Invoice number"), invoice.number),
                (_("Client"), invoice.client.name),
                (_("Month"), month(invoice.period)),
                (_("Status"), str(invoice.get_status_display())),
                (_("Price plan"), f"{invoice.plan_version.plan.name} "
                                  f"({invoice.plan_version.get_mode_display()})")]),
        Spacer(1, 6 * mm),
        Paragraph(pdf_escape(_("Lines of %(caption)s") % {"caption": invoice.number}), heading),
        _amounts([_("Item"), _("Quantity"), _("Unit price"), _("Amount")], lines, totals),
    ]
    notes = list(invoice.credit_notes.all())
    if notes:
        story += [Spacer(1, 6 * mm), Paragraph(pdf_escape(_("Credit notes")), heading)]
        story += [Paragraph(pdf_escape(f"{note.number}: {money(note.total_pence)} "
                                       f"({note.reason})"), body) for note in notes]
    return _pdf(title, story)


def credit_note_pdf(note: CreditNote) -> bytes:
    title_style, heading, body = _styles()
    invoice = note.invoice
    title = _("Credit note %(number)s") % {"number": note.number}
    story = [
        Paragraph(pdf_escape(title), title_style),
        _facts([(_("Credit note number"), note.number),
                (_("Client"), invoice.client.name),
                (_("Corrects invoice"), invoice.number),
                (_("Month"), month(invoice.period)),
                (_("Issued"), formats.date_format(note.created_at, "j F Y")),
                (_("Reason"), Paragraph(pdf_escape(note.reason), body))]),
        Spacer(1, 6 * mm),
        _amounts([_("Item"), "", "", _("Amount")],
                 [[_("Credit"), "", "", money(note.subtotal_pence)]],
                 [[_("VAT at %(rate)s") % {"rate": percent(invoice.vat_rate_basis_points)}, "",
                   "", money(note.vat_pence)],
                  [_("Total credited"), "", "", money(note.total_pence)]]),
    ]
    return _pdf(title, story)


# --- CSV ------------------------------------------------------------------------------------


def pounds(pence: int) -> Decimal:
    return (Decimal(pence) / 100).quantize(Decimal("0.01"))


def invoice_csv(invoice: Invoice) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("Invoice number"), _("Month"), _("Item"), _("Quantity"),
                     _("Unit price (GBP)"), _("Amount (GBP)")])
    period = invoice.period.strftime("%Y-%m")
    for line in invoice.lines.all():
        writer.writerow([safe_cell(cell) for cell in (
            invoice.number, period, line.description, line.quantity, pounds(line.unit_pence),
            pounds(line.amount_pence))])
    vat = _("VAT at %(rate)s") % {"rate": percent(invoice.vat_rate_basis_points)}
    for label, pence in ((_("Subtotal"), invoice.subtotal_pence), (vat, invoice.vat_pence),
                         (_("Total"), invoice.total_pence)):
        writer.writerow([invoice.number, period, safe_cell(label), "", "", pounds(pence)])
    return out.getvalue()
