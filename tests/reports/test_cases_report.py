"""Special circumstances by kind, outcome and time to decide, against hand-counted cases: the
Europe/London month boundary, an open case counted but not timed, the median and 90th
percentile of the days to decide, the period before, and nothing of another client's."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.services.cases import decide_case, raise_case
from reports.cases import cases_report
from reports.periods import Period

from ..conftest import make_user
from ..factories import CourseTypeFactory, OfferFactory

APRIL_MAY = Period(date(2026, 4, 1), date(2026, 5, 1))
ADMIN = "admin@essex.test"


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def case(course, kind, raised, *, decided_after=None, approve=True):
    offer = OfferFactory(course_type=course, today=date(2026, 3, 1), critical_in=150)
    made = raise_case(offer.pk, kind=kind, notes="Asked on the phone", actor=ADMIN, now=raised)
    if decided_after is not None:
        decide_case(made.pk, approve=approve, note="Agreed" if approve else "Not eligible",
                    actor=ADMIN, now=raised + timedelta(days=decided_after))
    return made


@pytest.fixture
def cases(in_essex):
    course = CourseTypeFactory(code="NSAC")
    # 00:30 BST on 1 April: April. Approved two days later.
    case(course, "medical", utc(2026, 3, 31, 23, 30), decided_after=2)
    # 23:30 BST on 31 March: March, the period before. Declined the next day.
    case(course, "part_payment", utc(2026, 3, 31, 22, 30), decided_after=1, approve=False)
    case(course, "part_payment", utc(2026, 4, 10, 9), decided_after=4, approve=False)
    case(course, "interpreter", utc(2026, 4, 20, 9))  # still open
    case(course, "medical", utc(2026, 5, 3, 9), decided_after=10)
    return course


def test_cases_by_kind_outcome_and_time_to_decide(cases):
    report = cases_report(APRIL_MAY)
    april, may = report.months
    assert april.outcomes == {"open": 1, "approved": 1, "declined": 1}
    assert may.outcomes == {"open": 0, "approved": 1, "declined": 0}
    assert april.median_days == 3.0  # 2 and 4 days; the open case has no time yet
    assert report.total.raised == 4 and report.total.decided == 3
    assert report.total.approved_share == pytest.approx(2 / 3)
    assert report.total.median_days == 4.0
    assert report.total.p90_days == 8.8  # 2, 4, 10: 4 + 0.8 × 6
    kinds = {line.key: line for line in report.kinds}
    assert set(kinds) == {"medical", "part_payment", "interpreter"}
    assert kinds["medical"].outcomes["approved"] == 2
    assert (kinds["medical"].median_days, kinds["medical"].p90_days) == (6.0, 9.2)
    assert kinds["interpreter"].median_days is None
    assert report.by_month_and_kind[(date(2026, 4, 1), "part_payment")].outcomes["declined"] == 1
    assert report.by_month_and_kind[(date(2026, 5, 1), "medical")].median_days == 10.0
    assert (report.previous.raised, report.previous.median_days) == (1, 1.0)
    assert cases_report(APRIL_MAY, course_type=CourseTypeFactory(code="WDU")).total.raised == 0


def test_cases_report_is_per_client(cases, south_wales):
    with schema_context(south_wales.schema_name):
        case(CourseTypeFactory(code="NSAC"), "other", utc(2026, 4, 2, 9), decided_after=1)
        assert cases_report(APRIL_MAY).total.raised == 1
    connection.set_tenant(connection.tenant)
    assert cases_report(APRIL_MAY).total.raised == 4


def signed_in(user):
    browser = Client(HTTP_HOST="essex.localhost")
    browser.force_login(user)
    return browser


def test_cases_page_download_and_access(cases, essex, essex_admin, south_wales_admin):
    browser = signed_in(essex_admin)
    page = browser.get("/manage/reports/special-circumstances/",
                       {"start": "2026-04", "end": "2026-05"})
    assert page.status_code == 200 and 'role="img"' in page.content.decode()
    text = browser.get("/manage/reports/special-circumstances/",
                       {"start": "2026-04", "end": "2026-05", "format": "csv"}).content.decode()
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["Month raised", "Kind"]
    assert [row[:2] for row in rows[1:]] == [["2026-04", "Part payment"], ["2026-04", "Medical"],
                                            ["2026-04", "Interpreter"], ["2026-05", "Medical"]]
    bad = browser.get("/manage/reports/special-circumstances/", {"start": "2026-05",
                                                                 "end": "2026-04"})
    assert "The last month must be the same as or after the first month." in bad.content.decode()
    trainer = make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER)
    assert signed_in(trainer).get("/manage/reports/special-circumstances/").status_code == 403
    assert signed_in(south_wales_admin).get("/manage/reports/special-circumstances/") \
        .status_code == 403
