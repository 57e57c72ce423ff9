"""Importing offers (police referrals) from a CSV file or the API, all or nothing.

`parse_csv(file_bytes)` turns an uploaded file into rows; `import_offers(rows, ...)` checks every
row and, only if all of them are good, writes them in one durable transaction.

CSV format: UTF-8 (a byte-order mark, as Excel's "CSV UTF-8" writes, is fine), comma-separated,
one header row naming the columns, in any order ("Offence date" and "offence_date" both work):

    reference           required  6–20 letters, digits or hyphens (stored in upper case)
    course_type         required  code of an active course type of this client, e.g. NSAC
    offence_date        required  YYYY-MM-DD or DD/MM/YYYY (the same for every date column)
    booking_period_end  required  on or after the offence date, on or before the critical date
    critical_date       required  after the offence date: the course must be completed by then
    first_name          required  up to 100 characters
    last_name           required  up to 100 characters
    date_of_birth       required  16 to 110 years before the offence date
    postcode            required  a real UK postcode; stored normalised ("cm11qh" → "CM1 1QH")
    address             optional  up to 1,000 characters
    email               optional  a valid email address, up to 254 characters
    phone               optional  a UK number, 10 to 13 digits with spaces, brackets, + or -
                                  between (the public form's rule), up to 32 characters
    licence_number      optional  up to 16 characters once spaces are removed
    language            optional  en or cy (English or Welsh correspondence; en if blank)
    police_force        optional  the referring force, up to 100 characters (blank: the
                                  client's own force; its cost-recovery part is remitted to it)

Every cell is text (an API caller sends JSON strings, or null for a blank cell). Other columns
are ignored. Rows whose cells are all blank are skipped. Rows are numbered from 1 for the first
row under the header, as a spreadsheet shows them less the header.

Upserting by reference: a new reference creates an offer (source "csv" or "api"); a known one
whose offer is still "offered" is updated (a blank optional cell keeps the value already
stored, so a feed never wipes an email address the person gave us); a known offer that is
booked, completed, expired or otherwise closed is left exactly as it is and reported as
unchanged, because changing a live booking's course or dates must go through the booking rules.
Each offer created or changed gets an "offer.imported" / "offer.updated" event.

What the person told us wins over the feed: a contact detail the person (or staff for them)
changed after the offer arrived ("offer.details_changed" events: email, phone, language, …) is
never overwritten by a later import, whose value is the police's older record. Where the feed
sends something different, the offer keeps the person's value and gets an
"offer.import_conflict" event naming each field, the value kept and the feed's (shown to staff
on the offender page); a re-import sending the same again records nothing new.

A row bringing back the reference of an offer whose person was erased (retention or request)
is refused, in `refused`, and the rest of the file imported: the erasure must hold.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record
from booking.models import CourseType, ErasureRecord, Language, Offer, OfferEvent
from booking.models.offers import is_phone_number
from booking.services.events import log_event
from booking.services.retention import erasures_of
from integrations import postcodes

MAX_ROWS = 10_000

COLUMNS = (
    "reference", "course_type", "offence_date", "booking_period_end", "critical_date",
    "first_name", "last_name", "date_of_birth", "address", "postcode", "email", "phone",
    "licence_number", "language", "police_force",
)
REQUIRED_COLUMNS = (
    "reference", "course_type", "offence_date", "booking_period_end", "critical_date",
    "first_name", "last_name", "date_of_birth", "postcode",
)
OPTIONAL_COLUMNS = tuple(name for name in COLUMNS if name not in REQUIRED_COLUMNS)

LABELS = {
    "reference": gettext_lazy("offer reference"),
    "course_type": gettext_lazy("course type"),
    "offence_date": gettext_lazy("offence date"),
    "booking_period_end": gettext_lazy("booking period end"),
    "critical_date": gettext_lazy("critical date"),
    "first_name": gettext_lazy("first name"),
    "last_name": gettext_lazy("last name"),
    "date_of_birth": gettext_lazy("date of birth"),
    "address": gettext_lazy("address"),
    "postcode": gettext_lazy("postcode"),
    "email": gettext_lazy("email address"),
    "phone": gettext_lazy("phone number"),
    "licence_number": gettext_lazy("licence number"),
    "language": gettext_lazy("language"),
    "police_force": gettext_lazy("police force"),
}


def _column_length(name: str) -> int | None:
    field = Offer._meta.get_field(name)
    if field.is_relation:  # a course type is given by its code
        field = field.related_model._meta.get_field("code")
    return field.max_length


# Each text column's own length, so that no row reaches the database too long for its column;
# the address column has none, and is bounded so that one row cannot carry a whole file.
MAX_LENGTHS = {**{name: length for name in COLUMNS if (length := _column_length(name))},
               "address": 1000}
# What an import may set on an offer, in the order events list them.
OFFER_FIELDS = ("course_type", "offence_date", "booking_period_end", "critical_date",
                "first_name", "last_name", "date_of_birth", "address", "postcode", "email",
                "phone", "licence_number", "language", "police_force")

REFERENCE = re.compile(r"^[A-Z0-9-]{6,20}$")
# The reference of the template's example row (the staff page's download), refused on import
# so that a template uploaded as it is adds no offer.
EXAMPLE_REFERENCE = "EXAMPLE-0001"
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class ImportProblem(ValidationError):
    """The file or request as a whole cannot be imported (not a CSV, not UTF-8, columns missing,
    no rows, too many rows). Nothing was written."""


class ImportRejected(Exception):
    """At least one row is bad; nothing was written. `errors` lists every problem found as
    {"row": n, "field": column, "message": text}, in row order."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} problem(s) in the rows; nothing was imported")
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Offers whose feed values differ from contact details the person changed (theirs kept).
    conflicts: int = 0
    # Known offers left alone because they are booked or closed: {row, reference, status, reason}.
    not_updated: list[dict] = field(default_factory=list)
    # Rows naming an offer whose person was erased, refused: {row, reference, reason}.
    refused: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "not_updated": self.not_updated, "refused": self.refused}


