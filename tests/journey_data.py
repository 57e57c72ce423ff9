"""Data for journey tests: a venue near Chelmsford, dates of the offer's course, an offer."""

from datetime import date, timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import CourseType, Venue
from booking.services.catalogue import NATIONAL_COURSE_TYPES

from .factories import CourseSessionFactory, OfferFactory, VenueFactory, complete_setup


def make_journey_data(organisation, *, reference="ESX-100001", fee_pence=None, language="en",
                      postcode="CM1 1QH", welsh_sessions=False):
    """Returns (offer, [sessions]) in the organisation's schema. fee_pence=0 makes the
    course free so a booking confirms without payment."""
    now = timezone.now()
    with schema_context(organisation.schema_name):
        nsac = CourseType.objects.get(code="NSAC")
        # Set every time: a transactional test's flush leaves client schemas as they were, so a
        # free course an earlier test made would otherwise stay free for the next one.
        if fee_pence is None:
            national = next(c for c in NATIONAL_COURSE_TYPES if c["code"] == "NSAC")
            nsac.provider_fee_pence = national["provider_fee_pence"]
            nsac.police_cost_recovery_pence = national["police_cost_recovery_pence"]
        else:
            nsac.provider_fee_pence, nsac.police_cost_recovery_pence = fee_pence, 0
        nsac.save()
        # One County Hall however many offers a test makes.
        venue = Venue.objects.filter(name="County Hall").first() or VenueFactory(
            name="County Hall", address="Market Road\nChelmsford", postcode="CM1 1QH",
            step_free=True, directions_en="")
        sessions = []
        for days, mode, lang in ((10, "classroom", "en"), (12, "classroom", "en"),
                                 (14, "online", "en"),
                                 (16, "classroom", "cy" if welsh_sessions else "en")):
            start = (now + timedelta(days=days)).replace(hour=9, minute=30, second=0,
                                                         microsecond=0)
            sessions.append(CourseSessionFactory(
                course_type=nsac, delivery_mode=mode, starts_at=start,
                ends_at=start + timedelta(hours=3), language=lang,
                **({"joining_url": "https://meet.example/abc"} if mode == "online"
                   else {"venue": venue})))
        # A live client's site: the set-up checklist is done, so the journey takes bookings.
        complete_setup(organisation, course_type=nsac)
        # The UK date the services judge by, not the machine's own date.
        offer = OfferFactory(reference=reference, course_type=nsac, today=timezone.localdate(now),
                             booking_period_in=30, date_of_birth=date(1985, 3, 27),
                             postcode=postcode, language=language)
    return offer, sessions
