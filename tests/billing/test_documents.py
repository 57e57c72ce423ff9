"""Invoice and credit-note documents: a real PDF carrying the number and total, a CSV whose
rows add up to the invoice, formula-safe cells, and each client fetching only its own."""

import csv
import io
import re
import zlib
from datetime import timedelta

import pytest

from billing import documents
from billing.models import InvoiceLine
from billing.services import invoices

from ..conftest import sign_in_verified
from .test_invoices import NOW
from .test_views import ESSEX, PLATFORM, SOUTH_WALES, two_clients_billed  # noqa: F401


def pdf_text(pdf: bytes) -> str:
    """Every content stream of the PDF, inflated: enough to find the strings drawn on it
    without a PDF library."""
    assert pdf.startswith(b"%PDF-")
    chunks = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\n?endstream", pdf, re.S):
        data = match.group(1)
        try:
            data = zlib.decompress(data)
        except zlib.error:
            try:  # ReportLab wraps compressed streams in ASCII85 too
                import base64
                data = zlib.decompress(base64.a85decode(data.strip(), adobe=True))
            except Exception:  # noqa: BLE001 - an image or font stream: not text
                continue
        chunks.append(data.decode("latin-1"))
    return "\n".join(chunks)


def csv_rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def credited(two_clients_billed):  # noqa: F811
    essex_invoice, wales_invoice = two_clients_billed
    invoices.finalise_due(acting_user="tests", now=NOW + timedelta(days=5))
    note = invoices.issue_credit_note(essex_invoice, subtotal_pence=500,
                                      reason="Duplicate bookings", acting_user="tests")
    essex_invoice.refresh_from_db()
    return essex_invoice, wales_invoice, note


def test_the_invoice_pdf_carries_its_number_lines_and_total(two_clients_billed):  # noqa: F811
    essex_invoice, _wales = two_clients_billed
    pdf = documents.invoice_pdf(essex_invoice)
    text = pdf_text(pdf)
    assert essex_invoice.number in text  # WM-000001
    assert "21.96" in text and "18.30" in text and "Essex County Council" in text
    # Tagged for assistive technology: a title and a language in the document's catalogue.
    assert b"/Title (Invoice WM-000001)" in pdf and b"/Lang" in pdf


def test_the_credit_note_pdf_carries_its_number_and_total(credited):
    essex_invoice, _wales, note = credited
    text = pdf_text(documents.credit_note_pdf(note))
    assert note.number in text and essex_invoice.number in text
    assert "6.00" in text  # £5.00 + 20 % VAT
    assert "Duplicate bookings" in text


def test_the_invoice_pdf_lists_its_credit_notes_and_status(credited):
    essex_invoice, _wales, note = credited
    text = pdf_text(documents.invoice_pdf(essex_invoice))
    assert "Finalised" in text and f"{note.number}: " in text


def test_the_csv_rows_match_the_lines_and_totals(two_clients_billed):  # noqa: F811
    essex_invoice, _wales = two_clients_billed
    rows = csv_rows(documents.invoice_csv(essex_invoice))
    header, body = rows[0], rows[1:]
    assert header == ["Invoice number", "Month", "Item", "Quantity", "Unit price (GBP)",
                      "Amount (GBP)"]
    lines = list(essex_invoice.lines.all())
    assert [(r[2], int(r[3]), r[4], r[5]) for r in body[:len(lines)]] == [
        (line.description, line.quantity, f"{line.unit_pence / 100:.2f}",
         f"{line.amount_pence / 100:.2f}") for line in lines]
    assert all(r[0] == "WM-000001" and r[1] == "2026-11" for r in body)
    subtotal, vat, total = body[len(lines):]
    assert sum(float(r[5]) for r in body[:len(lines)]) == pytest.approx(float(subtotal[5]))
    assert (subtotal[2], subtotal[5]) == ("Subtotal", "18.30")
    assert (vat[2], vat[5]) == ("VAT at 20%", "3.66")
    assert (total[2], total[5]) == ("Total", "21.96")


def test_a_cell_a_spreadsheet_would_run_is_escaped(two_clients_billed):  # noqa: F811
    essex_invoice, _wales = two_clients_billed
    for n, evil in enumerate(["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)"]):
        InvoiceLine.objects.create(invoice=essex_invoice, position=90 + n, kind="adjustment",
                                   description=evil, quantity=1, unit_pence=-100,
                                   amount_pence=-100)
    rows = csv_rows(documents.invoice_csv(essex_invoice))
    items = [row[2] for row in rows]
    assert "'=HYPERLINK(\"http://x\")" in items and "'+1+1" in items
    assert "'-2+3" in items and "'@SUM(A1)" in items
    assert not any(item.startswith(("=", "+", "@")) for item in items)
    # A negative amount is a number, not a formula: it is left alone.
    assert ["-1.00", "-1.00"] == [rows[-4][4], rows[-4][5]]


