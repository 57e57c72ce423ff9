"""Client administration: course types, venues, trainers, course dates (single and weekly
series), cancelling a date, branding, critical-date extensions, special-circumstances cases and
staff accounts.

Every function is one durable transaction with a keyword-only `actor`. Configuration changes
write an audit row (audit.services.record) inside that transaction; changes that concern an
offer also append to its timeline (log_event). Messages to people go out only after commit.
Problems are raised as ValidationError keyed by the form field they concern, so a form can
show them beside the field; nothing is half-written.
"""

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from audit.services import record
from booking import postcodes
from booking.date_input import DateProblem, parse_date_parts
from booking.models import (
    WEEKDAY_CODES,
    Booking,
    Channel,
    CourseSession,
    CourseType,
    DeliveryMode,
    Hold,
    Offer,
    SpecialCircumstancesCase,
    Trainer,
    TrainerAbsence,
    Venue,
)

from .events import actor_label, log_event

logger = logging.getLogger(__name__)

MAX_SERIES = 52
ADMIN = Channel.ADMIN


def _errors(**fields) -> ValidationError:
    return ValidationError({name: [message] for name, message in fields.items()})


def _snapshot(obj, fields) -> dict:
    data = {}
    for name in fields:
        value = getattr(obj, name)
        data[name] = value.isoformat() if isinstance(value, date | datetime | time) else value
    return data


def _full_clean(obj, exclude=None) -> None:
    """Model validation; the messages come back keyed by field."""
    obj.full_clean(exclude=exclude)


def _open_for_change(model, pk, data: dict, snapshot):
    """(object, before): a new `model` when `pk` is None, else the row, locked so that `before`
    (its snapshot for the audit entry) is what this change replaces; `data` set and validated."""
    if pk is None:
        obj, before = model(), None
    else:
        obj = model.objects.select_for_update().get(pk=pk)
        before = snapshot(obj)
    for name, value in data.items():
        setattr(obj, name, value)
    _full_clean(obj)
    return obj, before


def _when(session: CourseSession) -> str:
    start = timezone.localtime(session.starts_at)
    end = timezone.localtime(session.ends_at)
    return (f"{formats.date_format(start, 'l j F Y')} "
            f"{formats.time_format(start, 'H:i')}–{formats.time_format(end, 'H:i')}")


def _where(session: CourseSession) -> str:
    return str(_("online")) if session.venue_id is None else session.venue.town


# --- Course types ------------------------------------------------------------------------------

COURSE_TYPE_FIELDS = (
    "code", "name_en", "name_cy", "duration_minutes", "delivery_modes", "eligibility_family",
    "provider_fee_pence", "police_cost_recovery_pence", "vat_applies",
    "free_transfer_notice_days", "late_transfer_fee_pence", "transfer_cutoff_hours",
    "max_transfers", "online_booking_lead_hours", "is_active",
)


def save_course_type(course_type_id, data: dict, *, actor, organisation=None,
                     ip_address=None) -> CourseType:
    """Create (`course_type_id` None) or change a course type. Bookings already made keep the
    fee and policy they were made with (their snapshots)."""
    unknown = set(data) - set(COURSE_TYPE_FIELDS)
    if unknown:
        raise ValueError(f"not course type fields: {sorted(unknown)}")
    modes = list(dict.fromkeys(data.get("delivery_modes") or []))
    if not modes:
        raise _errors(delivery_modes=_("Select at least one way the course is delivered."))
    if any(mode not in DeliveryMode.values for mode in modes):
        raise _errors(delivery_modes=_("Select delivery modes from the list."))
    data = dict(data, delivery_modes=modes)
    with transaction.atomic(durable=True):
        course_type, before = _open_for_change(
            CourseType, course_type_id, data, lambda row: _snapshot(row, COURSE_TYPE_FIELDS))
        try:
            with transaction.atomic():
                course_type.save()
        except IntegrityError as error:
            raise _errors(code=_("A course type with this code already exists.")) from error
        record(actor=actor, action="course_type.created" if before is None
               else "course_type.changed", obj=course_type, organisation=organisation,
               before=before, after=_snapshot(course_type, COURSE_TYPE_FIELDS),
               ip_address=ip_address)
        return course_type


# --- Venues ------------------------------------------------------------------------------------

VENUE_FIELDS = (
    "name", "address", "town", "postcode", "latitude", "longitude", "capacity", "step_free",
    "hearing_loop", "parking", "directions_en", "directions_cy", "is_active",
)


def save_venue(venue_id, data: dict, *, actor, organisation=None, ip_address=None) -> Venue:
    """Create or change a venue. The postcode is placed with booking.postcodes (no network);
    one that is not a real postcode is refused with the postcode's own message."""
    data = dict(data)
    try:
        place = postcodes.locate(data.get("postcode", ""))
    except postcodes.PostcodeError as error:
        raise ValidationError({"postcode": error.messages}) from None
    data.update(postcode=place.postcode, latitude=place.latitude, longitude=place.longitude)
    unknown = set(data) - set(VENUE_FIELDS)
    if unknown:
        raise ValueError(f"not venue fields: {sorted(unknown)}")
    with transaction.atomic(durable=True):
        venue, before = _open_for_change(Venue, venue_id, data,
                                         lambda row: _snapshot(row, VENUE_FIELDS))
        venue.save()
        record(actor=actor, action="venue.created" if before is None else "venue.changed",
               obj=venue, organisation=organisation, before=before,
               after=_snapshot(venue, VENUE_FIELDS), ip_address=ip_address)
        return venue


