"""The demo's history (booking/demo_history.py): seasonal months with a channel shift, every row
the services would have written (events, usage rows exactly for the billable ones, seats that
add up), idempotent, and its months closed into invoices with a credit note."""

from datetime import date

import pytest
from django.db.models import Count, F, Q

from billing import demo as billing_demo
from billing.models import CreditNote, Invoice, UsageRecord
from booking.demo_history import Shape, seed_history
from booking.models import Booking, CourseSession, Offer, OfferEvent
from booking.usage import billable_ids
from reports.bookings import bookings_report
from reports.periods import Period

from .factories import VenueFactory

SHAPE = Shape(bookings_per_month=40, growth_per_year=0.0, online_share_from=0.3,
              online_share_to=0.9)
TODAY = date(2026, 7, 15)


@pytest.fixture
def history(in_essex):
    VenueFactory.create_batch(3)
    return seed_history(in_essex, today=TODAY, months=6, shape=SHAPE)


def test_history_months_shift_online_and_add_up(history, in_essex):
    assert history == Booking.objects.filter(offer__reference__startswith="HIST-").count()
    report = bookings_report(Period(date(2026, 1, 1), date(2026, 6, 1)))
    shares = [share for month, _online, every, share in report.trend if every]
    assert len(shares) == 6 and shares[-1] > shares[0] + 0.3
    assert not Offer.objects.filter(reference__startswith="HIST-",
                                    created_at__gte=Period(date(2026, 7, 1), date(2026, 7, 1)).start).exists()
    # Every booking's offer arrived before it was booked.
    assert not Booking.objects.filter(confirmed_at__lt=F("offer__created_at")).exists()
    counted = Q(bookings__status__in=("completed", "did_not_attend", "refused_entry",
                                      "not_completed"))
    assert not (CourseSession.objects.annotate(n=Count("bookings", filter=counted))
                .exclude(seats_booked=F("n")).exists())
    assert OfferEvent.objects.filter(kind="booking.confirmed").count() == history


def test_usage_rows_are_exactly_the_billable_events(history, in_essex):
    # A cancellation's credit can fall a month after the last history month.
    months = Period(date(2026, 1, 1), date(2026, 7, 1))
    start, end = months.start, months.end
    ledger = set(UsageRecord.objects.filter(client=in_essex).values_list("source_event_id",
                                                                         flat=True))
    assert ledger == billable_ids(start, end)
    assert seed_history(in_essex, today=TODAY, months=6, shape=SHAPE) == 0  # once only
    assert UsageRecord.objects.filter(client=in_essex).count() == len(ledger)


def test_history_months_close_into_invoices(history, in_essex, monkeypatch):
    from django.db import connection

    from billing.services import plans

    connection.set_schema_to_public()
    monkeypatch.setattr(billing_demo, "HISTORY_MONTHS", 6)
    now = billing_demo.timezone.make_aware(billing_demo.timezone.datetime(2026, 7, 15, 12))
    monkeypatch.setattr(billing_demo.timezone, "now", lambda: now)
    billing_demo.seed_billing(acting_user="tests")
    assert plans.plan_on(in_essex, date(2026, 1, 1))[1] is not None
    billing_demo.seed_invoice_history(acting_user="tests", now=now)
    invoices = Invoice.objects.filter(client=in_essex).order_by("period")
    assert [invoice.period for invoice in invoices] == [date(2026, m, 1) for m in range(1, 7)]
    assert [invoice.status for invoice in invoices] == ["finalised"] * 5 + ["draft"]
    assert CreditNote.objects.filter(invoice__client=in_essex).count() == 1
    # Paid, one overdue (three months back), the month before last sent; none sent to Stripe.
    assert [invoice.stripe_status for invoice in invoices] == \
        ["paid", "paid", "paid", "overdue", "sent", "not_sent"]
    billing_demo.seed_invoice_history(acting_user="tests", now=now)
    assert Invoice.objects.filter(client=in_essex).count() == 6
