"""The fill report lists its course dates a page at a time (a year holds thousands): every page
has the same venue and period figures, counted from all the dates; a page past the last is the
last; the page links keep the filters; the downloads list every date."""

import csv
import io
from datetime import date

import pytest

from reports import fill
from reports.fill import fill_report
from reports.periods import Period

from . import test_fill_and_calls
from .test_fill_and_calls import counts, signed_in, utc

april_dates = test_fill_and_calls.april_dates  # three April dates, hand-counted
auditor = test_fill_and_calls.auditor
APRIL = Period(date(2026, 4, 1), date(2026, 4, 1))
AT = utc(2026, 4, 10, 10, 5)


def test_each_page_has_its_dates_and_the_whole_periods_figures(april_dates):
    whole = fill_report(APRIL, now=AT, page=None)
    assert len(whole.dates) == whole.date_count == 3 and whole.pages == 1
    first = fill_report(APRIL, now=AT, page=1, per_page=2)
    second = fill_report(APRIL, now=AT, page=2, per_page=2)
    assert (first.date_count, first.pages, second.page) == (3, 2, 2)
    assert [row.session_id for row in first.dates + second.dates] == \
        [row.session_id for row in whole.dates]
    for report in (first, second):
        assert counts(report.total) == counts(whole.total) == (23, 6, 1, 1, 1)
        assert [(venue.venue, venue.dates, counts(venue.fill)) for venue in report.venues] == \
            [(venue.venue, venue.dates, counts(venue.fill)) for venue in whole.venues]
        assert counts(report.previous) == counts(whole.previous)
    # The live hold is on the first date, on the first page.
    assert first.dates[0].fill.held == 1
    assert fill_report(APRIL, now=AT, page=9, per_page=2).page == 2
    assert fill_report(APRIL, now=AT, page=0, per_page=2).page == 1


@pytest.fixture
def two_per_page(monkeypatch):
    monkeypatch.setattr(fill, "PER_PAGE", 2)


def test_the_page_links_and_the_downloads(april_dates, auditor, two_per_page):
    browser = signed_in(auditor)
    query = {"start": "2026-04", "end": "2026-04"}
    body = browser.get("/manage/reports/fill/", query).content.decode()
    assert 'class="govuk-pagination"' in body
    assert "Course dates 1 to 2 of 3." in body
    assert 'href="?start=2026-04&amp;end=2026-04&amp;page=2" rel="next"' in body
    # Dates in time order: the first and the third on page 1, the second on page 2.
    assert f'href="/manage/registers/{april_dates.third.pk}/"' in body
    assert f'href="/manage/registers/{april_dates.second.pk}/"' not in body
    last = browser.get("/manage/reports/fill/", {**query, "page": "2"}).content.decode()
    assert "Course dates 3 to 3 of 3." in last and 'rel="prev"' in last
    assert f'href="/manage/registers/{april_dates.second.pk}/"' in last
    for page in ("x", "-1", "99999999999"):
        assert browser.get("/manage/reports/fill/", {**query, "page": page}).status_code == 200
    download = browser.get("/manage/reports/fill/", {**query, "page": "2", "format": "csv"})
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8").lstrip("\ufeff"))))
    assert len(rows) == 4  # the header and every date
