"""Month close: a draft invoice per client live in the period, finalised after a grace
period; the running preview; credit notes. Idempotent per (client, period): the unique
constraint and a per-period advisory lock make two runs, even at once, give one set."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record as audit
from billing.models import (
    ClientPlan,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    MonthClose,
    UsageRecord,
)
from billing.pricing import Line, Priced, Prices, Usage, price, vat_on
from tenants.models import ClientOrganisation

from . import stripe_invoices
from .periods import bounds, next_month, period_of
from .plans import plan_on, vat_on_day

GRACE_DAYS = 3
LOCK_NAMESPACE = 0x0B111  # pg_advisory_xact_lock(namespace, period) for month close


def usage_in(client, period: date) -> Usage:
    start, end = bounds(period)
    counts = UsageRecord.objects.filter(client=client, occurred_at__gte=start,
                                        occurred_at__lt=end).aggregate(
        online=Count("pk", filter=Q(kind="booking_confirmed", channel="online")),
        telephone=Count("pk", filter=Q(kind="booking_confirmed", channel="telephone")),
        staff=Count("pk", filter=Q(kind="booking_confirmed", channel="staff")),
        cancelled_credits=Count("pk", filter=Q(kind="booking_cancelled_credit")),
        calls=Count("pk", filter=Q(kind="call_logged")),
        card_pence=Sum("amount_pence", filter=Q(kind="card_payment"), default=0),
    )
    return Usage(**counts)


@dataclass
class Preview:
    client: ClientOrganisation
    period: date
    usage: Usage
    plan: object
    version: object
    priced: Priced | None


def preview(client, period: date) -> Preview:
    """The invoice the period would get now (the running month's "upcoming invoice")."""
    last_day = next_month(period) - timedelta(days=1)
    assigned, version = plan_on(client, last_day)
    usage = usage_in(client, period)
    if version is None:
        return Preview(client, period, usage, None, None, None)
    prices = Prices.of(version)
    priced = price(prices, usage, vat_on_day(last_day),
                   minimum_pence=prorated_minimum(client, period, prices.monthly_minimum_pence),
                   adjustments=tuple(adjustments_for(client, period)))
    return Preview(client, period, usage, assigned.plan, version, priced)


ADJUST_MONTHS = 12  # how far back late events are looked for


def adjustments_for(client, period: date) -> list[Line]:
    """For each earlier finalised invoice (the last ADJUST_MONTHS), the difference between what
    its month costs now (late events included, at that invoice's prices and VAT rate) and what
    it charged plus what later invoices have already adjusted: one line each, never twice."""
    earliest = period
    for _month in range(ADJUST_MONTHS):
        earliest = (earliest - timedelta(days=1)).replace(day=1)
    finalised = list(Invoice.objects.select_related("plan_version")
                     .filter(client=client, status=Invoice.Status.FINALISED,
                             period__lt=period, period__gte=earliest).order_by("period"))
    if not finalised:
        return []
    # What later invoices already adjusted, and each invoice's own adjustment lines: one
    # grouped query each, not two per earlier month.
    already = dict(InvoiceLine.objects.filter(adjusts__in=finalised)
                   .exclude(invoice__client=client, invoice__period=period)
                   .values_list("adjusts").annotate(total=Sum("amount_pence")))
    own = dict(InvoiceLine.objects.filter(invoice__in=finalised,
                                          kind=InvoiceLine.Kind.ADJUSTMENT)
               .values_list("invoice").annotate(total=Sum("amount_pence")))
    billed_from = _billed_from(client)
    lines = []
    for earlier in finalised:
        prices = Prices.of(earlier.plan_version)
        redo = price(prices, usage_in(client, earlier.period), earlier.vat_rate_basis_points,
                     minimum_pence=_prorated(billed_from, earlier.period,
                                             prices.monthly_minimum_pence))
        difference = (redo.subtotal_pence - (earlier.subtotal_pence - own.get(earlier.pk, 0))
                      - already.get(earlier.pk, 0))
        if difference:
            lines.append(Line("adjustment", _("Adjustment for %(month)s (invoice %(number)s): "
                                              "events that arrived after it was finalised")
                              % {"month": earlier.period.strftime("%B %Y"),
                                 "number": earlier.number},
                              1, difference, difference, adjusts_invoice_id=earlier.pk))
    return lines


def prorated_minimum(client, period: date, minimum_pence: int) -> int:
    """A client first billed part-way through the period pays the minimum for the days it
    was billed (rounded half up to the penny)."""
    return _prorated(_billed_from(client), period, minimum_pence)


def _billed_from(client) -> date | None:
    first = ClientPlan.objects.filter(client=client).order_by("valid_from").first()
    return first.valid_from if first is not None else None


def _prorated(billed_from: date | None, period: date, minimum_pence: int) -> int:
    if billed_from is None or billed_from <= period:
        return minimum_pence
    days = (next_month(period) - period).days
    billed = (next_month(period) - billed_from).days
    return (minimum_pence * billed * 2 + days) // (2 * days)


def _next_number(name: str, prefix: str) -> str:
    sequence, _created = InvoiceSequence.objects.get_or_create(name=name)
    sequence = InvoiceSequence.objects.select_for_update().get(pk=sequence.pk)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{prefix}-{sequence.last:06d}"


def _write_lines(invoice: Invoice, priced: Priced) -> None:
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, position=n, kind=line.kind, description=line.description,
                    quantity=line.quantity, unit_pence=line.unit_pence,
                    amount_pence=line.amount_pence, adjusts_id=line.adjusts_invoice_id)
        for n, line in enumerate(priced.lines, start=1)])


