"""Three years of monthly history for a demo client, so its reports, invoices and forecasts show
what a client would recognise: bookings that rise in summer and fall at Christmas, a channel
shift from the telephone to online, outcomes, cancellations, offers that expired or were
withdrawn; the card payments and the refunds of cancellations (per referring police force, for
the remittance statement), special-circumstances cases and their decisions, the contact
centre's calls (fewer as bookings move online), journeys started each day and the satisfaction
survey's answers in English and Welsh. Seeded random, so every load is the same. Past rows are
loaded in bulk (the services judge the present, not 2024), each with the events and usage rows
the services would have written. Idempotent: a client that has history is left alone."""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from billing.ledger import BillableEvent, record_history
from booking import tallies
from booking.models import (
    Booking,
    CallLog,
    Channel,
    CourseSession,
    CourseType,
    JourneyStartDay,
    Offer,
    OfferEvent,
    Payment,
    Refund,
    SatisfactionResponse,
    SpecialCircumstancesCase,
    Venue,
)
from booking.services.refunds import CANCELLATION_REFUND
from booking.services.rules import fee_breakdown, policy_snapshot

from .usage import CALL, billable

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
# The forces whose offers the client receives, with their share (the remittance statement).
FORCES = {"essex": (("Essex Police", 0.94), ("Metropolitan Police Service", 0.06)),
          "south-wales": (("South Wales Police", 0.68), ("Dyfed-Powys Police", 0.32))}
WELSH_SHARE = {"south-wales": 0.14}  # offers (and survey answers) in Welsh
AGENT = "agent@waymark.test"
ADMIN = "admin@waymark.test"
CASE_SHARE = 0.012  # of offers
CASE_KINDS = ((SpecialCircumstancesCase.Kind.PART_PAYMENT, 0.18,
               "Can pay half now and half on the day of the course."),
              (SpecialCircumstancesCase.Kind.INSTALMENTS, 0.26,
               "Universal Credit: asks to pay in three instalments."),
              (SpecialCircumstancesCase.Kind.MEDICAL, 0.2,
               "Hospital treatment until after the booking period ends."),
              (SpecialCircumstancesCase.Kind.COMPASSIONATE, 0.1,
               "A bereavement in the family; asks for more time to book."),
              (SpecialCircumstancesCase.Kind.INTERPRETER, 0.16,
               "Needs a Polish interpreter on the course."),
              (SpecialCircumstancesCase.Kind.OTHER, 0.1,
               "Works offshore for four weeks at a time."))
CASE_APPROVED = 0.74
# Calls other than telephone bookings, per booking of the month, at the first month's phone
# share: they fall as bookings move online. (type, outcome, weight, minutes)
OTHER_CALLS_PER_BOOKING = 0.55
OTHER_CALLS = ((CallLog.Type.ENQUIRY, CallLog.Outcome.INFORMATION_GIVEN, 0.34, (2, 7)),
               (CallLog.Type.PAYMENT, CallLog.Outcome.PAYMENT_TAKEN, 0.12, (4, 9)),
               (CallLog.Type.TRANSFER, CallLog.Outcome.TRANSFERRED, 0.14, (4, 10)),
               (CallLog.Type.CANCELLATION, CallLog.Outcome.CANCELLED, 0.08, (3, 7)),
               (CallLog.Type.SPECIAL_CIRCUMSTANCES, CallLog.Outcome.REFERRED, 0.06, (6, 15)),
               (CallLog.Type.COMPLAINT, CallLog.Outcome.REFERRED, 0.04, (6, 20)),
               (CallLog.Type.ENQUIRY, CallLog.Outcome.CALL_BACK, 0.08, (2, 5)),
               (CallLog.Type.OTHER, CallLog.Outcome.CALL_DROPPED, 0.04, (1, 2)),
               (CallLog.Type.OTHER, CallLog.Outcome.INFORMATION_GIVEN, 0.1, (2, 6)))
# Calls by hour of the day (UK time): the lines open 8:00–18:00, a few logged after.
CALL_HOURS = (8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)
CALL_HOUR_WEIGHTS = (6, 11, 12, 11, 8, 9, 10, 10, 9, 7, 3, 1)
SURVEY_SHARE = 0.3  # of online bookings
Level = SatisfactionResponse.Level
# GOV.UK's five levels, best first; satisfaction rises a little as the service improves.
SURVEY_FROM = (0.38, 0.34, 0.12, 0.09, 0.07)
SURVEY_TO = (0.5, 0.32, 0.09, 0.05, 0.04)
COMMENTS = {"en": ("Quick and easy to book.", "I could not find the venue's parking details.",
                   "Clear, thank you.", "The payment page timed out once."),
            "cy": ("Hawdd a chyflym i'w archebu.", "Roedd yn braf cael y gwasanaeth yn Gymraeg.",
                   "Diolch, clir iawn.")}
