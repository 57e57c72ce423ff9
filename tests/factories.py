"""The one way the tests make what a client's schema holds: course types (looked up), venues,
trainers, course dates and offers with factory-boy, and bookings through the real services
(`book_offer`), never by writing Booking rows.

Use them inside a client's schema (connection.set_tenant or schema_context). Dates count from
today in UK time, the date the services judge by; pass `today` or `starts_at` to move them."""

from datetime import date, datetime, time, timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from booking.models import (
    Booking,
    Channel,
    CourseSession,
    CourseType,
    DeliveryMode,
    Offer,
    Trainer,
    Venue,
)
from booking.models.offers import phone_e164
from booking.services.bookings import ContactDetails, FeeWaiver, book, place_hold

STAFF = "agent@essex.test"
# Staff bookings in tests are confirmed at once with the fee waived, as an administrator may.
STAFF_WAIVER = FeeWaiver("Booked by staff in a test: fee waived")


def local_at(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware datetime at a Europe/London wall-clock time."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def days_from_today(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


class CourseTypeFactory(DjangoModelFactory):
    """A course type by its code: the national ones every client has from onboarding are looked
    up (NSAC by default); another code makes a course type of the client's own."""

    class Meta:
        model = CourseType
        django_get_or_create = ("code",)

    code = "NSAC"
    name_en = factory.LazyAttribute(lambda o: f"{o.code} course")
    duration_minutes = 165
    delivery_modes = factory.LazyFunction(lambda: [DeliveryMode.CLASSROOM, DeliveryMode.ONLINE])
    eligibility_family = factory.LazyAttribute(lambda o: o.code.lower())
    provider_fee_pence = 0
    police_cost_recovery_pence = 0


class VenueFactory(DjangoModelFactory):
    class Meta:
        model = Venue

    name = factory.Sequence(lambda n: f"Civic Centre {n}")
    address = "Duke Street\nCivic Centre"
    town = "Chelmsford"
    postcode = "CM1 1JE"
    latitude = 51.7356
    longitude = 0.4685
    capacity = 24
    directions_en = "Use the main entrance."


class TrainerFactory(DjangoModelFactory):
    class Meta:
        model = Trainer
        skip_postgeneration_save = True

    full_name = factory.Sequence(lambda n: f"Terry Trainer {n}")
    email = factory.Sequence(lambda n: f"trainer{n}@essex.test")

    @factory.post_generation
    def course_types(self, create, extracted, **kwargs):
        if create and extracted:
            self.course_types.set(extracted)


class CourseSessionFactory(DjangoModelFactory):
    """A course date ten days ahead, at a new venue unless it is online; it lasts as long as
    its course."""

    class Meta:
        model = CourseSession
        skip_postgeneration_save = True

    course_type = factory.SubFactory(CourseTypeFactory)
    delivery_mode = DeliveryMode.CLASSROOM
    venue = factory.Maybe(factory.LazyAttribute(lambda o: o.delivery_mode == DeliveryMode.ONLINE),
                          yes_declaration=None, no_declaration=factory.SubFactory(VenueFactory))
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=10))
    ends_at = factory.LazyAttribute(
        lambda o: o.starts_at + timedelta(minutes=o.course_type.duration_minutes))
    capacity = 20

    @factory.post_generation
    def trainers(self, create, extracted, **kwargs):
        if create and extracted:
            self.trainers.set(extracted)


class OfferFactory(DjangoModelFactory):
    """Sam Driver's offer of NSAC: 20 days since the offence, 60 days to complete the course,
    booking open until then (or for `booking_period_in` days)."""

    class Meta:
        model = Offer

    class Params:
        today = factory.LazyFunction(timezone.localdate)
        critical_in = 60
        booking_period_in = None
        offence_days_ago = 20

    reference = factory.Sequence(lambda n: f"OFR-{n:06d}")
    course_type = factory.SubFactory(CourseTypeFactory)
    offence_date = factory.LazyAttribute(lambda o: o.today - timedelta(days=o.offence_days_ago))
    critical_date = factory.LazyAttribute(lambda o: o.today + timedelta(days=o.critical_in))
    booking_period_end = factory.LazyAttribute(
        lambda o: o.critical_date if o.booking_period_in is None
        else o.today + timedelta(days=o.booking_period_in))
    first_name = "Sam"
    last_name = "Driver"
    date_of_birth = date(1985, 3, 27)
    postcode = "CM1 1QH"
    phone = ""
    # As Offer.set_phone keeps it.
    phone_e164 = factory.LazyAttribute(lambda o: phone_e164(o.phone))


def book_offer(offer: Offer, session: CourseSession, *, channel: str = Channel.ADMIN,
               actor=STAFF, now: datetime | None = None, hold: bool | None = None,
               details: ContactDetails | None = None, waived: bool | None = None) -> Booking:
    """Book through the services. The person's own booking (and, with hold=True, anyone's)
    holds the seat first, as the journey does; staff book the date directly. A free booking,
    or one whose fee is waived (an administrator's, unless waived=False), confirms at once;
    any other waits for payment."""
    if hold is None:
        hold = channel == Channel.ONLINE
    if waived is None:
        waived = channel == Channel.ADMIN
    waiver = STAFF_WAIVER if waived else None
    if hold:
        place_hold(offer.pk, session.pk, channel=channel, actor=actor, now=now)
        return book(offer.pk, channel=channel, actor=actor, details=details, waiver=waiver,
                    now=now)
    return book(offer.pk, session_id=session.pk, channel=channel, actor=actor, details=details,
                waiver=waiver, now=now)


def make_booking(session: CourseSession, *, email: str = "sam@example.test",
                 language: str = "en", channel: str = Channel.ADMIN, offer: Offer | None = None,
                 booked_days_ago: int = 20) -> Booking:
    """A booking made `booked_days_ago` days ago, with a seat held first, by a new offer of
    the session's course unless one is given (with this e-mail address and language)."""
    offer = offer or OfferFactory(course_type=session.course_type, language=language)
    return book_offer(offer, session, channel=channel,
                      actor=STAFF if channel == Channel.ADMIN else "offender",
                      now=timezone.now() - timedelta(days=booked_days_ago), hold=True,
                      details=ContactDetails(email=email, language=language))


def complete_setup(organisation, *, course_type: CourseType | None = None) -> None:
    """What the set-up checklist needs before the public site takes bookings: a merchant account
    that can take charges, an active course type, a venue, a trainer and a date ahead. Tests of
    the public journey start here, as a live client's site would; run inside the schema."""
    from tenants.models import ClientOrganisation

    if not (organisation.stripe_account_id and organisation.stripe_charges_enabled):
        account = organisation.stripe_account_id or \
            f"acct_test_{organisation.slug.replace('-', '_')}"
        ClientOrganisation.objects.filter(pk=organisation.pk).update(
            stripe_account_id=account, stripe_charges_enabled=True)
        organisation.stripe_account_id, organisation.stripe_charges_enabled = account, True
    course_type = course_type or CourseType.objects.filter(is_active=True).first() \
        or CourseType.objects.get(code="NSAC")
    if not Trainer.objects.filter(is_active=True).exists():
        TrainerFactory(course_types=[course_type])
    if not CourseSession.objects.filter(status=CourseSession.Status.SCHEDULED,
                                        starts_at__gt=timezone.now()).exists():
        CourseSessionFactory(course_type=course_type)
