"""Month close: hand-worked invoices in both tier modes, idempotent re-runs (one after the
other and at once), open months refused, grace then finalise, finalised never edited."""

import threading
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction

from billing.ledger import BillableEvent, record_usage
from billing.models import CreditNote, Invoice, InvoiceLine, MonthClose
from billing.services import invoices, plans
from billing.services.periods import LONDON

from .conftest import FROM

NOVEMBER = date(2026, 11, 1)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=LONDON)


def november_usage(client, *, prefix="e"):
    """3 online, 1 telephone, 1 staff booking, 1 credited cancellation, 2 calls in November
    (one on 1 November 00:30 London, i.e. 31 October UTC... no: GMT in November, so the
    same), and one booking in December that November must not count."""
    at = datetime(2026, 11, 10, 12, 0, tzinfo=LONDON)
    rows = [("booking_confirmed", "online")] * 3 + [("booking_confirmed", "telephone"),
                                                    ("booking_confirmed", "staff"),
                                                    ("booking_cancelled_credit", ""),
                                                    ("call_logged", ""), ("call_logged", "")]
    with transaction.atomic():
        for n, (kind, channel) in enumerate(rows):
            record_usage(client.pk, BillableEvent(f"{prefix}:{n}", kind, channel, at))
        record_usage(client.pk, BillableEvent(f"{prefix}:late", "booking_confirmed", "online",
                                              datetime(2026, 12, 1, 0, 0, tzinfo=LONDON)))
        record_usage(client.pk, BillableEvent(f"{prefix}:early", "booking_confirmed", "online",
                                              datetime(2026, 10, 31, 23, 59, tzinfo=LONDON)))


def lines(invoice):
    return [(line.kind, line.quantity, line.unit_pence, line.amount_pence)
            for line in invoice.lines.all()]


def test_graduated_invoice_worked_by_hand(essex_on_graduated):
    november_usage(essex_on_graduated)
    [invoice] = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    # 5 bookings − 1 credit = 4; tiers 1–2 at 500p and 3+ at 300p: 2 × 500 + 2 × 300
    # contact-centre surcharge 1 × 150, calls 2 × 40 → 1830; VAT 20 % 366 → 2196
    assert lines(invoice) == [("tier", 2, 500, 1000), ("tier", 2, 300, 600),
                              ("surcharge", 1, 150, 150), ("calls", 2, 40, 80)]
    assert (invoice.subtotal_pence, invoice.vat_pence, invoice.total_pence) == (1830, 366, 2196)
    assert invoice.number == "WM-000001" and invoice.status == Invoice.Status.DRAFT
    assert invoice.finalise_after == datetime(2026, 12, 4, tzinfo=LONDON)


def test_volume_invoice_worked_by_hand(essex, volume_plan):
    plans.assign_plan(essex, volume_plan, valid_from=FROM, acting_user="tests")
    november_usage(essex)
    [invoice] = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    # 4 bookings all at the 3+ tier's 300p = 1200; + 150 + 80 = 1430; VAT 286 → 1716
    assert lines(invoice) == [("tier", 4, 300, 1200), ("surcharge", 1, 150, 150),
                              ("calls", 2, 40, 80)]
    assert invoice.total_pence == 1716


def test_minimum_top_up_line(essex):
    from .conftest import make_plan

    plan = make_plan("committed", "volume", monthly_minimum_pence=10000)
    plans.assign_plan(essex, plan, valid_from=FROM, acting_user="tests")
    november_usage(essex)
    [invoice] = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    assert lines(invoice)[-1] == ("minimum", 1, 8570, 8570)
    assert (invoice.subtotal_pence, invoice.total_pence) == (10000, 12000)


def test_re_running_gives_the_same_invoices(essex_on_graduated, south_wales, volume_plan):
    plans.assign_plan(south_wales, volume_plan, valid_from=FROM, acting_user="tests")
    november_usage(essex_on_graduated)
    november_usage(south_wales, prefix="s")
    first = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    again = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    assert [i.pk for i in first] == [i.pk for i in again]
    assert sorted(i.number for i in first) == ["WM-000001", "WM-000002"]
    assert Invoice.objects.count() == 2 and InvoiceLine.objects.count() == 7


def test_a_draft_takes_late_events_and_a_finalised_invoice_does_not(essex_on_graduated):
    november_usage(essex_on_graduated)
    [draft] = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    with transaction.atomic():
        record_usage(essex_on_graduated.pk, BillableEvent(
            "late:1", "booking_confirmed", "online", datetime(2026, 11, 30, 23, 0, tzinfo=LONDON)))
    [refreshed] = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    assert refreshed.pk == draft.pk and refreshed.number == draft.number
    assert refreshed.subtotal_pence == 1830 + 300
    assert invoices.finalise_due(acting_user="tests", now=NOW) == []
    [final] = invoices.finalise_due(acting_user="tests", now=NOW + timedelta(days=3))
    assert final.status == Invoice.Status.FINALISED
    with transaction.atomic():
        record_usage(essex_on_graduated.pk, BillableEvent(
            "late:2", "booking_confirmed", "online", datetime(2026, 11, 30, 23, 0, tzinfo=LONDON)))
    [unchanged] = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW + timedelta(days=4))
    assert unchanged.subtotal_pence == 2130
    final.total_pence = 1
    with pytest.raises(ValidationError):
        final.save()


