"""Searching: the bookable course dates for an offer, and offers as staff look for them (by
reference, name, date of birth, postcode, email or phone). Read-only: no transaction or lock
needed, since the hold re-checks everything under lock."""

import operator
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import reduce

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    Replace,
    Upper,
)
from django.utils import timezone

from booking.models import Booking, CourseSession, DeliveryMode, Hold, Language, Offer, Venue
from booking.models.offers import phone_e164
from govuk_forms.date_parts import DateProblem, parse_date_parts
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


# Parts of the day a person can ask for, by the UK start hour: [from, to).
TIMES_OF_DAY = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO 1–7


def _day_and_time(sessions, weekdays, times_of_day):
    """Only sessions starting on one of `weekdays` and in one of `times_of_day` (UK time);
    empty means any."""
    if weekdays:
        iso = [WEEKDAYS.index(day) + 1 for day in weekdays if day in WEEKDAYS]
        sessions = sessions.annotate(start_weekday=ExtractIsoWeekDay("starts_at")).filter(
            start_weekday__in=iso)
    if times_of_day:
        hours = Q()
        for name in times_of_day:
            if name in TIMES_OF_DAY:
                first, last = TIMES_OF_DAY[name]
                hours |= Q(start_hour__gte=first, start_hour__lt=last)
        sessions = sessions.annotate(start_hour=ExtractHour("starts_at")).filter(hours)
    return sessions


def search_sessions(offer: Offer, *, now: datetime | None = None, near_postcode: str = "",
                    online: bool = False, welsh_only: bool = False, date_from: date | None = None,
                    date_to: date | None = None, sort: str = "date",
                    radius_km: float = DEFAULT_RADIUS_KM, weekdays=(), times_of_day=(),
                    ) -> list[SessionOption]:
    """Bookable dates of the offer's course with seats left: online, or at venues near a
    postcode (raises postcodes.UnknownPostcode / InvalidPostcode for a bad one), optionally
    only on some days of the week (WEEKDAYS) and times of day (TIMES_OF_DAY)."""
    now = now or timezone.now()
    earliest, latest_end = bookable_window(offer, now, date_from, date_to)
    sessions = CourseSession.objects.filter(
        course_type_id=offer.course_type_id, status=CourseSession.Status.SCHEDULED,
        starts_at__gte=earliest, ends_at__lt=latest_end,
    )
    sessions = _day_and_time(sessions, weekdays, times_of_day)
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


@dataclass(frozen=True)
class SessionGroup:
    """Dates shown together: one venue's (venue set, online dates have none) or one week's
    (week_of, its Monday)."""

    venue: Venue | None
    week_of: date | None
    options: tuple[SessionOption, ...]


def group_sessions(options: list[SessionOption], by: str) -> list[SessionGroup]:
    """The options by venue (in the order they came: nearest first when sorted by distance)
    or by week (Monday to Sunday, UK time), each group's dates kept in order."""
    groups: dict = {}
    for option in options:
        if by == "week":
            start = timezone.localtime(option.session.starts_at).date()
            key = start - timedelta(days=start.weekday())
        else:
            key = option.session.venue_id
        groups.setdefault(key, []).append(option)
    return [SessionGroup(venue=None if by == "week" else rows[0].session.venue,
                         week_of=key if by == "week" else None, options=tuple(rows))
            for key, rows in groups.items()]


# --- Offers, as staff look for them ---------------------------------------------------------
#
# One search serves /manage/offenders/ (one box of free text) and the contact centre (a
# reference, a name and date of birth, or a phone number). Each part is normalised one way
# here, whichever face asked.

_DATE_TOKEN = re.compile(r"^(?:(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})|(\d{4})-(\d{2})-(\d{2}))$")


def normalise_reference(text: str) -> str:
    """An offer or booking reference as stored: upper case, without spaces."""
    return re.sub(r"\s+", "", text or "").upper()


def _compact_reference(text: str) -> str:
    """A reference with only its letters and digits: "esx 500002" and "ESX-500002" agree."""
    return re.sub(r"[^A-Z0-9]", "", normalise_reference(text))


def normalise_name(text: str) -> str:
    return " ".join((text or "").split())


def date_of_birth_in(token: str) -> date | None:
    """A date typed as 27/03/1985 (or with . or -) or 1985-03-27, if it is a real date."""
    match = _DATE_TOKEN.match(token.strip())
    if not match:
        return None
    day, month, year, iso_year, iso_month, iso_day = match.groups()
    try:
        if iso_year:
            return parse_date_parts(iso_day, iso_month, iso_year)
        return parse_date_parts(day, month, year)
    except DateProblem:
        return None