# --- reading a CSV file -----------------------------------------------------------------------

def _column_name(raw: str) -> str:
    return re.sub(r"[\s-]+", "_", (raw or "").strip().lower())


def parse_csv(file_bytes: bytes) -> list[dict]:
    """Rows of a UTF-8 CSV file as dicts keyed by the known column names (unknown columns are
    dropped). Raises ImportProblem with a message for people, never anything else."""
    if file_bytes.startswith(b"PK\x03\x04") or file_bytes.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportProblem(_("The file is a spreadsheet workbook, not a CSV file. Open it and "
                              "save it as “CSV UTF-8 (comma delimited)”, then upload "
                              "that file."), code="not_csv")
    try:
        text = file_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportProblem(_("The file is not in UTF-8. Save it as “CSV UTF-8 (comma "
                              "delimited)” and upload it again (the first unreadable "
                              "character is at byte %(position)d).")
                            % {"position": error.start + 1}, code="not_utf8") from None
    if "\x00" in text:
        raise ImportProblem(_("The file is not a CSV file. Save it as “CSV UTF-8 (comma "
                              "delimited)” and upload it again."), code="not_csv")
    if not text.strip():
        raise ImportProblem(_("The file is empty."), code="empty")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [_column_name(name) for name in next(reader)]
        seen, repeated = set(), []
        for name in header:
            if name and name in seen:
                repeated.append(name)
            seen.add(name)
        if repeated:
            raise ImportProblem(_("These columns appear more than once in the header row: "
                                  "%(columns)s.") % {"columns": ", ".join(repeated)},
                                code="repeated_columns")
        missing = [name for name in REQUIRED_COLUMNS if name not in seen]
        if missing and len(header) == 1 and ";" in header[0]:
            raise ImportProblem(_("The columns are separated by semicolons. Save the file as "
                                  "“CSV UTF-8 (comma delimited)” so that commas "
                                  "separate them."), code="not_comma_separated")
        if missing:
            raise ImportProblem(
                _("The file is missing these columns: %(missing)s. The first row of the file "
                  "must name the columns.") % {"missing": ", ".join(missing)},
                code="missing_columns")
        positions = [(index, name) for index, name in enumerate(header) if name in COLUMNS]
        rows, filled = [], 0
        for cells in reader:
            if any(cell.strip() for cell in cells):
                filled += 1
                if filled > MAX_ROWS:
                    raise _too_many_rows()
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
                # Kept as a row so that import_offers reports it with its number.
                rows.append({"__extra_cells__": True})
                continue
            rows.append({name: cells[index] if index < len(cells) else ""
                         for index, name in positions})
    except csv.Error as error:
        raise ImportProblem(_("The file could not be read as CSV (%(problem)s, near row "
                              "%(row)d). Save it as “CSV UTF-8 (comma delimited)” and "
                              "upload it again.") % {"problem": error, "row": reader.line_num},
                            code="not_csv") from None
    while rows and _blank(rows[-1]):
        rows.pop()
    return rows


