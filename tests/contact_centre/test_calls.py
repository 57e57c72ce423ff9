"""Telephone bookings, transfers and cancellations through the console, and the call log."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Membership
from accounts.roles import Role
from booking.models import (
    Booking,
    CallLog,
    CourseSession,
    Hold,
    Offer,
    OfferEvent,
    SpecialCircumstancesCase,
)
from booking.services import calls, cases, search
from booking.services.bookings import book
from booking.services.rules import BookingRefused

from ..factories import STAFF_WAIVER
from .conftest import DOB, ESSEX

CC = "/contact-centre/"


def in_essex(essex):
    return schema_context(essex.schema_name)


def kinds(offer):
    return list(OfferEvent.objects.filter(offer=offer).order_by("id").values_list("kind",
                                                                                  flat=True))


# --- finding the caller (services) -------------------------------------------------------------


def find_by_name(last_name, date_of_birth, first_name=""):
    return search.find_offers(search.offer_search(
        last_name=last_name, first_name=first_name, date_of_birth=date_of_birth))


def find_by_phone(phone):
    return search.find_offers(search.offer_search(phone=phone))


def test_find_by_name_and_date_of_birth_ignores_case(essex, caller, confirmed_booking):
    offer, _ = caller
    with in_essex(essex):
        dob = offer.date_of_birth
        assert find_by_name("driver", dob) == [offer]
        assert find_by_name(" DRIVER ", dob, first_name="sa") == [offer]
        assert find_by_name("driver", dob, first_name="Alex") == []
        assert find_by_name("driver", dob.replace(year=1986)) == []
        assert find_by_name("", dob) == [offer]  # the date alone: the form asks for a name


def test_find_by_phone_however_it_was_written(essex, confirmed_booking):
    offer = confirmed_booking.offer  # stored as "+44 7700 900123"
    with in_essex(essex):
        for asked in ("07700 900123", "07700900123", "+447700900123", "+44 (0)7700 900 123",
                      "0044 7700 900123"):
            assert find_by_phone(asked) == [offer], asked
        assert find_by_phone("07700 900124") == []
        assert find_by_phone("123") == []


def test_find_by_offer_or_booking_reference(essex, confirmed_booking):
    offer = confirmed_booking.offer
    with in_essex(essex):
        assert search.offer_with_reference(" esx-200002 ") == offer
        assert search.offer_with_reference(confirmed_booking.reference.lower()) == offer
        assert search.offer_with_reference("NOPE") is None


# --- the call log (services) -------------------------------------------------------------------


def test_a_call_about_an_offer_goes_on_its_timeline(essex, caller, agent):
    offer, _ = caller
    with in_essex(essex):
        call = calls.log_call(actor=agent, call_type="enquiry", outcome="information_given",
                              duration_minutes=4, notes="Asked about parking.", offer_id=offer.pk)
        assert call.agent_user_id == agent.pk and call.agent_label == agent.email
        assert call.started_at <= timezone.now() - timedelta(minutes=4)
        event = OfferEvent.objects.get(offer=offer, kind="call.logged")
        assert event.channel == "telephone" and event.actor == agent.email
        assert event.after == {"call": call.pk, "type": "enquiry",
                               "outcome": "information_given", "duration_minutes": 4}


def test_a_call_about_nothing_in_particular(essex, agent):
    with in_essex(essex):
        before = OfferEvent.objects.count()
        call = calls.log_call(actor=agent, call_type="other", outcome="call_dropped",
                              duration_minutes=0)
        assert call.offer is None and OfferEvent.objects.count() == before


@pytest.mark.parametrize(("change", "code"), [
    ({"call_type": "gossip"}, "unknown_call_type"),
    ({"outcome": "maybe"}, "unknown_call_outcome"),
    ({"duration_minutes": -1}, "bad_call_duration"),
    ({"duration_minutes": 601}, "bad_call_duration"),
    ({"duration_minutes": "5"}, "bad_call_duration"),
    ({"notes": "x" * 5001}, "notes_too_long"),
    ({"offer_id": 999999}, "unknown_offer"),
    ({"booking_id": 999999}, "unknown_booking"),
])
def test_a_bad_call_is_refused_and_nothing_written(essex, caller, agent, change, code):
    with in_essex(essex):
        given = {"actor": agent, "call_type": "enquiry", "outcome": "information_given",
                 "duration_minutes": 3, **change}
        with pytest.raises(BookingRefused) as refused:
            calls.log_call(**given)
        assert refused.value.code == code
        assert not CallLog.objects.exists() and not OfferEvent.objects.exists()


def test_a_booking_of_another_offer_is_refused(essex, caller, confirmed_booking, agent):
    offer, _ = caller
    with in_essex(essex), pytest.raises(BookingRefused) as refused:
        calls.log_call(actor=agent, call_type="enquiry", outcome="information_given",
                       duration_minutes=1, offer_id=offer.pk, booking_id=confirmed_booking.pk)
    assert refused.value.code == "wrong_offer"


def test_special_circumstances_open_a_case_for_the_administrators(essex, confirmed_booking,
                                                                    agent):
    offer = confirmed_booking.offer
    with in_essex(essex):
        call, case = cases.raise_special_circumstances(
            offer.pk, actor=agent, kind="instalments", duration_minutes=9,
            details="Lost job last week; asks to pay in two parts.", organisation=essex)
        assert call.call_type == "special_circumstances" and call.outcome == "referred"
        assert call.booking_id == confirmed_booking.pk and call.duration_minutes == 9
        assert isinstance(case, SpecialCircumstancesCase)
        assert case.status == "open" and case.kind == "instalments"
        assert case.raised_by == agent.email and "two parts" in case.notes
        assert kinds(offer)[-2:] == ["case.raised", "call.logged"]
        # A second call while the case is open is referred to it, not a second case.
        call2, case2 = cases.raise_special_circumstances(
            offer.pk, actor=agent, kind="instalments", duration_minutes=2,
            details="Now can pay half.", organisation=essex)
        assert case2 is None and SpecialCircumstancesCase.objects.filter(offer=offer).count() == 1
        referral = OfferEvent.objects.get(offer=offer, kind="special_circumstances.raised")
        assert referral.after["details"] == "Now can pay half." and referral.actor == agent.email
        assert referral.after["call"] == call2.pk and referral.channel == "telephone"


def test_a_case_puts_an_unbooked_offer_on_hold(essex, caller, agent):
    offer, _ = caller
    with in_essex(essex):
        _call, case = cases.raise_special_circumstances(
            offer.pk, actor=agent, kind="medical", details="In hospital until March.",
            duration_minutes=5, organisation=essex)
        assert Offer.objects.get(pk=offer.pk).status == "special_arrangement"


@pytest.mark.parametrize(("change", "code"), [
    ({"details": "  "}, "details_missing"),
    ({"kind": "free_course"}, "unknown_kind"),
    ({"duration_minutes": 900}, "bad_call_duration"),
    ({"offer_id": 999999}, "unknown_offer"),
])
def test_bad_special_circumstances_are_refused(essex, caller, agent, change, code):
    offer, _ = caller
    given = {"offer_id": offer.pk, "actor": agent, "kind": "other", "details": "Asks",
             "duration_minutes": 1, **change}
    with in_essex(essex):
        with pytest.raises(BookingRefused) as refused:
            cases.raise_special_circumstances(given.pop("offer_id"), **given)
        assert refused.value.code == code
        assert not SpecialCircumstancesCase.objects.exists() and not CallLog.objects.exists()


# --- the console: find, book by phone, log the call ---------------------------------------------


def test_agent_finds_the_caller_books_by_phone_and_logs_the_call(essex, caller, agent, client):
    offer, sessions = caller
    client.force_login(agent)
    found = client.post(CC, {"by": "name", "last_name": "driver", "first_name": "", **DOB},
                        **ESSEX)
    page = found.content.decode()
    assert found.status_code == 200 and "1 offer found" in page and offer.reference in page

    offer_page = client.get(f"{CC}offers/{offer.reference}/", **ESSEX).content.decode()
    assert "Book a course" in offer_page and "Timeline, newest first" in offer_page

    dates = client.get(f"{CC}offers/{offer.reference}/book/?mode=classroom&postcode=CM1+1QH",
                       **ESSEX)
    assert dates.status_code == 200 and "County Hall" in dates.content.decode()
    booked = client.post(
        f"{CC}offers/{offer.reference}/book/?mode=classroom&postcode=CM1+1QH",
        {"session": sessions[0].pk, "phone": "07700 900982", "email": "sam@example.com",
         "language": "en", "access": ["step_free"]}, **ESSEX)
    assert booked.status_code == 302
    with in_essex(essex):
        booking = Booking.objects.get(offer=offer)
        assert booking.channel == "telephone" and booking.status == "pending_payment"
        assert booking.made_by == agent.email and booking.session_id == sessions[0].pk
        assert Hold.objects.get(offer=offer).session_id == sessions[0].pk  # seat held for payment
        stored = Offer.objects.get(pk=offer.pk)
        assert stored.phone == "07700 900982" and stored.access_requirements == ["step_free"]
        created = OfferEvent.objects.get(offer=offer, kind="booking.created")
        assert created.channel == "telephone" and created.actor_user_id == agent.pk
    assert booked["Location"] == f"{CC}bookings/{booking.reference}/"

    booking_page = client.get(booked["Location"], **ESSEX).content.decode()
    assert f'href="{CC}payments/{booking.reference}/"' in booking_page
    assert "Take payment" in client.get(f"{CC}payments/{booking.reference}/", **ESSEX).content.decode()

    log_url = f"{CC}offers/{offer.reference}/log-call/?type=new_booking&outcome=booked" \
              f"&booking={booking.reference}"
    form = client.get(log_url, **ESSEX).content.decode()
    assert '<option value="new_booking" selected>' in form
    assert '<option value="booked" selected>' in form
    assert 'name="duration_minutes" type="text" value="1"' in form  # the call just started
    logged = client.post(log_url, {"call_type": "new_booking", "outcome": "booked",
                                   "duration_minutes": "7", "notes": "Booked County Hall."},
                         **ESSEX)
    assert logged["Location"] == f"{CC}offers/{offer.reference}/"
    with in_essex(essex):
        call = CallLog.objects.get()
        assert (call.call_type, call.outcome, call.duration_minutes) == ("new_booking", "booked", 7)
        assert call.offer_id == offer.pk and call.booking_id == booking.pk
        assert kinds(offer)[-1] == "call.logged"
    timeline = client.get(logged["Location"], **ESSEX).content.decode()
    assert "Call logged" in timeline and "Booked County Hall." in timeline
    # Newest first: the call is listed before the booking.
    assert timeline.index("Call logged") < timeline.index("Booked, waiting for payment")


def test_a_free_course_is_confirmed_at_once_on_the_phone(essex, agent, client):
    from ..journey_data import make_journey_data

    offer, sessions = make_journey_data(essex, fee_pence=0)
    client.force_login(agent)
    response = client.post(f"{CC}offers/{offer.reference}/book/?mode=online",
                           {"session": sessions[2].pk, "phone": "07700 900982",
                            "language": "en"}, **ESSEX)
    assert response.status_code == 302
    with in_essex(essex):
        booking = Booking.objects.get(offer=offer)
        assert booking.status == "confirmed" and booking.channel == "telephone"
        # The confirmation was dealt with by the booking itself: no address, so recorded skipped.
        assert booking.events.filter(kind="message.skipped",
                                     after__template="booking_confirmation").exists()
        assert CourseSession.objects.get(pk=sessions[2].pk).seats_booked == 1
    assert "Take payment" not in client.get(response["Location"], **ESSEX).content.decode()


def test_booking_errors_are_named_never_a_server_error(essex, caller, agent, client):
    offer, sessions = caller
    client.force_login(agent)
    url = f"{CC}offers/{offer.reference}/book/?mode=online"
    missing = client.post(url, {"phone": "12"}, **ESSEX)
    page = missing.content.decode()
    assert missing.status_code == 400
    assert "Select a course date" in page and "Enter a phone number, like" in page
    unknown = client.post(url, {"session": 999999, "phone": "07700 900982", "language": "en"},
                          **ESSEX)
    assert unknown.status_code == 400 and "That course date does not exist" in \
        unknown.content.decode()
    with in_essex(essex):
        CourseSession.objects.filter(pk=sessions[2].pk).update(seats_booked=20)
    full = client.post(url, {"session": sessions[2].pk, "phone": "07700 900982",
                             "language": "en"}, **ESSEX)
    assert full.status_code == 400 and "just filled up" in full.content.decode()
    bad_postcode = client.get(f"{CC}offers/{offer.reference}/book/?mode=classroom"
                              f"&postcode=ZZ99+9ZZ", **ESSEX)
    assert bad_postcode.status_code == 200 and "There is a problem" in \
        bad_postcode.content.decode()
    with in_essex(essex):
        assert not Booking.objects.filter(offer=offer).exists()
    assert client.get(f"{CC}offers/NOPE/", **ESSEX).status_code == 404
    assert client.get(f"{CC}bookings/NOPE/", **ESSEX).status_code == 404


def test_search_problems_are_named(essex, caller, agent, client):
    client.force_login(agent)
    empty = client.post(CC, {"by": "name", "last_name": "", "date_of_birth_0": "31",
                             "date_of_birth_1": "2", "date_of_birth_2": "1985"}, **ESSEX)
    page = empty.content.decode()
    assert empty.status_code == 400
    assert "Enter the caller&#x27;s last name" in page and "must be a real date" in page
    phone = client.post(CC, {"by": "phone", "phone": "call me"}, **ESSEX)
    assert phone.status_code == 400 and "Enter a phone number, like" in phone.content.decode()
    nobody = client.post(CC, {"by": "phone", "phone": "01632 960 001"}, **ESSEX)
    assert nobody.status_code == 200 and "No offers found" in nobody.content.decode()
    offer, _ = caller
    by_reference = client.post(CC, {"by": "reference", "reference": offer.reference.lower()},
                               **ESSEX)
    assert by_reference["Location"] == f"{CC}offers/{offer.reference}/"


def test_transfer_on_the_phone(essex, confirmed_booking, agent, client,
                               django_capture_on_commit_callbacks):
    client.force_login(agent)
    offer = confirmed_booking.offer
    with in_essex(essex):
        target = CourseSession.objects.filter(delivery_mode="online").get()
    url = f"{CC}bookings/{confirmed_booking.reference}/transfer/?mode=online"
    assert "There is no charge" in client.get(url, **ESSEX).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        moved = client.post(url, {"session": target.pk}, **ESSEX)
    assert moved.status_code == 302
    with in_essex(essex):
        new = Booking.objects.get(offer=offer, status="confirmed")
        assert new.session_id == target.pk and new.channel == "telephone"
        assert new.transferred_from_id == confirmed_booking.pk
        event = OfferEvent.objects.get(offer=offer, kind="booking.transferred")
        assert event.channel == "telephone" and event.actor == agent.email
    page = client.get(moved["Location"], **ESSEX).content.decode()
    assert "type=transfer" in page and "outcome=transferred" in page


def test_a_late_transfer_needs_the_callers_agreement_to_the_fee(essex, caller, agent, client):
    _offer, sessions = caller
    with in_essex(essex):
        soon = CourseSession.objects.create(
            course_type=sessions[0].course_type, venue=sessions[0].venue,
            delivery_mode="classroom", starts_at=timezone.now() + timedelta(days=3),
            ends_at=timezone.now() + timedelta(days=3, hours=3), capacity=10)
        other = Offer.objects.create(
            reference="ESX-300003", course_type=soon.course_type,
            offence_date=timezone.localdate() - timedelta(days=20),
            booking_period_end=timezone.localdate() + timedelta(days=30),
            critical_date=timezone.localdate() + timedelta(days=60), first_name="Jo",
            last_name="Late", date_of_birth=timezone.localdate() - timedelta(days=40 * 365))
        booking = book(other.pk, session_id=soon.pk, channel="admin", actor="boss@essex.test",
                       waiver=STAFF_WAIVER)
    client.force_login(agent)
    url = f"{CC}bookings/{booking.reference}/transfer/?mode=online"
    assert "costs £15.00" in client.get(url, **ESSEX).content.decode()
    refused = client.post(url, {"session": sessions[2].pk}, **ESSEX)
    assert refused.status_code == 400
    assert "Confirm the caller agrees to pay the transfer fee" in refused.content.decode()
    agreed = client.post(url, {"session": sessions[2].pk, "fee_agreed": "on"}, **ESSEX)
    with in_essex(essex):
        # The move waits for its fee, taken on the payment page it leads to.
        new = Booking.objects.get(offer=other, status="transfer_pending")
        assert agreed["Location"] == f"{CC}payments/{new.reference}/"
        assert new.fee_snapshot["transfer_fee_pence"] == 1500
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"


def test_cancel_on_the_phone(essex, confirmed_booking, agent, client,
                             django_capture_on_commit_callbacks):
    client.force_login(agent)
    url = f"{CC}bookings/{confirmed_booking.reference}/cancel/"
    page = client.get(url, **ESSEX).content.decode()
    assert "Refund due" in page
    missing = client.post(url, {"reason": ""}, **ESSEX)
    assert missing.status_code == 400 and "Enter why the caller is cancelling" in \
        missing.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        done = client.post(url, {"reason": "Moving abroad"}, **ESSEX)
    assert done.status_code == 302
    with in_essex(essex):
        booking = Booking.objects.get(pk=confirmed_booking.pk)
        assert booking.status == "cancelled"
        event = OfferEvent.objects.get(offer=booking.offer, kind="booking.cancelled")
        assert event.channel == "telephone" and event.after["reason"] == "Moving abroad"
        assert Offer.objects.get(pk=booking.offer_id).status == "offered"
    again = client.post(url, {"reason": "Twice"}, **ESSEX)
    assert again.status_code == 302  # not active any more: back to the booking with a message


def test_quick_log_for_a_call_that_needs_no_action(essex, caller, agent, client):
    offer, _ = caller
    client.force_login(agent)
    assert client.post(f"{CC}log-call/", {"call_type": "enquiry", "outcome": "information_given",
                                          "duration_minutes": "2"},
                       **ESSEX)["Location"] == CC
    bad = client.post(f"{CC}log-call/", {"call_type": "enquiry", "outcome": "information_given",
                                         "duration_minutes": "2", "offer_reference": "NOPE"},
                      **ESSEX)
    assert bad.status_code == 400 and "No offer or booking has that reference" in \
        bad.content.decode()
    with_offer = client.post(f"{CC}log-call/", {
        "call_type": "complaint", "outcome": "call_back", "duration_minutes": "12",
        "offer_reference": offer.reference, "notes": "Unhappy with the venue."}, **ESSEX)
    assert with_offer["Location"] == f"{CC}offers/{offer.reference}/"
    invalid = client.post(f"{CC}log-call/", {"call_type": "chat", "outcome": "",
                                             "duration_minutes": "ten"}, **ESSEX)
    page = invalid.content.decode()
    assert invalid.status_code == 400
    assert "Select the type of call" in page and "Select the outcome of the call" in page
    assert "whole number of minutes" in page
    with in_essex(essex):
        assert CallLog.objects.count() == 2
        assert list(CallLog.objects.filter(offer=offer).values_list("call_type", flat=True)) == [
            "complaint"]


def test_special_circumstances_from_the_console(essex, caller, agent, client):
    offer, _ = caller
    client.force_login(agent)
    url = f"{CC}offers/{offer.reference}/special-circumstances/"
    missing = client.post(url, {}, **ESSEX)
    assert missing.status_code == 400
    assert "Select what the caller is asking for" in missing.content.decode()
    done = client.post(url, {"kind": "medical", "details": "In hospital until March.",
                             "duration_minutes": "6"}, **ESSEX)
    assert done["Location"] == f"{CC}offers/{offer.reference}/"
    with in_essex(essex):
        assert kinds(offer) == ["case.raised", "call.logged"]
        case = SpecialCircumstancesCase.objects.get(offer=offer)
        assert case.raised_by == agent.email
    page = client.get(done["Location"], **ESSEX).content.decode()
    assert "Special-circumstances case opened" in page and "In hospital until March." in page
    assert "Special-circumstances case open: Medical" in page
    assert "Book a course" not in page  # special arrangement pending: the administrators decide
    again = client.get(url, **ESSEX).content.decode()
    assert "This offer already has an open case (Medical" in again


def test_an_agent_switches_between_their_clients(essex, south_wales, agent, client, settings):
    # Links to the other client follow the deployment's scheme and port, not this request's.
    settings.PUBLIC_SCHEME, settings.PUBLIC_PORT = "http", "8000"
    Membership.objects.create(user=agent, organisation=south_wales,
                              role=Role.CONTACT_CENTRE_AGENT)
    client.force_login(agent)
    page = client.get(f"{CC}clients/", HTTP_HOST="essex.localhost:8000").content.decode()
    assert "Essex County Council" in page and "You are here" in page
    assert 'href="http://south-wales.localhost:8000/contact-centre/"' in page
    # Each client's console is open to them; a client where they are not an agent is not listed.
    assert client.get(CC, HTTP_HOST="south-wales.localhost").status_code == 200
    Membership.objects.filter(user=agent, organisation=south_wales).update(is_active=False)
    page = client.get(f"{CC}clients/", **ESSEX).content.decode()
    assert "south-wales.localhost" not in page
    connection.set_schema_to_public()