@dataclass(frozen=True)
class OfferSearch:
    """What staff know of the person; an offer matches when every part given does. Make one
    with `offer_search`, which normalises each part."""

    reference: str = ""
    first_name: str = ""
    last_name: str = ""
    date_of_birth: date | None = None
    phone_e164: str = ""
    email: str = ""
    postcode: str = ""

    def condition(self) -> Q | None:
        parts = []
        if self.reference:
            compact = _compact_reference(self.reference)
            # Booking references are letters and digits only, so they compare compacted too.
            parts.append(Q(reference=self.reference) | Q(compact_reference=compact)
                         | Q(pk__in=Booking.objects.filter(reference=compact).values("offer_id")))
        if self.first_name:
            parts.append(Q(first_name__istartswith=self.first_name))
        if self.last_name:
            parts.append(Q(last_name__istartswith=self.last_name))
        if self.date_of_birth:
            parts.append(Q(date_of_birth=self.date_of_birth))
        if self.phone_e164:
            parts.append(Q(phone_e164=self.phone_e164))
        if self.email:
            parts.append(Q(email__iexact=self.email))
        if self.postcode:
            parts.append(Q(compact_postcode=self.postcode.replace(" ", "")))
        return reduce(operator.and_, parts) if parts else None


def offer_search(*, reference: str = "", first_name: str = "", last_name: str = "",
                 date_of_birth: date | None = None, phone: str = "", email: str = "",
                 postcode: str = "") -> OfferSearch | None:
    """An OfferSearch from what was typed, or None when a phone number or postcode was given
    that cannot be one (no offer could match it)."""
    search = OfferSearch(reference=normalise_reference(reference),
                         first_name=normalise_name(first_name),
                         last_name=normalise_name(last_name), date_of_birth=date_of_birth,
                         phone_e164=phone_e164(phone), email=(email or "").strip())
    if phone and not search.phone_e164:
        return None
    if postcode:
        try:
            return replace(search, postcode=postcodes.normalise(postcode))
        except postcodes.PostcodeError:
            return None
    return search


def find_offers(*searches: OfferSearch | None, limit: int = MAX_CALLER_RESULTS) -> list[Offer]:
    """Offers matching any of the searches, by name then reference."""
    searches = [search for search in searches if search is not None]
    conditions = [c for c in (search.condition() for search in searches) if c is not None]
    if not conditions:
        return []
    # An erased person is found by no search (booking.services.retention).
    offers = Offer.objects.select_related("course_type").filter(erased_at__isnull=True)
    if any(search.reference for search in searches):
        offers = offers.annotate(compact_reference=Replace(Replace(
            Upper("reference"), Value("-"), Value("")), Value(" "), Value("")))
    if any(search.postcode for search in searches):
        offers = offers.annotate(compact_postcode=Replace(Upper("postcode"), Value(" "),
                                                          Value("")))
    return list(offers.filter(reduce(operator.or_, conditions))
                .order_by("last_name", "first_name", "reference")[:limit])


def search_offers(text: str, *, limit: int = MAX_CALLER_RESULTS) -> list[Offer]:
    """Offers matching free text: an offer or booking reference, a name ("Alex Walker", or a
    surname), a date of birth, a postcode, an email address or a phone number. A date with
    other words narrows to offers matching both."""
    words = (text or "").split()
    dates = [born for born in map(date_of_birth_in, words) if born]
    words = [word for word in words if date_of_birth_in(word) is None]
    phrase = " ".join(words)
    readings = [{}]
    if words:
        readings = [{"reference": phrase}, {"last_name": phrase}]
        if "@" in phrase:
            readings.append({"email": phrase})
        else:
            readings += [{"postcode": phrase}, {"phone": phrase}]
            if len(words) >= 2:
                readings.append({"first_name": words[0], "last_name": " ".join(words[1:])})
    elif not dates:
        return []
    return find_offers(*(offer_search(**reading, date_of_birth=born)
                         for reading in readings for born in dates or [None]), limit=limit)


def offer_with_reference(text: str) -> Offer | None:
    """The offer with this offer or booking reference, however it was written, or None."""
    found = find_offers(offer_search(reference=text), limit=2)
    return found[0] if len(found) == 1 else None
