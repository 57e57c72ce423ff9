"""Data for journey tests: a venue near Chelmsford, dates of the offer's course, an offer."""

from datetime import date, timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import CourseSession, CourseType, Offer, Venue


def make_journey_data(organisation, *, reference="ESX-100001", fee_pence=None, language="en",
                      postcode="CM1 1QH", welsh_sessions=False):
    """Returns (offer, [sessions]) in the organisation's schema. fee_pence=0 makes the
    course free so a booking confirms without payment."""
    now = timezone.now()
    with schema_context(organisation.schema_name):
        nsac = CourseType.objects.get(code="NSAC")
        if fee_pence is not None:
            nsac.provider_fee_pence, nsac.police_cost_recovery_pence = fee_pence, 0
            nsac.save()
        venue, _ = Venue.objects.get_or_create(
            name="County Hall", defaults=dict(
                address="Market Road\nChelmsford", town="Chelmsford", postcode="CM1 1QH",
                latitude=51.7356, longitude=0.4685, capacity=24, step_free=True))
        sessions = []
        for days, mode, lang in ((10, "classroom", "en"), (12, "classroom", "en"),
                                 (14, "online", "en"),
                                 (16, "classroom", "cy" if welsh_sessions else "en")):
            start = (now + timedelta(days=days)).replace(hour=9, minute=30, second=0,
                                                         microsecond=0)
            sessions.append(CourseSession.objects.create(
                course_type=nsac, venue=None if mode == "online" else venue, delivery_mode=mode,
                starts_at=start, ends_at=start + timedelta(hours=3), capacity=20, language=lang,
                joining_url="https://meet.example/abc" if mode == "online" else ""))
        # The UK date the services judge by, not the machine's own date.
        today = timezone.localdate(now)
        offer = Offer.objects.create(
            reference=reference, course_type=nsac, offence_date=today - timedelta(days=20),
            booking_period_end=today + timedelta(days=30),
            critical_date=today + timedelta(days=60), first_name="Sam", last_name="Driver",
            date_of_birth=date(1985, 3, 27), postcode=postcode, language=language,
        )
    return offer, sessions