# --- Trainers ----------------------------------------------------------------------------------

TRAINER_FIELDS = ("full_name", "email", "user_id", "is_active", "working_days")


def _trainer_snapshot(trainer: Trainer) -> dict:
    data = _snapshot(trainer, TRAINER_FIELDS)
    data["course_types"] = sorted(trainer.course_types.values_list("code", flat=True))
    return data


def trainer_logins(organisation):
    """Users who may be linked to a trainer: active trainers at this client."""
    from accounts.models import User
    from accounts.roles import Role

    return (User.objects.filter(is_active=True, memberships__organisation=organisation,
                                memberships__role=Role.TRAINER, memberships__is_active=True)
            .distinct().order_by("email"))


def save_trainer(trainer_id, data: dict, course_type_ids, *, actor, organisation,
                 ip_address=None) -> Trainer:
    """Create or change a trainer and the course types they are qualified to teach. A login,
    if given, must be a trainer at this client and belong to no other trainer."""
    unknown = set(data) - set(TRAINER_FIELDS)
    if unknown:
        raise ValueError(f"not trainer fields: {sorted(unknown)}")
    user_id = data.get("user_id")
    if user_id is not None and not trainer_logins(organisation).filter(pk=user_id).exists():
        raise _errors(user_id=_("Choose a staff account that has the trainer role here."))
    if "working_days" in data:
        days = [day for day in WEEKDAY_CODES if day in set(data["working_days"] or [])]
        if not days or len(days) != len(set(data["working_days"])):
            raise _errors(working_days=_("Select the days of the week the trainer works."))
        data = dict(data, working_days=days)
    with transaction.atomic(durable=True):
        trainer, before = _open_for_change(Trainer, trainer_id, data, _trainer_snapshot)
        if user_id is not None and Trainer.objects.filter(user_id=user_id).exclude(
                pk=trainer.pk).exists():
            raise _errors(user_id=_("That staff account is already linked to another trainer."))
        course_types = list(CourseType.objects.filter(pk__in=list(course_type_ids or [])))
        trainer.save()
        trainer.course_types.set(course_types)
        record(actor=actor, action="trainer.created" if before is None else "trainer.changed",
               obj=trainer, organisation=organisation, before=before,
               after=_trainer_snapshot(trainer), ip_address=ip_address)
        return trainer


# --- Course dates -----------------------------------------------------------------------------


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
        raise _errors(trainers=_("One of the trainers chosen no longer exists."))
    return trainers


def _check_trainers(trainers, course_type: CourseType) -> None:
    qualified = set(course_type.trainers.values_list("pk", flat=True))
    for trainer in trainers:
        if not trainer.is_active:
            raise _errors(trainers=_("%(trainer)s is no longer active.")
                          % {"trainer": trainer.full_name})
        if trainer.pk not in qualified:
            raise _errors(trainers=_("%(trainer)s is not qualified to teach %(course)s.")
                          % {"trainer": trainer.full_name, "course": course_type.code})


def _check_trainers_free(trainers, starts_at, ends_at, *, exclude_session_id=None) -> None:
    """A trainer is never in two places at once: refuse, naming the clash."""
    for trainer in trainers:
        clash = (CourseSession.objects.select_related("course_type", "venue")
                 .filter(trainers=trainer, status=CourseSession.Status.SCHEDULED,
                         starts_at__lt=ends_at, ends_at__gt=starts_at)
                 .exclude(pk=exclude_session_id).order_by("starts_at").first())
        if clash is not None:
            raise _errors(trainers=_(
                "%(trainer)s is already teaching %(course)s on %(when)s (%(where)s), which "
                "overlaps this date. Choose another trainer or time.") % {
                "trainer": trainer.full_name, "course": clash.course_type.code,
                "when": _when(clash), "where": _where(clash)})


def _check_trainers_available(trainers, starts_at) -> None:
    """Only on a day the trainer works, and not while they are away: refuse, naming why."""
    day = timezone.localtime(starts_at).date()
    for trainer in trainers:
        if WEEKDAY_CODES[day.weekday()] not in trainer.working_days:
            raise _errors(trainers=_("%(trainer)s does not work on %(weekday)s (%(date)s).") % {
                "trainer": trainer.full_name, "weekday": formats.date_format(day, "l"),
                "date": formats.date_format(day, "j F Y")})
        away = next((a for a in trainer.absences.all() if a.first_day <= day <= a.last_day), None)
        if away is not None:
            raise _errors(trainers=_("%(trainer)s is away from %(first)s to %(last)s%(reason)s.")
                          % {"trainer": trainer.full_name,
                             "first": formats.date_format(away.first_day, "j F Y"),
                             "last": formats.date_format(away.last_day, "j F Y"),
                             "reason": f" ({away.reason})" if away.reason else ""})


