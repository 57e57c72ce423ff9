"""Every face that moves, cancels, books on someone's behalf or withdraws calls the one service
(booking.services.changes, bookings.book) and shows its result: the site, /manage/, the contact
centre and the API. Against localstripe: a cancellation with notice is refunded exactly once
and the person told once; a move inside the fee notice is made only once its fee is paid (the
old booking stays confirmed until then); a booking on someone's behalf is paid or waived with
a reason."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Booking, CourseSession, Hold, Offer, OfferEvent, Payment, Refund
from booking.services.api_keys import create_api_key
from booking.services.bookings import book, place_hold
from booking.services.payments import pay_with_card_token, start_card_payment
from booking.tasks import make_refunds_due
from outbox.models import OutboundMessage

from .conftest import enable_card_payments, make_user
from .journey_data import make_journey_data
from .test_payments import card_token

HOST = {"HTTP_HOST": "essex.localhost"}
DOB = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}
EMAIL = "sam@example.com"


@pytest.fixture(autouse=True)
def fresh_lookup_limits(db):
    cache.clear()
    yield
    cache.clear()


def paid_by_card(essex, stripe_api, *, reference="ESX-700001", starts_in_days=None):
    """A booking made online and paid by card at localstripe; its date moved to start in
    `starts_in_days` (inside the 7 days' free notice if fewer than 7)."""
    offer, sessions = make_journey_data(essex, reference=reference)
    with schema_context(essex.schema_name):
        Offer.objects.filter(pk=offer.pk).update(email=EMAIL)
        if starts_in_days is not None:
            start = timezone.now() + timedelta(days=starts_in_days)
            CourseSession.objects.filter(pk=sessions[0].pk).update(
                starts_at=start, ends_at=start + timedelta(hours=3))
        place_hold(offer.pk, sessions[0].pk, channel="online", actor="offender")
        booking = book(offer.pk, channel="online", actor="offender")
        payment, _ = start_card_payment(booking.pk, organisation=essex, channel="online",
                                        actor="offender")
        pay_with_card_token(payment.pk, card_token(stripe_api), organisation=essex,
                            actor="offender")
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED
        OutboundMessage.objects.all().delete()  # the confirmation: not what these tests count
    return offer, sessions, booking


def refunds_of(booking) -> list[int]:
    return list(Refund.objects.filter(payment__booking=booking).values_list("amount_pence",
                                                                            flat=True))


def told(kind) -> int:
    return OutboundMessage.objects.filter(kind=kind, to=EMAIL).count()


def assert_refunded_once_and_told(essex, booking, amount, kind="cancellation"):
    """The refund made after commit, and the refunds-due job (the backstop) finds nothing
    more to do."""
    with schema_context(essex.schema_name):
        assert refunds_of(booking) == [amount]
        make_refunds_due.apply()
        assert refunds_of(booking) == [amount]
        assert told(kind) == 1
    assert [m.to for m in mail.outbox] == [[EMAIL]]


def find(client, offer):
    return client.post("/book/find/", {"reference": offer.reference, **DOB}, **HOST)


# --- The offender's site ----------------------------------------------------------------------


def test_site_cancellation_with_notice_is_refunded_once_and_told(
        essex, stripe_api, client, django_capture_on_commit_callbacks):
    enable_card_payments(essex)
    offer, _sessions, booking = paid_by_card(essex, stripe_api)
    find(client, offer)
    page = client.get("/booking/cancel/", **HOST).content.decode()
    assert "We will refund £95.00" in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/booking/cancel/", **HOST)
    assert response.status_code == 302
    assert_refunded_once_and_told(essex, booking, 9500)


def test_site_cancellation_of_a_date_the_client_cancelled_is_refunded_in_full(
        essex, stripe_api, client, django_capture_on_commit_callbacks):
    enable_card_payments(essex)
    offer, sessions, booking = paid_by_card(essex, stripe_api, starts_in_days=3)
    with schema_context(essex.schema_name):
        CourseSession.objects.filter(pk=sessions[0].pk).update(
            status=CourseSession.Status.CANCELLED)
    find(client, offer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/booking/cancel/", **HOST)
    assert_refunded_once_and_told(essex, booking, 9500)


def test_site_move_inside_the_notice_is_made_once_its_fee_is_paid(
        essex, stripe_api, client, django_capture_on_commit_callbacks):
    enable_card_payments(essex)
    offer, sessions, booking = paid_by_card(essex, stripe_api, starts_in_days=5)
    find(client, offer)
    client.get("/booking/transfer/", **HOST)
    client.post("/book/where/?purpose=transfer", {"mode": "classroom", "postcode": "CM1 1QH"},
                **HOST)
    client.post("/book/dates/?purpose=transfer", {"session": sessions[1].pk}, **HOST)
    check = client.get("/booking/transfer/check/", **HOST).content.decode()
    assert "costs £15.00" in check and "Continue to payment" in check
    response = client.post("/booking/transfer/check/", **HOST)
    with schema_context(essex.schema_name):
        move = Booking.objects.get(transferred_from=booking)
        assert move.status == Booking.Status.TRANSFER_PENDING
        assert response["Location"] == f"/book/pay/{move.reference}/"
        # Not moved yet: the old booking keeps its seat, the new date's seat is held.
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
        assert Hold.objects.get(offer=offer).session_id == sessions[1].pk
        assert told("transfer_confirmation") == 0
    pay = client.get(response["Location"], **HOST).content.decode()
    assert "Transfer fee" in pay and "Pay £15.00" in pay
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(f"/book/pay/{move.reference}/card/",
                           json.dumps({"token": card_token(stripe_api)}),
                           content_type="application/json", **HOST)
    assert paid.status_code == 200, paid.content
    with schema_context(essex.schema_name):
        fee = Payment.objects.get(booking=move)
        assert fee.kind == Payment.Kind.TRANSFER_FEE and fee.amount_pence == 1500
        assert fee.status == Payment.Status.SUCCEEDED
        assert Booking.objects.get(pk=move.pk).status == Booking.Status.CONFIRMED
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.TRANSFERRED
        assert told("transfer_confirmation") == 1
    assert "You have paid the transfer fee of £15.00." in mail.outbox[0].body


def test_a_transfer_fee_paid_after_the_seat_went_is_refunded_and_the_booking_kept(
        essex, stripe_api, django_capture_on_commit_callbacks):
    from booking.services.changes import transfer_booking
    from booking.services.payments import settle_payment

    enable_card_payments(essex)
    offer, sessions, booking = paid_by_card(essex, stripe_api, starts_in_days=5)
    with schema_context(essex.schema_name):
        move = transfer_booking(booking.pk, sessions[1].pk, channel="online", actor="offender")
        payment, _ = start_card_payment(move.pk, organisation=essex, channel="online",
                                        actor="offender")
        Hold.objects.filter(offer=offer).update(expires_at=timezone.now() - timedelta(minutes=1))
        CourseSession.objects.filter(pk=sessions[1].pk).update(seats_booked=20)
        from integrations import stripe_gateway as gateway

        gateway.confirm_with_card_token(account_id=essex.stripe_account_id,
                                        intent_id=payment.stripe_payment_intent_id,
                                        token_id=card_token(stripe_api))
        for _ in range(2):  # the return page and the webhook: once is refunded, once is told
            assert settle_payment(payment.stripe_payment_intent_id, organisation=essex,
                                  actor="stripe") == "refunded"
        assert refunds_of(move) == [1500]
        assert Booking.objects.get(pk=move.pk).status == Booking.Status.CANCELLED
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
        assert told("transfer_fee_refunded") == 1


# --- /manage/ ---------------------------------------------------------------------------------


@pytest.fixture
def admin(essex):
    return make_user("boss@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)


@pytest.fixture
def officer(essex):
    return make_user("officer@essex.test", organisation=essex, role=Role.BOOKING_OFFICER)


def test_manage_booking_waits_for_payment_unless_a_permitted_role_waives_it(
        essex, stripe_api, client, admin, officer):
    enable_card_payments(essex)
    offer, sessions = make_journey_data(essex, reference="ESX-700010")
    url = f"/manage/offenders/{offer.reference}/book/"
    # A booking officer may book but not waive: the box is not there, and asking is ignored.
    client.force_login(officer)
    assert "Waive the fee" not in client.get(url, **HOST).content.decode()
    response = client.post(url, {"session": sessions[0].pk, "waive_fee": "on",
                                 "waiver_reason": "Because"}, **HOST)
    with schema_context(essex.schema_name):
        booking = Booking.objects.get(offer=offer)
        assert booking.status == Booking.Status.PENDING_PAYMENT
        assert Hold.objects.get(offer=offer).session_id == sessions[0].pk
    assert response["Location"] == (f"/manage/offenders/{offer.reference}/payment/"
                                    f"{booking.reference}/")
    page = client.get(response["Location"], **HOST).content.decode()
    assert "Send payment link by email" not in page  # no e-mail address on this offer
    assert "£95.00" in page

    # An administrator may waive, with a reason; without one the form says what is missing.
    other, _ = make_journey_data(essex, reference="ESX-700011")
    client.force_login(admin)
    url = f"/manage/offenders/{other.reference}/book/"
    missing = client.post(url, {"session": sessions[1].pk, "waive_fee": "on"}, **HOST)
    assert missing.status_code == 200 and "Enter why the fee is waived" in missing.content.decode()
    client.post(url, {"session": sessions[1].pk, "waive_fee": "on",
                      "waiver_reason": "Complaint upheld"}, **HOST)
    with schema_context(essex.schema_name):
        waived = Booking.objects.get(offer=other)
        assert waived.status == Booking.Status.CONFIRMED and waived.fee_snapshot["waived"]
        event = OfferEvent.objects.get(booking=waived, kind="booking.confirmed")
        assert event.after["waiver_reason"] == "Complaint upheld"
        assert event.actor == admin.email


def test_manage_move_inside_the_notice_is_paid_by_link_before_it_is_made(
        essex, stripe_api, client, officer, django_capture_on_commit_callbacks):
    enable_card_payments(essex)
    offer, sessions, booking = paid_by_card(essex, stripe_api, starts_in_days=5)
    client.force_login(officer)
    response = client.post(f"/manage/offenders/{offer.reference}/transfer/",
                           {"session": sessions[1].pk}, **HOST)
    with schema_context(essex.schema_name):
        move = Booking.objects.get(transferred_from=booking)
        assert move.status == Booking.Status.TRANSFER_PENDING
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"action": "send_link"}, **HOST)
    [sent] = mail.outbox
    assert sent.to == [EMAIL] and "Transfer fee: £15.00" in sent.body
    link = re.search(r"https?://essex\.localhost(?::\d+)?(/pay/\S+/)", sent.body).group(1)
    client.logout()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(link + "card/", json.dumps({"token": card_token(stripe_api)}),
                           content_type="application/json", **HOST)
    assert paid.status_code == 200, paid.content
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=move.pk).status == Booking.Status.CONFIRMED
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.TRANSFERRED
        assert told("transfer_confirmation") == 1