def _too_many_rows() -> ImportProblem:
    return ImportProblem(_("There are more than %(max)s offers. Import at most %(max)s at a time.")
                         % {"max": f"{MAX_ROWS:,}"}, code="too_many_rows")


def _blank(row) -> bool:
    return isinstance(row, dict) and not any(
        str(value).strip() for value in row.values() if value is not None)


# --- checking rows ----------------------------------------------------------------------------

def _text(value) -> str:
    """A cell's text. Not text (a JSON number, true/false, list or object) is refused rather
    than converted: 07700 900982 sent as a number would lose its leading zero."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError
    return value.strip()


def _parse_date(raw: str) -> date | None:
    """YYYY-MM-DD or DD/MM/YYYY. None if not in either format; ValueError if not a real date."""
    match = ISO_DATE.match(raw)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return date(year, month, day)
    match = UK_DATE.match(raw)
    if match:
        day, month, year = (int(part) for part in match.groups())
        return date(year, month, day)
    return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class _RowChecker:
    """Checks rows one by one, collecting every problem; caches course types and postcodes."""

    def __init__(self, course_types: dict[str, CourseType], today: date):
        self.by_code = course_types
        self.by_upper = {}
        for code, course_type in course_types.items():
            self.by_upper.setdefault(code.upper(), course_type)
        self.today = today
        self.postcodes: dict[str, object] = {}
        self.errors: list[dict] = []

    def error(self, row: int, name: str, message: str) -> None:
        self.errors.append({"row": row, "field": name, "message": str(message)})

    def check(self, number: int, raw) -> dict | None:
        errors_before = len(self.errors)
        if not isinstance(raw, dict):
            self.error(number, "offer", _("Each offer must be an object of column names and "
                                          "values."))
            return None
        if raw.get("__extra_cells__"):
            self.error(number, "row", _("This row has more cells than the header row has "
                                        "columns. Check for stray commas."))
            return None
        values = {}
        for name in COLUMNS:
            try:
                values[name] = _text(raw.get(name))
            except ValueError:
                self.error(number, name, _("The %(field)s must be text in quotes, not a number, "
                                           "true/false, list or object.")
                           % {"field": LABELS[name]})
                values[name] = None
        for name in REQUIRED_COLUMNS:
            if values[name] == "":
                self.error(number, name, _("Enter the %(field)s.") % {"field": LABELS[name]})
        if values["licence_number"]:
            # Normalised before its length is checked: upper-casing can lengthen text (ß → SS).
            values["licence_number"] = values["licence_number"].upper().replace(" ", "")
        for name, limit in MAX_LENGTHS.items():
            if values[name] and len(values[name]) > limit:
                self.error(number, name, _("The %(field)s must be %(limit)d characters or fewer.")
                           % {"field": LABELS[name], "limit": limit})
                values[name] = None  # one message per field: no further checks of it

        clean = {name: values[name] for name in ("first_name", "last_name", *OPTIONAL_COLUMNS)
                 if values[name]}
        reference = (values["reference"] or "").upper()
        if reference:
            if reference == EXAMPLE_REFERENCE:
                self.error(number, "reference", _("This is the template's example row: delete "
                                                  "it and add the offers from the police."))
            elif REFERENCE.match(reference):
                clean["reference"] = reference
            else:
                self.error(number, "reference", _("The offer reference must be 6 to 20 letters, "
                                                  "numbers or hyphens, like ESX-123456."))

        code = values["course_type"]
        if code:
            course_type = self.by_code.get(code) or self.by_upper.get(code.upper())
            if course_type is None:
                self.error(number, "course_type", _("There is no course type with the code "
                                                    "%(code)s.") % {"code": code})
            elif not course_type.is_active:
                self.error(number, "course_type", _("The course type %(code)s is not offered any "
                                                    "more.") % {"code": course_type.code})
            else:
                clean["course_type"] = course_type

        dates = {}
        for name in ("offence_date", "booking_period_end", "critical_date", "date_of_birth"):
            raw_date = values[name]
            if not raw_date:
                continue
            try:
                parsed = _parse_date(raw_date)
            except ValueError:
                self.error(number, name, _("The %(field)s must be a real date.")
                           % {"field": LABELS[name]})
                continue
            if parsed is None:
                self.error(number, name, _("Enter the %(field)s as YYYY-MM-DD or DD/MM/YYYY.")
                           % {"field": LABELS[name]})
                continue
            dates[name] = clean[name] = parsed
        self._check_dates(number, dates)

        postcode = values["postcode"]
        if postcode:
            place = self._locate(number, postcode)
            if place is not None:
                clean["postcode"] = place.postcode

        email = clean.get("email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                self.error(number, "email", _("Enter the email address in the correct format, "
                                              "like name@example.com."))
        phone = clean.get("phone")
        if phone and not is_phone_number(phone):
            self.error(number, "phone", _("Enter a phone number, like 01632 960 001 or "
                                          "07700 900 982"))
        language = values["language"]
        if language:
            code = language.lower()
            if code in ("en", "cy"):
                clean["language"] = code
            else:
                self.error(number, "language", _("The language must be en (English) or cy "
                                                 "(Welsh)."))
        if len(self.errors) > errors_before:
            return None
        return clean

    def _check_dates(self, number: int, dates: dict) -> None:
        offence = dates.get("offence_date")
        critical = dates.get("critical_date")
        period_end = dates.get("booking_period_end")
        born = dates.get("date_of_birth")
        if offence and offence > self.today:
            self.error(number, "offence_date", _("The offence date must be today or in the past."))
        if offence and critical and critical <= offence:
            self.error(number, "critical_date", _("The critical date must be after the offence "
                                                  "date."))
        if period_end and critical and period_end > critical:
            self.error(number, "booking_period_end", _("The booking period end must be on or "
                                                       "before the critical date."))
        if period_end and offence and period_end < offence:
            self.error(number, "booking_period_end", _("The booking period end must be on or "
                                                       "after the offence date."))
        if born and offence:
            if born > _years_before(offence, 16):
                self.error(number, "date_of_birth", _("The date of birth must be at least 16 "
                                                      "years before the offence date."))
            elif born < _years_before(offence, 110):
                self.error(number, "date_of_birth", _("The date of birth must be less than 110 "
                                                      "years before the offence date."))
        elif born and born > self.today:
            self.error(number, "date_of_birth", _("The date of birth must be in the past."))

    def _locate(self, number: int, raw: str):
        key = raw.upper()
        if key not in self.postcodes:
            try:
                self.postcodes[key] = postcodes.locate(raw)
            except (postcodes.InvalidPostcode, postcodes.UnknownPostcode) as error:
                self.postcodes[key] = str(error.messages[0])
        found = self.postcodes[key]
        if isinstance(found, str):
            self.error(number, "postcode", found)
            return None
        return found


def _json_value(value):
    if isinstance(value, CourseType):
        return value.code
    if isinstance(value, date):
        return value.isoformat()
    return value


def _snapshot(offer: Offer, names) -> dict:
    return {name: _json_value(getattr(offer, name)) for name in names}


def _event_actor(actor):
    """Staff users as themselves; API keys and other principals by their label."""
    from accounts.models import User

    return actor if isinstance(actor, User) else str(actor)


# --- the import -------------------------------------------------------------------------------

def import_offers(rows: list[dict], *, source: str, actor, channel) -> ImportResult:
    """Check every row, then create or update offers by reference, all in one transaction.

    Raises ImportProblem (the request as a whole) or ImportRejected (every bad row, with its
    number, column and message); in both cases nothing is written."""
    if source not in (Offer.Source.CSV, Offer.Source.API):
        raise ValueError(f"Unknown import source {source!r}")
    if not isinstance(rows, list):
        raise ImportProblem(_("Send the offers as a list."), code="not_a_list")
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if not _blank(row)]
    if not numbered:
        raise ImportProblem(_("There are no offers to import."), code="empty")
    if len(numbered) > MAX_ROWS:
        raise _too_many_rows()
    event_actor = _event_actor(actor)

    with transaction.atomic(durable=True):
        now = timezone.now()
        checker = _RowChecker({course_type.code: course_type
                               for course_type in CourseType.objects.all()},
                              timezone.localdate(now))
        checked: list[tuple[int, dict]] = []
        first_row_of: dict[str, int] = {}
        for number, raw in numbered:
            clean = checker.check(number, raw)
            reference = clean["reference"] if clean else _reference_of(raw)
            if reference:
                if reference in first_row_of:
                    checker.error(number, "reference",
                                  _("The offer reference %(reference)s is also on row %(row)d.")
                                  % {"reference": reference, "row": first_row_of[reference]})
                    continue
                first_row_of[reference] = number
            if clean is not None:
                checked.append((number, clean))
        if checker.errors:
            raise ImportRejected(sorted(checker.errors, key=lambda error: error["row"]))

        # One client's imports run one at a time, so two files bringing the same new reference
        # cannot collide; offers being booked meanwhile are locked row by row.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                           [f"{connection.schema_name}:offer-import"])
        existing = {offer.reference: offer for offer in Offer.objects.select_for_update()
                    .filter(reference__in=list(first_row_of)).order_by("pk")}
        course_types = {course_type.pk: course_type for course_type in checker.by_code.values()}
        for offer in existing.values():
            offer.course_type = course_types[offer.course_type_id]  # no query per offer

        # An erased offer carries a pseudonym now, so its old reference would make a new offer
        # for the same person: the erasure log recognises it and the row is refused.
        erased = erasures_of([reference for reference in first_row_of
                              if reference not in existing])
        result = ImportResult()
        to_create: list[Offer] = []
        changes: list[tuple[Offer, dict, dict]] = []
        owned = _fields_the_person_changed([offer.pk for offer in existing.values()])
        last_conflict = _last_conflicts([offer.pk for offer in existing.values()])
        conflicts: list[tuple[Offer, dict]] = []
        for number, clean in checked:
            offer = existing.get(clean["reference"])
            if offer is None and clean["reference"] in erased:
                result.refused.append(_refusal(number, clean["reference"],
                                               erased[clean["reference"]]))
                continue
            if offer is None:
                offer = Offer(
                    reference=clean["reference"], source=source, status=Offer.Status.OFFERED,
                    **{name: clean.get(name, "") for name in OFFER_FIELDS
                       if name not in ("language", "phone")},
                    language=clean.get("language", Language.ENGLISH),
                )
                offer.set_phone(clean.get("phone", ""))
                to_create.append(offer)
                continue
            if offer.status != Offer.Status.OFFERED:
                result.unchanged += 1
                result.not_updated.append({
                    "row": number, "reference": offer.reference, "status": offer.status,
                    "reason": _("Not updated: the offer is already booked or closed (%(status)s).")
                    % {"status": offer.get_status_display()},
                })
                continue
            changed = [name for name in OFFER_FIELDS
                       if name in clean and _json_value(getattr(offer, name))
                       != _json_value(clean[name])]
            theirs = [name for name in changed if name in owned.get(offer.pk, ())]
            if theirs:
                changed = [name for name in changed if name not in theirs]
                conflict = {name: {"kept": _json_value(getattr(offer, name)),
                                   "feed": _json_value(clean[name])} for name in theirs}
                if conflict != last_conflict.get(offer.pk):
                    conflicts.append((offer, conflict))
            if not changed:
                result.unchanged += 1
                continue
            before = _snapshot(offer, changed)
            for name in changed:
                if name == "phone":
                    offer.set_phone(clean[name])
                else:
                    setattr(offer, name, clean[name])
            offer.updated_at = now
            changes.append((offer, before, _snapshot(offer, changed)))

        created = Offer.objects.bulk_create(to_create, batch_size=1000)
        for offer in created:
            log_event(offer, "offer.imported", channel=channel, actor=event_actor, now=now,
                      after={"reference": offer.reference, "source": source,
                             **_snapshot(offer, OFFER_FIELDS)})
        if changes:
            names = sorted({name for _offer, before, _after in changes for name in before})
            if "phone" in names:
                names.append("phone_e164")
            _update_offers([offer for offer, _b, _a in changes], names, now)
            for offer, before, after in changes:
                log_event(offer, "offer.updated", channel=channel, actor=event_actor, now=now,
                          before=before, after={**after, "source": source})
        for offer, conflict in conflicts:
            log_event(offer, "offer.import_conflict", channel=channel, actor=event_actor, now=now,
                      before={name: values["kept"] for name, values in conflict.items()},
                      after={name: values["feed"] for name, values in conflict.items()})
        result.created = len(created)
        result.updated = len(changes)
        result.conflicts = len(conflicts)
        # One audit row per import (each offer's own change is on its timeline).
        record(actor=event_actor, action="offers.imported", obj=None,
               after={"source": source, "rows": len(checked), "created": result.created,
                      "updated": result.updated, "unchanged": result.unchanged,
                      "conflicts": result.conflicts,
                      # By row and the erased record's pseudonym only, never the reference.
                      "refused_erased": [{"row": item["row"], "erasure": item["erasure"]}
                                         for item in result.refused]})
        for item in result.refused:
            del item["erasure"]
        return result


def _refusal(number: int, reference: str, erasure: ErasureRecord) -> dict:
    when = date_format(timezone.localtime(erasure.erased_at).date(), "j F Y")
    if erasure.rule == ErasureRecord.Rule.REQUEST:
        reason = _("This offer was erased on request on %(date)s; it cannot be imported "
                   "again.") % {"date": when}
    else:
        reason = _("This offer was erased under the retention schedule on %(date)s; it "
                   "cannot be imported again.") % {"date": when}
    return {"row": number, "reference": reference, "reason": reason,
            "erasure": erasure.pseudonym}


def latest_import_conflict(offer: Offer) -> dict | None:
    """The last time the feed disagreed with what the person told us, for the offender page:
    {"occurred_at", "fields": [{"label", "kept", "feed"}]}; None if it never has."""
    event = offer.events.filter(kind="offer.import_conflict").order_by("-pk").first()
    if event is None:
        return None
    return {"occurred_at": event.occurred_at,
            "fields": [{"label": LABELS.get(name, name), "kept": (event.before or {}).get(name),
                        "feed": value} for name, value in (event.after or {}).items()]}


def _fields_the_person_changed(offer_ids: list[int]) -> dict[int, set[str]]:
    """Per offer, the import's fields the person or staff changed: theirs from then on."""
    owned: dict[int, set[str]] = {}
    events = OfferEvent.objects.filter(offer_id__in=offer_ids, kind="offer.details_changed")
    for offer_id, after in events.values_list("offer_id", "after"):
        owned.setdefault(offer_id, set()).update(
            name for name in (after or {}) if name in OFFER_FIELDS)
    return owned


