"""Three years of monthly history for a demo client, so its reports, invoices and forecasts show
what a client would recognise: bookings that rise in summer and fall at Christmas, a channel
shift from the telephone to online, outcomes, cancellations, offers that expired or were
withdrawn. Past rows are loaded in bulk (the services judge the present, not 2024), each with
the events and usage rows the services would have written. Idempotent: a client that has
history is left alone."""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from billing.ledger import BillableEvent, record_history
from booking.models import Booking, Channel, CourseSession, CourseType, Offer, OfferEvent, Venue
from booking.services.rules import fee_breakdown, policy_snapshot

from .usage import billable

MONTHS = 36
PREFIX = "HIST"
# Bookings per month relative to the year's average: a summer peak, a Christmas trough.
SEASON = (0.86, 0.88, 0.97, 1.02, 1.08, 1.14, 1.18, 1.12, 1.04, 0.98, 0.92, 0.81)
FIRST_NAMES = ("Alex", "Bethan", "Chris", "Dylan", "Emma", "Faisal", "Gwen", "Harri", "Imran",
               "Jess", "Kai", "Lowri", "Megan", "Niall", "Owen", "Priya", "Rhys", "Sian")
LAST_NAMES = ("Adams", "Bevan", "Clarke", "Davies", "Evans", "Fox", "Griffiths", "Hughes",
              "Jones", "Khan", "Lewis", "Morgan", "Nash", "Owens", "Price", "Roberts")
OUTCOMES = ((Booking.Status.COMPLETED, Offer.Status.COMPLETED, 0.88),
            (Booking.Status.DID_NOT_ATTEND, Offer.Status.DID_NOT_ATTEND, 0.05),
            (Booking.Status.REFUSED_ENTRY, Offer.Status.REFUSED_ENTRY, 0.01),
            (Booking.Status.NOT_COMPLETED, Offer.Status.NOT_COMPLETED, 0.02),
            (Booking.Status.CANCELLED, Offer.Status.EXPIRED, 0.04))


@dataclass(frozen=True)
class Shape:
    bookings_per_month: int  # the average month, three years ago
    growth_per_year: float
    online_share_from: float  # three years ago
    online_share_to: float  # last month


SHAPES = {"essex": Shape(240, 0.06, 0.52, 0.81), "south-wales": Shape(130, 0.04, 0.45, 0.74)}


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def seed_history(organisation, *, today: date | None = None, months: int = MONTHS,
                 shape: Shape | None = None) -> int:
    """Load the client's history (in its schema, which must be current) for the `months`
    before this one; the bookings made."""
    shape = shape or SHAPES.get(organisation.slug)
    if shape is None or Offer.objects.filter(reference__startswith=f"{PREFIX}-").exists():
        return 0
    today = today or timezone.localdate()
    first = add_months(today.replace(day=1), -months)
    random_ = random.Random(organisation.slug)
    with transaction.atomic(durable=True):
        loader = _Loader(organisation, random_)
        for index in range(months):
            month = add_months(first, index)
            progress = index / max(months - 1, 1)
            volume = (shape.bookings_per_month * SEASON[month.month - 1]
                      * (1 + shape.growth_per_year) ** (index / 12) * random_.uniform(0.94, 1.06))
            online = shape.online_share_from + (shape.online_share_to
                                                - shape.online_share_from) * progress
            loader.month(month, round(volume), online)
        return loader.finish()


