"""Retention and erasure: each client's schedule (the national periods, or shorter), the nightly
erasure of what is due, erasure on request, and the person's right-of-access export.

Erasure keeps the rows that money and counts are made of (the offer, its bookings, payments,
refunds, calls and cases, and billing's ledger in the public schema, which holds no personal
data) and removes or replaces what identifies the person: names, date of birth, contact
details, licence number, address, access requirements and every free text. The offer keeps a
random pseudonym for a reference, so reports, invoices and remittances still add up while no
search can reach the person again.

The timeline and the audit trail are append-only at the database. Their payloads are the only
copies of personal data erasure must reach there, and it rewrites them through
public.waymark_erase_payload (migration booking 0016), the one function the append-only guard
lets change those columns and nothing else.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from audit.models import AuditEntry
from audit.services import record
from booking.models import (
    Booking,
    CallLog,
    ErasureRecord,
    Hold,
    OffenderRead,
    Offer,
    OfferEvent,
    Payment,
    Refund,
    RetentionSchedule,
    SatisfactionResponse,
    SpecialCircumstancesCase,
)
from booking.models.privacy import (
    LONGEST_ACCESS_LOG_MONTHS,
    NATIONAL_ATTENDED_MONTHS,
    NATIONAL_NOT_ATTENDED_MONTHS,
)
from outbox.models import OutboundMessage

from .editing import field_errors
from .events import actor_label
from .refunds import refunds_due
from .seats import lock_offer

# What an erased date of birth becomes: the column is required, and no one booking a course
# was born then, so no look-up by date of birth can match it.
ERASED_DATE_OF_BIRTH = date(1900, 1, 1)
PSEUDONYM_PREFIX = "ERASED-"

# Keys of timeline and audit payloads that can hold the person's details or free text.
# Payload keys that carry counts and money (fee_pence, amount_pence, refund_due_pence, status,
# session, channel…) are kept: reports and refunds read them.
PERSONAL_KEYS = frozenset({
    "first_name", "last_name", "full_name", "name", "date_of_birth", "address", "postcode",
    "email", "phone", "phone_e164", "licence_number", "access_requirements", "access_notes",
    "notes", "note", "details", "decision_note", "reason", "waiver_reason", "id_seen", "to",
    "mobile", "url", "error", "reference",
})

ATTENDED_STATUSES = (Offer.Status.COMPLETED,)
NOT_ATTENDED_STATUSES = (
    Offer.Status.DID_NOT_ATTEND, Offer.Status.REFUSED_ENTRY, Offer.Status.NOT_COMPLETED,
    Offer.Status.CANCELLED, Offer.Status.EXPIRED, Offer.Status.WITHDRAWN,
)
# Bookings that are still under way: an offer with one is never erased.
OPEN_BOOKING_STATUSES = (*Booking.ACTIVE, Booking.Status.TRANSFER_PENDING)


def reference_digest(reference: str) -> str:
    """What the erasure log keeps of an erased offer's reference: a digest keyed with the
    site's secret, so the log cannot be turned back into references by trying them all, yet a
    feed bringing the same reference again is recognised."""
    return salted_hmac("waymark.erased-offer-reference", (reference or "").strip().upper(),
                       algorithm="sha256").hexdigest()


def erasures_of(references) -> dict[str, ErasureRecord]:
    """{reference: its erasure} for those of `references` that were erased."""
    digests = {reference_digest(reference): reference for reference in references}
    return {digests[erasure.reference_digest]: erasure for erasure in
            ErasureRecord.objects.filter(reference_digest__in=list(digests))}


class ErasureRefused(Exception):
    """The record cannot be erased yet; the message says why, for the person asking."""


# --- The schedule -----------------------------------------------------------------------------

def retention_schedule() -> RetentionSchedule:
    """The client's schedule, or the national defaults (unsaved) when it has none."""
    return RetentionSchedule.objects.first() or RetentionSchedule()


def _months(value, longest: int, field: str, message: str) -> int:
    try:
        months = int(value)
    except (TypeError, ValueError):
        raise field_errors(**{field: _("Enter a whole number of months.")}) from None
    if months < 1:
        raise field_errors(**{field: _("Enter at least 1 month.")})
    if months > longest:
        raise field_errors(**{field: message})
    return months


