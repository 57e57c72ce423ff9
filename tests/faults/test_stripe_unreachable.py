"""People reach the pay page and pay while Stripe cannot be reached (the app's Stripe API base is
a loopback port with nothing listening; localstripe itself, which stands in for Stripe.js in
the browser, keeps running): every answer is the page, or the payment script's message, that
says plainly there is a problem and to try again; no hold loses its seat; and once Stripe is
back each person's next try pays, the booking confirms with no manual step, and nobody is
charged twice. Real localstripe, the real stripe library, our code unmocked. The figures are
printed (run with -s to see them)."""

import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import Booking, CourseSession, Hold, Payment
from booking.services.payments import settle_pending_payments

from ..conftest import enable_card_payments
from ..journey_data import make_journey_data
from ..test_payments import card_token
from .conftest import free_port

pytestmark = pytest.mark.faults

HOST = {"HTTP_HOST": "essex.localhost"}
DOB = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}
PEOPLE = 6
UNREACHABLE = "We could not reach the payment service"
UNCLEAR = []


@pytest.fixture
def flushed_from_public(transactional_db):
    """The test's requests leave the connection in the client's schema; the flush after a
    transactional test empties the tables of the schema it finds, which must be the public one
    (essex's catalogue is the whole session's)."""
    yield
    connection.set_schema_to_public()


class Person:
    def __init__(self, reference: str, session_id: int, tally: Counter):
        self.reference, self.session_id, self.tally = reference, session_id, tally
        self.browser = Client(raise_request_exception=False)
        self.booking = None

    def _note(self, response, ok: bool):
        body = response.content.decode(errors="replace")
        if ok:
            self.tally["requests ok"] += 1
        elif response.status_code == 503 and UNREACHABLE in body:
            self.tally["clear page"] += 1
        else:
            self.tally["unclear"] += 1
            UNCLEAR.append(f"{response.status_code} {body[:200]}")
        return response

    def book(self):
        """The journey up to the pay page, which needs no Stripe call."""
        for path, data, expected in (
                ("/book/find/", {"reference": self.reference, **DOB}, "/book/where/"),
                ("/book/where/", {"mode": "online"}, "/book/dates/"),
                ("/book/dates/", {"session": self.session_id}, "/book/details/"),
                ("/book/details/", {"email": "sam@example.com", "phone": "07700 900982",
                                    "language": "en"}, "/book/check/"),
                ("/book/check/", {}, "/book/pay/")):
            response = self.browser.post(path, data, **HOST)
            self._note(response, response.status_code == 302 and expected in response["Location"])
        self.booking = response["Location"].rstrip("/").split("/")[-1]

    def open_pay_page(self):
        response = self.browser.get(f"/book/pay/{self.booking}/", **HOST)
        return self._note(response, response.status_code == 200
                          and b'id="payment-form"' in response.content)

    def pay(self, stripe_api):
        response = self.browser.post(f"/book/pay/{self.booking}/card/",
                                     json.dumps({"token": card_token(stripe_api)}),
                                     content_type="application/json", **HOST)
        paid = (response.status_code == 200
                and json.loads(response.content).get("status") == "succeeded")
        return self._note(response, paid)

    def come_back(self):
        response = self.browser.get(f"/book/pay/{self.booking}/return/", **HOST)
        return self._note(response, response.status_code == 302
                          and "/book/confirmation/" in response["Location"])


def seats_and_holds(organisation, people) -> tuple[int, int]:
    """Confirmed seats on the people's sessions, and the people whose booking still has its
    live hold on the session it is for (each hold is a seat nobody else can take)."""
    with schema_context(organisation.schema_name):
        sessions = {person.session_id for person in people}
        seats = sum(CourseSession.objects.filter(pk__in=sessions)
                    .values_list("seats_booked", flat=True))
        held = sum(1 for booking in Booking.objects.filter(
            reference__in=[person.booking for person in people])
            if Hold.objects.filter(offer_id=booking.offer_id, session_id=booking.session_id,
                                   expires_at__gt=timezone.now()).exists())
        return seats, held


def stripe_payments(stripe_api) -> list[dict]:
    return [intent for intent in requests.get(
        f"{stripe_api}/v1/payment_intents", params={"limit": 100}, timeout=10,
        headers={"Authorization": "Bearer sk_test_waymark"}).json()["data"]
        if intent["status"] == "succeeded"]