def test_manage_cancellation_with_notice_is_refunded_once_and_told(
        essex, stripe_api, client, officer, django_capture_on_commit_callbacks):
    enable_card_payments(essex)
    offer, _sessions, booking = paid_by_card(essex, stripe_api)
    client.force_login(officer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/manage/offenders/{offer.reference}/cancel/",
                               {"reason": "Asked by letter"}, **HOST)
    assert response.status_code == 302
    assert_refunded_once_and_told(essex, booking, 9500)


def test_manage_cancellation_of_a_date_the_client_cancelled_is_refunded_in_full(
        essex, stripe_api, client, officer, admin, django_capture_on_commit_callbacks):
    enable_card_payments(essex)
    offer, sessions, booking = paid_by_card(essex, stripe_api, starts_in_days=3)
    client.force_login(admin)
    client.post(f"/manage/sessions/{sessions[0].pk}/cancel/", {"reason": "Venue flooded"},
                **HOST)
    with schema_context(essex.schema_name):
        OutboundMessage.objects.all().delete()
    client.force_login(officer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/manage/offenders/{offer.reference}/cancel/", {"reason": "Date gone"},
                    **HOST)
    assert_refunded_once_and_told(essex, booking, 9500)


def test_manage_withdrawal_cancels_refunds_in_full_and_tells_the_person(
        essex, stripe_api, client, officer, staff_auditor, django_capture_on_commit_callbacks):
    enable_card_payments(essex)
    # Three days ahead: inside the notice, yet a withdrawal refunds in full.
    offer, _sessions, booking = paid_by_card(essex, stripe_api, starts_in_days=3)
    url = f"/manage/offenders/{offer.reference}/withdraw/"
    client.force_login(staff_auditor)
    assert client.post(url, {"reason": "Going to court"}, **HOST).status_code == 403
    client.force_login(officer)
    detail = client.get(f"/manage/offenders/{offer.reference}/", **HOST).content.decode()
    assert url in detail
    form = client.get(url, **HOST).content.decode()
    assert "£95.00 will be refunded" in form
    assert "Enter why the offer is withdrawn" in client.post(url, {"reason": ""},
                                                             **HOST).content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Going to court"}, **HOST)
    assert response.status_code == 302
    assert_refunded_once_and_told(essex, booking, 9500, kind="offer_withdrawn")
    with schema_context(essex.schema_name):
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.WITHDRAWN
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert "has been withdrawn" in mail.outbox[0].subject


