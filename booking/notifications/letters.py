"""Printable documents for the person booked, in their language: the receipt (HTML page and PDF)
and the confirmation letter staff print for someone with neither an e-mail address nor a mobile.

PDFs are made with ReportLab, as billing's invoices are, tagged with title, author and language so
a screen reader announces them. Welsh needs ŵ and ŷ, which the PDF standard fonts lack: a Unicode
TrueType font (DejaVu Sans, installed with most systems) is used when found."""

import io
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from django.db.models import Sum
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from booking.models import Booking, Payment

from .compose import _location_lines, _what_to_do

FONT_PATHS = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
)


def _font() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu when installed, else the standard Helvetica."""
    if "WaymarkSans" in pdfmetrics.getRegisteredFontNames():
        return "WaymarkSans", "WaymarkSans-Bold"
    for regular, bold in FONT_PATHS:
        if Path(regular).exists() and Path(bold).exists():
            pdfmetrics.registerFont(TTFont("WaymarkSans", regular))
            pdfmetrics.registerFont(TTFont("WaymarkSans-Bold", bold))
            return "WaymarkSans", "WaymarkSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def money(pence: int) -> str:
    return f"£{int(pence or 0) / 100:,.2f}"


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    amount_pence: int


@dataclass(frozen=True)
class Receipt:
    """What a receipt says, for the HTML page and the PDF alike."""

    client_name: str
    booking_reference: str
    offer_reference: str
    full_name: str
    course_name: str
    when: str
    lines: tuple[ReceiptLine, ...]
    paid_pence: int
    paid_on: str


def _when(session) -> str:
    start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    return (f"{formats.date_format(start, 'l j F Y')}, "
            f"{formats.time_format(start, 'H:i')}–{formats.time_format(end, 'H:i')}")


def receipt_for(booking: Booking, organisation, language: str) -> Receipt:
    """The receipt of a booking's fee (and any transfer fee paid), in `language`."""
    with translation.override(language):
        fees = booking.fee_snapshot or {}
        lines = [ReceiptLine(_("Course"), fees.get("course_pence", 0)),
                 ReceiptLine(_("Police cost recovery"), fees.get("police_cost_recovery_pence", 0))]
        if fees.get("vat_pence"):
            lines.append(ReceiptLine(_("VAT"), fees["vat_pence"]))
        paid = Payment.objects.filter(booking=booking, status=Payment.Status.SUCCEEDED)
        total = paid.aggregate(total=Sum("amount_pence"))["total"] or 0
        last = paid.order_by("-succeeded_at").values_list("succeeded_at", flat=True).first()
        return Receipt(
            client_name=organisation.display_name(language),
            booking_reference=booking.reference, offer_reference=booking.offer.reference,
            full_name=booking.offer.full_name,
            course_name=booking.session.course_type.name(language),
            when=_when(booking.session), lines=tuple(lines), paid_pence=total,
            paid_on=formats.date_format(timezone.localtime(last), "j F Y") if last else "",
        )


def _document(title: str, story, language: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, author=title, subject=title, creator="Waymark",
        lang="cy" if language.startswith("cy") else "en-GB",
        leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm, bottomMargin=20 * mm)
    document.build(story)
    return buffer.getvalue()


def _styles():
    regular, bold = _font()
    sheet = getSampleStyleSheet()
    title, heading, body = sheet["Title"], sheet["Heading2"], sheet["BodyText"]
    title.fontName, heading.fontName, body.fontName = bold, bold, regular
    return title, heading, body, regular, bold


def _facts(rows, regular, bold) -> Table:
    table = Table([[label, value] for label, value in rows], colWidths=[60 * mm, 110 * mm])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (0, -1), bold),
                               ("FONTNAME", (1, 0), (1, -1), regular),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    return table


def receipt_pdf(booking: Booking, organisation, language: str) -> bytes:
    receipt = receipt_for(booking, organisation, language)
    with translation.override(language):
        title_style, heading, body, regular, bold = _styles()
        title = _("Receipt for booking %(reference)s") % {"reference": receipt.booking_reference}
        rows = [(_("Paid to"), receipt.client_name), (_("Name"), receipt.full_name),
                (_("Booking reference"), receipt.booking_reference),
                (_("Offer reference"), receipt.offer_reference),
                (_("Course"), receipt.course_name), (_("Date and time"), receipt.when)]
        if receipt.paid_on:
            rows.append((_("Paid on"), receipt.paid_on))
        story = [Paragraph(escape(title), title_style), _facts(rows, regular, bold),
                 Spacer(1, 6 * mm), Paragraph(escape(_("Fee")), heading),
                 _facts([(line.label, money(line.amount_pence)) for line in receipt.lines]
                        + [(_("Total paid"), money(receipt.paid_pence))], regular, bold)]
        return _document(title, story, language)


def confirmation_letter_pdf(booking: Booking, organisation, language: str) -> bytes:
    """The booking confirmation as a letter to post, for a person staff cannot e-mail or text."""
    with translation.override(language):
        title_style, heading, body, regular, bold = _styles()
        offer, session = booking.offer, booking.session
        client_name = organisation.display_name(language)
        title = _("Your course booking is confirmed")
        address = [offer.full_name, *[line for line in (offer.address or "").splitlines()
                                      if line.strip()], offer.postcode]
        where = (_("Online, by video call") if session.is_online
                 else ", ".join(_location_lines(session, language)))
        story = [Paragraph(escape(client_name), heading),
                 Paragraph("<br/>".join(escape(line) for line in address if line), body),
                 Spacer(1, 8 * mm), Paragraph(escape(title), title_style),
                 _facts([(_("Booking reference"), booking.reference),
                         (_("Course"), session.course_type.name(language)),
                         (_("Date and time"), _when(session)), (_("Where"), where),
                         (_("Fee"), money(booking.fee_pence))], regular, bold),
                 Spacer(1, 6 * mm), Paragraph(escape(_("What to bring")), heading)]
        story += [Paragraph(escape(str(line)), body) for line in _what_to_do(session)]
        directions = session.venue.directions_in(language) if session.venue else ""
        if directions:
            story += [Paragraph(escape(_("How to get there")), heading),
                      Paragraph(escape(directions), body)]
        if organisation.contact_phone:
            story += [Spacer(1, 6 * mm), Paragraph(escape(
                _("To change or cancel your booking, call %(phone)s.")
                % {"phone": organisation.contact_phone}), body)]
        return _document(title, story, language)
