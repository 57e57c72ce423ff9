"""The public journey's SQL budget per request (issue 13): every page from finding the offer to
the confirmation, through every middleware, with the caches on as production has them (the
tenant routing cache, the set-up gate's answer). A rule, not a timing: a change that adds
statements to a page fails here and must either remove them again or raise that page's budget
on purpose, saying why. tests/booking/test_statement_budget.py pins the services inside.

Counted as CaptureQueriesContext counts them: the test's own transaction turns each service's
durable transaction into savepoints, which are counted too."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.services import setup_checklist
from tenants import routing_cache

from ..conftest import enable_card_payments
from ..journey_data import make_journey_data
from ..test_payments import card_token

ESSEX = {"HTTP_HOST": "essex.localhost"}

# Statements each request may run (in brackets what they are; a session saved is three: the
# test's savepoint around the UPDATE). Every page starts with its client's `SET search_path`
# (counted in each budget): see the last test. Raise one only with a reason next to it.
BUDGETS = {
    "find (GET)": 2,  # the example reference (the set-up gate's answer is remembered)
    # + the offer, the new session (checked, inserted, saved), its active booking, the count
    # of journeys started
    "find (POST)": 12,
    # the session, the offer; the journey's expiry is restamped at most once a minute, so a
    # page that changes nothing else does not save the session
    "where (GET)": 3,
    "where (POST)": 6,  # + the session saved
    "dates (GET)": 6,  # + the venues, the dates, their holds
    "hold (POST dates)": 10,  # + place_hold (test_statement_budget.HOLD_BUDGET)
    "details (GET)": 4,  # + the live hold
    "details (POST)": 7,  # + the session saved
    "check (GET)": 7,  # + the request key kept in the session
    "book (POST check)": 21,  # + book (BOOK_BUDGET), the session saved
    "pay page (GET)": 17,  # + the booking, start_card_payment (START_PAYMENT_BUDGET)
    "card (POST)": 40,  # + pay_by_card_token (CARD_BUDGET)
    "confirmation (GET)": 4,  # the session, the offer, the booking
}


@pytest.fixture
def production_caches(settings, essex):
    """The caches the suite's settings switch off, on and empty (an entry an earlier test left
    may describe rows its rollback removed without a signal)."""
    settings.TENANT_ROUTING_CACHE_SECONDS = 60
    settings.TAKING_BOOKINGS_CACHE_SECONDS = 60
    routing_cache._entries.clear()
    setup_checklist.forget_taking_bookings(essex.schema_name)
    yield
    routing_cache._entries.clear()
    setup_checklist.forget_taking_bookings(essex.schema_name)


def test_each_page_of_the_journey_stays_within_its_budget(essex, client, stripe_api,
                                                          production_caches):
    offer, sessions = make_journey_data(essex)
    enable_card_payments(essex)
    counted: dict[str, list[str]] = {}

    def step(name, method, path, data=None, **extra):
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(path, data, **ESSEX, **extra)
        assert response.status_code < 400, (name, response.status_code)
        counted[name] = [query["sql"] for query in queries.captured_queries]
        return response

    # The first visit asks the routing and the set-up gate; a server has long since done so.
    assert "Start now" in client.get("/", **ESSEX).content.decode()
    step("find (GET)", "get", "/book/find/")
    step("find (POST)", "post", "/book/find/", {
        "reference": offer.reference, "date_of_birth_0": "27", "date_of_birth_1": "3",
        "date_of_birth_2": "1985", "postcode": "CM1 1QH"})
    step("where (GET)", "get", "/book/where/")
    step("where (POST)", "post", "/book/where/", {"mode": "classroom", "postcode": "CM1 1QH"})
    step("dates (GET)", "get", "/book/dates/")
    step("hold (POST dates)", "post", "/book/dates/", {"session": str(sessions[0].pk)})
    step("details (GET)", "get", "/book/details/")
    step("details (POST)", "post", "/book/details/", {
        "email": "budget@example.com", "phone": "07700 900982", "language": "en"})
    page = step("check (GET)", "get", "/book/check/").content.decode()
    key = re.search(r'type="hidden" name="(request_key[^"]*)" value="([^"]+)"', page)
    booked = step("book (POST check)", "post", "/book/check/",
                  {key.group(1): key.group(2)} if key else {})
    pay_path = booked["Location"]
    step("pay page (GET)", "get", pay_path)
    answer = step("card (POST)", "post", pay_path + "card/",
                  json.dumps({"token": card_token(stripe_api)}),
                  content_type="application/json").json()
    assert answer["status"] == "succeeded", answer
    # Settled by the card request itself: no return page between it and the confirmation.
    step("confirmation (GET)", "get", answer["redirect"])

    over = {name: len(sql) for name, sql in counted.items() if len(sql) > BUDGETS[name]}
    detail = "\n".join(f"-- {name}: {len(counted[name])} statements, budget {BUDGETS[name]}\n"
                       + "\n".join(f"   {sql[:160]}" for sql in counted[name]) for name in over)
    assert not over, detail
    # No page asks the set-up checklist or routes the host again: both answers are remembered.
    for name, sql in counted.items():
        assert not [s for s in sql if "booking_trainer" in s or (
            "tenants_domain" in s and "tenants_clientorganisation" in s)], name


def test_every_request_sets_its_clients_search_path_before_reading(essex, south_wales, client,
                                                                   production_caches):
    """A persistent connection that served this client a moment ago is still told the client's
    search_path before the page's first read: what the connection holds between requests is not
    trusted (a skipped SET once answered a request from the public schema in the smoke test, and
    would answer it from another client's schema as easily)."""
    make_journey_data(essex)

    def first_read_is_in(host, schema):
        with CaptureQueriesContext(connection) as queries:
            client.get("/book/find/", HTTP_HOST=host)
        sql = [query["sql"] for query in queries.captured_queries]
        reads = [i for i, statement in enumerate(sql) if "booking_offer" in statement]
        sets = [i for i, statement in enumerate(sql) if statement.startswith("SET search_path")]
        assert reads and sets and min(sets) < reads[0], sql
        return sql[max(i for i in sets if i < reads[0])] == f'SET search_path = "{schema}","public"'

    for host, schema in (("essex.localhost", "client_essex"), ("essex.localhost", "client_essex"),
                         ("south-wales.localhost", "client_south_wales"),
                         ("essex.localhost", "client_essex")):
        assert first_read_is_in(host, schema), host