def add_trainer_absence(trainer_id, first_day: date, last_day: date, reason: str = "", *, actor,
                        organisation=None, ip_address=None) -> TrainerAbsence:
    """Time away for a trainer. Refused while they are down to teach in it: move those dates
    to another trainer first, so no course is left without one."""
    if last_day < first_day:
        raise _errors(last_day=_("The last day must be on or after the first day."))
    with transaction.atomic(durable=True):
        trainer = Trainer.objects.select_for_update().get(pk=trainer_id)
        start = timezone.make_aware(datetime.combine(first_day, time.min))
        end = timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))
        teaching = (CourseSession.objects.select_related("course_type", "venue")
                    .filter(trainers=trainer, status=CourseSession.Status.SCHEDULED,
                            starts_at__gte=start, starts_at__lt=end).order_by("starts_at").first())
        if teaching is not None:
            raise _errors(first_day=_(
                "%(trainer)s is teaching %(course)s on %(when)s (%(where)s). Give that date "
                "another trainer first.") % {"trainer": trainer.full_name,
                                             "course": teaching.course_type.code,
                                             "when": _when(teaching), "where": _where(teaching)})
        absence = TrainerAbsence(trainer=trainer, first_day=first_day, last_day=last_day,
                                 reason=(reason or "").strip())
        _full_clean(absence)
        absence.save()
        record(actor=actor, action="trainer.absence_added", obj=trainer, organisation=organisation,
               after={"first_day": first_day.isoformat(), "last_day": last_day.isoformat(),
                      "reason": absence.reason}, ip_address=ip_address)
        return absence


def remove_trainer_absence(trainer_id, absence_id, *, actor, organisation=None,
                           ip_address=None) -> None:
    """Only this trainer's own time away; one already removed (a second click) changes nothing."""
    with transaction.atomic(durable=True):
        absence = TrainerAbsence.objects.select_for_update().select_related("trainer").filter(
            pk=absence_id, trainer_id=trainer_id).first()
        if absence is None:
            return
        record(actor=actor, action="trainer.absence_removed", obj=absence.trainer,
               organisation=organisation,
               before={"first_day": absence.first_day.isoformat(),
                       "last_day": absence.last_day.isoformat(), "reason": absence.reason},
               ip_address=ip_address)
        absence.delete()


SESSION_AUDIT_FIELDS = ("course_type_id", "venue_id", "delivery_mode", "starts_at", "ends_at",
                        "capacity", "language", "status", "joining_url")


def _session_snapshot(session: CourseSession) -> dict:
    data = _snapshot(session, SESSION_AUDIT_FIELDS)
    data["trainers"] = sorted(session.trainers.values_list("pk", flat=True))
    return data


def create_sessions(spec: SessionSpec, starts: list[datetime], *, actor, organisation=None,
                    ip_address=None, now=None) -> list[CourseSession]:
    """Create one date, or a series (one per start), all or none. Each runs for the course
    type's duration; every trainer must be qualified and free for every date."""
    now = now or timezone.now()
    if not starts:
        raise _errors(count=_("Enter how many dates to create."))
    if len(starts) > MAX_SERIES:
        raise _errors(count=_("Create at most %(max)d dates at once.") % {"max": MAX_SERIES})
    if min(starts) <= now:
        raise _errors(start_date=_("Course dates must be in the future."))
    with transaction.atomic(durable=True):
        trainers = _lock_trainers(spec.trainer_ids)
        course_type = CourseType.objects.filter(pk=spec.course_type_id, is_active=True).first()
        if course_type is None:
            raise _errors(course_type=_("Choose an active course type."))
        if spec.delivery_mode not in course_type.delivery_modes:
            raise _errors(delivery_mode=_("%(course)s is not delivered that way.")
                          % {"course": course_type.code})
        venue = None
        if spec.delivery_mode == DeliveryMode.ONLINE:
            if spec.venue_id is not None:
                raise _errors(venue=_("An online course has no venue: leave the venue empty."))
        else:
            venue = Venue.objects.filter(pk=spec.venue_id, is_active=True).first()
            if venue is None:
                raise _errors(venue=_("Choose the venue for a course in person."))
            if spec.capacity > venue.capacity:
                raise _errors(capacity=_("%(venue)s holds at most %(max)d people.")
                              % {"venue": venue.name, "max": venue.capacity})
        if spec.capacity < 1:
            raise _errors(capacity=_("Capacity must be at least 1."))
        _check_trainers(trainers, course_type)
        duration = timedelta(minutes=course_type.duration_minutes)
        created = []
        for start in sorted(starts):
            _check_trainers_available(trainers, start)
            _check_trainers_free(trainers, start, start + duration)
            session = CourseSession(
                course_type=course_type, venue=venue, delivery_mode=spec.delivery_mode,
                starts_at=start, ends_at=start + duration, capacity=spec.capacity,
                language=spec.language, joining_url=spec.joining_url)
            _full_clean(session, exclude=["trainers"])
            session.save()
            session.trainers.set(trainers)
            record(actor=actor, action="session.created", obj=session, organisation=organisation,
                   after=dict(_session_snapshot(session), series_size=len(starts)),
                   ip_address=ip_address)
            created.append(session)
        return created


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
            raise _errors(capacity=_("Only a scheduled date can be changed."))
        before = _session_snapshot(session)
        taken = session.seats_booked + Hold.objects.filter(session=session,
                                                           expires_at__gt=now).count()
        if capacity < max(taken, 1):
            raise _errors(capacity=_("%(taken)d seats are already taken: capacity cannot be "
                                     "lower.") % {"taken": taken})
        if session.venue_id and capacity > session.venue.capacity:
            raise _errors(capacity=_("%(venue)s holds at most %(max)d people.")
                          % {"venue": session.venue.name, "max": session.venue.capacity})
        new_trainers = [t for t in trainers if t.pk not in set(before["trainers"])]
        _check_trainers(new_trainers, session.course_type)
        _check_trainers_available(new_trainers, session.starts_at)
        _check_trainers_free(trainers, session.starts_at, session.ends_at,
                             exclude_session_id=session.pk)
        session.capacity = capacity
        session.joining_url = joining_url if session.is_online else ""
        _full_clean(session, exclude=["trainers"])
        session.save(update_fields=["capacity", "joining_url"])
        session.trainers.set(trainers)
        record(actor=actor, action="session.changed", obj=session, organisation=organisation,
               before=before, after=_session_snapshot(session), ip_address=ip_address)
        return session


