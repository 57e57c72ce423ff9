"""The client's catalogue: course types, venues, trainers and their time away, and the national
NDORS course types a new client starts from.

Every change is one durable transaction with a keyword-only `actor` that writes its audit row
(audit.services.record) inside it; problems are a ValidationError keyed by the form field.
"""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from audit.services import record
from booking.models import (
    CourseSession,
    CourseType,
    DeliveryMode,
    Trainer,
    TrainerAbsence,
    Venue,
)
from integrations import postcodes
from tenants.opening_hours import DAYS

from .editing import field_errors, open_for_change, snapshot
from .sessions import session_when, session_where

# --- The national catalogue ---------------------------------------------------------------------

# Fees are typical figures the client administrator adjusts: the provider's part plus the police
# cost-recovery part (£45 per the national fee guidance); NDORS course fees are outside the scope
# of VAT.
NATIONAL_COURSE_TYPES = [
    {
        "code": "NSAC",
        "name_en": "National Speed Awareness Course",
        "name_cy": "Cwrs Ymwybyddiaeth Cyflymder Cenedlaethol",
        "duration_minutes": 165,
        "delivery_modes": ["classroom", "online"],
        "eligibility_family": "speed",
        "provider_fee_pence": 5000,
        "police_cost_recovery_pence": 4500,
    },
    {
        "code": "NMAC",
        "name_en": "National Motorway Awareness Course",
        "name_cy": "Cwrs Ymwybyddiaeth Traffyrdd Cenedlaethol",
        "duration_minutes": 165,
        "delivery_modes": ["classroom", "online"],
        "eligibility_family": "motorway",
        "provider_fee_pence": 5500,
        "police_cost_recovery_pence": 4500,
    },
    {
        "code": "NDAC",
        "name_en": "National Driver Alertness Course",
        "name_cy": "",
        "duration_minutes": 270,
        "delivery_modes": ["classroom", "online"],
        "eligibility_family": "alertness",
        "provider_fee_pence": 13500,
        "police_cost_recovery_pence": 4500,
    },
    {
        "code": "WDU",
        "name_en": "What's Driving Us?",
        "name_cy": "Beth sy'n ein Gyrru Ni?",
        "duration_minutes": 210,
        "delivery_modes": ["classroom", "online"],
        "eligibility_family": "attitude",
        "provider_fee_pence": 9000,
        "police_cost_recovery_pence": 4500,
    },
    {
        "code": "D4C",
        "name_en": "Driving for Change",
        "name_cy": "",
        "duration_minutes": 240,
        "delivery_modes": ["classroom", "practical"],
        "eligibility_family": "driving_standards",
        "provider_fee_pence": 12000,
        "police_cost_recovery_pence": 4500,
    },
    {
        "code": "RiDE",
        "name_en": "RIDE (Rider Intervention Developing Experience)",
        "name_cy": "",
        "duration_minutes": 240,
        "delivery_modes": ["classroom"],
        "eligibility_family": "motorcycle",
        "provider_fee_pence": 12000,
        "police_cost_recovery_pence": 4500,
    },
]


def add_national_course_types(sender, organisation, **kwargs) -> None:
    """A new client starts with the national course types. Receiver of
    tenants.signals.client_schema_created: in the new client's schema, inside onboarding's
    transaction."""
    CourseType.objects.bulk_create(CourseType(**row) for row in NATIONAL_COURSE_TYPES)


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
        raise field_errors(delivery_modes=_("Select at least one way the course is delivered."))
    if any(mode not in DeliveryMode.values for mode in modes):
        raise field_errors(delivery_modes=_("Select delivery modes from the list."))
    data = dict(data, delivery_modes=modes)
    with transaction.atomic(durable=True):
        course_type, before = open_for_change(
            CourseType, course_type_id, data, lambda row: snapshot(row, COURSE_TYPE_FIELDS))
        try:
            with transaction.atomic():
                course_type.save()
        except IntegrityError as error:
            raise field_errors(code=_("A course type with this code already exists.")) from error
        record(actor=actor, action="course_type.created" if before is None
               else "course_type.changed", obj=course_type, organisation=organisation,
               before=before, after=snapshot(course_type, COURSE_TYPE_FIELDS),
               ip_address=ip_address)
        return course_type