def set_retention_schedule(*, attended_months, not_attended_months, access_log_months,
                           acting_user, organisation=None, ip_address=None) -> RetentionSchedule:
    """Shorten (or restore) the client's periods. Never beyond the national policy: refused
    here with a message by field, and by the database's check constraints whatever writes."""
    clean = {
        "attended_months": _months(
            attended_months, NATIONAL_ATTENDED_MONTHS, "attended_months",
            _("The national policy keeps the data of people who attended for at most 42 "
              "months (3 years 6 months).")),
        "not_attended_months": _months(
            not_attended_months, NATIONAL_NOT_ATTENDED_MONTHS, "not_attended_months",
            _("The national policy keeps the data of people who did not attend for at most "
              "12 months.")),
        "access_log_months": _months(
            access_log_months, LONGEST_ACCESS_LOG_MONTHS, "access_log_months",
            _("The log of who viewed a record is kept for at most 24 months.")),
    }
    label, _user_id = actor_label(acting_user)
    with transaction.atomic(durable=True):
        schedule = RetentionSchedule.objects.select_for_update().first() or RetentionSchedule()
        before = None if schedule.pk is None else {
            name: getattr(schedule, name) for name in clean}
        for name, value in clean.items():
            setattr(schedule, name, value)
        schedule.updated_by = label
        schedule.save()
        record(actor=acting_user, action="privacy.schedule_changed", obj=schedule,
               organisation=organisation, before=before, after=clean, ip_address=ip_address)
        return schedule


# --- What is due ----------------------------------------------------------------------------

def _due_on(months: int) -> RawSQL:
    # PostgreSQL's month arithmetic: 31 August + 6 months is 28/29 February, as the national
    # database counts, and the same on every day of the boundary.
    return RawSQL('("booking_offer"."offence_date" + make_interval(months => %s))::date',
                  (months,))


def offers_due(today: date | None = None, schedule: RetentionSchedule | None = None):
    """Ids of offers whose retention period ended on or before `today`, with the rule that
    applies: {offer_id: rule}. Only finished offers count: none with a booking under way, an
    open special-circumstances case, a refund still owed, or (not attended) a critical date
    still to come."""
    today = today or timezone.localdate()
    schedule = schedule or retention_schedule()
    finished = (Offer.objects.filter(erased_at__isnull=True)
                .exclude(bookings__status__in=OPEN_BOOKING_STATUSES)
                .exclude(cases__status=SpecialCircumstancesCase.Status.OPEN))
    owed = set(Booking.objects.filter(pk__in=refunds_due()).values_list("offer_id", flat=True))
    attended = (finished.filter(status__in=ATTENDED_STATUSES)
                .annotate(due_on=_due_on(schedule.attended_months))
                .filter(due_on__lte=today))
    not_attended = (finished.filter(status__in=NOT_ATTENDED_STATUSES, critical_date__lt=today)
                    .annotate(due_on=_due_on(schedule.not_attended_months))
                    .filter(due_on__lte=today))
    due = {pk: ErasureRecord.Rule.ATTENDED
           for pk in attended.values_list("pk", flat=True).distinct()}
    due.update({pk: ErasureRecord.Rule.NOT_ATTENDED
                for pk in not_attended.values_list("pk", flat=True).distinct()})
    return {pk: rule for pk, rule in sorted(due.items()) if pk not in owed}


# --- Erasing one person ---------------------------------------------------------------------

def redact(payload):
    """The payload with every personal key's value removed (None), at any depth."""
    if isinstance(payload, dict):
        return {key: None if key in PERSONAL_KEYS and value is not None else redact(value)
                for key, value in payload.items()}
    if isinstance(payload, list):
        return [redact(item) for item in payload]
    return payload


def _rewrite(table: str, row_id: int, before, after, new_repr: str | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public.waymark_erase_payload(%s::regclass, %s, %s::jsonb, %s::jsonb, %s)",
            [table, row_id, _json(before), _json(after), new_repr])


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, cls=DjangoJSONEncoder)


def _erase_payloads(rows, table: str, repr_of=None) -> int:
    changed = 0
    for row in rows:
        before, after = redact(row.before), redact(row.after)
        new_repr = repr_of(row) if repr_of else None
        if before == row.before and after == row.after and (
                new_repr is None or new_repr == row.object_repr):
            continue
        _rewrite(table, row.pk, before, after, new_repr)
        changed += 1
    return changed


def _still_open(offer: Offer) -> str | None:
    """Why the offer cannot be erased yet, or None."""
    if offer.bookings.filter(status__in=OPEN_BOOKING_STATUSES).exists():
        return _("The person has a booking that is still open: cancel it first.")
    if offer.status in (Offer.Status.OFFERED, Offer.Status.BOOKED,
                        Offer.Status.SPECIAL_ARRANGEMENT) and offer.critical_date >= \
            timezone.localdate():
        return _("The offer can still be booked: withdraw it first.")
    if offer.cases.filter(status=SpecialCircumstancesCase.Status.OPEN).exists():
        return _("The person has an open special-circumstances case: decide it first.")
    if Booking.objects.filter(offer=offer, pk__in=refunds_due()).exists():
        return _("A refund is still owed to the person: it must be made first.")
    return None