@pytest.fixture
def staff_auditor(essex):
    return make_user("auditor@essex.test", organisation=essex, role=Role.AUDITOR)


# --- The contact centre -----------------------------------------------------------------------


@pytest.fixture
def agent(essex):
    return make_user("agent@essex.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT)


def test_phone_move_inside_the_notice_takes_the_fee_by_moto_before_moving(
        essex, stripe_api, client, agent, django_capture_on_commit_callbacks):
    enable_card_payments(essex, allow_moto=True)
    offer, sessions, booking = paid_by_card(essex, stripe_api, starts_in_days=5)
    client.force_login(agent)
    url = f"/contact-centre/bookings/{booking.reference}/transfer/"
    page = client.get(url, **HOST).content.decode()
    assert "costs £15.00" in page and "Waive the fee" not in page
    refused = client.post(url, {"session": sessions[1].pk}, **HOST)
    assert refused.status_code == 400  # the caller's agreement to the fee is asked for
    response = client.post(url, {"session": sessions[1].pk, "fee_agreed": "on"}, **HOST)
    with schema_context(essex.schema_name):
        move = Booking.objects.get(transferred_from=booking)
        assert response["Location"] == f"/contact-centre/payments/{move.reference}/"
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    take = client.get(response["Location"], **HOST).content.decode()
    assert "Take £15.00" in take
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(f"/contact-centre/payments/{move.reference}/card/",
                           json.dumps({"token": card_token(stripe_api)}),
                           content_type="application/json", **HOST)
    assert paid.status_code == 200, paid.content
    with schema_context(essex.schema_name):
        fee = Payment.objects.get(booking=move)
        assert fee.moto and fee.kind == Payment.Kind.TRANSFER_FEE
        assert Booking.objects.get(pk=move.pk).status == Booking.Status.CONFIRMED
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.TRANSFERRED
        assert told("transfer_confirmation") == 1


def test_phone_cancellation_with_notice_is_refunded_once_and_told(
        essex, stripe_api, client, agent, django_capture_on_commit_callbacks):
    enable_card_payments(essex)
    _offer, _sessions, booking = paid_by_card(essex, stripe_api)
    client.force_login(agent)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/contact-centre/bookings/{booking.reference}/cancel/",
                               {"reason": "Caller moving away"}, **HOST)
    assert response.status_code == 302
    assert_refunded_once_and_told(essex, booking, 9500)


