"""The demo's two price plans, which demo client is on which, and their invoices for the
history months (idempotent)."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from billing.models import ClientPlan, CreditNote, Invoice, MonthClose, PricePlan
from billing.services import invoices, plans
from billing.services.periods import next_month, period_of
from tenants.models import ClientOrganisation

HISTORY_MONTHS = 36  # as booking.demo_history loads


def months_back(count: int, now=None):
    period = period_of(now or timezone.now())
    for _month in range(count):
        period = (period - timedelta(days=1)).replace(day=1)
    return period


PLANS = {
    "standard": dict(
        name="Standard (graduated)", mode="graduated",
        tiers=[{"first": 1, "last": 500, "unit_pence": 350, "flat_pence": 0},
               {"first": 501, "last": 2000, "unit_pence": 280, "flat_pence": 0},
               {"first": 2001, "last": None, "unit_pence": 220, "flat_pence": 0}],
        telephone_surcharge_pence=250, call_fee_pence=60, card_rate_basis_points=150,
        monthly_minimum_pence=50000),
    "high-volume": dict(
        name="High volume (volume)", mode="volume",
        tiers=[{"first": 1, "last": 1000, "unit_pence": 300, "flat_pence": 25000},
               {"first": 1001, "last": None, "unit_pence": 200, "flat_pence": 50000}],
        telephone_surcharge_pence=300, call_fee_pence=50, card_rate_basis_points=140,
        monthly_minimum_pence=150000),
}
CLIENT_PLANS = {"essex": "standard", "south-wales": "high-volume"}


def seed_billing(*, acting_user="demo") -> list[str]:
    """The plans, from the first history month, and each demo client on its plan."""
    done = []
    start = months_back(HISTORY_MONTHS)
    for code, spec in PLANS.items():
        spec = dict(spec)
        plan = PricePlan.objects.filter(code=code).first()
        if plan is None:
            plan = plans.create_plan(code=code, name=spec.pop("name"), acting_user=acting_user)
            plans.add_version(plan, valid_from=start, acting_user=acting_user, **{
                k: v for k, v in spec.items() if k != "name"})
            done.append(f"plan {code}")
    for slug, code in CLIENT_PLANS.items():
        client = ClientOrganisation.objects.filter(slug=slug).first()
        if client is None or ClientPlan.objects.filter(client=client).exists():
            continue
        plans.assign_plan(client, PricePlan.objects.get(code=code), valid_from=start,
                          acting_user=acting_user)
        done.append(f"{slug} on {code}")
    return done


def seed_invoice_history(*, acting_user="demo", now=None) -> list[str]:
    """Close every history month not yet closed: finalised invoices up to the month before
    last, last month's still a draft in its grace period, and one credit note."""
    now = now or timezone.now()
    last_month = months_back(1, now)
    period, done = months_back(HISTORY_MONTHS, now), []
    while period < last_month:
        if not MonthClose.objects.filter(period=period).exists():
            invoices.close_month(period, acting_user=acting_user, now=now)
            done.append(f"closed {period:%Y-%m}")
        period = next_month(period)
    if done:
        invoices.finalise_due(acting_user=acting_user,
                              now=now + timedelta(days=invoices.GRACE_DAYS + 1))
        _history_paid(now)
    if not MonthClose.objects.filter(period=last_month).exists():
        invoices.close_month(last_month, acting_user=acting_user, now=now)
        done.append(f"closed {last_month:%Y-%m} (draft)")
    credited = (Invoice.objects.filter(status=Invoice.Status.FINALISED,
                                       client__slug="essex", period=months_back(6, now))
                .first())
    if credited is not None and not CreditNote.objects.filter(invoice=credited).exists():
        invoices.issue_credit_note(
            credited, subtotal_pence=min(12000, credited.subtotal_pence),
            reason="Bookings made twice during the payment outage were billed twice.",
            acting_user=acting_user)
        done.append(f"credit note on {credited.number}")
    return done


def _history_paid(now) -> None:
    """The history's invoices as their clients dealt with them: each sent a few days after its
    month and paid within 30 days, but Essex's invoice of three months ago is overdue and the
    month before last's are sent and not yet due. Their Stripe side is a stand-in: the demo
    never sends three years of invoices to Stripe."""
    status = Invoice.StripeStatus
    recent, overdue = months_back(2, now), months_back(3, now)
    for invoice in Invoice.objects.filter(status=Invoice.Status.FINALISED,
                                          stripe_status=status.NOT_SENT):
        sent = timezone.make_aware(datetime.combine(
            next_month(invoice.period) + timedelta(days=4), time(9)))
        invoice.sent_at, invoice.due_on = sent, sent.date() + timedelta(days=30)
        invoice.stripe_invoice_id = f"in_demo_{invoice.number}"
        if invoice.period >= recent:
            invoice.stripe_status = status.SENT
        elif invoice.period == overdue and invoice.client.slug == "essex":
            invoice.stripe_status = status.OVERDUE
        else:
            invoice.stripe_status = status.PAID
            invoice.paid_at = sent + timedelta(days=21)
        invoice.save(update_fields=["sent_at", "due_on", "stripe_invoice_id", "stripe_status",
                                    "paid_at"])