def test_paying_while_stripe_is_unreachable_then_back(flushed_from_public, essex, stripe_api,
                                                      settings, capsys):
    enable_card_payments(essex)
    run = uuid.uuid4().hex[:6].upper()
    tally = Counter()
    people = []
    for number in range(PEOPLE):
        offer, sessions = make_journey_data(essex, reference=f"STR-{run}{number:02d}")
        people.append(Person(offer.reference, sessions[2].pk, tally))
    connections.close_all()

    # Half reach the pay page while Stripe answers (their PaymentIntent exists); then it goes.
    early, late = people[:PEOPLE // 2], people[PEOPLE // 2:]
    for person in early:
        person.book()
        person.open_pay_page()
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    # While Stripe is away: the others book and reach the pay page, everybody tries to pay,
    # and the pay page is reloaded (its "Try again" link).
    for person in late:
        person.book()
    clear_before = tally["clear page"]
    pages_while_down = [person.open_pay_page() for person in late]
    for person in people:
        person.pay(stripe_api)
        person.open_pay_page()
    clear_while_down = tally["clear page"] - clear_before
    with schema_context(essex.schema_name):
        bookings = Booking.objects.filter(reference__in=[p.booking for p in people])
        pending_while_down = bookings.filter(status="pending_payment").count()
    seats_while_down, holds_while_down = seats_and_holds(essex, people)
    taken_while_down = len(stripe_payments(stripe_api))

    # Stripe is back: each person's next try pays and confirms, no one does anything else.
    settings.STRIPE_API_BASE = stripe_api
    for person in people:
        person.open_pay_page()
        person.pay(stripe_api)
        person.come_back()
    connections.close_all()
    with schema_context(essex.schema_name):
        settled = settle_pending_payments(organisation=essex,
                                          now=timezone.now() + timedelta(minutes=3))
        bookings = Booking.objects.filter(reference__in=[p.booking for p in people])
        confirmed = bookings.filter(status="confirmed").count()
        succeeded = Payment.objects.filter(booking__in=bookings, status="succeeded")
        per_booking = Counter(succeeded.values_list("booking_id", flat=True))
        recorded = set(succeeded.values_list("stripe_payment_intent_id", flat=True))
        refunded = succeeded.filter(refunds__isnull=False).count()
    taken = stripe_payments(stripe_api)
    ours = [intent for intent in taken if intent["id"] in recorded]
    seats_after, _holds_after = seats_and_holds(essex, people)
    lost = PEOPLE - confirmed + len({i["id"] for i in taken} - recorded)
    doubled = sum(1 for count in per_booking.values() if count > 1) + refunded

    figures = {"people": PEOPLE, "requests ok": tally["requests ok"],
               "clear page": tally["clear page"], "unclear": tally["unclear"],
               "pending while Stripe was away": pending_while_down,
               "seats confirmed / live holds while away": [seats_while_down, holds_while_down],
               "payments taken while away": taken_while_down,
               "bookings confirmed": confirmed, "payments taken (Stripe)": len(ours),
               "settled by the job afterwards": settled, "lost": lost, "doubled": doubled}
    with capsys.disabled():
        print("\nStripe unreachable:", json.dumps(figures, indent=1))

    assert tally["unclear"] == 0, UNCLEAR[:5]
    # While away: a clear 503 page with a way to try again, every hold keeping its seat.
    assert clear_while_down == len(late) + 2 * PEOPLE
    for page in pages_while_down:
        assert page.status_code == 503 and page["Retry-After"]
        assert f'href="/book/pay/{page.wsgi_request.path.split("/")[3]}/"' in page.content.decode()
        assert "Try again" in page.content.decode()
    assert pending_while_down == PEOPLE and taken_while_down == 0
    assert holds_while_down == PEOPLE and seats_while_down == 0
    # Back: everybody paid once, every booking confirmed, nothing left for the job.
    assert confirmed == PEOPLE and lost == 0 and doubled == 0
    assert sorted(per_booking.values()) == [1] * PEOPLE and len(ours) == PEOPLE
    assert not settled.get("confirmed") and not settled.get("refunded")
    assert seats_after == PEOPLE