def erase_offer(offer_id: int, *, rule: str, acting_user, reason: str = "",
                organisation=None, ip_address=None, now=None) -> ErasureRecord:
    """Erase one person's details, in one transaction, and log it. Erasing an erased offer
    changes nothing and returns its record; an offer still in use is refused (ErasureRefused)."""
    now = now or timezone.now()
    if rule == ErasureRecord.Rule.REQUEST and reason not in ErasureRecord.Reason.values:
        raise field_errors(reason=_("Select why the record is being erased."))
    label, user_id = actor_label(acting_user)
    with transaction.atomic(durable=True):
        offer = lock_offer(offer_id)
        if offer.erased_at is not None:
            return offer.erasure
        problem = _still_open(offer)
        if problem:
            raise ErasureRefused(problem)
        pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(6).upper()
        digest = reference_digest(offer.reference)
        erased = {"offer_details": 1}
        for name in ("first_name", "last_name", "address", "postcode", "email", "phone",
                     "phone_e164", "licence_number", "access_notes"):
            setattr(offer, name, "")
        offer.date_of_birth = ERASED_DATE_OF_BIRTH
        offer.access_requirements = []
        offer.reference = pseudonym
        offer.erased_at = now
        offer.save()
        erased["holds"] = Hold.objects.filter(offer=offer).delete()[0]
        erased["call_notes"] = CallLog.objects.filter(offer=offer).exclude(notes="").update(
            notes="")
        erased["case_text"] = (SpecialCircumstancesCase.objects.filter(offer=offer)
                               .exclude(notes="", decision_note="")
                               .update(notes="", decision_note=""))
        # The survey answer stays (the measures count it); its free text goes.
        erased["survey_comments"] = (SatisfactionResponse.objects.filter(booking__offer=offer)
                                     .exclude(comment="").update(comment=""))
        erased["messages"] = (OutboundMessage.objects.filter(regarding__offer=offer.pk)
                              .update(to="", subject="", body_text="", body_html="",
                                      headers={}, attachments=[], last_error=""))
        erased["timeline"] = _erase_payloads(
            OfferEvent.objects.filter(offer=offer).order_by("pk"), "booking_offerevent")
        cases = {str(pk): case for pk, case in
                 ((case.pk, case) for case in offer.cases.select_related("offer"))}
        bookings = [str(pk) for pk in offer.bookings.values_list("pk", flat=True)]
        payments = [str(pk) for pk in
                    Payment.objects.filter(booking__offer=offer).values_list("pk", flat=True)]
        entries = AuditEntry.objects.filter(
            Q(object_type="booking.Offer", object_id=str(offer.pk))
            | Q(object_type="booking.SpecialCircumstancesCase", object_id__in=list(cases))
            | Q(object_type="booking.Booking", object_id__in=bookings)
            | Q(object_type="booking.Payment", object_id__in=payments)).order_by("pk")

        def repr_of(entry):
            if entry.object_type == "booking.Offer":
                return pseudonym
            if entry.object_type == "booking.SpecialCircumstancesCase":
                return str(cases[entry.object_id])[:200]
            return entry.object_repr

        erased["audit_trail"] = _erase_payloads(entries, "audit_auditentry", repr_of)
        erasure = ErasureRecord.objects.create(
            offer=offer, pseudonym=pseudonym, reference_digest=digest, rule=rule, reason=reason,
            erased={kind: count for kind, count in erased.items() if count},
            actor=label, actor_user_id=user_id, erased_at=now)
        record(actor=acting_user, action="privacy.erased", obj=offer,
               organisation=organisation, after={"rule": rule, "reason": reason,
                                                 "erased": erasure.erased},
               ip_address=ip_address)
        return erasure


def erase_on_request(reference: str, *, reason: str, acting_user, organisation=None,
                     ip_address=None) -> ErasureRecord:
    """The data protection officer's erasure of one person's record, with a reason."""
    offer = Offer.objects.filter(reference=reference, erased_at__isnull=True).first()
    if offer is None:
        raise ErasureRefused(_("There is no offer with that reference."))
    return erase_offer(offer.pk, rule=ErasureRecord.Rule.REQUEST, reason=reason,
                       acting_user=acting_user, organisation=organisation,
                       ip_address=ip_address)


@dataclass
class RetentionRun:
    erased: int = 0
    skipped: int = 0
    reads_purged: int = 0
    comments_blanked: int = 0


