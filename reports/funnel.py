"""The offer funnel, by the Europe/London month each offer arrived: offered → booked → how it
ended (completed, did not attend, refused entry, left early, expired and returned to the
police, withdrawn), and the days from offer to first booking."""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Min
from django.utils.translation import gettext_lazy as _

from booking.models import Booking, Offer

from .periods import Period

LONDON = ZoneInfo("Europe/London")
S = Offer.Status
# (key, label, the offer statuses it counts)
ENDINGS = (
    ("completed", _("Completed"), (S.COMPLETED,)),
    ("did_not_attend", _("Did not attend"), (S.DID_NOT_ATTEND,)),
    ("refused_entry", _("Refused entry"), (S.REFUSED_ENTRY,)),
    ("left_early", _("Left early or not completed"), (S.NOT_COMPLETED,)),
    ("expired", _("Expired (returned to police)"), (S.EXPIRED,)),
    ("withdrawn", _("Withdrawn"), (S.WITHDRAWN,)),
)


@dataclass
class FunnelRow:
    month: date
    offered: int
    booked: int
    endings: dict
    median_days_to_book: float | None

    @property
    def booked_share(self) -> float | None:
        return self.booked / self.offered if self.offered else None


@dataclass
class FunnelReport:
    period: Period
    rows: list[FunnelRow]
    total: FunnelRow
    previous: FunnelRow


def _offers(start, end, *, course_type=None, venue=None):
    """Each offer that arrived from `start` to `end`: when, its status, and when it was first
    booked (its earliest confirmed booking; a transfer is the same booking moved)."""
    query = (Offer.objects.filter(created_at__gte=start, created_at__lt=end)
             .annotate(first_booked=Min("bookings__confirmed_at")))
    if course_type is not None:
        query = query.filter(course_type=course_type)
    if venue is not None:
        query = query.filter(pk__in=Booking.objects.filter(session__venue=venue).values("offer"))
    return query.values("created_at", "status", "first_booked").order_by()


# One pass over the offers of both periods: each month of them, and each period whole (the
# median of a period is not a sum of its months). An offer's first booking is looked up once;
# PERCENTILE_CONT skips the offers never booked (their days to book are NULL).
FUNNEL_SQL = """
SELECT GROUPING(month) = 1 AS whole, in_period, month, COUNT(*) AS offered,
       COUNT(first_booked) AS booked, {endings},
       PERCENTILE_CONT(0.5) WITHIN GROUP (
           ORDER BY EXTRACT(EPOCH FROM first_booked - created_at)) AS median_seconds
FROM (SELECT created_at, status, first_booked, created_at >= %s AS in_period,
             DATE_TRUNC('month', created_at AT TIME ZONE %s) AS month
      FROM ({offers}) AS offer) AS offer
GROUP BY GROUPING SETS ((in_period, month), (in_period))
"""


def _grouped(period: Period, **filters) -> tuple[dict, dict, dict]:
    """The period's months, its whole and the previous period's whole, as dicts of measures."""
    offers, params = _offers(period.previous().start, period.end, **filters).query.sql_with_params()
    endings = ", ".join(
        f"COUNT(*) FILTER (WHERE status IN ({', '.join(['%s'] * len(statuses))})) AS {key}"
        for key, _label, statuses in ENDINGS)
    ending_params = [str(status) for _key, _label, statuses in ENDINGS for status in statuses]
    sql = FUNNEL_SQL.format(endings=endings, offers=offers)
    months, whole = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ending_params, period.start, str(LONDON), *params])
        names = [column[0] for column in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            if row["whole"]:
                whole[row["in_period"]] = row
            elif row["in_period"]:
                months[row["month"].date()] = row
    return months, whole.get(True, EMPTY), whole.get(False, EMPTY)


EMPTY = {"offered": 0, "booked": 0, "median_seconds": None,
         **{key: 0 for key, _label, _statuses in ENDINGS}}


def _row(month, values) -> FunnelRow:
    seconds = values["median_seconds"]
    return FunnelRow(month=month, offered=values["offered"], booked=values["booked"],
                     endings={key: values[key] for key, _label, _statuses in ENDINGS},
                     median_days_to_book=None if seconds is None
                     else round(max(float(seconds), 0) / 86400, 1))


def funnel_report(period: Period, *, course_type=None, venue=None) -> FunnelReport:
    months, total, previous = _grouped(period, course_type=course_type, venue=venue)
    return FunnelReport(
        period=period,
        rows=[_row(month, months.get(month, EMPTY)) for month in period.months],
        total=_row(period.first, total),
        previous=_row(period.previous().first, previous))