def _notify_session_cancelled(booking_id: int) -> None:
    """Tell the person their date was cancelled and that moving to another date is free.
    booking.notifications may not have a message for this yet: then a plain one is sent."""
    booking = (Booking.objects.select_related("offer", "session__course_type", "session__venue")
               .get(pk=booking_id))
    try:
        from booking import notifications
    except ImportError:
        notifications = None
    sender = getattr(notifications, "send_session_cancelled", None)
    if sender is not None:
        sender(booking)
        return
    _send_session_cancelled_notice(booking)


def _send_session_cancelled_notice(booking: Booking) -> None:
    from django.conf import settings
    from django.core.mail import send_mail
    from django.db import connection
    from django.template.loader import render_to_string
    from django.utils import translation

    from tenants.models import ClientOrganisation

    offer = booking.offer
    with transaction.atomic():
        if not offer.email:
            log_event(offer, "message.skipped", channel=Channel.SYSTEM, actor="system",
                      booking=booking, after={"template": "session_cancelled",
                                              "reason": "no_email"})
            return
        organisation = ClientOrganisation.objects.get(schema_name=connection.schema_name)
        language = "cy" if offer.language == "cy" else "en-gb"
        with translation.override(language):
            context = {
                "first_name": offer.first_name, "booking": booking,
                "course_name": booking.session.course_type.name(language),
                "when": _when(booking.session), "where": _where(booking.session),
                "client_name": organisation.display_name(language),
                "contact_phone": organisation.contact_phone,
                "contact_email": organisation.contact_email,
            }
            body = render_to_string("manage/email/session_cancelled.txt", context)
            subject = str(_("Your course date has been cancelled: move to another date free "
                            "of charge"))
        send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL,
                  recipient_list=[offer.email])
        log_event(offer, "message.sent", channel=Channel.SYSTEM, actor="system",
                  booking=booking, after={"template": "session_cancelled", "to": offer.email,
                                          "language": language})


@dataclass(frozen=True)
class CancelledSession:
    session: CourseSession
    notified_booking_ids: tuple[int, ...]
    cancelled_booking_ids: tuple[int, ...]