def clients_live_in(period: date):
    """Clients billed from a date before the period ends (their plan's start is when billing
    starts), not offboarded."""
    with_plan = ClientPlan.objects.filter(valid_from__lt=next_month(period)).values("client_id")
    return (ClientOrganisation.objects.filter(is_template=False, pk__in=with_plan)
            .exclude(status="offboarded").order_by("pk"))


def check_closable(period: date, now: datetime) -> None:
    if period.day != 1:
        raise ValidationError({"period": _("A period is a calendar month: give its first day.")})
    if period_of(now) <= period:
        raise ValidationError({"period": _("%(month)s has not ended yet; only a past month can "
                                           "be closed.") % {"month": period.strftime("%B %Y")}})


def close_client(client, period: date, *, now: datetime, acting_user,
                 grace_days: int = GRACE_DAYS) -> Invoice | None:
    """One client's invoice for the period, in one durable transaction: created if missing,
    recomputed while still a draft (so late events land), left alone once finalised."""
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [
                (LOCK_NAMESPACE << 40) | (client.pk << 20) | (period.year * 12 + period.month)])
        existing = Invoice.objects.select_for_update().filter(client=client,
                                                              period=period).first()
        if existing is not None and existing.status == Invoice.Status.FINALISED:
            return existing
        shown = preview(client, period)
        if shown.priced is None:
            return None
        priced = shown.priced
        if existing is not None:
            if (existing.total_pence == priced.total_pence
                    and existing.plan_version_id == shown.version.pk):
                return existing
            existing.lines.all().delete()
            existing.plan_version = shown.version
            existing.subtotal_pence = priced.subtotal_pence
            existing.vat_rate_basis_points = priced.vat_rate_basis_points
            existing.vat_pence = priced.vat_pence
            existing.total_pence = priced.total_pence
            existing.save()
            _write_lines(existing, priced)
            return existing
        _start, end = bounds(period)
        invoice = Invoice.objects.create(
            client=client, period=period, number=_next_number("invoice", "WM"),
            plan_version=shown.version, vat_rate_basis_points=priced.vat_rate_basis_points,
            subtotal_pence=priced.subtotal_pence, vat_pence=priced.vat_pence,
            total_pence=priced.total_pence, finalise_after=end + timedelta(days=grace_days))
        _write_lines(invoice, priced)
        audit(action="billing.invoice_drafted", actor=acting_user, obj=invoice,
              organisation=client, after={"period": period.isoformat(),
                                          "total_pence": invoice.total_pence})
        return invoice


def close_month(period: date, *, acting_user, now: datetime | None = None,
                grace_days: int = GRACE_DAYS) -> list[Invoice]:
    """Draft (or refresh) every live client's invoice for a past month. Each client is its
    own transaction, so a crash leaves whole invoices or none, and a re-run finishes the rest."""
    now = now or timezone.now()
    check_closable(period, now)
    with transaction.atomic(durable=True):
        MonthClose.objects.get_or_create(period=period)
    invoices = []
    for client in clients_live_in(period):
        invoice = close_client(client, period, now=now, acting_user=acting_user,
                               grace_days=grace_days)
        if invoice is not None:
            invoices.append(invoice)
    return invoices


def finalise_due(*, acting_user, now: datetime | None = None) -> list[Invoice]:
    """Finalise every draft whose grace period is over (after one last refresh)."""
    now = now or timezone.now()
    done = []
    for invoice in Invoice.objects.filter(status=Invoice.Status.DRAFT,
                                          finalise_after__lte=now).select_related("client"):
        close_client(invoice.client, invoice.period, now=now, acting_user=acting_user)
        with transaction.atomic(durable=True):
            locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
            if locked.status != Invoice.Status.DRAFT:
                continue
            locked.status = Invoice.Status.FINALISED
            locked.finalised_at = now
            locked.save(update_fields=["status", "finalised_at"])
            audit(action="billing.invoice_finalised", actor=acting_user, obj=locked,
                  organisation=locked.client, after={"total_pence": locked.total_pence})
            transaction.on_commit(partial(stripe_invoices.dispatch_send, locked.pk))
            done.append(locked)
    return done


def issue_credit_note(invoice: Invoice, *, subtotal_pence: int, reason: str,
                      acting_user) -> CreditNote:
    """Correct a finalised invoice: credit up to what is left of its subtotal, with VAT at
    the invoice's rate."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Enter the reason for the credit note.")})
    if not isinstance(subtotal_pence, int) or subtotal_pence <= 0:
        raise ValidationError({"subtotal_pence": _("Enter an amount of more than 0.")})
    with transaction.atomic(durable=True):
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.status != Invoice.Status.FINALISED:
            raise ValidationError({"invoice": _("Only a finalised invoice can be credited; "
                                                "a draft is recalculated instead.")})
        credited = sum(note.subtotal_pence for note in invoice.credit_notes.all())
        if credited + subtotal_pence > invoice.subtotal_pence:
            raise ValidationError({"subtotal_pence": _("That is more than is left to credit "
                                                       "on this invoice.")})
        vat = vat_on(subtotal_pence, invoice.vat_rate_basis_points)
        note = CreditNote.objects.create(
            invoice=invoice, number=_next_number("credit", "WMC"), reason=reason,
            subtotal_pence=subtotal_pence, vat_pence=vat, total_pence=subtotal_pence + vat,
            created_by=getattr(acting_user, "email", str(acting_user)))
        audit(action="billing.credit_note_issued", actor=acting_user, obj=note,
              organisation=invoice.client, after={"invoice": invoice.number,
                                                  "total_pence": note.total_pence})
        return note