def _last_conflicts(offer_ids: list[int]) -> dict[int, dict]:
    """The last conflict recorded per offer, as {field: {kept, feed}}, so that a feed sending
    the same again does not fill the timeline."""
    last: dict[int, dict] = {}
    events = (OfferEvent.objects.filter(offer_id__in=offer_ids, kind="offer.import_conflict")
              .order_by("offer_id", "-pk").distinct("offer_id"))
    for offer_id, before, after in events.values_list("offer_id", "before", "after"):
        last[offer_id] = {name: {"kept": before.get(name), "feed": after.get(name)}
                          for name in after or {}}
    return last


def _update_offers(offers: list[Offer], names: list[str], now, batch_size: int = 1000) -> None:
    """Write `names` of many offers in one statement per batch: UPDATE … FROM (VALUES …).
    Django's bulk_update builds a CASE per field and row, several times slower at 10,000 rows.
    Fields not changed on an offer are written back with the value they already have."""
    quote = connection.ops.quote_name
    fields = [Offer._meta.get_field(name) for name in names]
    casts = ["bigint", *(field.db_type(connection) for field in fields)]
    row_sql = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    columns = ", ".join(quote(column) for column in ["id", *(field.column for field in fields)])
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in fields)
    for start in range(0, len(offers), batch_size):
        batch = offers[start:start + batch_size]
        params = [now]
        for offer in batch:
            params += [offer.pk, *(getattr(offer, field.attname) for field in fields)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote(Offer._meta.db_table)} AS o SET {assignments}, "
                f"{quote('updated_at')} = %s FROM (VALUES {', '.join([row_sql] * len(batch))}) "
                f"AS v({columns}) WHERE o.id = v.id", params)


def _reference_of(raw) -> str:
    """The reference of a row that failed other checks, to still catch duplicates."""
    if not isinstance(raw, dict):
        return ""
    try:
        reference = _text(raw.get("reference")).upper()
    except ValueError:
        return ""
    return reference if REFERENCE.match(reference) else ""