def cancel_session(session_id, *, reason: str, actor, organisation=None, ip_address=None,
                   now=None) -> CancelledSession:
    """The client cancels a date. Everyone confirmed on it keeps their booking, is told (after
    commit) and may move to another date free of charge (rules.transfer_fee and
    check_can_change treat a cancelled date that way) or cancel with a full refund. Bookings
    still waiting for payment are cancelled and their seats' holds removed."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise _errors(reason=_("Enter why the date is cancelled."))
    with transaction.atomic(durable=True):
        # Offers before the session, as the booking services lock them, so neither waits on
        # the other in a cycle.
        offer_ids = sorted(set(Booking.objects.filter(
            session_id=session_id, status__in=Booking.ACTIVE).values_list("offer_id", flat=True)))
        locked = set()
        while True:
            list(Offer.objects.select_for_update().filter(pk__in=offer_ids).order_by("pk")
                 .values_list("pk", flat=True))
            locked.update(offer_ids)
            session = (CourseSession.objects.select_for_update(of=("self",))
                       .select_related("course_type", "venue").get(pk=session_id))
            bookings = list(Booking.objects.select_for_update().select_related("offer")
                            .filter(session=session, status__in=Booking.ACTIVE).order_by("pk"))
            missing = sorted({b.offer_id for b in bookings} - locked)
            if not missing:
                break
            offer_ids = missing
        if session.status != CourseSession.Status.SCHEDULED:
            raise _errors(reason=_("This date is already %(status)s.")
                          % {"status": session.get_status_display().lower()})
        if session.starts_at <= now:
            raise _errors(reason=_("This date has already started, so it cannot be cancelled."))
        before = _session_snapshot(session)
        session.status = CourseSession.Status.CANCELLED
        session.save(update_fields=["status"])
        Hold.objects.filter(session=session).delete()
        notified, cancelled = [], []
        for booking in bookings:
            offer = booking.offer
            if booking.status == Booking.Status.CONFIRMED:
                log_event(offer, "session.cancelled", channel=ADMIN, actor=actor,
                          booking=booking, now=now,
                          after={"session": session.pk, "reason": reason, "free_transfer": True,
                                 "refund_due_pence": booking.fee_pence})
                notified.append(booking.pk)
            else:
                booking.status = Booking.Status.CANCELLED
                booking.ended_at = now
                booking.save(update_fields=["status", "ended_at"])
                offer.status = Offer.Status.OFFERED
                offer.save(update_fields=["status", "updated_at"])
                log_event(offer, "booking.cancelled", channel=ADMIN, actor=actor,
                          booking=booking, now=now,
                          after={"reason": reason, "session_cancelled": True,
                                 "refund_due_pence": 0})
                cancelled.append(booking.pk)
        record(actor=actor, action="session.cancelled", obj=session, organisation=organisation,
               before=before, after=dict(_session_snapshot(session), reason=reason,
                                         bookings_to_move=len(notified),
                                         unpaid_bookings_cancelled=len(cancelled)),
               ip_address=ip_address)
        for booking_id in notified:
            transaction.on_commit(lambda pk=booking_id: _notify_session_cancelled(pk),
                                  robust=True)
        return CancelledSession(session, tuple(notified), tuple(cancelled))


# --- Branding ---------------------------------------------------------------------------------

BRANDING_FIELDS = ("display_name_en", "display_name_cy", "primary_colour", "contact_phone",
                   "contact_email", "opening_hours")
DAYS = WEEKDAY_CODES
_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def clean_opening_hours(hours: dict) -> dict:
    """{"mon": ["08:00", "17:00"], …}; a day left out is closed."""
    cleaned = {}
    for day, pair in (hours or {}).items():
        if day not in DAYS:
            raise _errors(**{f"{DAYS[0]}_opens": _("Unknown day %(day)s.") % {"day": day}})
        if not pair:
            continue
        opens, closes = pair
        if not (_HH_MM.match(opens or "") and _HH_MM.match(closes or "")):
            raise _errors(**{f"{day}_opens": _("Enter opening and closing times like 08:00 "
                                               "and 17:00.")})
        if opens >= closes:
            raise _errors(**{f"{day}_closes": _("The closing time must be after the opening "
                                                "time.")})
        cleaned[day] = [opens, closes]
    return cleaned


LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_PIXELS = 2000


def set_logo(organisation_id, upload, *, actor, ip_address=None):
    """Replace the client's header logo with `upload` (a file), or remove it with None. The file
    must really be a PNG, JPEG, GIF or WebP image (SVG is refused: it can carry script)."""
    from tenants.models import ClientOrganisation

    name = None
    if upload is not None:
        name = f"logo-{secrets.token_hex(6)}.{LOGO_FORMATS[_checked_logo(upload)]}"
    stored = None
    try:
        with transaction.atomic(durable=True):
            organisation = ClientOrganisation.objects.select_for_update().get(pk=organisation_id)
            old = organisation.logo.name or None
            if name is None:
                organisation.logo = ""
            else:
                upload.seek(0)
                organisation.logo.save(name, upload, save=False)
                stored = organisation.logo.name
            organisation.save(update_fields=["logo"])
            record(actor=actor, action="organisation.logo_changed", obj=organisation,
                   organisation=organisation, before={"logo": old},
                   after={"logo": organisation.logo.name or None}, ip_address=ip_address)
    except Exception:
        if stored:  # nothing half-written: a change that did not commit leaves no file
            ClientOrganisation.logo.field.storage.delete(stored)
        raise
    if old:
        organisation.logo.storage.delete(old)
    return organisation


def _checked_logo(upload) -> str:
    """The image's format, or a ValidationError on `logo` saying what is wrong with the file."""
    from PIL import Image, UnidentifiedImageError

    if upload.size > LOGO_MAX_BYTES:
        raise _errors(logo=_("The logo must be smaller than 512 KB."))
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _errors(logo=_("The logo must be a PNG, JPEG, GIF or WebP image.")) from None
    if image_format not in LOGO_FORMATS:
        raise _errors(logo=_("The logo must be a PNG, JPEG, GIF or WebP image."))
    if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
        raise _errors(logo=_("The logo must be at most 2000 pixels wide and high."))
    return image_format


def update_branding(organisation_id, data: dict, *, actor, ip_address=None):
    """The client's names, brand colour (checked for contrast with white text), contact
    details and phone-line opening hours."""
    from tenants.models import ClientOrganisation

    unknown = set(data) - set(BRANDING_FIELDS)
    if unknown:
        raise ValueError(f"not branding fields: {sorted(unknown)}")
    data = dict(data)
    if "opening_hours" in data:
        data["opening_hours"] = clean_opening_hours(data["opening_hours"])
    if "primary_colour" in data:
        data["primary_colour"] = (data["primary_colour"] or "").strip().lower()
    with transaction.atomic(durable=True):
        organisation = ClientOrganisation.objects.select_for_update().get(pk=organisation_id)
        before = _snapshot(organisation, BRANDING_FIELDS)
        errors = {}
        for name, value in data.items():
            field = organisation._meta.get_field(name)
            try:
                setattr(organisation, name, field.clean(value, organisation))
            except ValidationError as error:
                errors[name] = error.messages
        if errors:
            raise ValidationError(errors)
        organisation.save(update_fields=list(data))
        record(actor=actor, action="organisation.branding_changed", obj=organisation,
               organisation=organisation, before=before,
               after=_snapshot(organisation, BRANDING_FIELDS), ip_address=ip_address)
        return organisation


# --- Offers: critical dates and special circumstances ------------------------------------------

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
    from django.db.models import Q, Value
    from django.db.models.functions import Replace, Upper

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




