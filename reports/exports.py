"""A report table as a download: CSV (UTF-8 with a byte-order mark, so Excel reads it as UTF-8)
or XLSX. A text cell a spreadsheet would run as a formula (= + - @, or a tab or carriage return
first) is prefixed with an apostrophe (integrations/spreadsheets.py)."""

import csv
import io

from django.http import HttpResponse
from django.utils.functional import Promise
from openpyxl import Workbook

from integrations.spreadsheets import safe_cell

FORMATS = ("csv", "xlsx")


def _cell(value):
    """A cell neutralised; a label translated lazily (a model's choices) as its text, which
    openpyxl cannot write otherwise."""
    return safe_cell(str(value) if isinstance(value, Promise) else value)


def csv_response(filename: str, header: list[str], rows: list[list]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(str(cell)) for cell in header])
    for row in rows:
        writer.writerow([_cell(cell) for cell in row])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(filename: str, header: list[str], rows: list[list], *, sheet: str
                  ) -> HttpResponse:
    book = Workbook(write_only=True)
    page = book.create_sheet(title=sheet[:31])
    page.append([safe_cell(str(cell)) for cell in header])
    for row in rows:
        page.append([_cell(cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def download(export_format: str, filename: str, header: list[str], rows: list[list], *,
             sheet: str) -> HttpResponse:
    if export_format == "xlsx":
        return xlsx_response(filename, header, rows, sheet=sheet)
    return csv_response(filename, header, rows)
