"""Every client report over the demo's history (booking/demo_history.py): each page shows the
previous period beside its own and offers the table as CSV and XLSX; every CSV starts with the
byte-order mark and neutralises a cell a spreadsheet would run; every XLSX opens. And the history
gives each report something a client would recognise: money per police force with refunds
netted, decided special-circumstances cases, calls, a plausible completion rate and survey
answers (in Welsh too, for South Wales)."""

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.db.models import F
from openpyxl import load_workbook

from accounts.roles import Role
from booking.demo_history import Shape, seed_history
from booking.models import (
    Booking,
    CallLog,
    Channel,
    JourneyStartDay,
    Offer,
    Payment,
    Refund,
    SatisfactionResponse,
    SpecialCircumstancesCase,
)
from reports.calls import calls_report
from reports.cases import cases_report
from reports.measures import measures_report
from reports.periods import Period
from reports.remittance import remittance_report

from ..conftest import make_user
from ..factories import VenueFactory
from .test_client_reports import signed_in

SHAPE = Shape(bookings_per_month=60, growth_per_year=0.0, online_share_from=0.4,
              online_share_to=0.8)
TODAY = date(2026, 7, 15)
QUARTER = {"start": "2026-04", "end": "2026-06"}
PERIOD = Period(date(2026, 4, 1), date(2026, 6, 1))
REPORTS = ("bookings", "fill", "funnel", "calls", "remittance", "special-circumstances",
           "service-measures")


@pytest.fixture
def auditor(essex):
    return make_user("history-auditor@essex.test", organisation=essex, role=Role.AUDITOR)


@pytest.fixture
def essex_history(in_essex):
    # Venue names a spreadsheet would run as formulae: the downloads must neutralise them.
    for n in range(3):
        VenueFactory(name=f"=HYPERLINK(\"http://x.example/{n}\")")
    return seed_history(in_essex, today=TODAY, months=6, shape=SHAPE)


@pytest.mark.parametrize("report", REPORTS)
def test_each_report_has_the_previous_period_and_both_downloads(essex_history, auditor,
                                                                 report):
    browser = signed_in(auditor)
    page = browser.get(f"/manage/reports/{report}/", QUARTER)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Jan 2026 to Mar 2026" in body  # the previous period's column
    assert "format=csv" in body and "format=xlsx" in body
    download = browser.get(f"/manage/reports/{report}/", {**QUARTER, "format": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    text = download.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) > 1, f"{report}: the history leaves its table empty"
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "@"))]
    if report == "fill":
        assert any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)
    sheet = browser.get(f"/manage/reports/{report}/", {**QUARTER, "format": "xlsx"})
    values = list(load_workbook(io.BytesIO(sheet.content)).active.values)
    assert len(values) == len(rows) and list(values[0]) == rows[0]


def test_history_feeds_the_newer_reports(essex_history):
    paid = Booking.objects.filter(offer__reference__startswith="HIST-", fee_pence__gt=0) \
        .exclude(channel=Channel.ADMIN)
    assert Payment.objects.filter(status=Payment.Status.SUCCEEDED).count() == paid.count()
    # Each payment was taken when its booking was made, and each refund when it was cancelled.
    assert not Payment.objects.exclude(created_at=F("succeeded_at")).exists()
    cancelled_paid = paid.filter(status=Booking.Status.CANCELLED)
    assert Refund.objects.count() == cancelled_paid.count() > 0
    assert set(Refund.objects.values_list("created_at", flat=True)) == \
        set(cancelled_paid.values_list("ended_at", flat=True))

    remittance = remittance_report(PERIOD)
    forces = {statement.force for statement in remittance.forces}
    assert "Essex Police" in forces and forces <= {"Essex Police", "Metropolitan Police Service"}
    assert remittance.total.refunds > 0
    assert 0 < remittance.total.net.total < remittance.total.paid.total
    assert remittance.previous.payments > 0

    cases = cases_report(PERIOD)
    assert cases.total.raised > 0 and cases.total.decided == cases.total.raised
    assert cases.total.median_days is not None
    assert not SpecialCircumstancesCase.objects.filter(decided_at__lte=F("created_at")).exists()

    calls = calls_report(PERIOD, organisation=connection.tenant)
    assert calls.total.calls > calls.total.ended_in_booking > 0
    assert CallLog.objects.filter(call_type="new_booking").count() == \
        Booking.objects.filter(channel=Channel.TELEPHONE).count()

    measures = measures_report(PERIOD, client=connection.tenant)
    assert 0.7 <= measures.completion.rate <= 0.9
    assert measures.satisfaction.responses > 0
    assert 0.6 < measures.satisfaction.satisfied_share < 0.95
    assert JourneyStartDay.objects.exists()


@pytest.fixture
def in_south_wales(south_wales):
    connection.set_tenant(south_wales)
    yield south_wales
    connection.set_schema_to_public()


def test_south_wales_history_names_its_forces_and_answers_in_welsh(in_south_wales):
    south_wales = in_south_wales
    VenueFactory.create_batch(3)
    assert seed_history(south_wales, today=TODAY, months=4, shape=SHAPE) > 0
    assert set(Offer.objects.exclude(police_force="").values_list("police_force", flat=True)
               .distinct()) == {"South Wales Police", "Dyfed-Powys Police"}
    assert SatisfactionResponse.objects.filter(language="cy").exists()
    assert SatisfactionResponse.objects.filter(language="en").exists()
    # Loaded once: a second load adds nothing.
    before = (Payment.objects.count(), CallLog.objects.count(), JourneyStartDay.objects.count())
    assert seed_history(south_wales, today=TODAY, months=4, shape=SHAPE) == 0
    assert (Payment.objects.count(), CallLog.objects.count(),
            JourneyStartDay.objects.count()) == before