def extend_critical_date(offer_id, new_date: date, *, reason: str, actor,
                         booking_period_end: date | None = None, organisation=None,
                         ip_address=None, now=None) -> Offer:
    """Give the person longer to complete the course (the police agreed). Only later dates;
    a reason is required. An offer returned as expired becomes bookable again."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reason = (reason or "").strip()
    if not reason:
        raise _errors(reason=_("Enter the reason for the extension."))
    with transaction.atomic(durable=True):
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        if new_date <= offer.critical_date:
            raise _errors(critical_date=_("The new date must be after the current one, "
                                          "%(date)s.") % {
                "date": formats.date_format(offer.critical_date, "j F Y")})
        if new_date < today:
            raise _errors(critical_date=_("The new date must be today or later."))
        if booking_period_end is not None:
            if booking_period_end > new_date:
                raise _errors(booking_period_end=_("The booking period must end on or before "
                                                   "the new critical date."))
            if booking_period_end < offer.booking_period_end:
                raise _errors(booking_period_end=_("The booking period can only be extended."))
        before = {"critical_date": offer.critical_date.isoformat(),
                  "booking_period_end": offer.booking_period_end.isoformat(),
                  "status": offer.status}
        offer.critical_date = new_date
        if booking_period_end is not None:
            offer.booking_period_end = booking_period_end
        if offer.status == Offer.Status.EXPIRED:
            offer.status = Offer.Status.OFFERED
        offer.save(update_fields=["critical_date", "booking_period_end", "status",
                                  "updated_at"])
        after = {"critical_date": offer.critical_date.isoformat(),
                 "booking_period_end": offer.booking_period_end.isoformat(),
                 "status": offer.status, "reason": reason}
        log_event(offer, "offer.critical_date_extended", channel=ADMIN, actor=actor, now=now,
                  before=before, after=after)
        record(actor=actor, action="offer.critical_date_extended", obj=offer,
               organisation=organisation, before=before, after=after, ip_address=ip_address)
        return offer


def _case_after(case: SpecialCircumstancesCase) -> dict:
    return {"case": case.pk, "kind": case.kind, "status": case.status,
            "assigned_to": case.assigned_to, "decision_note": case.decision_note}


def raise_case(offer_id, *, kind: str, notes: str, actor, organisation=None, ip_address=None,
               now=None) -> SpecialCircumstancesCase:
    """Open a special-circumstances case. An offer waiting to be booked shows "special
    arrangement pending" until the case is decided."""
    now = now or timezone.now()
    notes = (notes or "").strip()
    if kind not in SpecialCircumstancesCase.Kind.values:
        raise _errors(kind=_("Select the kind of special circumstances."))
    if not notes:
        raise _errors(notes=_("Enter notes about the person's circumstances."))
    label, user_id = actor_label(actor)
    with transaction.atomic(durable=True):
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        if SpecialCircumstancesCase.objects.filter(
                offer=offer, status=SpecialCircumstancesCase.Status.OPEN).exists():
            raise _errors(kind=_("This offer already has an open case: add to that one."))
        case = SpecialCircumstancesCase.objects.create(
            offer=offer, kind=kind, notes=notes, raised_by=label, raised_by_user_id=user_id,
            offer_status_before=offer.status, created_at=now)
        before_status = offer.status
        if offer.status == Offer.Status.OFFERED:
            offer.status = Offer.Status.SPECIAL_ARRANGEMENT
            offer.save(update_fields=["status", "updated_at"])
        log_event(offer, "case.raised", channel=ADMIN, actor=actor, now=now,
                  before={"status": before_status},
                  after=dict(_case_after(case), notes=notes, offer_status=offer.status))
        record(actor=actor, action="case.raised", obj=case, organisation=organisation,
               after=dict(_case_after(case), notes=notes), ip_address=ip_address)
        return case


def case_assignees(organisation):
    """Who may take a case: active administrators at this client."""
    from accounts.models import User
    from accounts.roles import Role

    return (User.objects.filter(is_active=True, memberships__organisation=organisation,
                                memberships__role=Role.CLIENT_ADMIN,
                                memberships__is_active=True)
            .distinct().order_by("email"))


def _lock_open_case(case_id) -> SpecialCircumstancesCase:
    offer_id = SpecialCircumstancesCase.objects.values_list("offer_id", flat=True).get(pk=case_id)
    Offer.objects.select_for_update().filter(pk=offer_id).first()
    case = SpecialCircumstancesCase.objects.select_for_update(of=("self",)).select_related(
        "offer").get(pk=case_id)
    if case.status != SpecialCircumstancesCase.Status.OPEN:
        raise _errors(note=_("This case has already been decided."))
    return case


def assign_case(case_id, assignee_user_id, *, actor, organisation, ip_address=None,
                now=None) -> SpecialCircumstancesCase:
    now = now or timezone.now()
    assignee = case_assignees(organisation).filter(pk=assignee_user_id).first()
    if assignee is None:
        raise _errors(assignee=_("Choose an administrator of this client."))
    with transaction.atomic(durable=True):
        case = _lock_open_case(case_id)
        before = _case_after(case)
        case.assigned_to_user_id = assignee.pk
        case.assigned_to = assignee.email
        case.save(update_fields=["assigned_to_user_id", "assigned_to", "updated_at"])
        log_event(case.offer, "case.assigned", channel=ADMIN, actor=actor, now=now,
                  before=before, after=_case_after(case))
        record(actor=actor, action="case.assigned", obj=case, organisation=organisation,
               before=before, after=_case_after(case), ip_address=ip_address)
        return case


