"""The hot path's SQL budget: how many statements holding a seat, booking it, paying for it and
settling the payment may run (issue 13: about 205 statements per paid booking over HTTP before
the cuts). A rule, not a timing: a change that adds statements to these services fails here
and must either remove them again or raise the budget on purpose, saying why.

Counted as CaptureQueriesContext counts them (every statement Django sends, the savepoints
the test's own transaction turns each service's durable transaction into included); Stripe
calls are counted too, as each is a network round trip on the person's request."""

from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from booking.models import Booking
from booking.services.bookings import ContactDetails, book, confirm_booking, place_hold
from booking.services.payments import pay_by_card_token, settle_payment, start_card_payment
from integrations import stripe_gateway as gateway

from ..conftest import enable_card_payments
from ..test_payments import card_token
from .conftest import make_offer, make_session, set_fee

# Statements each service may run (measured when the budget was set, in brackets why it is
# that many). Raise one only with a reason next to it.
HOLD_BUDGET = 7  # savepoint, lock the offer, lock the date, count its holds, the hold, event
BOOK_BUDGET = 13  # + the request key's look-up, the active booking, the booking, the offer
# (14 → 13: no look-up of the new reference first; the unique constraint checks it)
CONFIRM_BUDGET = 20  # the seat, the booking, the offer, the event, its tallies, the e-mail
# (23 → 20: the offer locked by the booking's id in one statement; the hold deleted without
# selecting it first; the booking's tally rows appended in one statement)
START_PAYMENT_BUDGET = 11  # the attempt under the booking's lock, then the PaymentIntent's id
CARD_BUDGET = 40  # start (the attempt reused), then settle: the payment, its event, confirm
# (46 → 40: confirm's 3 above; the booking's state read in the payment's own transaction)
SETTLE_AGAIN_BUDGET = 5  # the return page or the webhook after the card settled: reads only
# (6 → 5: the booking's status and its confirming event read in one statement)
# localstripe's token, update, confirm (4 → 3: the attempt's PaymentIntent is confirmed without
# retrieving it first; with Stripe itself, one call: confirm with the token)
STRIPE_CALLS_CARD = 3
STRIPE_CALLS_SETTLE_AGAIN = 0


@contextmanager
def budget(statements: int, what: str):
    with CaptureQueriesContext(connection) as queries:
        yield queries
    sql = "\n".join(query["sql"][:160] for query in queries.captured_queries)
    assert len(queries) <= statements, f"{what}: {len(queries)} statements, budget {statements}:\n{sql}"


@pytest.fixture
def stripe_calls(monkeypatch):
    calls = []
    real = gateway._call

    def counting(function, *args, **kwargs):
        calls.append(getattr(function, "__qualname__", str(function)))
        return real(function, *args, **kwargs)

    monkeypatch.setattr(gateway, "_call", counting)
    return calls


@pytest.mark.usefixtures("in_essex")
def test_holding_booking_and_confirming_stay_within_budget(now):
    set_fee(provider=8000, police=1500)
    session = make_session(now=now)
    offer = make_offer(now=now)
    with budget(HOLD_BUDGET, "place_hold"):
        place_hold(offer.pk, session.pk, channel="online", actor="offender", now=now)
    with budget(BOOK_BUDGET, "book"):
        booking = book(
            offer.pk,
            channel="online",
            actor="offender",
            request_key="k-budget",
            details=ContactDetails(email="budget@example.com"),
            now=now,
        )
    assert booking.status == Booking.Status.PENDING_PAYMENT
    with budget(CONFIRM_BUDGET, "confirm_booking"):
        confirm_booking(
            booking.pk,
            channel="online",
            actor="stripe",
            now=now,
            payment={"payment_intent": "pi_budget", "amount_pence": 9500},
        )
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED


def test_paying_by_card_and_settling_again_stay_within_budget(essex, stripe_api, stripe_calls):
    enable_card_payments(essex)
    with schema_context(essex.schema_name):
        set_fee(provider=8000, police=1500)
        session = make_session()
        offer = make_offer()
        place_hold(offer.pk, session.pk, channel="online", actor="offender")
        booking = book(
            offer.pk, channel="online", actor="offender", details=ContactDetails(email="budget@example.com")
        )
        with budget(START_PAYMENT_BUDGET, "start_card_payment (the payment page)"):
            payment, _intent = start_card_payment(booking.pk, organisation=essex, channel="online", actor="offender")
        token = card_token(stripe_api)
        stripe_calls.clear()
        with budget(CARD_BUDGET, "pay_by_card_token"):
            paid = pay_by_card_token(booking.pk, token, organisation=essex, channel="online", actor="offender")
        assert paid.intent_status == "succeeded"
        assert len(stripe_calls) <= STRIPE_CALLS_CARD, stripe_calls
        stripe_calls.clear()
        for source in ("return", "webhook payment_intent.succeeded"):
            with budget(SETTLE_AGAIN_BUDGET, f"settle_payment again ({source})"):
                outcome = settle_payment(
                    payment.stripe_payment_intent_id, organisation=essex, actor="stripe", source=source
                )
            assert outcome == "already_confirmed"
        assert len(stripe_calls) <= STRIPE_CALLS_SETTLE_AGAIN, stripe_calls
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
