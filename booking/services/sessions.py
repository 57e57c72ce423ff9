"""Course dates: one date or a weekly series, changing a date's capacity, trainers or joining
link, and the client cancelling a date. A trainer is never booked twice at once, on a day they do
not work or while they are away.

Every change is one durable transaction with a keyword-only `actor` that writes its audit row
inside it; problems are a ValidationError keyed by the form field; messages to people go out only
after commit.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from audit.services import record
from booking import notifications
from booking.models import (
    Booking,
    Channel,
    CourseSession,
    CourseType,
    DeliveryMode,
    Hold,
    Offer,
    Trainer,
    Venue,
)
from tenants.opening_hours import DAYS

from .changes import drop_move, fee_paid
from .closures import ClosedDay, client_nation, closed_days
from .editing import field_errors, snapshot
from .events import log_event

MAX_SERIES = 52


def session_when(session: CourseSession) -> str:
    start = timezone.localtime(session.starts_at)
    end = timezone.localtime(session.ends_at)
    return (f"{formats.date_format(start, 'l j F Y')} "
            f"{formats.time_format(start, 'H:i')}–{formats.time_format(end, 'H:i')}")


def session_where(session: CourseSession) -> str:
    return str(_("online")) if session.venue_id is None else session.venue.town


@dataclass(frozen=True)
class SessionSpec:
    """What every date of a single date or a weekly series has in common."""

    course_type_id: int
    delivery_mode: str
    venue_id: int | None
    capacity: int
    language: str = "en"
    trainer_ids: tuple[int, ...] = ()
    joining_url: str = ""


def weekly_starts(first_date: date, weekday: int, at: time, count: int) -> list[datetime]:
    """`count` starts, one a week on `weekday` (Monday 0) at the local time `at`, from the first
    such day on or after `first_date`."""
    first = first_date + timedelta(days=(weekday - first_date.weekday()) % 7)
    return [timezone.make_aware(datetime.combine(first + timedelta(weeks=week), at))
            for week in range(count)]


# Set to False only by the race test's control run, to prove the test can catch a trainer
# booked twice.
LOCK_TRAINERS = True


def _lock_trainers(trainer_ids) -> list[Trainer]:
    # Trainers are locked (in primary-key order) before any session, so two administrators
    # booking the same trainer at once are served one after the other and the second sees
    # the first's date.
    trainers = Trainer.objects.filter(pk__in=list(trainer_ids)).order_by("pk")
    if LOCK_TRAINERS:
        trainers = trainers.select_for_update()
    trainers = list(trainers)
    # Their time away, read once for every date of a series (the trainer rows are locked).
    prefetch_related_objects(trainers, "absences")
    if len(trainers) != len(set(trainer_ids)):
        raise field_errors(trainers=_("One of the trainers chosen no longer exists."))
    return trainers


def _check_trainers(trainers, course_type: CourseType) -> None:
    qualified = set(course_type.trainers.values_list("pk", flat=True))
    for trainer in trainers:
        if not trainer.is_active:
            raise field_errors(trainers=_("%(trainer)s is no longer active.")
                               % {"trainer": trainer.full_name})
        if trainer.pk not in qualified:
            raise field_errors(trainers=_("%(trainer)s is not qualified to teach %(course)s.")
                               % {"trainer": trainer.full_name, "course": course_type.code})


def _check_trainers_free(trainers, starts_at, ends_at, *, exclude_session_id=None) -> None:
    """A trainer is never in two places at once: refuse, naming the clash."""
    for trainer in trainers:
        clash = (CourseSession.objects.select_related("course_type", "venue")
                 .filter(trainers=trainer, status=CourseSession.Status.SCHEDULED,
                         starts_at__lt=ends_at, ends_at__gt=starts_at)
                 .exclude(pk=exclude_session_id).order_by("starts_at").first())
        if clash is not None:
            raise field_errors(trainers=_(
                "%(trainer)s is already teaching %(course)s on %(when)s (%(where)s), which "
                "overlaps this date. Choose another trainer or time.") % {
                "trainer": trainer.full_name, "course": clash.course_type.code,
                "when": session_when(clash), "where": session_where(clash)})


def _check_trainers_available(trainers, starts_at) -> None:
    """Only on a day the trainer works, and not while they are away: refuse, naming why."""
    day = timezone.localtime(starts_at).date()
    for trainer in trainers:
        if DAYS[day.weekday()] not in trainer.working_days:
            raise field_errors(trainers=_("%(trainer)s does not work on %(weekday)s (%(date)s).") % {
                "trainer": trainer.full_name, "weekday": formats.date_format(day, "l"),
                "date": formats.date_format(day, "j F Y")})
        away = next((a for a in trainer.absences.all() if a.first_day <= day <= a.last_day), None)
        if away is not None:
            raise field_errors(trainers=_("%(trainer)s is away from %(first)s to %(last)s%(reason)s.")
                               % {"trainer": trainer.full_name,
                                  "first": formats.date_format(away.first_day, "j F Y"),
                                  "last": formats.date_format(away.last_day, "j F Y"),
                                  "reason": f" ({away.reason})" if away.reason else ""})


SESSION_AUDIT_FIELDS = ("course_type_id", "venue_id", "delivery_mode", "starts_at", "ends_at",
                        "capacity", "language", "status", "joining_url")


def _session_snapshot(session: CourseSession) -> dict:
    data = snapshot(session, SESSION_AUDIT_FIELDS)
    data["trainers"] = sorted(session.trainers.values_list("pk", flat=True))
    return data


class ClosedDayError(ValidationError):
    """A date falls on a bank holiday or closure: the administrator may choose to run it anyway."""


@dataclass(frozen=True)
class CreatedSeries:
    created: list[CourseSession]
    # The weeks left out, each with why (a bank holiday or one of the client's closures).
    skipped: tuple[ClosedDay, ...]


def create_sessions(spec: SessionSpec, starts: list[datetime], *, actor, organisation=None,
                    ip_address=None, now=None, run_on_closed_days=False) -> list[CourseSession]:
    """Create one date, or several (one per start), all or none. Each runs for the course
    type's duration; every trainer must be qualified and free for every date. A date on a bank
    holiday of the client's nation or one of its closures is refused (ClosedDayError, naming
    the day) unless `run_on_closed_days`, and then its audit entry says so."""
    return _create_sessions(spec, starts, actor=actor, organisation=organisation,
                            ip_address=ip_address, now=now,
                            on_closed="run" if run_on_closed_days else "refuse").created


def create_series(spec: SessionSpec, starts: list[datetime], *, actor, organisation=None,
                  ip_address=None, now=None) -> CreatedSeries:
    """A weekly series: as create_sessions, but the weeks that fall on a bank holiday or a
    closure are left out, and named in the result."""
    return _create_sessions(spec, starts, actor=actor, organisation=organisation,
                            ip_address=ip_address, now=now, on_closed="skip")


def _closed_starts(starts, organisation) -> dict[datetime, ClosedDay]:
    days = [timezone.localtime(start).date() for start in starts]
    closed = closed_days(min(days), max(days), nation=client_nation(organisation))
    return {start: closed[day] for start, day in zip(starts, days, strict=True) if day in closed}


def _create_sessions(spec: SessionSpec, starts: list[datetime], *, actor, organisation, ip_address,
                     now, on_closed: str) -> CreatedSeries:
    now = now or timezone.now()
    if not starts:
        raise field_errors(count=_("Enter how many dates to create."))
    if len(starts) > MAX_SERIES:
        raise field_errors(count=_("Create at most %(max)d dates at once.") % {"max": MAX_SERIES})
    if min(starts) <= now:
        raise field_errors(start_date=_("Course dates must be in the future."))
    with transaction.atomic(durable=True):
        trainers = _lock_trainers(spec.trainer_ids)
        course_type = CourseType.objects.filter(pk=spec.course_type_id, is_active=True).first()
        if course_type is None:
            raise field_errors(course_type=_("Choose an active course type."))
        if spec.delivery_mode not in course_type.delivery_modes:
            raise field_errors(delivery_mode=_("%(course)s is not delivered that way.")
                               % {"course": course_type.code})
        venue = None
        if spec.delivery_mode == DeliveryMode.ONLINE:
            if spec.venue_id is not None:
                raise field_errors(venue=_("An online course has no venue: leave the venue empty."))
        else:
            venue = Venue.objects.filter(pk=spec.venue_id, is_active=True).first()
            if venue is None:
                raise field_errors(venue=_("Choose the venue for a course in person."))
            if spec.capacity > venue.capacity:
                raise field_errors(capacity=_("%(venue)s holds at most %(max)d people.")
                                   % {"venue": venue.name, "max": venue.capacity})
        if spec.capacity < 1:
            raise field_errors(capacity=_("Capacity must be at least 1."))
        _check_trainers(trainers, course_type)
        duration = timedelta(minutes=course_type.duration_minutes)
        closed = _closed_starts(starts, organisation)
        if closed and on_closed == "refuse":
            # A trainer's problem first: "Run it anyway" is offered only when it would work.
            for start in sorted(starts):
                _check_trainers_available(trainers, start)
                _check_trainers_free(trainers, start, start + duration)
            raise ClosedDayError({"start_date": [closed[start].why() for start in sorted(closed)]})
        if on_closed == "skip":
            starts = [start for start in starts if start not in closed]
            if not starts:
                raise field_errors(start_date=_("Every week of this series falls on a bank "
                                                "holiday or a day you are closed."))
        created = []
        for start in sorted(starts):
            _check_trainers_available(trainers, start)
            _check_trainers_free(trainers, start, start + duration)
            session = CourseSession(
                course_type=course_type, venue=venue, delivery_mode=spec.delivery_mode,
                starts_at=start, ends_at=start + duration, capacity=spec.capacity,
                language=spec.language, joining_url=spec.joining_url)
            session.full_clean(exclude=["trainers"])
            session.save()
            session.trainers.set(trainers)
            after = dict(_session_snapshot(session), series_size=len(starts))
            if start in closed:
                # Run anyway, on purpose: the trail says who chose to, and which day it was.
                after["run_on_closed_day"] = closed[start].audit()
            record(actor=actor, action="session.created", obj=session, organisation=organisation,
                   after=after, ip_address=ip_address)
            created.append(session)
        skipped = () if on_closed != "skip" else tuple(closed[start] for start in sorted(closed))
        return CreatedSeries(created, skipped)


def update_session(session_id, *, capacity: int, trainer_ids, joining_url: str = "", actor,
                   organisation=None, ip_address=None, now=None) -> CourseSession:
    """Change a scheduled date's capacity, trainers or joining link. Capacity never drops below
    the seats already taken (confirmed bookings and live holds)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        trainers = _lock_trainers(trainer_ids)
        session = (CourseSession.objects.select_for_update(of=("self",))
                   .select_related("course_type", "venue").get(pk=session_id))
        if session.status != CourseSession.Status.SCHEDULED:
            raise field_errors(capacity=_("Only a scheduled date can be changed."))
        before = _session_snapshot(session)
        taken = session.seats_booked + Hold.objects.filter(session=session,
                                                           expires_at__gt=now).count()
        if capacity < max(taken, 1):
            raise field_errors(capacity=_("%(taken)d seats are already taken: capacity cannot be "
                                          "lower.") % {"taken": taken})
        if session.venue_id and capacity > session.venue.capacity:
            raise field_errors(capacity=_("%(venue)s holds at most %(max)d people.")
                               % {"venue": session.venue.name, "max": session.venue.capacity})
        new_trainers = [t for t in trainers if t.pk not in set(before["trainers"])]
        _check_trainers(new_trainers, session.course_type)
        _check_trainers_available(new_trainers, session.starts_at)
        _check_trainers_free(trainers, session.starts_at, session.ends_at,
                             exclude_session_id=session.pk)
        session.capacity = capacity
        session.joining_url = joining_url if session.is_online else ""
        session.full_clean(exclude=["trainers"])
        session.save(update_fields=["capacity", "joining_url"])
        session.trainers.set(trainers)
        record(actor=actor, action="session.changed", obj=session, organisation=organisation,
               before=before, after=_session_snapshot(session), ip_address=ip_address)
        return session


