"""The remittance tally booking keeps as payments succeed and refunds are made
(booking/tallies.py): each event appends its rows, a fold sums them, a recount from the payment
and refund rows gives the same, refunds are netted in the Europe/London month they were made,
an import that changes an offer's force moves its money, and the nightly check finds money that
reached the rows past log_event."""

from datetime import date

from django.db import transaction
from django.db.models import Sum

from booking import tallies
from booking.models import Channel, Offer, Payment, RemittanceTally
from booking.services.events import log_event
from reports.periods import Period
from reports.remittance import remittance_report

from ..factories import CourseSessionFactory
from . import test_remittance
from .test_remittance import APRIL_MAY, KENT, paid, refund, utc

fees = test_remittance.fees  # the same hand-counted fixture


def counted() -> dict:
    """The tally as {key: (count, amount, police, VAT)}, whatever its rows."""
    key = ("month", "police_force", "course_type", "all_venues", "venue", "kind", "refund")
    return {tuple(row[name] for name in key):
            (row["n"], row["amount"], row["police"], row["vat"])
            for row in RemittanceTally.objects.values(*key).annotate(
                n=Sum("count"), amount=Sum("amount_pence"), police=Sum("police_pence"),
                vat=Sum("vat_pence")) if row["n"]}


def figures(report) -> list:
    return [(statement.force, [(line.month, line.payments, line.transfer_payments,
                                line.refunds, line.net.total, line.net.police, line.net.vat)
                               for line in statement.months],
             statement.previous.net.total) for statement in report.forces]


def test_each_payment_and_refund_appends_rows_a_fold_sums(fees):
    # Four booking fees, a transfer fee and two refunds, each at both levels (all venues and
    # its date's venue): fourteen rows, none folded yet.
    assert RemittanceTally.objects.filter(folded=False).count() == 14
    before = remittance_report(APRIL_MAY)
    assert tallies.fold()
    assert not RemittanceTally.objects.filter(folded=False).exists()
    keys = RemittanceTally.objects.values("month", "police_force", "course_type", "all_venues",
                                          "venue", "kind", "refund").distinct()
    assert RemittanceTally.objects.count() == keys.count()
    assert figures(remittance_report(APRIL_MAY)) == figures(before)
    assert tallies.fold() and figures(remittance_report(APRIL_MAY)) == figures(before)


def test_a_recount_from_the_rows_is_what_the_events_counted(fees):
    incremental = counted()
    tallies.fold()
    assert counted() == incremental
    tallies.rebuild()
    assert counted() == incremental
    assert tallies.check(repair=False) == {}


def test_refunds_are_netted_in_their_own_month(fees):
    course, session = fees
    # Paid in April, half refunded in May: April keeps the payment, May has the refund.
    _booking, payment = paid(course, session, force=KENT, at=utc(2026, 4, 20, 9))
    refund(payment, 5550, utc(2026, 5, 3, 9))
    kent = {statement.force: statement for statement in remittance_report(APRIL_MAY).forces}[KENT]
    april, may = kent.months
    assert (april.payments, april.paid.police, april.refunds) == (2, 3000, 0)
    # May: the full refund of the fixture's Kent payment and this half: £111 + £55.50 back.
    assert (may.refunds, may.refunded.total, may.refunded.police, may.refunded.vat) == \
        (2, 16650, 2250, 2400)
    assert may.net.total == -16650 and kent.total.net.total == 2 * 11100 - 16650
    refunds = RemittanceTally.objects.filter(refund=True, all_venues=True,
                                             police_force=KENT).aggregate(
        count=Sum("count"), amount=Sum("amount_pence"))
    assert refunds == {"count": 2, "amount": 16650}


def test_the_month_is_the_europe_london_one(fees):
    course, _session = fees
    session = CourseSessionFactory(course_type=course, starts_at=utc(2026, 7, 1, 9))
    # 23:30 UTC on 31 May is 00:30 BST on 1 June: June. Half refunded at 23:30 UTC on 30 June
    # (00:30 BST on 1 July: July), half at 23:30 UTC on 31 October (GMT, the clocks went back
    # on the 25th: October).
    _booking, june = paid(course, session, force="Essex Police", at=utc(2026, 5, 31, 23, 30))
    refund(june, 5550, utc(2026, 6, 30, 23, 30))
    refund(june, 5549, utc(2026, 10, 31, 23, 30))
    months = {(row.month, row.refund) for row in RemittanceTally.objects.filter(
        police_force="Essex Police", all_venues=True)}
    assert months == {(date(2026, 6, 1), False), (date(2026, 7, 1), True),
                      (date(2026, 10, 1), True)}
    assert "Essex Police" not in [statement.force for statement in
                                  remittance_report(APRIL_MAY).forces]
    june_july = remittance_report(Period(date(2026, 6, 1), date(2026, 7, 1))).forces
    essex = {statement.force: statement for statement in june_july}["Essex Police"]
    assert [(line.payments, line.refunds) for line in essex.months] == [(1, 0), (0, 1)]
    assert essex.total.net.total == 11100 - 5550
    assert tallies.check(repair=False) == {}


def test_an_import_changing_the_force_moves_the_money(fees):
    course, session = fees
    booking, _payment = paid(course, session, force=KENT, at=utc(2026, 4, 25, 9))
    offer = booking.offer
    with transaction.atomic():  # as import_offers records a changed offer
        Offer.objects.filter(pk=offer.pk).update(police_force="Essex Police")
        offer.refresh_from_db()
        log_event(offer, "offer.updated", channel=Channel.ADMIN, actor="import",
                  before={"police_force": KENT}, after={"police_force": "Essex Police"})
    forces = {statement.force: statement for statement in remittance_report(APRIL_MAY).forces}
    assert forces["Essex Police"].total.payments == 1
    assert forces["Essex Police"].total.net.police == 1500
    assert forces[KENT].months[0].payments == 1  # the fixture's own Kent payment in April
    assert tallies.check(repair=False) == {}


def test_the_check_finds_money_written_past_log_event(fees):
    course, session = fees
    booking, _payment = paid(course, session, at=utc(2026, 4, 28, 9))
    Payment.objects.create(booking=booking, kind=Payment.Kind.TRANSFER_FEE,
                           stripe_payment_intent_id="pi_bypass", amount_pence=1500,
                           status=Payment.Status.SUCCEEDED, channel=Channel.ONLINE,
                           succeeded_at=utc(2026, 4, 28, 10))
    assert remittance_report(APRIL_MAY).forces[0].months[0].transfer_payments == 1
    assert tallies.check() == {"remittance": 2}  # both levels of the one key
    assert remittance_report(APRIL_MAY).forces[0].months[0].transfer_payments == 2
    assert tallies.check(repair=False) == {}
