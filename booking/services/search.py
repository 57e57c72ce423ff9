"""Searching: the bookable course dates for an offer, and offers as staff look for them (by
reference, name, date of birth, postcode, email or phone). Read-only: no transaction or lock
needed, since the hold re-checks everything under lock."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Replace, Upper
from django.utils import timezone

from booking.date_input import DateProblem, parse_date_parts
from booking.models import Booking, CourseSession, DeliveryMode, Hold, Language, Offer, Venue
from integrations import postcodes

DEFAULT_RADIUS_KM = 80
MAX_SESSION_RESULTS = 60
MAX_CALLER_RESULTS = 50


# --- Course dates an offer can book ----------------------------------------------------------


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
        nearest = sorted(distances, key=distances.get)[:MAX_SESSION_RESULTS]
        rank = Case(*[When(venue_id=venue_id, then=Value(position))
                      for position, venue_id in enumerate(nearest)], output_field=IntegerField())
        sessions = sessions.filter(venue_id__in=nearest).order_by(rank, "starts_at", "pk")
    options: list[SessionOption] = []
    offset, page = 0, MAX_SESSION_RESULTS + 20
    while len(options) < MAX_SESSION_RESULTS:
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
    return options[:MAX_SESSION_RESULTS]


# --- Offers, as staff look for them ---------------------------------------------------------

_DATE_TOKEN = re.compile(r"^(?:(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})|(\d{4})-(\d{2})-(\d{2}))$")


def _date_token(token: str) -> date | None:
    match = _DATE_TOKEN.match(token)
    if not match:
        return None
    day, month, year, iso_year, iso_month, iso_day = match.groups()
    try:
        if iso_year:
            return parse_date_parts(iso_day, iso_month, iso_year)
        return parse_date_parts(day, month, year)
    except DateProblem:
        return None


def search_offers(text: str, *, limit: int = 50):
    """Offers matching an offer or booking reference, a name, a date of birth (27/03/1985 or
    1985-03-27), a postcode or an email address; a date with a name narrows to both."""
    words = (text or "").split()
    dates = [d for d in (_date_token(w) for w in words) if d]
    words = [w for w in words if _date_token(w) is None]
    offers = Offer.objects.select_related("course_type")
    if dates:
        offers = offers.filter(date_of_birth__in=dates)
    if words:
        phrase = " ".join(words)
        compact = re.sub(r"[^A-Z0-9]", "", "".join(words).upper())
        offers = offers.annotate(compact_reference=Replace(Replace(
            Upper("reference"), Value("-"), Value("")), Value(" "), Value("")))
        match = (Q(reference__iexact=compact) | Q(reference__icontains=phrase)
                 | Q(compact_reference=compact)
                 | Q(bookings__reference__iexact=compact) | Q(email__iexact=phrase))
        if "@" not in phrase:
            try:
                postcode = postcodes.normalise(phrase).replace(" ", "")
            except postcodes.PostcodeError:
                postcode = None
            if postcode:
                offers = offers.annotate(compact_postcode=Replace(Upper("postcode"), Value(" "),
                                                                  Value("")))
                match |= Q(compact_postcode=postcode)
            if len(words) >= 2:
                match |= (Q(first_name__istartswith=words[0])
                          & Q(last_name__istartswith=" ".join(words[1:])))
            match |= Q(last_name__istartswith=phrase)
        offers = offers.filter(match)
    elif not dates:
        return []
    return list(offers.distinct().order_by("last_name", "first_name", "reference")[:limit])


def normalise_reference(text: str) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def find_by_reference(text: str) -> Offer | None:
    """The offer with this offer reference, or with a booking of this booking reference."""
    reference = normalise_reference(text)
    if not reference:
        return None
    offer = Offer.objects.select_related("course_type").filter(reference=reference).first()
    if offer is None:
        booking = Booking.objects.select_related("offer__course_type").filter(
            reference=reference).first()
        offer = booking.offer if booking else None
    return offer


def find_by_name(last_name: str, date_of_birth, first_name: str = "") -> list[Offer]:
    """Offers for this surname and date of birth (any case); a first name narrows them."""
    last_name = (last_name or "").strip()
    if not last_name or date_of_birth is None:
        return []
    offers = Offer.objects.filter(date_of_birth=date_of_birth, last_name__iexact=last_name)
    first_name = (first_name or "").strip()
    if first_name:
        offers = offers.filter(first_name__istartswith=first_name)
    return list(offers.select_related("course_type").order_by("-created_at")[:MAX_CALLER_RESULTS])


def phone_digits(text: str) -> str:
    """A UK number as national digits: "+44 (0)7700 900982" → "07700900982"."""
    digits = re.sub(r"\D", "", text or "")
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("440"):
        digits = digits[2:]
    elif digits.startswith("44") and len(digits) == 12:
        digits = "0" + digits[2:]
    return digits


def find_by_phone(text: str) -> list[Offer]:
    """Offers whose phone number is this one, however either was written."""
    digits = phone_digits(text)
    if len(digits) < 10:
        return []
    forms = {digits, "44" + digits[1:], "440" + digits[1:]}
    stored = Func(F("phone"), Value(r"[^0-9]"), Value(""), Value("g"),
                  function="regexp_replace")
    offers = (Offer.objects.exclude(phone="").annotate(phone_digits=stored)
              .filter(phone_digits__in=forms))
    return list(offers.select_related("course_type").order_by("-created_at")[:MAX_CALLER_RESULTS])