# --- Venues ------------------------------------------------------------------------------------

VENUE_FIELDS = (
    "name", "name_cy", "address", "town", "postcode", "latitude", "longitude", "capacity", "step_free",
    "hearing_loop", "parking", "directions_en", "directions_cy", "is_active",
)


def save_venue(venue_id, data: dict, *, actor, organisation=None, ip_address=None) -> Venue:
    """Create or change a venue. The postcode is placed with integrations.postcodes (no network);
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
        venue, before = open_for_change(Venue, venue_id, data,
                                        lambda row: snapshot(row, VENUE_FIELDS))
        venue.save()
        record(actor=actor, action="venue.created" if before is None else "venue.changed",
               obj=venue, organisation=organisation, before=before,
               after=snapshot(venue, VENUE_FIELDS), ip_address=ip_address)
        return venue


# --- Trainers ----------------------------------------------------------------------------------

TRAINER_FIELDS = ("full_name", "email", "user_id", "is_active", "working_days")


def _trainer_snapshot(trainer: Trainer) -> dict:
    data = snapshot(trainer, TRAINER_FIELDS)
    data["course_types"] = sorted(trainer.course_types.values_list("code", flat=True))
    return data


def trainer_logins(organisation):
    """Users who may be linked to a trainer: active trainers at this client."""
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
        raise field_errors(user_id=_("Choose a staff account that has the trainer role here."))
    if "working_days" in data:
        days = [day for day in DAYS if day in set(data["working_days"] or [])]
        if not days or len(days) != len(set(data["working_days"])):
            raise field_errors(working_days=_("Select the days of the week the trainer works."))
        data = dict(data, working_days=days)
    with transaction.atomic(durable=True):
        trainer, before = open_for_change(Trainer, trainer_id, data, _trainer_snapshot)
        if user_id is not None and Trainer.objects.filter(user_id=user_id).exclude(
                pk=trainer.pk).exists():
            raise field_errors(user_id=_("That staff account is already linked to another trainer."))
        course_types = list(CourseType.objects.filter(pk__in=list(course_type_ids or [])))
        trainer.save()
        trainer.course_types.set(course_types)
        record(actor=actor, action="trainer.created" if before is None else "trainer.changed",
               obj=trainer, organisation=organisation, before=before,
               after=_trainer_snapshot(trainer), ip_address=ip_address)
        return trainer


def add_trainer_absence(trainer_id, first_day: date, last_day: date, reason: str = "", *, actor,
                        organisation=None, ip_address=None) -> TrainerAbsence:
    """Time away for a trainer. Refused while they are down to teach in it: move those dates
    to another trainer first, so no course is left without one."""
    if last_day < first_day:
        raise field_errors(last_day=_("The last day must be on or after the first day."))
    with transaction.atomic(durable=True):
        trainer = Trainer.objects.select_for_update().get(pk=trainer_id)
        start = timezone.make_aware(datetime.combine(first_day, time.min))
        end = timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))
        teaching = (CourseSession.objects.select_related("course_type", "venue")
                    .filter(trainers=trainer, status=CourseSession.Status.SCHEDULED,
                            starts_at__gte=start, starts_at__lt=end).order_by("starts_at").first())
        if teaching is not None:
            raise field_errors(first_day=_(
                "%(trainer)s is teaching %(course)s on %(when)s (%(where)s). Give that date "
                "another trainer first.") % {"trainer": trainer.full_name,
                                             "course": teaching.course_type.code,
                                             "when": session_when(teaching), "where": session_where(teaching)})
        absence = TrainerAbsence(trainer=trainer, first_day=first_day, last_day=last_day,
                                 reason=(reason or "").strip())
        absence.full_clean()
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