def test_a_client_admin_downloads_their_own_documents_only(client, credited, essex_admin):
    essex_invoice, wales_invoice, note = credited
    client.force_login(essex_admin)
    base = "/manage/billing"
    pdf = client.get(f"{base}/invoices/{essex_invoice.number}/pdf/", HTTP_HOST=ESSEX)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == 'attachment; filename="invoice-WM-000001.pdf"'
    assert pdf.content.startswith(b"%PDF")
    sheet = client.get(f"{base}/invoices/{essex_invoice.number}/csv/", HTTP_HOST=ESSEX)
    assert sheet.status_code == 200 and sheet["Content-Type"].startswith("text/csv")
    assert sheet["Content-Disposition"] == 'attachment; filename="invoice-WM-000001.csv"'
    page = client.get(f"{base}/credit-notes/{note.number}/", HTTP_HOST=ESSEX)
    assert page.status_code == 200 and "Duplicate bookings" in page.content.decode()
    note_pdf = client.get(f"{base}/credit-notes/{note.number}/pdf/", HTTP_HOST=ESSEX)
    assert note_pdf["Content-Disposition"] == f'attachment; filename="credit-note-{note.number}.pdf"'
    # The invoice page links to its files and its credit note.
    invoice_page = client.get(f"{base}/invoices/{essex_invoice.number}/",
                              HTTP_HOST=ESSEX).content.decode()
    assert f"{base}/invoices/WM-000001/pdf/" in invoice_page
    assert f"{base}/invoices/WM-000001/csv/" in invoice_page
    assert f"{base}/credit-notes/{note.number}/" in invoice_page
    listing = client.get(f"{base}/", HTTP_HOST=ESSEX).content.decode()
    assert f"{base}/invoices/WM-000001/pdf/" in listing

    # Another client's number on one's own site: not found, whatever the document.
    for url in (f"{base}/invoices/{wales_invoice.number}/pdf/",
                f"{base}/invoices/{wales_invoice.number}/csv/"):
        assert client.get(url, HTTP_HOST=ESSEX).status_code == 404
    # On the other client's site: no access at all.
    assert client.get(f"{base}/invoices/{wales_invoice.number}/pdf/",
                      HTTP_HOST=SOUTH_WALES).status_code == 403


def test_another_clients_credit_note_is_not_found(client, credited, south_wales_admin):
    _essex_invoice, _wales, note = credited
    client.force_login(south_wales_admin)
    for url in (f"/manage/billing/credit-notes/{note.number}/",
                f"/manage/billing/credit-notes/{note.number}/pdf/"):
        assert client.get(url, HTTP_HOST=SOUTH_WALES).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, credited):
    essex_invoice, _wales, note = credited
    for host, url in ((ESSEX, f"/manage/billing/invoices/{essex_invoice.number}/pdf/"),
                      (ESSEX, f"/manage/billing/invoices/{essex_invoice.number}/csv/"),
                      (ESSEX, f"/manage/billing/credit-notes/{note.number}/pdf/"),
                      (PLATFORM, f"/billing/invoices/{essex_invoice.number}/pdf/"),
                      (PLATFORM, f"/billing/credit-notes/{note.number}/")):
        response = client.get(url, HTTP_HOST=host)
        assert response.status_code == 302 and "sign-in" in response["Location"], url


def test_provider_staff_get_every_clients_documents(client, credited, provider_support):
    essex_invoice, wales_invoice, note = credited
    sign_in_verified(client, provider_support)
    for number in (essex_invoice.number, wales_invoice.number):
        pdf = client.get(f"/billing/invoices/{number}/pdf/", HTTP_HOST=PLATFORM)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        sheet = client.get(f"/billing/invoices/{number}/csv/", HTTP_HOST=PLATFORM)
        assert sheet.status_code == 200 and number in sheet.content.decode()
    page = client.get(f"/billing/credit-notes/{note.number}/", HTTP_HOST=PLATFORM)
    assert page.status_code == 200 and essex_invoice.number in page.content.decode()
    assert client.get(f"/billing/credit-notes/{note.number}/pdf/",
                      HTTP_HOST=PLATFORM).content.startswith(b"%PDF")
    assert client.get("/billing/invoices/WM-999999/pdf/", HTTP_HOST=PLATFORM).status_code == 404
