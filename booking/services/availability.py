"""Searching bookable course dates for an offer. Read-only: no transaction or lock needed, since
the hold re-checks everything under lock."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from booking import postcodes
from booking.models import CourseSession, DeliveryMode, Hold, Language, Offer, Venue

DEFAULT_RADIUS_KM = 80
MAX_RESULTS = 60


@dataclass(frozen=True)
class SessionOption:
    session: CourseSession
    seats_left: int
    distance_km: float | None


def bookable_window(offer: Offer, now: datetime, date_from: date | None = None,
                    date_to: date | None = None) -> tuple[datetime, datetime]:
    """[earliest start, latest end): after the lead time, ending by the end of the critical
    date (the end bound is exclusive: midnight after it)."""
    tz = timezone.get_current_timezone()
    earliest = now + timedelta(hours=offer.course_type.online_booking_lead_hours)
    if date_from:
        earliest = max(earliest, datetime.combine(date_from, time.min, tzinfo=tz))
    last_day = offer.critical_date if date_to is None else min(date_to, offer.critical_date)
    latest_end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=tz)
    return earliest, latest_end


def live_holds(now: datetime):
    return Coalesce(Subquery(
        Hold.objects.filter(session=OuterRef("pk"), expires_at__gt=now)
        .values("session").annotate(n=Count("pk")).values("n"),
        output_field=IntegerField(),
    ), Value(0))


def search_sessions(offer: Offer, *, now: datetime | None = None, near_postcode: str = "",
                    online: bool = False, welsh_only: bool = False, date_from: date | None = None,
                    date_to: date | None = None, sort: str = "date",
                    radius_km: float = DEFAULT_RADIUS_KM) -> list[SessionOption]:
    """Bookable dates of the offer's course with seats left: online, or at venues near a
    postcode (raises postcodes.UnknownPostcode / InvalidPostcode for a bad one)."""
    now = now or timezone.now()
    earliest, latest_end = bookable_window(offer, now, date_from, date_to)
    sessions = CourseSession.objects.filter(
        course_type_id=offer.course_type_id, status=CourseSession.Status.SCHEDULED,
        starts_at__gte=earliest, ends_at__lt=latest_end,
    )
    if welsh_only:
        sessions = sessions.filter(language=Language.WELSH)
    distances: dict[int, float] = {}
    if online:
        sessions = sessions.filter(delivery_mode=DeliveryMode.ONLINE)
    else:
        sessions = sessions.exclude(delivery_mode=DeliveryMode.ONLINE)
        if near_postcode:
            place = postcodes.locate_area(near_postcode)
            for venue_id, lat, lon in Venue.objects.filter(is_active=True).values_list(
                    "pk", "latitude", "longitude"):
                distance = postcodes.distance_km(place.latitude, place.longitude, lat, lon)
                if distance <= radius_km:
                    distances[venue_id] = distance
            sessions = sessions.filter(venue_id__in=list(distances))
    # Cheap filters in SQL; live holds are then counted for the candidate rows only, in one
    # grouped query, instead of a subquery per row that stops PostgreSQL using the LIMIT.
    sessions = (sessions.filter(seats_booked__lt=F("capacity"))
                .select_related("venue", "course_type").order_by("starts_at", "pk"))
    if sort == "distance" and distances:
        # Nearest venue first, each venue's dates in order, ranked in SQL so LIMIT applies.
        nearest = sorted(distances, key=distances.get)[:MAX_RESULTS]
        rank = Case(*[When(venue_id=venue_id, then=Value(position))
                      for position, venue_id in enumerate(nearest)], output_field=IntegerField())
        sessions = sessions.filter(venue_id__in=nearest).order_by(rank, "starts_at", "pk")
    options: list[SessionOption] = []
    offset, page = 0, MAX_RESULTS + 20
    while len(options) < MAX_RESULTS:
        rows = list(sessions[offset:offset + page])
        held = dict(Hold.objects.filter(session__in=rows, expires_at__gt=now)
                    .values("session").annotate(n=Count("pk")).values_list("session", "n"))
        for session in rows:
            left = session.capacity - session.seats_booked - held.get(session.pk, 0)
            if left > 0:
                distance = distances.get(session.venue_id)
                options.append(SessionOption(
                    session=session, seats_left=left,
                    distance_km=round(distance, 1) if distance is not None else None))
        offset += page
        if len(rows) < page:
            break
    return options[:MAX_RESULTS]
