"""Special circumstances: cases by the Europe/London month they were raised, by kind and by
outcome (still open, approved, declined), and the time from raising to decision (median and
90th percentile, of the cases decided)."""

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection

from booking.models import Booking, SpecialCircumstancesCase

from .periods import Period

LONDON = ZoneInfo("Europe/London")
Case = SpecialCircumstancesCase
OUTCOMES = tuple(Case.Status.values)  # open, approved, declined
KINDS = tuple(Case.Kind.values)


@dataclass
class CasesLine:
    """A month, a kind or a whole period: the count at each outcome and the time to decide."""

    key: object
    outcomes: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    median_days: float | None = None
    p90_days: float | None = None

    @property
    def raised(self) -> int:
        return sum(self.outcomes.values())

    @property
    def decided(self) -> int:
        return self.raised - self.outcomes[Case.Status.OPEN]

    @property
    def approved_share(self) -> float | None:
        return self.outcomes[Case.Status.APPROVED] / self.decided if self.decided else None


@dataclass
class CasesReport:
    period: Period
    months: list[CasesLine]
    kinds: list[CasesLine]  # the kinds with a case in the period
    by_month_and_kind: dict  # (month, kind) → CasesLine
    total: CasesLine
    previous: CasesLine


# One pass over the cases of both periods, grouped four ways: month × kind × outcome (the
# counts), and month, kind and whole period (each with its own percentiles, which are not sums).
CASES_SQL = """
SELECT in_period, month, kind, status, GROUPING(month) AS no_month, GROUPING(kind) AS no_kind,
       GROUPING(status) AS no_status, COUNT(*) AS count,
       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY seconds) AS median_seconds,
       PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY seconds) AS p90_seconds
FROM (SELECT kind, status, created_at >= %s AS in_period,
             DATE_TRUNC('month', created_at AT TIME ZONE %s) AS month,
             EXTRACT(EPOCH FROM decided_at - created_at) AS seconds
      FROM ({cases}) AS raised) AS raised
GROUP BY GROUPING SETS ((in_period, month, kind, status), (in_period, month, kind),
                        (in_period, month), (in_period, kind), (in_period))
"""


def _cases(start, end, *, course_type=None, venue=None):
    query = Case.objects.filter(created_at__gte=start, created_at__lt=end)
    if course_type is not None:
        query = query.filter(offer__course_type=course_type)
    if venue is not None:
        query = query.filter(offer__in=Booking.objects.filter(session__venue=venue)
                             .values("offer"))
    return query.values("kind", "status", "created_at", "decided_at").order_by()


def _days(seconds) -> float | None:
    return None if seconds is None else round(max(float(seconds), 0) / 86400, 1)


def cases_report(period: Period, *, course_type=None, venue=None) -> CasesReport:
    cases, params = _cases(period.previous().start, period.end, course_type=course_type,
                           venue=venue).query.sql_with_params()
    months = {month: CasesLine(month) for month in period.months}
    kinds = {kind: CasesLine(kind) for kind in KINDS}
    cells: dict = {}
    total, previous = CasesLine(period.first), CasesLine(period.previous().first)
    with connection.cursor() as cursor:
        cursor.execute(CASES_SQL.format(cases=cases), [period.start, str(LONDON), *params])
        names = [column[0] for column in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            whole = total if row["in_period"] else previous
            month = None if row["no_month"] else row["month"].date()
            if not row["no_status"]:  # the counts
                whole.outcomes[row["status"]] += row["count"]
                if row["in_period"]:
                    months[month].outcomes[row["status"]] += row["count"]
                    kinds[row["kind"]].outcomes[row["status"]] += row["count"]
                    cells.setdefault((month, row["kind"]), CasesLine((month, row["kind"]))) \
                        .outcomes[row["status"]] += row["count"]
                continue
            line = (whole if month is None and row["no_kind"]
                    else None if not row["in_period"]
                    else kinds[row["kind"]] if month is None
                    else months[month] if row["no_kind"]
                    else cells.setdefault((month, row["kind"]), CasesLine((month, row["kind"]))))
            if line is not None:
                line.median_days = _days(row["median_seconds"])
                line.p90_days = _days(row["p90_seconds"])
    return CasesReport(period=period, months=list(months.values()),
                       kinds=[line for line in kinds.values() if line.raised],
                       by_month_and_kind=cells, total=total, previous=previous)