class _Loader:
    def __init__(self, organisation, random_):
        self.organisation = organisation
        self.random = random_
        self.course_types = list(CourseType.objects.filter(code__in=("NSAC", "NMAC", "WDU"))
                                 .order_by("code"))
        self.venues = list(Venue.objects.order_by("pk")[:3])
        self.counter = 0
        self.made = 0
        self.usage: list[BillableEvent] = []

    def _course(self) -> CourseType:
        weights = [0.72 if course.code == "NSAC" else 0.14 for course in self.course_types]
        return self.random.choices(self.course_types, weights=weights)[0]

    def month(self, month: date, volume: int, online_share: float) -> None:
        sessions = {}
        offers, bookings = [], []
        for _n in range(volume):
            course = self._course()
            day = month + timedelta(days=self.random.randrange(0, 27))
            confirmed_at = timezone.make_aware(datetime.combine(
                day, time(self.random.randrange(7, 22), self.random.randrange(60))))
            offer = self._offer(course, confirmed_at - timedelta(days=self.random.randint(2, 30)))
            draw = self.random.random()
            channel = (Channel.ONLINE if draw < online_share else
                       Channel.TELEPHONE if draw < 0.97 else Channel.ADMIN)
            if course.pk not in sessions:
                sessions[course.pk] = self._session(course, month)
            status, offer.status = self._outcome()
            offers.append(offer)
            bookings.append((offer, Booking(
                reference=f"H{self.organisation.pk:02d}{self.counter:06d}"[:12],
                session=sessions[course.pk], channel=channel, status=status,
                fee_pence=fee_breakdown(course)["total_pence"],
                fee_snapshot=fee_breakdown(course), policy_snapshot=policy_snapshot(course),
                made_by="offender" if channel == Channel.ONLINE else "agent@waymark.test",
                confirmed_at=confirmed_at,
                ended_at=confirmed_at + timedelta(days=14) if status else None)))
        # Offers that were never booked: expired at their critical date, or withdrawn.
        for _n in range(round(volume * 0.07)):
            offer = self._offer(self._course(), timezone.make_aware(datetime.combine(
                month + timedelta(days=self.random.randrange(0, 27)), time(9))))
            offer.status = (Offer.Status.WITHDRAWN if self.random.random() < 0.25
                            else Offer.Status.EXPIRED)
            offers.append(offer)
        created = [offer.created_at for offer in offers]
        Offer.objects.bulk_create(offers)
        for offer, booking in bookings:
            booking.offer = offer
        Booking.objects.bulk_create([booking for _offer, booking in bookings])
        # auto_now_add replaced what we set: the offers arrived when the history says.
        for offer, arrived in zip(offers, created, strict=True):
            offer.created_at = arrived
        Offer.objects.bulk_update(offers, ["created_at"], batch_size=500)
        for session in sessions.values():
            session.seats_booked = sum(1 for _o, b in bookings if b.session_id == session.pk
                                       and b.status != Booking.Status.CANCELLED)
        CourseSession.objects.bulk_update(sessions.values(), ["seats_booked"])
        self._events([booking for _offer, booking in bookings])
        self.made += len(bookings)

    def _offer(self, course, arrived: datetime) -> Offer:
        self.counter += 1
        first = self.random.choice(FIRST_NAMES)
        return Offer(
            reference=f"{PREFIX}-{self.counter:06d}", course_type=course,
            offence_date=timezone.localdate(arrived) - timedelta(days=10),
            booking_period_end=timezone.localdate(arrived) + timedelta(days=90),
            critical_date=timezone.localdate(arrived) + timedelta(days=110),
            first_name=first, last_name=self.random.choice(LAST_NAMES),
            date_of_birth=date(self.random.randint(1950, 2004), self.random.randint(1, 12),
                               self.random.randint(1, 28)),
            email=f"{first.lower()}.{self.counter}@example.com", source=Offer.Source.CSV,
            created_at=arrived)

    def _session(self, course, month: date) -> CourseSession:
        starts = timezone.make_aware(datetime.combine(month + timedelta(days=27), time(9)))
        return CourseSession.objects.create(
            course_type=course, venue=self.random.choice(self.venues),
            delivery_mode="classroom", starts_at=starts,
            ends_at=starts + timedelta(minutes=course.duration_minutes), capacity=1000,
            status=CourseSession.Status.COMPLETED)

    def _outcome(self):
        draw, total = self.random.random(), 0.0
        for booking_status, offer_status, share in OUTCOMES:
            total += share
            if draw < total:
                return booking_status, offer_status
        return OUTCOMES[0][0], OUTCOMES[0][1]

    def _events(self, bookings: list[Booking]) -> None:
        events = []
        for booking in bookings:
            events.append(OfferEvent(
                offer_id=booking.offer_id, booking=booking, kind="booking.confirmed",
                channel=booking.channel, actor=booking.made_by, occurred_at=booking.confirmed_at,
                after={"session": booking.session_id, "history": True}))
            if booking.fee_pence and booking.channel != Channel.ADMIN:
                events.append(OfferEvent(
                    offer_id=booking.offer_id, booking=booking, kind="payment.succeeded",
                    channel=booking.channel, actor=booking.made_by,
                    occurred_at=booking.confirmed_at,
                    after={"amount_pence": booking.fee_pence, "history": True}))
            if booking.status == Booking.Status.CANCELLED:
                events.append(OfferEvent(
                    offer_id=booking.offer_id, booking=booking, kind="booking.cancelled",
                    channel=booking.channel, actor=booking.made_by,
                    occurred_at=booking.ended_at, after={"history": True}))
            else:
                events.append(OfferEvent(
                    offer_id=booking.offer_id, booking=booking, kind="booking.outcome_recorded",
                    channel=Channel.ADMIN, actor="trainer", occurred_at=booking.ended_at,
                    after={"booking": booking.status, "history": True}))
        OfferEvent.objects.bulk_create(events, batch_size=2000)
        # The usage rows log_event would have written: booking's own rule says which.
        self.usage.extend(filter(None, map(billable, events)))

    def finish(self) -> int:
        record_history(self.organisation.pk, self.usage)
        return self.made
