"""The fees and police cost-recovery remittance against hand-counted fixtures: each fee
component, VAT, a transfer that is not paid for again (its own transfer fee is), a refund in
full and one in part netted in the month they were made, a failed payment and a waived fee
left out, the Europe/London month boundary, each referring force apart, and nothing of another
client's."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.db import connection, transaction
from django.test import Client
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from accounts.roles import Role
from booking.models import Channel, CourseType, Offer, Payment, Refund
from booking.services.bookings import confirm_booking
from booking.services.changes import transfer_booking
from booking.services.events import log_event
from reports.periods import Period
from reports.remittance import remittance_report

from ..conftest import make_user
from ..factories import CourseSessionFactory, CourseTypeFactory, OfferFactory, book_offer

KENT = "Kent Police"
APRIL_MAY = Period(date(2026, 4, 1), date(2026, 5, 1))


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def fee_course():
    """£80 course fee, £15 police cost recovery, VAT on the course fee: £111 in all."""
    course = CourseTypeFactory(code="NSAC")
    CourseType.objects.filter(pk=course.pk).update(
        provider_fee_pence=8000, police_cost_recovery_pence=1500, vat_applies=True)
    course.refresh_from_db()
    return course


def paid(course, session, *, force="", at, channel=Channel.ONLINE, amount=11100):
    offer = OfferFactory(course_type=course, today=date(2026, 3, 1), critical_in=150)
    Offer.objects.filter(pk=offer.pk).update(police_force=force)
    booking = book_offer(offer, session, channel=channel, now=at, hold=True, waived=False)
    booking = confirm_booking(booking.pk, channel=channel, actor="stripe", now=at,
                              payment={"payment_intent": f"pi_{booking.pk}",
                                       "amount_pence": amount})
    return booking, taken(booking, f"pi_{booking.pk}", amount, at, channel=channel)


def taken(booking, intent, amount, at, *, channel, kind=Payment.Kind.BOOKING_FEE):
    """A payment succeeding at `at`, recorded as settle_payment records it: the row, then its
    "payment.succeeded" event (which keeps the remittance tally) in the same transaction."""
    with transaction.atomic():
        payment = Payment.objects.create(
            booking=booking, kind=kind, stripe_payment_intent_id=intent, amount_pence=amount,
            status=Payment.Status.SUCCEEDED, channel=channel, succeeded_at=at)
        log_event(booking.offer, "payment.succeeded", channel=channel, actor="stripe",
                  booking=booking, now=at, after={"payment_intent": intent,
                                                  "amount_pence": amount})
    return payment


def refund(payment, amount, at):
    """A refund made at `at`, recorded as refund_payment records it (the row, then its
    "payment.refunded" event); created_at is stamped on creation, so it is set first."""
    with transaction.atomic():
        made = Refund.objects.create(payment=payment,
                                     stripe_refund_id=f"re_{payment.pk}_{amount}",
                                     amount_pence=amount, reason="Cancelled")
        Refund.objects.filter(pk=made.pk).update(created_at=at)
        log_event(payment.booking.offer, "payment.refunded", channel=Channel.SYSTEM,
                  actor="stripe", booking=payment.booking, now=at,
                  after={"refund": made.stripe_refund_id, "amount_pence": amount,
                         "reason": "Cancelled"})
    return made


@pytest.fixture
def fees(in_essex):
    course = fee_course()
    session = CourseSessionFactory(course_type=course, starts_at=utc(2026, 5, 20, 9),
                                   capacity=20)
    later = CourseSessionFactory(course_type=course, starts_at=utc(2026, 6, 3, 9), capacity=20)
    # 00:30 BST on 1 April: April, the client's own force.
    paid(course, session, at=utc(2026, 3, 31, 23, 30))
    # 23:30 BST on 31 March: March (the period before), Kent.
    paid(course, session, force=KENT, at=utc(2026, 3, 31, 22, 30))
    # Kent in April, refunded in full on 2 May.
    _kent, kent_payment = paid(course, session, force=KENT, at=utc(2026, 4, 10, 10),
                               channel=Channel.TELEPHONE)
    refund(kent_payment, 11100, utc(2026, 5, 2, 10))
    # Own force in April, moved (free: weeks of notice) and charged a £15 transfer fee by
    # hand, then half its fee refunded on 20 April.
    moved, moved_payment = paid(course, session, at=utc(2026, 4, 5, 10))
    move = transfer_booking(moved.pk, later.pk, channel=Channel.ADMIN, actor="agent@essex.test",
                            now=utc(2026, 4, 6, 10))
    taken(move, "pi_transfer", 1500, utc(2026, 4, 7, 10), channel=Channel.ADMIN,
          kind=Payment.Kind.TRANSFER_FEE)
    refund(moved_payment, 5550, utc(2026, 4, 20, 10))
    # A card declined, and a fee waived by staff: no money either way.
    failed = OfferFactory(course_type=course, today=date(2026, 3, 1), critical_in=150)
    pending = book_offer(failed, session, channel=Channel.ONLINE, now=utc(2026, 4, 12, 9),
                         hold=True, waived=False)
    Payment.objects.create(booking=pending, stripe_payment_intent_id="pi_declined",
                           amount_pence=11100, status=Payment.Status.FAILED,
                           channel=Channel.ONLINE)
    book_offer(OfferFactory(course_type=course, today=date(2026, 3, 1), critical_in=150),
               session, channel=Channel.ADMIN, now=utc(2026, 4, 13, 9), waived=True)
    return course, session


def test_remittance_per_force_by_hand(fees):
    report = remittance_report(APRIL_MAY)
    own, kent = report.forces
    assert (own.force, kent.force) == ("", KENT)
    april, may = own.months
    assert april.month == date(2026, 4, 1)
    assert april.payments == 2 and april.transfer_payments == 1  # the move paid no fee again
    assert (april.paid.course, april.paid.police, april.paid.vat, april.paid.transfer) == \
        (16000, 3000, 3200, 1500)
    # Half of £111 back: £7.50 of police cost recovery, £8 of VAT, £40 of course fee.
    assert april.refunds == 1
    assert (april.refunded.course, april.refunded.police, april.refunded.vat) == (4000, 750, 800)
    assert april.net.police == 2250 and april.net.total == 2 * 11100 + 1500 - 5550
    assert may.payments == may.refunds == 0
    kent_april, kent_may = kent.months
    assert kent_april.paid.police == 1500 and kent_april.payments == 1
    assert kent_may.refunds == 1 and kent_may.net.police == -1500 and kent_may.net.total == -11100
    assert kent.total.net.police == 0
    assert kent.previous.payments == 1 and kent.previous.net.police == 1500  # 23:30 BST, March
    assert own.previous.payments == 0
    assert report.total.net.police == 2250 and report.previous.net.police == 1500


def test_remittance_filters(fees):
    course, session = fees
    only_kent = remittance_report(APRIL_MAY, force=KENT)
    assert [statement.force for statement in only_kent.forces] == [KENT]
    only_own = remittance_report(APRIL_MAY, force="")
    assert [statement.force for statement in only_own.forces] == [""]
    other = CourseTypeFactory(code="WDU")
    assert remittance_report(APRIL_MAY, course_type=other).forces == []
    assert remittance_report(APRIL_MAY, course_type=course).total.net.police == 2250


def test_remittance_is_per_client(fees, south_wales):
    with schema_context(south_wales.schema_name):
        course = fee_course()
        session = CourseSessionFactory(course_type=course, starts_at=utc(2026, 5, 20, 9))
        paid(course, session, force="Dyfed-Powys Police", at=utc(2026, 4, 15, 9))
        theirs = remittance_report(APRIL_MAY)
        assert [statement.force for statement in theirs.forces] == ["Dyfed-Powys Police"]
        assert theirs.total.net.police == 1500
    connection.set_tenant(connection.tenant)
    assert [statement.force for statement in remittance_report(APRIL_MAY).forces] == ["", KENT]


def signed_in(user, host="essex.localhost"):
    browser = Client(HTTP_HOST=host)
    browser.force_login(user)
    return browser


PERIOD = {"start": "2026-04", "end": "2026-05"}


def test_remittance_page_and_downloads(fees, essex):
    auditor = make_user("auditor@essex.test", organisation=essex, role=Role.AUDITOR)
    browser = signed_in(auditor)
    page = browser.get("/manage/reports/remittance/", PERIOD)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Statement for Kent Police" in body and "£22.50" in body  # own force's net
    assert "−£15.00" in body  # Kent's May: a refund with nothing taken
    text = browser.get("/manage/reports/remittance/", {**PERIOD, "format": "csv"}) \
        .content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Police force", "Month", "Fees taken"]
    assert [row[:2] for row in rows[1:]] == [["Not named on the offer", "2026-04"],
                                            ["Not named on the offer", "2026-05"],
                                            [KENT, "2026-04"], [KENT, "2026-05"]]
    assert rows[1][-2] == "22.5"
    sheet = browser.get("/manage/reports/remittance/", {**PERIOD, "force": KENT,
                                                        "format": "xlsx"})
    values = list(load_workbook(io.BytesIO(sheet.content)).active.values)
    assert [row[0] for row in values[1:]] == [KENT, KENT]
    pdf = browser.get("/manage/reports/remittance/", {**PERIOD, "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert browser.get("/manage/reports/remittance/", {**PERIOD, "format": "doc"}) \
        .status_code == 404


def test_remittance_bad_input_and_who_may_see(fees, essex, essex_admin, south_wales_admin):
    browser = signed_in(essex_admin)
    bad = browser.get("/manage/reports/remittance/", {"start": "2026-05", "end": "2026-04",
                                                      "force": "Nowhere Police"})
    body = bad.content.decode()
    assert bad.status_code == 200 and "govuk-error-summary" in body
    assert "The last month must be the same as or after the first month." in body
    assert "Select a valid choice" in body
    trainer = make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER)
    assert signed_in(trainer).get("/manage/reports/remittance/").status_code == 403
    assert signed_in(south_wales_admin).get("/manage/reports/remittance/").status_code == 403
