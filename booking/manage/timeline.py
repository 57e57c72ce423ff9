"""An offer's timeline for people: each OfferEvent with a plain label and its details."""

from django.utils.translation import gettext_lazy as _

from booking.models import CourseSession

LABELS = {
    "offer.imported": _("Offer received"),
    "offer.updated": _("Offer updated"),
    "offer.details_changed": _("Contact details changed"),
    "offer.expired": _("Offer expired and returned to the police"),
    "offer.critical_date_extended": _("Critical date extended"),
    "hold.placed": _("Seat held"),
    "hold.released": _("Held seat released"),
    "booking.created": _("Booked, waiting for payment"),
    "booking.confirmed": _("Booking confirmed"),
    "booking.transferred": _("Moved to another date"),
    "booking.cancelled": _("Booking cancelled"),
    "booking.outcome_recorded": _("Outcome recorded"),
    "session.cancelled": _("Course date cancelled by the client: free transfer offered"),
    "payment.started": _("Payment started"),
    "payment.link_sent": _("Payment link sent"),
    "payment.succeeded": _("Payment received"),
    "payment.declined": _("Payment declined"),
    "payment.refunded": _("Payment refunded"),
    "call.logged": _("Telephone call"),
    "special_circumstances.raised": _("Special circumstances referred by the contact centre"),
    "case.raised": _("Special-circumstances case opened"),
    "case.assigned": _("Case assigned"),
    "case.approved": _("Case approved"),
    "case.declined": _("Case declined"),
    "message.sent": _("Message sent"),
    "message.skipped": _("Message not sent (no email address)"),
    "message.failed": _("Message could not be sent"),
}
KEYS = {
    "session": _("Course date"),
    "status": _("Status"),
    "reason": _("Reason"),
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
    "call_type": _("Call type"),
    "outcome": _("Outcome"),
    "category": _("Category"),
    "details": _("Details"),
    "kind": _("Kind"),
    "assigned_to": _("Assigned to"),
    "decision_note": _("Decision"),
    "offer_status": _("Offer status"),
    "expires_at": _("Held until"),
}
HIDDEN = {"case", "payment", "late", "free_transfer", "language", "call", "session_cancelled",
          "offer"}


def _money(value):
    try:
        return f"£{int(value) / 100:,.2f}"
    except (TypeError, ValueError):
        return value


def _value(key, value, sessions):
    if key == "session" and value in sessions:
        return str(sessions[value])
    if key.endswith("_pence"):
        return _money(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def timeline(events) -> list[dict]:
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
            label = KEYS.get(key, key.replace("_", " ").capitalize())
            shown = _value(key, value, sessions)
            if key in before and before[key] != value and before[key] not in (None, ""):
                shown = f"{_value(key, before[key], sessions)} → {shown}"
            details.append((label, shown))
        rows.append({"event": event, "label": LABELS.get(event.kind, event.kind),
                     "details": details})
    return rows
