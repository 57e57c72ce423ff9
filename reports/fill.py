"""Venue and course-date fill: for each course date starting in the period (Europe/London) and
for each venue, the seats there were, how many were booked, held, attended and missed.

- Booked: bookings confirmed or with an outcome recorded (completed, did not attend, refused
  entry, left early). A booking moved away is counted at its new date only; a booking waiting
  for payment is not booked.
- Held: live holds (not yet expired) at the moment the report is drawn; an expired hold keeps
  no seat, so it is not counted.
- Attended: completed. Did not attend: the "did not attend" outcome.
- Fill: booked ÷ capacity. Cancelled course dates had no seats to fill and are left out.

Two statements per period: the dates with their counts (booking's SessionFill, kept as
bookings change: booking/tallies.py), and the live holds per date; the venues and totals are
sums of those rows."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count
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
    dates: list[DateFill]
    venues: list[VenueFill]
    total: Fill
    previous: Fill
    previous_venues: dict  # venue id → Fill in the period before


def _sessions(start, end, *, course_type=None, venue=None):
    query = (CourseSession.objects
             .filter(starts_at__gte=start, starts_at__lt=end)
             .exclude(status=CourseSession.Status.CANCELLED))
    if course_type is not None:
        query = query.filter(course_type=course_type)
    if venue is not None:
        query = query.filter(venue=venue)
    return query


def _dates(start, end, *, now, course_type=None, venue=None) -> list[dict]:
    sessions = _sessions(start, end, course_type=course_type, venue=venue)
    rows = list(sessions.annotate(
        booked=Coalesce("fill__booked", 0), attended=Coalesce("fill__attended", 0),
        did_not_attend=Coalesce("fill__did_not_attend", 0))
        .values("pk", "starts_at", "course_type", "venue", "venue__name", "capacity",
                "booked", "attended", "did_not_attend")
        .order_by("starts_at", "pk"))
    held = dict(Hold.objects.filter(expires_at__gt=now, session__in=sessions.values("pk"))
                .values("session").annotate(count=Count("pk")).values_list("session", "count")
                .order_by())
    for row in rows:
        row["held"] = held.get(row["pk"], 0)
    return rows


def _fill(row) -> Fill:
    return Fill(capacity=row["capacity"], booked=row["booked"], held=row["held"],
                attended=row["attended"], did_not_attend=row["did_not_attend"])


def _by_venue(rows) -> dict:
    venues: dict = {}
    for row in rows:
        totals = venues.setdefault(row["venue"], VenueFill(row["venue"], row["venue__name"] or ""))
        totals.dates += 1
        totals.fill.add(_fill(row))
    return venues


def fill_report(period: Period, *, course_type=None, venue=None, now=None) -> FillReport:
    tallies.fold()  # count the dates whose bookings changed since the last count
    now = now or timezone.now()
    filters = {"course_type": course_type, "venue": venue, "now": now}
    language = get_language() or "en"
    names = {course.pk: course.name(language) for course in CourseType.objects.all()}
    rows = _dates(period.start, period.end, **filters)
    previous = period.previous()
    before = _by_venue(_dates(previous.start, previous.end, **filters))
    venues = _by_venue(rows)
    total = Fill()
    for venue_fill in venues.values():
        total.add(venue_fill.fill)
    previous_total = Fill()
    for venue_fill in before.values():
        previous_total.add(venue_fill.fill)
    return FillReport(
        period=period,
        dates=[DateFill(row["pk"], row["starts_at"], names[row["course_type"]],
                        row["venue__name"] or "", _fill(row)) for row in rows],
        # Venues by name; the dates online (no venue) last.
        venues=sorted(venues.values(), key=lambda v: (v.venue_id is None, v.venue)),
        total=total, previous=previous_total,
        previous_venues={key: value.fill for key, value in before.items()})