COMMENT_SHARE = 0.12
# Journeys started for each online booking made: GOV.UK's completion rate, 74–86 %.
COMPLETION = (0.74, 0.86)


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
            loader.month(month, round(volume), online, progress)
        return loader.finish()


class _Loader:
    def __init__(self, organisation, random_):
        self.organisation = organisation
        self.random = random_
        self.course_types = list(CourseType.objects.filter(code__in=("NSAC", "NMAC", "WDU"))
                                 .order_by("code"))
        self.venues = list(Venue.objects.order_by("pk")[:3])
        forces = FORCES.get(organisation.slug, (("", 1.0),))
        self.forces = [name for name, _share in forces]
        self.force_weights = [share for _name, share in forces]
        self.welsh = WELSH_SHARE.get(organisation.slug, 0.0)
        self.counter = 0
        self.made = 0
        self.usage: list[BillableEvent] = []
        self.online_by_day: dict[date, int] = {}

    def _course(self) -> CourseType:
        weights = [0.72 if course.code == "NSAC" else 0.14 for course in self.course_types]
        return self.random.choices(self.course_types, weights=weights)[0]

    def month(self, month: date, volume: int, online_share: float, progress: float) -> None:
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
        made = [booking for _offer, booking in bookings]
        self._events(made)
        self._payments(made)
        self._cases(offers)
        self._calls(month, made, volume, online_share)
        self._survey(made, progress)
        for booking in made:
            if booking.channel == Channel.ONLINE:
                day = timezone.localdate(booking.confirmed_at)
                self.online_by_day[day] = self.online_by_day.get(day, 0) + 1
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
            language="cy" if self.random.random() < self.welsh else "en",
            police_force=self.random.choices(self.forces, weights=self.force_weights)[0],
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

    def _payments(self, bookings: list[Booking]) -> None:
        """The card payment of each booking that paid (staff bookings had the fee waived), and
        the refund of each paid booking cancelled with notice: the payment.succeeded events
        _events wrote, as rows the remittance statement counts."""
        paid = [booking for booking in bookings
                if booking.fee_pence and booking.channel != Channel.ADMIN]
        payments = Payment.objects.bulk_create([Payment(
            booking=booking, kind=Payment.Kind.BOOKING_FEE, amount_pence=booking.fee_pence,
            stripe_payment_intent_id=f"pi_hist_{booking.reference}",
            status=Payment.Status.SUCCEEDED, channel=booking.channel,
            moto=booking.channel == Channel.TELEPHONE, succeeded_at=booking.confirmed_at)
            for booking in paid])
        refunds, events = [], []
        for payment in payments:
            booking = payment.booking
            if booking.status == Booking.Status.CANCELLED:
                refunds.append(Refund(payment=payment, amount_pence=payment.amount_pence,
                                      stripe_refund_id=f"re_hist_{booking.reference}",
                                      reason=CANCELLATION_REFUND))
                events.append(OfferEvent(
                    offer_id=booking.offer_id, booking=booking, kind="payment.refunded",
                    channel=Channel.SYSTEM, actor="system", occurred_at=booking.ended_at,
                    after={"refund": refunds[-1].stripe_refund_id,
                           "amount_pence": payment.amount_pence, "reason": CANCELLATION_REFUND,
                           "history": True}))
        Refund.objects.bulk_create(refunds)
        OfferEvent.objects.bulk_create(events)

    def _cases(self, offers: list[Offer]) -> None:
        """Special-circumstances cases on a few of the month's offers, all decided within a
        fortnight (the history is the past), with the events raise_case and decide_case
        write."""
        kinds = [kind for kind, _share, _notes in CASE_KINDS]
        weights = [share for _kind, share, _notes in CASE_KINDS]
        notes = {kind: text for kind, _share, text in CASE_KINDS}
        cases, events = [], []
        for offer in offers:
            if self.random.random() >= CASE_SHARE:
                continue
            kind = self.random.choices(kinds, weights=weights)[0]
            raised = offer.created_at + timedelta(days=self.random.randint(1, 12),
                                                  hours=self.random.randint(0, 8))
            decided = raised + timedelta(hours=self.random.choice(
                (2, 5, 20, 26, 48, 70, 96, 150, 240, 330)))
            approve = self.random.random() < CASE_APPROVED
            case = SpecialCircumstancesCase(
                offer=offer, kind=kind, notes=notes[kind], offer_status_before=Offer.Status.OFFERED,
                status=(SpecialCircumstancesCase.Status.APPROVED if approve
                        else SpecialCircumstancesCase.Status.DECLINED),
                raised_by=AGENT, decided_by=ADMIN, decided_at=decided, created_at=raised,
                decision_note="Agreed." if approve else "Not within the scheme's rules.")
            cases.append(case)
            after = {"kind": kind, "history": True}
            events += [OfferEvent(offer=offer, kind="case.raised", channel=Channel.ADMIN,
                                  actor=AGENT, occurred_at=raised, after=after),
                       OfferEvent(offer=offer, kind="case.approved" if approve
                                  else "case.declined", channel=Channel.ADMIN, actor=ADMIN,
                                  occurred_at=decided, after=after)]
        SpecialCircumstancesCase.objects.bulk_create(cases)
        OfferEvent.objects.bulk_create(events)

    def _calls(self, month: date, bookings: list[Booking], volume: int,
               online_share: float) -> None:
        """The contact centre's month: a call for each telephone booking, and the other calls
        (questions, payments, transfers, complaints…), fewer as the phone share falls. Every
        call is billed, as create_call records it."""
        calls, events = [], []
        for booking in bookings:
            if booking.channel != Channel.TELEPHONE:
                continue
            minutes = self.random.randint(6, 16)
            calls.append(CallLog(
                call_type=CallLog.Type.NEW_BOOKING, outcome=CallLog.Outcome.BOOKED,
                duration_minutes=minutes, offer_id=booking.offer_id, booking=booking,
                agent_label=AGENT, started_at=booking.confirmed_at - timedelta(minutes=minutes)))
        spec = [(kind, outcome, minutes) for kind, outcome, _weight, minutes in OTHER_CALLS]
        weights = [weight for _kind, _outcome, weight, _minutes in OTHER_CALLS]
        for _n in range(round(volume * OTHER_CALLS_PER_BOOKING * (1 - online_share) / 0.5)):
            kind, outcome, (shortest, longest) = self.random.choices(spec, weights=weights)[0]
            day = month + timedelta(days=self.random.randrange(0, 28))
            if day.weekday() == 6:  # the lines are closed on Sundays
                day -= timedelta(days=1)
            hour = self.random.choices(CALL_HOURS, weights=CALL_HOUR_WEIGHTS)[0]
            calls.append(CallLog(
                call_type=kind, outcome=outcome,
                duration_minutes=self.random.randint(shortest, longest), agent_label=AGENT,
                started_at=timezone.make_aware(datetime.combine(
                    day, time(hour, self.random.randrange(60))))))
        CallLog.objects.bulk_create(calls, batch_size=2000)
        for call in calls:
            self.usage.append(BillableEvent(f"call:{call.pk}", CALL, "", call.started_at))
            if call.offer_id:
                events.append(OfferEvent(
                    offer_id=call.offer_id, booking=call.booking, kind="call.logged",
                    channel=Channel.TELEPHONE, actor=AGENT, occurred_at=call.started_at,
                    after={"call": call.pk, "type": call.call_type, "outcome": call.outcome,
                           "duration_minutes": call.duration_minutes, "history": True}))
        OfferEvent.objects.bulk_create(events, batch_size=2000)

    def _survey(self, bookings: list[Booking], progress: float) -> None:
        """The confirmation page's one question, answered after some online bookings, in the
        language the person booked in."""
        levels = list(Level.values)
        weights = [start + (end - start) * progress
                   for start, end in zip(SURVEY_FROM, SURVEY_TO, strict=True)]
        answers = []
        for booking in bookings:
            if booking.channel != Channel.ONLINE or self.random.random() >= SURVEY_SHARE:
                continue
            language = booking.offer.language
            comment = (self.random.choice(COMMENTS[language])
                       if self.random.random() < COMMENT_SHARE else "")
            answers.append(SatisfactionResponse(
                booking=booking, level=self.random.choices(levels, weights=weights)[0],
                comment=comment, language=language,
                created_at=booking.confirmed_at + timedelta(minutes=2)))
        SatisfactionResponse.objects.bulk_create(answers)

    def _journey_starts(self) -> None:
        """The people who started booking each day, of whom the day's online bookings are those
        who finished. A day a real journey already counted is left as it is."""
        JourneyStartDay.objects.bulk_create([
            JourneyStartDay(day=day, started=round(made / self.random.uniform(*COMPLETION)))
            for day, made in sorted(self.online_by_day.items())], ignore_conflicts=True)

    def finish(self) -> int:
        self._journey_starts()
        # auto_now_add stamped the payments and refunds with today: each when it happened.
        Payment.objects.filter(stripe_payment_intent_id__startswith="pi_hist_").update(
            created_at=F("succeeded_at"))
        Refund.objects.filter(stripe_refund_id__startswith="re_hist_").update(
            created_at=Subquery(Booking.objects.filter(payments=OuterRef("payment"))
                                .values("ended_at")[:1]))
        record_history(self.organisation.pk, self.usage)
        tallies.rebuild()  # the reports' counts, which log_event would have kept
        return self.made
