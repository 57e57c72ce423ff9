"""An offer's timeline as staff read it, in /manage/ and the contact centre alike: each
OfferEvent with a label in words, its channel, and its details with their values in words."""

from django.utils.translation import gettext_lazy as _

from booking.models import (
    Booking,
    CallLog,
    Channel,
    CourseSession,
    Offer,
    SpecialCircumstancesCase,
)
from booking.templatetags.booking_format import pounds

# Every kind of event the services, the outbox and the jobs write (tests/test_timeline.py
# finds them in the code and fails for one missing here).
LABELS = {
    "offer.imported": _("Offer received"),
    "offer.updated": _("Offer updated"),
    "offer.details_changed": _("Contact details changed"),
    "offer.import_conflict": _("The feed sent older contact details: the person's were kept"),
    "offer.expired": _("Offer expired and returned to the police"),
    "offer.critical_date_extended": _("Critical date extended"),
    "offer.withdrawn": _("Offer withdrawn"),
    "hold.placed": _("Seat held"),
    "hold.released": _("Held seat released"),
    "booking.created": _("Booked, waiting for payment"),
    "booking.confirmed": _("Booking confirmed"),
    "booking.superseded": _("Unpaid booking replaced by a new choice"),
    "booking.transferred": _("Moved to another date"),
    "booking.transfer_requested": _("Move to another date asked for, waiting for the transfer fee"),
    "booking.transfer_cancelled": _("Move to another date not made"),
    "booking.cancelled": _("Booking cancelled"),
    "booking.outcome_recorded": _("Outcome recorded"),
    "session.cancelled": _("Course date cancelled by the client: free transfer offered"),
    "payment.started": _("Payment started"),
    "payment.link_sent": _("Payment link sent"),
    "payment.succeeded": _("Payment received"),
    "payment.declined": _("Payment declined"),
    "payment.refunded": _("Payment refunded"),
    "call.logged": _("Call logged"),
    "special_circumstances.raised": _("Special circumstances referred by the contact centre"),
    "case.raised": _("Special-circumstances case opened"),
    "case.assigned": _("Case assigned"),
    "case.approved": _("Case approved"),
    "case.declined": _("Case declined"),
    "message.sent": _("Message sent"),
    "message.skipped": _("Message not sent (no email address)"),
    "message.failed": _("Message could not be sent"),
}
# Any other status an offer is moved to ("offer.special_arrangement" and so on) says which.
STATUS_CHANGED = _("Offer status: %(status)s")

KEYS = {
    "session": _("Course date"),
    "status": _("Status"),
    "reason": _("Reason"),
    "error": _("Reason"),
    "note": _("Note"),
    "notes": _("Notes"),
    "id_seen": _("ID seen"),
    "booking": _("Booking"),
    "fee_pence": _("Fee"),
    "transfer_fee_pence": _("Transfer fee"),
    "refund_due_pence": _("Refund due"),
    "amount_pence": _("Amount"),
    "template": _("Message"),
    "to": _("To"),
    "critical_date": _("Critical date"),
    "booking_period_end": _("End of booking period"),
    "type": _("Call type"),
    "call_type": _("Call type"),
    "outcome": _("Outcome"),
    "duration_minutes": _("Length of the call, in minutes"),
    "category": _("Category"),
    "details": _("Details"),
    "kind": _("Kind"),
    "assigned_to": _("Assigned to"),
    "decision_note": _("Decision"),
    "offer_status": _("Offer status"),
    "expires_at": _("Held until"),
}
HIDDEN = {"case", "payment", "late", "free_transfer", "language", "call", "session_cancelled",
          "offer", "medium", "offer_withdrawn"}
_STATUSES = {**dict(Offer.Status.choices), **dict(Booking.Status.choices),
             **dict(SpecialCircumstancesCase.Status.choices)}
# Codes shown by their names: a call's type and outcome, a case's kind, statuses.
CHOICES = {
    "type": dict(CallLog.Type.choices), "call_type": dict(CallLog.Type.choices),
    "outcome": dict(CallLog.Outcome.choices),
    "kind": dict(SpecialCircumstancesCase.Kind.choices),
    "category": dict(SpecialCircumstancesCase.Kind.choices),
    "status": _STATUSES, "offer_status": dict(Offer.Status.choices),
    "booking": dict(Booking.Status.choices),
}


def label(kind: str) -> str:
    """The event kind in words; the kind itself only for one no code writes any more."""
    if kind in LABELS:
        return LABELS[kind]
    subject, _dot, status = kind.partition(".")
    if subject == "offer" and status in Offer.Status.values:
        return STATUS_CHANGED % {"status": Offer.Status(status).label}
    return kind


def _value(key, value, sessions):
    if key == "session" and value in sessions:
        return str(sessions[value])
    if key.endswith("_pence"):
        try:
            return pounds(value)
        except (TypeError, ValueError):
            return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and value in CHOICES.get(key, {}):
        return CHOICES[key][value]
    return value


def _channel(code: str) -> str:
    return Channel(code).label if code in Channel.values else code


def timeline(events) -> list[dict]:
    """Rows for booking/_timeline.html, in the order given: event, label, channel, details
    ([(label, value)], a change shown as "before → after")."""
    events = list(events)
    session_ids = set()
    for event in events:
        for part in (event.before or {}, event.after or {}):
            if isinstance(part, dict) and isinstance(part.get("session"), int):
                session_ids.add(part["session"])
    sessions = {s.pk: s for s in CourseSession.objects.select_related("course_type", "venue")
                .filter(pk__in=session_ids)}
    rows = []
    for event in events:
        after = event.after if isinstance(event.after, dict) else {}
        before = event.before if isinstance(event.before, dict) else {}
        details = []
        for key, value in after.items():
            if key in HIDDEN or value in (None, "", [], {}):
                continue
            shown = _value(key, value, sessions)
            if key in before and before[key] != value and before[key] not in (None, ""):
                shown = f"{_value(key, before[key], sessions)} → {shown}"
            details.append((KEYS.get(key, key.replace("_", " ").capitalize()), shown))
        rows.append({"event": event, "label": label(event.kind),
                     "channel": _channel(event.channel), "details": details})
    return rows


def offer_timeline(offer: Offer) -> list[dict]:
    """Everything that happened to the offer and its bookings, newest first."""
    return timeline(offer.events.select_related("booking").order_by("-occurred_at", "-id"))
