"""Registers: trainers record outcomes and the ID seen; a printable register."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from booking.models import Booking, Offer, OfferEvent

from ..factories import book_offer
from .conftest import get, make_offer, post


@pytest.fixture
def trainer(staff, client):
    client.force_login(staff[Role.TRAINER])
    return staff[Role.TRAINER]


def register_url(session):
    return f"/manage/registers/{session.pk}/"


def field(booking, name):
    return f"b{booking.pk}-{name}"


def test_register_lists_attendees_with_access_requirements(world, trainer, client):
    page = get(client, register_url(world["started"])).content.decode()
    assert "Sam Driver" in page and "A hearing loop" in page
    assert f'name="{field(world["booking"], "outcome")}"' in page
    assert "Outcome for Sam Driver" in page


def test_trainer_records_completed_with_the_id_seen(world, trainer, client):
    booking = world["booking"]
    response = post(client, register_url(world["started"]), {
        field(booking, "outcome"): "completed", field(booking, "id_seen"): "photocard_licence",
        field(booking, "note"): "Good"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "completed"
    assert Offer.objects.get(pk=booking.offer_id).status == "completed"
    event = OfferEvent.objects.get(booking=booking, kind="booking.outcome_recorded")
    assert event.after["id_seen"] == "photocard_licence" and event.actor_user_id == trainer.pk
    # The register shows what was recorded; saving it again unchanged records nothing more.
    page = get(client, register_url(world["started"])).content.decode()
    assert 'value="completed" selected' in page and "Photocard driving licence" in page
    post(client, register_url(world["started"]), {
        field(booking, "outcome"): "completed", field(booking, "id_seen"): "photocard_licence",
        field(booking, "note"): "Good"})
    assert OfferEvent.objects.filter(booking=booking,
                                     kind="booking.outcome_recorded").count() == 1


def test_refused_entry_for_no_id_and_for_lateness(world, trainer, client):
    late_offer = make_offer("ESX-700001", last_name="Late")
    late = book_offer(late_offer, world["started"], channel="admin", actor="setup",
                      now=timezone.now() - timedelta(days=5))
    booking = world["booking"]
    post(client, register_url(world["started"]), {
        field(booking, "outcome"): "refused_no_id", field(booking, "id_seen"): "",
        field(late, "outcome"): "refused_late", field(late, "id_seen"): "passport"})
    booking.refresh_from_db()
    late.refresh_from_db()
    assert booking.status == late.status == "refused_entry"
    assert OfferEvent.objects.get(booking=booking, kind="booking.outcome_recorded"
                                  ).after["id_seen"] == "none"
    page = get(client, register_url(world["started"])).content.decode()
    assert 'value="refused_no_id" selected' in page and 'value="refused_late" selected' in page


def test_completed_needs_the_id_and_errors_name_the_person(world, trainer, client):
    booking = world["booking"]
    response = post(client, register_url(world["started"]), {
        field(booking, "outcome"): "completed", field(booking, "id_seen"): ""})
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page and f'href="#id_{field(booking, "id_seen")}"' in page
    assert "Sam Driver: Record the ID seen" in page
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_bad_outcome_is_an_error_not_a_crash(world, trainer, client):
    booking = world["booking"]
    response = post(client, register_url(world["started"]),
                    {field(booking, "outcome"): "teleported"})
    assert response.status_code == 200 and b"govuk-error-summary" in response.content


def test_no_outcomes_before_the_course_starts(world, trainer, client):
    upcoming = world["upcoming"]
    offer = make_offer("ESX-700002")
    future = book_offer(offer, upcoming, channel="admin", actor="setup")
    page = get(client, register_url(upcoming)).content.decode()
    assert "Outcomes can be recorded once the course has started" in page
    assert f'name="{field(future, "outcome")}"' not in page
    post(client, register_url(upcoming), {field(future, "outcome"): "completed",
                                          field(future, "id_seen"): "passport"})
    assert Booking.objects.get(pk=future.pk).status == "confirmed"


def test_printable_register(world, staff, client):
    client.force_login(staff[Role.BOOKING_OFFICER])
    page = get(client, f"/manage/registers/{world['started'].pk}/print/").content.decode()
    assert "@media print" in page and "DRIVER, Sam" in page and "Signature" in page
    assert "A hearing loop" in page