def test_phone_booking_is_paid_unless_an_administrator_waives_the_fee(essex, client, agent,
                                                                      admin):
    offer, sessions = make_journey_data(essex, reference="ESX-700020")
    form = {"session": sessions[0].pk, "phone": "07700 900982", "email": "",
            "language": "en"}
    url = f"/contact-centre/offers/{offer.reference}/book/"
    client.force_login(agent)
    assert "Waive the fee" not in client.get(url, **HOST).content.decode()
    client.post(url, {**form, "waive_fee": "on", "waiver_reason": "Nope"}, **HOST)
    with schema_context(essex.schema_name):
        assert Booking.objects.get(offer=offer).status == Booking.Status.PENDING_PAYMENT
    other, _ = make_journey_data(essex, reference="ESX-700021")
    client.force_login(admin)
    url = f"/contact-centre/offers/{other.reference}/book/"
    assert "Waive the fee" in client.get(url, **HOST).content.decode()
    client.post(url, {**form, "waive_fee": "on", "waiver_reason": "Hardship agreed"}, **HOST)
    with schema_context(essex.schema_name):
        waived = Booking.objects.get(offer=other)
        assert waived.status == Booking.Status.CONFIRMED
        assert OfferEvent.objects.get(booking=waived, kind="booking.confirmed").after[
            "waiver_reason"] == "Hardship agreed"