def erase_due(*, today: date | None = None, now=None) -> RetentionRun:
    """The nightly job: erase every offer whose period has ended, one transaction each, and
    purge reads older than the access log's period. Running it twice erases nothing more."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    schedule = retention_schedule()
    run = RetentionRun()
    for offer_id, rule in offers_due(today, schedule).items():
        try:
            erase_offer(offer_id, rule=rule, acting_user="system", now=now)
        except ErasureRefused:
            run.skipped += 1  # booked again or a case opened since the list was read
        else:
            run.erased += 1
    run.reads_purged = purge_reads(today=today, schedule=schedule)
    run.comments_blanked = blank_old_survey_comments(today=today, schedule=schedule, now=now)
    return run


def blank_old_survey_comments(*, today: date | None = None,
                              schedule: RetentionSchedule | None = None, now=None) -> int:
    """Blank the free text of survey answers older than the shortest retention period: people
    are asked not to write personal details there, but some do, and an answer from the
    feedback link belongs to no booking that erasure could follow. The answers themselves stay,
    so the service measures count the same. One erasure-log entry per run that blanked any."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    schedule = schedule or retention_schedule()
    months = min(schedule.attended_months, schedule.not_attended_months)
    cutoff = today - relativedelta(months=months)
    with transaction.atomic(durable=True):
        blanked = (SatisfactionResponse.objects.filter(created_at__date__lt=cutoff)
                   .exclude(comment="").update(comment=""))
        if blanked:
            ErasureRecord.objects.create(
                rule=ErasureRecord.Rule.SURVEY_COMMENTS, erased={"survey_comments": blanked},
                actor="system", erased_at=now)
    return blanked


def purge_reads(*, today: date | None = None, schedule: RetentionSchedule | None = None) -> int:
    """Delete reads older than the access log's period (the log holds no personal data of
    the person, but who looked at whom is kept no longer than needed)."""
    today = today or timezone.localdate()
    schedule = schedule or retention_schedule()
    cutoff = today - relativedelta(months=schedule.access_log_months)
    deleted, _by_model = OffenderRead.objects.filter(occurred_at__date__lt=cutoff).delete()
    return deleted


# --- Right of access --------------------------------------------------------------------------

def _rows(queryset, fields) -> list[dict]:
    return list(queryset.values(*fields))


def access_request(offer_id: int, *, acting_user, organisation=None,
                   ip_address=None) -> dict:
    """Everything held about the person (their offer, bookings, payments and refunds,
    messages, calls, cases and timeline), for the data protection officer to send them. The
    export is recorded on the audit trail."""
    with transaction.atomic(durable=True):
        offer = Offer.objects.select_related("course_type").get(pk=offer_id, erased_at=None)
        data = {
            "offer": {
                **{name: getattr(offer, name) for name in (
                    "reference", "offence_date", "booking_period_end", "critical_date",
                    "first_name", "last_name", "date_of_birth", "address", "postcode",
                    "email", "phone", "licence_number", "language", "access_requirements",
                    "access_notes", "source", "status", "created_at")},
                "course_type": offer.course_type.code,
            },
            "bookings": _rows(offer.bookings.order_by("created_at"), (
                "reference", "session__starts_at", "session__course_type__code",
                "session__venue__name", "channel", "status", "fee_pence", "made_by",
                "created_at", "confirmed_at", "ended_at")),
            "payments": _rows(Payment.objects.filter(booking__offer=offer).order_by("created_at"),
                              ("booking__reference", "kind", "amount_pence", "currency",
                               "status", "channel", "created_at", "succeeded_at")),
            "refunds": _rows(
                Refund.objects.filter(payment__booking__offer=offer).order_by("created_at"),
                ("payment__booking__reference", "amount_pence", "reason", "created_at")),
            "messages": _rows(
                OutboundMessage.objects.filter(regarding__offer=offer.pk).order_by("created_at"),
                ("medium", "kind", "to", "subject", "body_text", "status", "created_at",
                 "sent_at")),
            "calls": _rows(offer.calls.order_by("started_at"),
                           ("call_type", "outcome", "duration_minutes", "notes", "started_at")),
            "cases": _rows(offer.cases.order_by("created_at"),
                           ("kind", "notes", "status", "decision_note", "created_at",
                            "decided_at")),
            "events": _rows(offer.events.order_by("occurred_at", "pk"),
                            ("kind", "channel", "occurred_at", "before", "after")),
        }
        record(actor=acting_user, action="privacy.exported", obj=offer,
               organisation=organisation, ip_address=ip_address)
    return data


def access_request_file(data: dict) -> bytes:
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()