def decide_case(case_id, *, approve: bool, note: str, actor, organisation=None,
                ip_address=None, now=None) -> SpecialCircumstancesCase:
    """Approve with the arrangement agreed, or decline with the reason. The offer goes back to
    the status it had, so it can be booked (with the arrangement) again."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not note:
        raise _errors(note=_("Enter the arrangement agreed.") if approve
                      else _("Enter why the request is declined."))
    label, _user_id = actor_label(actor)
    with transaction.atomic(durable=True):
        case = _lock_open_case(case_id)
        before = _case_after(case)
        case.status = (SpecialCircumstancesCase.Status.APPROVED if approve
                       else SpecialCircumstancesCase.Status.DECLINED)
        case.decision_note = note
        case.decided_by = label
        case.decided_at = now
        case.save(update_fields=["status", "decision_note", "decided_by", "decided_at",
                                 "updated_at"])
        offer = case.offer
        offer_before = offer.status
        if offer.status == Offer.Status.SPECIAL_ARRANGEMENT:
            offer.status = case.offer_status_before or Offer.Status.OFFERED
            if offer.status == Offer.Status.OFFERED and offer.critical_date < timezone.localdate(
                    now):
                offer.status = Offer.Status.EXPIRED
            offer.save(update_fields=["status", "updated_at"])
        log_event(offer, "case.approved" if approve else "case.declined", channel=ADMIN,
                  actor=actor, now=now, before=dict(before, offer_status=offer_before),
                  after=dict(_case_after(case), offer_status=offer.status))
        record(actor=actor, action="case.approved" if approve else "case.declined", obj=case,
               organisation=organisation, before=before, after=_case_after(case),
               ip_address=ip_address)
        return case


# --- Staff ------------------------------------------------------------------------------------


def _staff_roles():
    from accounts.roles import CLIENT_ROLES

    return CLIENT_ROLES


def _lock_admins(organisation):
    from accounts.models import Membership
    from accounts.roles import Role

    return list(Membership.objects.select_for_update().filter(
        organisation=organisation, role=Role.CLIENT_ADMIN, is_active=True,
        user__is_active=True).order_by("pk"))


def _membership_after(membership) -> dict:
    return {"user": membership.user.email, "role": membership.role,
            "is_active": membership.is_active}


def invite_staff(organisation, *, email: str, full_name: str = "", role: str, actor,
                 ip_address=None):
    """Give someone a role at this client. A new person gets an account and an invitation to
    set their password (after commit); someone who already has an account just gains the
    role. Returns the membership."""
    from accounts.invitations import send_invitation
    from accounts.models import Membership, User

    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    if role not in _staff_roles():
        raise _errors(role=_("Choose a role from the list."))
    if not email:
        raise _errors(email=_("Enter the person's email address."))
    email_limit = User._meta.get_field("email").max_length
    if len(email) > email_limit:
        raise _errors(email=_("Email address must be %(limit_value)s characters or less")
                      % {"limit_value": email_limit})
    name_limit = User._meta.get_field("full_name").max_length
    if len(full_name) > name_limit:
        raise _errors(full_name=_("Full name must be %(limit)s characters or less")
                      % {"limit": name_limit})
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        new_user = user is None
        if new_user:
            user = User.objects.create_user(email=email, password=None, full_name=full_name)
        elif not user.is_active:
            raise _errors(email=_("That account has been closed. Ask the provider to reopen "
                                  "it."))
        membership = Membership.objects.filter(user=user, organisation=organisation,
                                               role=role).first()
        if membership is not None and membership.is_active:
            raise _errors(email=_("%(email)s already has that role here.") % {"email": email})
        if membership is None:
            membership = Membership.objects.create(user=user, organisation=organisation,
                                                   role=role)
        else:
            membership.is_active = True
            membership.save(update_fields=["is_active"])
        record(actor=actor, action="staff.invited", obj=membership, organisation=organisation,
               after=dict(_membership_after(membership), new_account=new_user),
               ip_address=ip_address)
        if new_user or not user.has_usable_password():
            transaction.on_commit(lambda: send_invitation(user, organisation=organisation,
                                                          invited_by=actor), robust=True)
        return membership


def change_role(membership_id, new_role: str, *, organisation, actor, ip_address=None):
    from accounts.models import Membership
    from accounts.roles import Role

    if new_role not in _staff_roles():
        raise _errors(role=_("Choose a role from the list."))
    with transaction.atomic(durable=True):
        admins = _lock_admins(organisation)
        membership = Membership.objects.select_for_update().select_related("user").get(
            pk=membership_id, organisation=organisation)
        if membership.role == new_role:
            raise _errors(role=_("That is already their role."))
        if Membership.objects.filter(user=membership.user, organisation=organisation,
                                     role=new_role).exists():
            raise _errors(role=_("They already have that role here."))
        if (membership.role == Role.CLIENT_ADMIN and membership.is_active
                and [m.pk for m in admins] == [membership.pk]):
            raise _errors(role=_("This is the only administrator: make someone else an "
                                 "administrator first."))
        before = _membership_after(membership)
        membership.role = new_role
        membership.save(update_fields=["role"])
        record(actor=actor, action="staff.role_changed", obj=membership,
               organisation=organisation, before=before, after=_membership_after(membership),
               ip_address=ip_address)
        return membership


def set_staff_active(user_id, active: bool, *, organisation, actor, ip_address=None) -> int:
    """Deactivate (or reactivate) every role a person has at this client. Their account and
    their roles elsewhere are untouched. Returns how many roles changed."""
    from accounts.models import Membership
    from accounts.roles import Role

    with transaction.atomic(durable=True):
        admins = _lock_admins(organisation)
        memberships = list(Membership.objects.select_for_update().select_related("user")
                           .filter(user_id=user_id, organisation=organisation).order_by("pk"))
        if not memberships:
            raise Membership.DoesNotExist
        if not active:
            if getattr(actor, "pk", None) == user_id:
                raise _errors(confirm=_("You cannot deactivate your own account."))
            remaining = [m for m in admins if m.user_id != user_id]
            if any(m.role == Role.CLIENT_ADMIN for m in memberships if m.is_active) \
                    and not remaining:
                raise _errors(confirm=_("This is the only administrator: make someone else an "
                                        "administrator first."))
        changed = [m for m in memberships if m.is_active != active]
        for membership in changed:
            before = _membership_after(membership)
            membership.is_active = active
            membership.save(update_fields=["is_active"])
            record(actor=actor, action="staff.reactivated" if active else "staff.deactivated",
                   obj=membership, organisation=organisation, before=before,
                   after=_membership_after(membership), ip_address=ip_address)
        return len(changed)


# --- Correspondence templates ------------------------------------------------------------------

PLACEHOLDERS = {
    "first_name": _("The person's first name"),
    "offer_reference": _("The offer reference"),
    "booking_reference": _("The booking reference"),
    "course_name": _("The course's name"),
    "course_date": _("The course date, like Monday 7 December 2026"),
    "start_time": _("The start time, like 09:30"),
    "venue": _("The venue and its address, or Online"),
    "joining_url": _("The joining link of an online course"),
    "client_name": _("Your name on the site"),
    "contact_phone": _("Your contact phone number"),
    "contact_email": _("Your contact email address"),
    "manage_url": _("The link to manage the booking"),
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")


def _check_placeholders(text: str, field: str) -> None:
    unknown = sorted(set(_PLACEHOLDER.findall(text or "")) - set(PLACEHOLDERS))
    if unknown:
        raise _errors(**{field: _("%(names)s is not a placeholder we know. Use only the "
                                  "placeholders listed.") % {
            "names": ", ".join("{" + name + "}" for name in unknown)}})


def fill_placeholders(text: str, values: dict) -> str:
    """{name} → its value; anything else is left as written."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values
                            else m.group(0), text or "")


