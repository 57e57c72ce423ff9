"""book: from a live hold, or (staff) straight onto a session."""

from datetime import timedelta

import pytest

from booking.models import Booking, CourseSession, Hold, Offer, OfferEvent
from booking.services.bookings import HOLD_MINUTES, ContactDetails, FeeWaiver, book, place_hold

from .conftest import (
    AGENT,
    admin_booking,
    assert_refused,
    events,
    live_holds,
    local_day,
    make_offer,
    make_session,
    pending_booking,
    reload,
    set_fee,
)

pytestmark = pytest.mark.usefixtures("in_essex")

WAIVER = FeeWaiver("Booked after a complaint: fee waived")

NSAC_FEES = {"course_pence": 5000, "police_cost_recovery_pence": 4500, "vat_pence": 0,
             "total_pence": 9500}
NSAC_POLICY = {"free_transfer_notice_days": 7, "late_transfer_fee_pence": 1500,
               "transfer_cutoff_hours": 24, "max_transfers": 2}


def test_online_booking_from_a_live_hold_waits_for_payment(now):
    session = make_session(capacity=2, now=now)
    offer = make_offer(now=now)
    place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
    booking = book(offer.pk, channel="online", actor="online", now=now + timedelta(minutes=5))
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert booking.session == session and booking.channel == "online"
    assert booking.fee_pence == 9500
    assert booking.fee_snapshot == NSAC_FEES
    assert booking.policy_snapshot == NSAC_POLICY
    assert booking.made_by == "online" and booking.confirmed_at is None
    assert len(booking.reference) == 8 and set(booking.reference) <= set(
        "0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    # The hold keeps the seat until payment; nothing is booked yet.
    assert Hold.objects.get(offer=offer).session == session
    assert reload(session).seats_booked == 0
    assert reload(offer).status == Offer.Status.OFFERED
    [event] = events(offer, "booking.created")
    assert event.booking == booking and event.after["fee_pence"] == 9500


def test_the_fee_and_policy_are_a_snapshot(now):
    session = make_session(now=now)
    offer = make_offer(now=now)
    booking = pending_booking(offer, session, now=now)
    set_fee(provider=1, police=1, vat=True, max_transfers=9)
    booking = reload(booking)
    assert booking.fee_snapshot == NSAC_FEES and booking.policy_snapshot == NSAC_POLICY


def test_vat_is_added_on_the_provider_part(now):
    set_fee(provider=5000, police=4500, vat=True)
    offer = make_offer(now=now)
    booking = pending_booking(offer, make_session(now=now), now=now)
    assert booking.fee_snapshot == {"course_pence": 5000, "police_cost_recovery_pence": 4500,
                                    "vat_pence": 1000, "total_pence": 10500}
    assert booking.fee_pence == 10500


def test_zero_fee_confirms_at_once_and_takes_the_seat(now):
    set_fee(provider=0, police=0)
    session = make_session(capacity=2, now=now)
    offer = make_offer(now=now)
    place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
    booking = book(offer.pk, channel="online", actor="online", now=now)
    assert booking.status == Booking.Status.CONFIRMED and booking.confirmed_at == now
    assert booking.fee_pence == 0
    assert reload(session).seats_booked == 1
    assert not Hold.objects.filter(offer=offer).exists()
    assert live_holds(session, now) == 0
    assert reload(offer).status == Offer.Status.BOOKED
    assert len(events(offer, "booking.confirmed")) == 1


def test_admin_booking_with_a_fee_waits_for_payment_and_holds_the_seat(now):
    session = make_session(capacity=2, now=now)
    offer = make_offer(now=now)
    booking = book(offer.pk, session_id=session.pk, channel="admin", actor=AGENT, now=now)
    assert booking.status == Booking.Status.PENDING_PAYMENT and booking.channel == "admin"
    assert Hold.objects.get(offer=offer).session == session
    assert reload(session).seats_booked == 0
    assert reload(offer).status == Offer.Status.OFFERED
    assert not events(offer, "booking.confirmed")


def test_admin_booking_with_the_fee_waived_confirms_without_a_hold_and_records_why(now):
    session = make_session(capacity=2, now=now)
    offer = make_offer(now=now)
    booking = book(offer.pk, session_id=session.pk, channel="admin", actor=AGENT,
                   waiver=WAIVER, now=now)
    assert booking.status == Booking.Status.CONFIRMED and booking.channel == "admin"
    assert booking.fee_pence == 9500 and booking.made_by == AGENT
    assert booking.fee_snapshot["waived"] is True
    assert reload(session).seats_booked == 1
    assert not Hold.objects.exists()
    assert reload(offer).status == Offer.Status.BOOKED
    [event] = events(offer, "booking.confirmed")
    assert event.after["fee_waived_pence"] == 9500
    assert event.after["waiver_reason"] == "Booked after a complaint: fee waived"


def test_a_waiver_without_a_reason_is_refused(now):
    session = make_session(now=now)
    assert_refused("waiver_reason_missing", book, make_offer(now=now).pk, session_id=session.pk,
                   channel="admin", actor=AGENT, waiver=FeeWaiver("  "), now=now)


def test_nothing_is_waived_on_a_free_course(now):
    set_fee(provider=0, police=0)
    offer = make_offer(now=now)
    booking = book(offer.pk, session_id=make_session(now=now).pk, channel="admin", actor=AGENT,
                   waiver=WAIVER, now=now)
    assert booking.status == Booking.Status.CONFIRMED and "waived" not in booking.fee_snapshot
    [event] = events(offer, "booking.confirmed")
    assert "waiver_reason" not in event.after


def test_admin_booking_replaces_a_hold_on_another_session(now):
    held = make_session(capacity=1, now=now)
    chosen = make_session(capacity=1, now=now)
    offer = make_offer(now=now)
    place_hold(offer.pk, held.pk, channel="online", actor="online", now=now)
    admin_booking(offer, chosen, now=now)
    assert not Hold.objects.filter(offer=offer).exists()
    assert live_holds(held, now) == 0 and reload(chosen).seats_booked == 1


def test_admin_booking_onto_a_full_session_is_refused(now):
    session = make_session(capacity=1, seats_booked=1, now=now)
    assert_refused("session_full", book, make_offer(now=now).pk, session_id=session.pk,
                   channel="admin", actor=AGENT, now=now)


def test_admin_booking_onto_a_session_held_full_by_someone_else_is_refused(now):
    session = make_session(capacity=1, now=now)
    place_hold(make_offer(now=now).pk, session.pk, channel="online", actor="online", now=now)
    assert_refused("session_full", book, make_offer(now=now).pk, session_id=session.pk,
                   channel="admin", actor=AGENT, now=now)


def test_admin_may_book_a_full_session_its_own_hold_is_keeping(now):
    session = make_session(capacity=1, now=now)
    offer = make_offer(now=now)
    place_hold(offer.pk, session.pk, channel="telephone", actor=AGENT, now=now)
    booking = book(offer.pk, session_id=session.pk, channel="admin", actor=AGENT, waiver=WAIVER,
                   now=now)
    assert booking.status == Booking.Status.CONFIRMED
    assert reload(session).seats_booked == 1 and not Hold.objects.exists()


def test_telephone_booking_with_a_fee_waits_for_payment_and_holds_the_seat(now):
    session = make_session(capacity=1, now=now)
    offer = make_offer(now=now)
    booking = book(offer.pk, session_id=session.pk, channel="telephone", actor=AGENT, now=now)
    assert booking.status == Booking.Status.PENDING_PAYMENT
    hold = Hold.objects.get(offer=offer)
    assert hold.session == session
    assert hold.expires_at == now + timedelta(minutes=HOLD_MINUTES)
    assert_refused("session_full", place_hold, make_offer(now=now).pk, session.pk,
                   channel="online", actor="online", now=now)


def test_expired_hold_is_refused(now):
    session = make_session(now=now)
    offer = make_offer(now=now)
    place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
    later = now + timedelta(minutes=HOLD_MINUTES)
    assert_refused("hold_expired", book, offer.pk, channel="online", actor="online", now=later)


def test_no_hold_at_all_is_refused_as_expired(now):
    assert_refused("hold_expired", book, make_offer(now=now).pk, channel="online",
                   actor="online", now=now)


def test_a_new_booking_replaces_one_still_waiting_for_payment(now):
    session = make_session(now=now)
    offer = make_offer(now=now)
    abandoned = pending_booking(offer, session, now=now)
    replacement = book(offer.pk, session_id=session.pk, channel="admin", actor=AGENT,
                       waiver=WAIVER, now=now)
    abandoned.refresh_from_db()
    assert abandoned.status == Booking.Status.CANCELLED
    assert replacement.status == Booking.Status.CONFIRMED
    assert OfferEvent.objects.filter(offer=offer, kind="booking.superseded",
                                     booking=abandoned).exists()
    assert CourseSession.objects.get(pk=session.pk).seats_booked == 1


def test_a_second_booking_once_confirmed_is_refused(now):
    session = make_session(now=now)
    offer = make_offer(now=now)
    admin_booking(offer, session, now=now)
    # The offer is booked, so the offer check answers first.
    assert_refused("offer_not_bookable", book, offer.pk, session_id=session.pk,
                   channel="admin", actor=AGENT, now=now)


def test_booking_rechecks_the_offer_and_session_rules(now):
    session = make_session(starts_in=timedelta(days=10), now=now)
    # The period ends today, so 48 hours on is always past it. Ending tomorrow would not do:
    # just after midnight on the Saturday before the clocks go back, 48 hours on is still Sunday.
    offer = make_offer(booking_period_end=local_day(now), now=now)
    place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
    # The hold was placed in time; the booking is attempted after the booking period ended
    # (with a fresh clock the hold has long expired too, so check the period first).
    Hold.objects.filter(offer=offer).update(expires_at=now + timedelta(days=3))
    assert_refused("booking_period_ended", book, offer.pk, channel="online", actor="online",
                   now=now + timedelta(days=2))
    # Meanwhile the client cancels the date.
    session.status = "cancelled"
    session.save(update_fields=["status"])
    assert_refused("session_cancelled", book, offer.pk, channel="online", actor="online",
                   now=now)


def test_withdrawn_offer_cannot_be_booked_by_staff(now):
    offer = make_offer(status=Offer.Status.WITHDRAWN, now=now)
    assert_refused("offer_withdrawn", book, offer.pk, session_id=make_session(now=now).pk,
                   channel="admin", actor=AGENT, now=now)


def test_contact_details_are_saved_with_an_event(now):
    session = make_session(now=now)
    offer = make_offer(now=now, email="old@example.test", phone="01245 000000")
    place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
    details = ContactDetails(email="sam@example.test", phone="07700 900123", language="cy",
                             access_requirements=("step_free", "hearing_loop"),
                             access_notes="Wheelchair user")
    book(offer.pk, channel="online", actor="online", details=details, now=now)
    offer = reload(offer)
    assert offer.email == "sam@example.test" and offer.phone == "07700 900123"
    assert offer.language == "cy"
    assert offer.access_requirements == ["step_free", "hearing_loop"]
    assert offer.access_notes == "Wheelchair user"
    [event] = events(offer, "offer.details_changed")
    assert event.before["email"] == "old@example.test" and event.before["phone"] == "01245 000000"
    assert event.after["email"] == "sam@example.test"
    assert event.after["access_requirements"] == ["step_free", "hearing_loop"]


def test_refused_booking_does_not_save_contact_details(now):
    offer = make_offer(now=now, email="old@example.test")
    details = ContactDetails(email="new@example.test")
    assert_refused("hold_expired", book, offer.pk, channel="online", actor="online",
                   details=details, now=now)
    assert reload(offer).email == "old@example.test"


def test_unknown_session_is_refused(now):
    assert_refused("unknown_session", book, make_offer(now=now).pk, session_id=987654321,
                   channel="admin", actor=AGENT, now=now)


def test_an_abandoned_payment_does_not_lock_the_person_out(now):
    session = make_session(now=now)
    offer = make_offer(now=now)
    abandoned = pending_booking(offer, session, now=now)
    later = now + timedelta(hours=2)  # the hold ran out long ago; no payment came
    place_hold(offer.pk, session.pk, channel="online", actor="online", now=later)
    booking = book(offer.pk, channel="online", actor="online", now=later)
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert reload(abandoned).status == Booking.Status.CANCELLED


def test_a_new_reference_another_booking_has_is_drawn_again(now, monkeypatch):
    """No look-up before the insert: the unique constraint refuses the clash and the booking's
    transaction runs again with a fresh reference, leaving nothing of the first try."""
    from booking.services import seats

    taken = pending_booking(make_offer(now=now), make_session(now=now), now=now).reference
    drawn = iter([taken, "FRESH234"])
    monkeypatch.setattr(seats, "_new_reference", lambda: next(drawn))
    session = make_session(now=now)
    offer = make_offer(now=now)
    place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
    booking = book(offer.pk, channel="online", actor="online", now=now)
    assert booking.reference == "FRESH234"
    assert Booking.objects.filter(offer=offer).count() == 1
    assert [event.kind for event in events(offer) if event.kind.startswith("booking.")] == [
        "booking.created"]