@dataclass(frozen=True)
class CancelledSession:
    session: CourseSession
    notified_booking_ids: tuple[int, ...]
    cancelled_booking_ids: tuple[int, ...]


def cancel_session(session_id, *, reason: str, actor, organisation=None, ip_address=None,
                   now=None) -> CancelledSession:
    """The client cancels a date. Everyone confirmed on it keeps their booking, is told (after
    commit) and may move to another date free of charge (rules.transfer_fee and
    check_can_change treat a cancelled date that way) or cancel with a full refund of what
    they paid (changes.refund_due). Bookings still waiting for payment are cancelled and their
    seats' holds removed, and so are moves to this date still waiting for their fee."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise field_errors(reason=_("Enter why the date is cancelled."))
    with transaction.atomic(durable=True):
        # Offers before the session, as the booking services lock them, so neither waits on
        # the other in a cycle.
        on_date = (*Booking.ACTIVE, Booking.Status.TRANSFER_PENDING)
        offer_ids = sorted(set(Booking.objects.filter(
            session_id=session_id, status__in=on_date).values_list("offer_id", flat=True)))
        locked = set()
        while True:
            list(Offer.objects.select_for_update().filter(pk__in=offer_ids).order_by("pk")
                 .values_list("pk", flat=True))
            locked.update(offer_ids)
            session = (CourseSession.objects.select_for_update(of=("self",))
                       .select_related("course_type", "venue").get(pk=session_id))
            bookings = list(Booking.objects.select_for_update().select_related("offer")
                            .filter(session=session, status__in=on_date).order_by("pk"))
            missing = sorted({b.offer_id for b in bookings} - locked)
            if not missing:
                break
            offer_ids = missing
        if session.status != CourseSession.Status.SCHEDULED:
            raise field_errors(reason=_("This date is already %(status)s.")
                               % {"status": session.get_status_display().lower()})
        if session.starts_at <= now:
            raise field_errors(reason=_("This date has already started, so it cannot be cancelled."))
        before = _session_snapshot(session)
        session.status = CourseSession.Status.CANCELLED
        session.save(update_fields=["status"])
        Hold.objects.filter(session=session).delete()
        notified, cancelled = [], []
        for booking in bookings:
            offer = booking.offer
            if booking.status == Booking.Status.TRANSFER_PENDING:
                # The person is still booked on the date they were moving from.
                drop_move(offer, booking, channel=Channel.ADMIN, actor=actor, now=now,
                          reason=f"the new date was cancelled: {reason}")
            elif booking.status == Booking.Status.CONFIRMED:
                log_event(offer, "session.cancelled", channel=Channel.ADMIN, actor=actor,
                          booking=booking, now=now,
                          after={"session": session.pk, "reason": reason, "free_transfer": True,
                                 "refund_due_pence": fee_paid(booking)})
                notifications.queue_session_cancelled(booking)
                notified.append(booking.pk)
            else:
                booking.status = Booking.Status.CANCELLED
                booking.ended_at = now
                booking.save(update_fields=["status", "ended_at"])
                offer.status = Offer.Status.OFFERED
                offer.save(update_fields=["status", "updated_at"])
                log_event(offer, "booking.cancelled", channel=Channel.ADMIN, actor=actor,
                          booking=booking, now=now,
                          after={"reason": reason, "session_cancelled": True,
                                 "refund_due_pence": 0})
                cancelled.append(booking.pk)
        record(actor=actor, action="session.cancelled", obj=session, organisation=organisation,
               before=before, after=dict(_session_snapshot(session), reason=reason,
                                         bookings_to_move=len(notified),
                                         unpaid_bookings_cancelled=len(cancelled)),
               ip_address=ip_address)
        return CancelledSession(session, tuple(notified), tuple(cancelled))