def test_credit_note_corrects_a_finalised_invoice(essex_on_graduated):
    november_usage(essex_on_graduated)
    [invoice] = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    with pytest.raises(ValidationError) as caught:
        invoices.issue_credit_note(invoice, subtotal_pence=100, reason="x", acting_user="tests")
    assert "invoice" in caught.value.message_dict
    invoices.finalise_due(acting_user="tests", now=NOW + timedelta(days=5))
    note = invoices.issue_credit_note(invoice, subtotal_pence=500, reason="Duplicate bookings",
                                      acting_user="tests")
    assert (note.number, note.vat_pence, note.total_pence) == ("WMC-000001", 100, 600)
    with pytest.raises(ValidationError) as caught:
        invoices.issue_credit_note(invoice, subtotal_pence=1331, reason="Too much",
                                   acting_user="tests")
    assert "subtotal_pence" in caught.value.message_dict
    assert CreditNote.objects.count() == 1


def test_an_open_or_future_month_is_refused(essex_on_graduated):
    for period in (date(2026, 12, 1), date(2027, 1, 1)):
        with pytest.raises(ValidationError) as caught:
            invoices.close_month(period, acting_user="tests", now=NOW)
        assert "period" in caught.value.message_dict
    with pytest.raises(ValidationError):
        invoices.close_month(date(2026, 11, 2), acting_user="tests", now=NOW)
    assert not MonthClose.objects.exists()


def test_a_client_without_a_plan_gets_no_invoice(essex):
    assert invoices.close_month(NOVEMBER, acting_user="tests", now=NOW) == []


def test_close_month_command(essex_on_graduated, capsys):
    november_usage(essex_on_graduated)
    call_command("close_month", "--period", "2026-11")
    call_command("close_month", "--period", "2026-11")
    out = capsys.readouterr().out
    assert out.count("WM-000001 essex 2026-11 draft £21.96") == 2
    assert Invoice.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_give_one_set(essex_on_graduated, south_wales, volume_plan):
    plans.assign_plan(south_wales, volume_plan, valid_from=FROM, acting_user="tests")
    november_usage(essex_on_graduated)
    november_usage(south_wales, prefix="s")
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["WM-000001", "WM-000002"]
    assert InvoiceLine.objects.count() == 7


def test_a_client_billed_from_mid_month_has_its_minimum_pro_rated(essex):
    from .conftest import make_plan

    plan = make_plan("committed", "volume", monthly_minimum_pence=30000)
    plans.assign_plan(essex, plan, valid_from=date(2026, 11, 21), acting_user="tests")
    [invoice] = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    # billed 21–30 November: 10 of 30 days of £300.00 = £100.00
    assert lines(invoice) == [("minimum", 1, 10000, 10000)]
    assert invoice.total_pence == 12000


def test_a_late_event_after_finalisation_is_an_adjustment_line_next_month(essex_on_graduated):
    november_usage(essex_on_graduated)
    invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    [november] = invoices.finalise_due(acting_user="tests", now=NOW + timedelta(days=3))
    with transaction.atomic():  # a November booking that reached the ledger too late
        record_usage(essex_on_graduated.pk, BillableEvent(
            "late:1", "booking_confirmed", "online", datetime(2026, 11, 30, 23, 0, tzinfo=LONDON)))
    january = datetime(2027, 1, 2, 9, 0, tzinfo=LONDON)
    [december] = invoices.close_month(date(2026, 12, 1), acting_user="tests", now=january)
    # December: the one December booking, 1 × 500p; November's late booking is its 5th: 300p
    assert lines(december) == [("tier", 1, 500, 500), ("adjustment", 1, 300, 300)]
    assert december.lines.get(kind="adjustment").adjusts == november
    assert (december.subtotal_pence, december.total_pence) == (800, 960)
    again = invoices.close_month(date(2026, 12, 1), acting_user="tests", now=january)
    assert lines(again[0]) == lines(december)
    # Once December is finalised, January adjusts nothing more for November.
    invoices.finalise_due(acting_user="tests", now=january + timedelta(days=3))
    [jan] = invoices.close_month(date(2027, 1, 1), acting_user="tests",
                                 now=datetime(2027, 2, 2, tzinfo=LONDON))
    assert [line[0] for line in lines(jan)] == []
    november.refresh_from_db()
    assert november.subtotal_pence == 1830
