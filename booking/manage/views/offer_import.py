"""Staff page for importing offers from a CSV file: /manage/offers/import/.

All or nothing: either every row is imported, or nothing is and every problem is listed by
row and column. The rules and the file format are in booking/services/offer_import.py."""

import csv
import io
from datetime import timedelta

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.permissions import requires_action
from booking.models import Channel, CourseType, Language, Offer
from booking.services.offer_import import (
    COLUMNS,
    EXAMPLE_REFERENCE,
    LABELS,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    ImportProblem,
    ImportRejected,
    import_offers,
    parse_csv,
)
from tenants.client_session import ClientSessionData

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Room for the multipart framing and the other form fields around the file.
MULTIPART_SLACK = 64 * 1024
# Long reports are cut here on the page (the counts are always complete).
MAX_LISTED = 1000
RESULT_KEY = "offer_import_result"


def _too_big_message() -> str:
    return _("The selected file must be smaller than 5 MB")


class OfferImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Upload a CSV file"),
        error_messages={"required": gettext_lazy("Select a CSV file"),
                        "empty": gettext_lazy("The selected file is empty"),
                        "invalid": gettext_lazy("Select a CSV file")},
    )

    def __init__(self, *args, too_big=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_big = too_big
        self.fields["file"].help_text = _("A CSV file saved as UTF-8, at most 5 MB and "
                                          "%(max)s offers") % {"max": f"{MAX_ROWS:,}"}
        if too_big:  # the body was not read, so there is no file to require
            self.fields["file"].required = False

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if self.too_big or upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_too_big_message())
        return upload


def _columns():
    return [{"name": name, "label": LABELS[name], "required": name in REQUIRED_COLUMNS}
            for name in COLUMNS]


def _render_form(request, form, *, row_errors=None, status=200):
    row_errors = row_errors or []
    return render(request, "manage/offers_import.html", {
        "form": form,
        "columns": _columns(),
        "row_errors": row_errors[:MAX_LISTED],
        "error_count": len(row_errors),
        "rows_with_errors": len({error["row"] for error in row_errors}),
        "errors_cut": len(row_errors) > MAX_LISTED,
        "max_listed": MAX_LISTED,
        "max_rows": f"{MAX_ROWS:,}",
        "course_types": _course_codes(),
        "languages": _languages(),
    }, status=status)


def _content_length(request) -> int:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    return int(raw) if raw.isdigit() else 0


@csrf_exempt  # checked by csrf_protect below, once the size has been checked
@requires_action("offers.import")
def upload(request):
    """GET: the form. POST: import the file, then show the counts or the problems."""
    if request.method == "POST" and _content_length(request) > MAX_UPLOAD_BYTES + MULTIPART_SLACK:
        # Refused before the body is read, so a huge upload is not spooled to disk first.
        form = OfferImportForm(data={}, too_big=True)
        form.is_valid()
        return _render_form(request, form, status=413)
    return _upload(request)


@csrf_protect
def _upload(request):
    if request.method != "POST":
        return _render_form(request, OfferImportForm())
    form = OfferImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_form(request, form, status=400)
    upload_file = form.cleaned_data["file"]
    try:
        rows = parse_csv(upload_file.read())
        result = import_offers(rows, source=Offer.Source.CSV, actor=request.user,
                               channel=Channel.ADMIN)
    except ImportProblem as problem:
        form.add_error("file", problem.messages[0])
        return _render_form(request, form, status=400)
    except ImportRejected as rejected:
        return _render_form(request, OfferImportForm(), row_errors=rejected.errors, status=400)
    ClientSessionData(request, RESULT_KEY).set({
        "file_name": upload_file.name[:200],
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "not_updated": result.not_updated[:MAX_LISTED],
        "not_updated_count": len(result.not_updated),
        "refused": result.refused[:MAX_LISTED],
        "refused_count": len(result.refused),
    })
    return redirect("offer_import:done")


@requires_action("offers.import")
def done(request):
    result = ClientSessionData(request, RESULT_KEY).get()
    if result is None:
        return redirect("offer_import:upload")
    return render(request, "manage/offers_import_done.html", {
        "result": result, "max_listed": MAX_LISTED,
        "not_updated_cut": result["not_updated_count"] > len(result["not_updated"]),
    })


def _course_codes() -> list[CourseType]:
    return list(CourseType.objects.filter(is_active=True).order_by("code"))


def _languages() -> list[dict]:
    return [{"code": code, "label": label} for code, label in Language.choices]


@requires_action("offers.import")
def template_csv(request):
    """The header row and one example row to copy. The extra "notes" column, which the import
    ignores, lists this client's course codes and the language codes; the example's reference
    is refused if the row is left in."""
    today = timezone.localdate()
    codes = _course_codes()
    example = {
        "reference": EXAMPLE_REFERENCE, "course_type": codes[0].code if codes else "NSAC",
        "offence_date": (today - timedelta(days=14)).isoformat(),
        "booking_period_end": (today + timedelta(days=60)).isoformat(),
        "critical_date": (today + timedelta(days=120)).isoformat(),
        "first_name": "Sam", "last_name": "Example", "date_of_birth": "1985-03-27",
        "address": "1 High Street, Chelmsford", "postcode": "CM1 1QH",
        "email": "sam.example@example.com", "phone": "07700 900982",
        "licence_number": "", "language": Language.ENGLISH, "police_force": "",
        "notes": _("Example row: delete it. Course types: %(codes)s. Languages: %(languages)s.")
        % {"codes": ", ".join(f"{c.code} ({c.name_en})" for c in codes) or "-",
           "languages": ", ".join(f"{code} ({label})" for code, label in Language.choices)},
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*COLUMNS, "notes"], lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(example)
    # A byte-order mark, so that Excel reads the Welsh in names and notes as UTF-8.
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="offers-template.csv"'
    return response
