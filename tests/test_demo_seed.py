"""The demo seed (booking/demo.py): idempotent, every status present, Welsh only where it
belongs, and the documented demo offers really bookable."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone
from django_tenants.utils import schema_context

import booking.demo
from booking.demo import CLIENTS, demo_counts, seed_client_demo
from booking.models import Booking, CourseSession, Hold, Language, Offer, OfferEvent
from booking.services.bookings import book, place_hold
from booking.services.offers import find_offer
from booking.services.search import search_sessions
from tenants.models import ClientOrganisation

OUTCOME_STATUSES = ("completed", "did_not_attend", "refused_entry", "not_completed")


def assert_seats_consistent(now):
    """seats_booked is exactly the confirmed (or attended) bookings, and no course date has
    more confirmed bookings plus live holds than seats."""
    counted = Q(bookings__status__in=("confirmed", *OUTCOME_STATUSES))
    mismatched = (CourseSession.objects.annotate(n=Count("bookings", filter=counted))
                  .exclude(seats_booked=F("n")))
    assert not mismatched.exists()
    for session in CourseSession.objects.all():
        live = Hold.objects.filter(session=session, expires_at__gt=now).count()
        assert session.seats_booked + live <= session.capacity


def test_essex_seed_is_idempotent_complete_and_bookable(essex):
    today = timezone.localdate()
    first = seed_client_demo(essex, today=today)
    with schema_context(essex.schema_name):
        events_after_first = list(OfferEvent.objects.values_list("pk", flat=True))
    second = seed_client_demo(essex, today=today)

    # Running it again adds (and changes) nothing.
    assert second["counts"] == first["counts"]
    assert second["demo_offers"] == first["demo_offers"]

    with schema_context(essex.schema_name):
        assert list(OfferEvent.objects.values_list("pk", flat=True)) == events_after_first
        counts = demo_counts()
        assert counts["offers"] == 305 and counts["venues"] == 6 and counts["trainers"] == 6
        # Offers and bookings in every status there is.
        assert set(counts["offers_by_status"]) == set(Offer.Status.values)
        assert set(counts["bookings_by_status"]) == set(Booking.Status.values)
        # English only: no Welsh-language course dates in essex.
        assert counts["welsh_sessions"] == 0
        assert not CourseSession.objects.filter(language=Language.WELSH).exists()
        # At least one online NSAC date every week of the six, with a joining link.
        online = CourseSession.objects.filter(
            course_type__code="NSAC", delivery_mode="online",
            status=CourseSession.Status.SCHEDULED)
        weeks = {timezone.localdate(s.starts_at).isocalendar()[:2] for s in online}
        assert len(weeks) >= 6
        assert not online.filter(Q(joining_url="") | Q(venue__isnull=False)).exists()
        scheduled = CourseSession.objects.filter(status=CourseSession.Status.SCHEDULED)
        assert not scheduled.filter(starts_at__lt=timezone.now() + timedelta(days=2)).exists()
        assert all(20 <= s.capacity <= 24 for s in scheduled)
        assert_seats_consistent(timezone.now())
        # Past course dates are completed and carry the outcomes.
        assert not Booking.objects.filter(
            status__in=OUTCOME_STATUSES).exclude(
            session__status=CourseSession.Status.COMPLETED).exists()

        # The documented demo offers: findable and bookable, online and near their postcode.
        assert [o["reference"] for o in first["demo_offers"]] == [
            f"ESX-DEMO-00{n}" for n in range(1, 6)]
        for row in first["demo_offers"]:
            offer = find_offer(row["reference"], row["date_of_birth"], row["postcode"])
            assert offer is not None and offer.status == Offer.Status.OFFERED
            assert offer.critical_date >= today + timedelta(weeks=8)
            assert offer.booking_period_end >= today + timedelta(weeks=4)
        demo = find_offer("ESX-DEMO-001", first["demo_offers"][0]["date_of_birth"])
        online_options = search_sessions(demo, online=True)
        near = search_sessions(demo, near_postcode=demo.postcode, sort="distance")
        assert online_options and all(o.session.is_online for o in online_options)
        assert near and all(o.distance_km is not None and o.distance_km < 80 for o in near)
        place_hold(demo.pk, near[0].session.pk, channel="online", actor="offender")
        booking = book(demo.pk, channel="online", actor="offender")
        assert booking.status == Booking.Status.PENDING_PAYMENT


def test_south_wales_seed_has_welsh_dates_and_stays_in_its_schema(south_wales, essex):
    result = seed_client_demo(south_wales)
    with schema_context(south_wales.schema_name):
        counts = demo_counts()
        assert counts["welsh_sessions"] > 0
        welsh = CourseSession.objects.filter(language=Language.WELSH,
                                             status=CourseSession.Status.SCHEDULED)
        assert welsh.filter(delivery_mode="online").exists()
        assert welsh.exclude(delivery_mode="online").exists()
        # Every Welsh date has a trainer (a Welsh speaker in the demo's list).
        welsh_trainers = {t.email for t in CLIENTS["south-wales"]["trainers"] if t.welsh}
        for session in welsh:
            emails = set(session.trainers.values_list("email", flat=True))
            assert emails and emails <= welsh_trainers
        assert Offer.objects.filter(language=Language.WELSH).count() >= 10
        assert set(counts["offers_by_status"]) == set(Offer.Status.values)
        # A Welsh demo offer finds Welsh-language dates.
        row = next(r for r in result["demo_offers"] if r["language"] == "cy")
        offer = find_offer(row["reference"], row["date_of_birth"])
        assert search_sessions(offer, welsh_only=True, near_postcode=offer.postcode)
        assert search_sessions(offer, welsh_only=True, online=True)
    # Nothing leaked into the other client's schema.
    with schema_context(essex.schema_name):
        assert not Offer.objects.exists() and not CourseSession.objects.exists()
    connection.set_schema_to_public()


def test_the_docstring_lists_the_demo_offers_as_seeded():
    """The README copies the list from the module docstring: keep them the same."""
    doc = booking.demo.__doc__
    for data in CLIENTS.values():
        for spec in data["demo_offers"]:
            line = next((line for line in doc.splitlines() if spec.reference in line), "")
            assert spec.date_of_birth.isoformat() in line, spec.reference
            assert spec.postcode in line and spec.course_type in line, spec.reference


def test_only_demo_clients_can_be_seeded():
    with pytest.raises(ValueError, match="No demo data"):
        seed_client_demo(ClientOrganisation(slug="somewhere-else", schema_name="client_x"))


def test_seeding_again_keeps_what_people_typed_and_only_moves_the_dates(essex):
    from booking.services.bookings import ContactDetails

    yesterday = timezone.localdate() - timedelta(days=1)
    seed_client_demo(essex, today=yesterday)
    with schema_context(essex.schema_name):
        waiting = Offer.objects.get(reference="ESX-DEMO-002")
        session = search_sessions(waiting)[0].session
        place_hold(waiting.pk, session.pk, channel="online", actor="offender")
        # The person gives a new e-mail address and books; the payment has not come yet.
        book(waiting.pk, channel="online", actor="offender",
             details=ContactDetails(email="jordan.new@example.com", phone="07700 900123"))
        # Staff corrected another offer's phone number (no feed value is theirs to restore).
        Offer.objects.filter(reference="ESX-DEMO-003").update(phone="01632 960 001")
        critical_before = Offer.objects.get(reference="ESX-DEMO-003").critical_date

    seed_client_demo(essex)  # `make run` the next day

    with schema_context(essex.schema_name):
        waiting = Offer.objects.get(reference="ESX-DEMO-002")
        assert (waiting.email, waiting.phone) == ("jordan.new@example.com", "07700 900123")
        assert waiting.bookings.get().status == Booking.Status.PENDING_PAYMENT
        other = Offer.objects.get(reference="ESX-DEMO-003")
        assert other.phone == "01632 960 001"
        assert other.critical_date == critical_before + timedelta(days=1)  # the dates moved
        # Nothing the feed sent disagreed with the person: only the dates were sent again.
        assert not OfferEvent.objects.filter(kind="offer.import_conflict").exists()