def sample_values(organisation, language: str) -> dict:
    """Example values for previews, in the client's own details."""
    start = timezone.localtime() + timedelta(days=14)
    return {
        "first_name": "Sam", "offer_reference": "ESX-123456", "booking_reference": "7KQ2M9XB",
        "course_name": CourseType.objects.filter(is_active=True).first().name(language)
        if CourseType.objects.filter(is_active=True).exists() else "National Speed Awareness",
        "course_date": formats.date_format(start, "l j F Y"),
        "start_time": "09:30", "venue": "County Hall, Market Road, Chelmsford CM1 1QH",
        "joining_url": "https://meet.example/abc-defg",
        "client_name": organisation.display_name(language),
        "contact_phone": organisation.contact_phone, "contact_email": organisation.contact_email,
        "manage_url": "https://example/manage/",
    }


def _template_after(template) -> dict:
    return {"kind": template.kind, "language": template.language, "subject": template.subject,
            "body": template.body}


def save_correspondence_template(kind: str, language: str, *, subject: str, body: str, actor,
                                 organisation=None, ip_address=None):
    """The client's own wording for one message in one language (created or replaced)."""
    from booking.models import CorrespondenceTemplate, Language

    if kind not in CorrespondenceTemplate.Kind.values or language not in Language.values:
        raise ValueError("unknown message or language")
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not subject:
        raise _errors(subject=_("Enter the subject line."))
    if not body:
        raise _errors(body=_("Enter the message."))
    _check_placeholders(subject, "subject")
    _check_placeholders(body, "body")
    label, _user_id = actor_label(actor)
    with transaction.atomic(durable=True):
        template = (CorrespondenceTemplate.objects.select_for_update()
                    .filter(kind=kind, language=language).first())
        before = _template_after(template) if template else None
        if template is None:
            template = CorrespondenceTemplate(kind=kind, language=language)
        template.subject, template.body, template.updated_by = subject, body, label
        _full_clean(template, exclude=["kind", "language"])
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError:
            raise _errors(body=_("Someone saved this message just now. Check it and save "
                                 "again.")) from None
        record(actor=actor, action="correspondence.saved", obj=template,
               organisation=organisation, before=before, after=_template_after(template),
               ip_address=ip_address)
        return template


def reset_correspondence_template(kind: str, language: str, *, actor, organisation=None,
                                  ip_address=None) -> bool:
    """Back to the standard wording. Returns whether there was anything to remove."""
    from booking.models import CorrespondenceTemplate

    with transaction.atomic(durable=True):
        template = (CorrespondenceTemplate.objects.select_for_update()
                    .filter(kind=kind, language=language).first())
        if template is None:
            return False
        record(actor=actor, action="correspondence.reset", obj=template,
               organisation=organisation, before=_template_after(template),
               ip_address=ip_address)
        template.delete()
        return True


def custom_correspondence(message: str, language: str, values: dict) -> tuple[str, str] | None:
    """(subject, body) in the client's own wording for a message (booking.notifications'
    names: "booking_confirmation", "reminder_7", …), filled in; None for the standard one."""
    from booking.models import CorrespondenceTemplate

    kind = "reminder" if message.startswith("reminder") else message
    template = CorrespondenceTemplate.objects.filter(
        kind=kind, language="cy" if (language or "").startswith("cy") else "en").first()
    if template is None:
        return None
    return fill_placeholders(template.subject, values), fill_placeholders(template.body, values)