# --- The client API ---------------------------------------------------------------------------


def api_key(essex, *scopes) -> str:
    with schema_context(essex.schema_name):
        _key, secret = create_api_key("police feed", list(scopes), actor="tests")
    return f"Api-Key {secret}"


def test_api_withdrawal_cancels_refunds_once_and_tells_the_person(
        essex, stripe_api, client, django_capture_on_commit_callbacks):
    enable_card_payments(essex)
    offer, _sessions, booking = paid_by_card(essex, stripe_api, starts_in_days=3)
    url = f"/api/v1/offers/{offer.reference.lower()}/withdraw/"
    reader = api_key(essex, "offers.view")
    assert client.post(url, {"reason": "x"}, content_type="application/json",
                       HTTP_AUTHORIZATION=reader, **HOST).status_code == 403
    key = api_key(essex, "offers.import")
    blank = client.post(url, {"reason": " "}, content_type="application/json",
                        HTTP_AUTHORIZATION=key, **HOST)
    assert blank.status_code == 400 and "reason" in blank.json()["errors"]
    unknown = client.post("/api/v1/offers/NOPE-1/withdraw/", {"reason": "x"},
                          content_type="application/json", HTTP_AUTHORIZATION=key, **HOST)
    assert unknown.status_code == 404
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Going to court"},
                               content_type="application/json", HTTP_AUTHORIZATION=key, **HOST)
    assert response.status_code == 200, response.content
    assert response.json() == {"reference": offer.reference, "status": "withdrawn",
                               "cancelled_booking": booking.reference, "refund_due_pence": 9500}
    assert_refunded_once_and_told(essex, booking, 9500, kind="offer_withdrawn")
    with schema_context(essex.schema_name):
        event = OfferEvent.objects.get(offer=offer, kind="offer.withdrawn")
        assert event.channel == "api" and event.actor.startswith("api-key:")
    again = client.post(url, {"reason": "Again"}, content_type="application/json",
                        HTTP_AUTHORIZATION=key, **HOST)
    assert again.status_code == 409 and again.json()["errors"]["__all__"]
