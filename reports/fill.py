"""Venue and course-date fill: for each course date starting in the period (Europe/London) and
for each venue, the seats there were, how many were booked, held, attended and missed.

- Booked: bookings confirmed or with an outcome recorded (completed, did not attend, refused
  entry, left early). A booking moved away is counted at its new date only; a booking waiting
  for payment is not booked.
- Held: live holds (not yet expired) at the moment the report is drawn; an expired hold keeps
  no seat, so it is not counted.
- Attended: completed. Did not attend: the "did not attend" outcome.
- Fill: booked ÷ capacity. Cancelled course dates had no seats to fill and are left out.

The counts are booking's SessionFill, kept as bookings change (booking/tallies.py). The
venues' figures (and the period's, their sum) are one grouped statement over the dates and
their tally rows, with the live holds grouped likewise; the dates themselves are listed a page
at a time (a year holds thousands), with their holds, or all of them for a download."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import get_language

from booking import tallies
from booking.models import CourseSession, CourseType, Hold

from .periods import Period


@dataclass
class Fill:
    capacity: int = 0
    booked: int = 0
    held: int = 0
    attended: int = 0
    did_not_attend: int = 0

    @property
    def share(self) -> float | None:
        return self.booked / self.capacity if self.capacity else None

    def add(self, other: "Fill") -> None:
        self.capacity += other.capacity
        self.booked += other.booked
        self.held += other.held
        self.attended += other.attended
        self.did_not_attend += other.did_not_attend


@dataclass
class DateFill:
    session_id: int
    starts_at: datetime
    course_type: str
    venue: str  # "" for a date online
    fill: Fill


@dataclass
class VenueFill:
    venue_id: int | None  # None: the dates held online
    venue: str
    dates: int = 0
    fill: Fill = field(default_factory=Fill)


@dataclass
class FillReport:
    period: Period
    dates: list[DateFill]  # the page asked for, in time order (all of them with page=None)
    venues: list[VenueFill]
    total: Fill
    previous: Fill
    previous_venues: dict  # venue id → Fill in the period before
    date_count: int = 0  # course dates in the period, on every page
    page: int = 1
    per_page: int | None = None  # None: every date is listed

    @property
    def pages(self) -> int:
        if not self.per_page:
            return 1
        return max(1, -(-self.date_count // self.per_page))


PER_PAGE = 50


def _sessions(start, end, *, course_type=None, venue=None):
    query = (CourseSession.objects
             .filter(starts_at__gte=start, starts_at__lt=end)
             .exclude(status=CourseSession.Status.CANCELLED))
    if course_type is not None:
        query = query.filter(course_type=course_type)
    if venue is not None:
        query = query.filter(venue=venue)
    return query


def _dates(start, end, *, now, course_type=None, venue=None, offset=0, limit=None
           ) -> list[dict]:
    sessions = _sessions(start, end, course_type=course_type, venue=venue)
    rows = sessions.annotate(
        booked=Coalesce("fill__booked", 0), attended=Coalesce("fill__attended", 0),
        did_not_attend=Coalesce("fill__did_not_attend", 0)).values(
        "pk", "starts_at", "course_type", "venue", "venue__name", "capacity", "booked",
        "attended", "did_not_attend").order_by("starts_at", "pk")
    rows = list(rows[offset:offset + limit] if limit is not None else rows)
    held = dict(Hold.objects.filter(expires_at__gt=now, session__in=[row["pk"] for row in rows])
                .values("session").annotate(count=Count("pk")).values_list("session", "count")
                .order_by())
    for row in rows:
        row["held"] = held.get(row["pk"], 0)
    return rows


def _fill(row) -> Fill:
    return Fill(capacity=row["capacity"], booked=row["booked"], held=row["held"],
                attended=row["attended"], did_not_attend=row["did_not_attend"])


def _by_venue(start, end, *, now, course_type=None, venue=None) -> dict:
    """Each venue's dates and their counts summed (None: the dates online)."""
    sessions = _sessions(start, end, course_type=course_type, venue=venue)
    held = dict(Hold.objects.filter(expires_at__gt=now, session__in=sessions.values("pk"))
                .values("session__venue").annotate(count=Count("pk"))
                .values_list("session__venue", "count").order_by())
    venues: dict = {}
    for row in (sessions.values("venue", "venue__name")
                .annotate(dates=Count("pk"), capacity=Sum("capacity"),
                          booked=Coalesce(Sum("fill__booked"), 0),
                          attended=Coalesce(Sum("fill__attended"), 0),
                          did_not_attend=Coalesce(Sum("fill__did_not_attend"), 0))
                .order_by()):
        row["held"] = held.get(row["venue"], 0)
        venues[row["venue"]] = VenueFill(row["venue"], row["venue__name"] or "", row["dates"],
                                         _fill(row))
    return venues


def fill_report(period: Period, *, course_type=None, venue=None, now=None,
                page: int | None = 1, per_page: int | None = None) -> FillReport:
    """The venues' and the period's figures, and the dates of `page` (counted from 1; past
    the last page, the last), or every date with page=None (a download)."""
    tallies.fold()  # count the dates whose bookings changed since the last count
    now = now or timezone.now()
    filters = {"course_type": course_type, "venue": venue, "now": now}
    language = get_language() or "en"
    names = {course.pk: course.name(language) for course in CourseType.objects.all()}
    previous = period.previous()
    before = _by_venue(previous.start, previous.end, **filters)
    venues = _by_venue(period.start, period.end, **filters)
    total = Fill()
    for venue_fill in venues.values():
        total.add(venue_fill.fill)
    previous_total = Fill()
    for venue_fill in before.values():
        previous_total.add(venue_fill.fill)
    date_count = sum(venue_fill.dates for venue_fill in venues.values())
    if page is None:
        rows, page, per_page = _dates(period.start, period.end, **filters), 1, None
    else:
        per_page = per_page or PER_PAGE
        page = min(max(1, page), max(1, -(-date_count // per_page)))
        rows = _dates(period.start, period.end, **filters, offset=(page - 1) * per_page,
                      limit=per_page)
    return FillReport(
        period=period,
        dates=[DateFill(row["pk"], row["starts_at"], names[row["course_type"]],
                        row["venue__name"] or "", _fill(row)) for row in rows],
        # Venues by name; the dates online (no venue) last.
        venues=sorted(venues.values(), key=lambda v: (v.venue_id is None, v.venue)),
        total=total, previous=previous_total,
        previous_venues={key: value.fill for key, value in before.items()},
        date_count=date_count, page=page, per_page=per_page)
