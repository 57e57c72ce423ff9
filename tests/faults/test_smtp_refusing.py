"""People book while the mail server refuses everything (554, then 421), then it starts
accepting: every booking confirmation waits in the outbox with its retries, and goes exactly
once when the server accepts again, with no manual step (the sweep beat runs every minute).
The mail server is a real one (aiosmtpd on a free loopback port) and our code is not mocked:
Django's SMTP backend talks to it. The figures are printed (run with -s to see them)."""

import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import Booking
from outbox.models import OutboundMessage
from outbox.services import sweep

from ..journey_data import make_journey_data
from .conftest import free_port

pytestmark = pytest.mark.faults

HOST = {"HTTP_HOST": "essex.localhost"}
DOB = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}
PEOPLE = 6
CONFIRMATION = "booking_confirmation"


class MailServer:
    """An SMTP server that answers each envelope by its mood: "554" refuses the recipient for
    good, "421" says it is closing (try later), "accept" keeps the message."""

    def __init__(self):
        self.mood = "554"
        self.refused = Counter()
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mood == "554":
            self.refused["554"] += 1
            return "554 5.7.1 Not accepting mail just now"
        if self.mood == "421":
            self.refused["421"] += 1
            return "421 4.3.2 Service not available, closing transmission channel"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.rcpt_tos[0], envelope.content.decode(errors="replace")))
        return "250 Message accepted for delivery"


@pytest.fixture
def flushed_from_public(transactional_db):
    """The test's requests leave the connection in the client's schema; the flush after a
    transactional test empties the tables of the schema it finds, which must be the public one
    (essex's catalogue is the whole session's)."""
    yield
    connection.set_schema_to_public()


@pytest.fixture
def mail_server(settings):
    handler = MailServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield handler
    controller.stop()


def retry_delays_pass(messages) -> None:
    """As if the retry delay had gone by (the sweep beat runs every minute): each waiting
    message is due now. The sending and the sweep are the real ones."""
    messages.filter(status="pending").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


def book_free_course(reference: str, session_id: int, email: str, tally: Counter) -> str | None:
    """One person's journey to a free course, which confirms at the check page."""
    browser = Client(raise_request_exception=False)
    steps = [
        ("/book/find/", {"reference": reference, **DOB}, "/book/where/"),
        ("/book/where/", {"mode": "online"}, "/book/dates/"),
        ("/book/dates/", {"session": session_id}, "/book/details/"),
        ("/book/details/", {"email": email, "phone": "07700 900982", "language": "en"},
         "/book/check/"),
        ("/book/check/", {}, "/confirmation/"),
    ]
    response = None
    for path, data, expected in steps:
        response = browser.post(path, data, **HOST)
        if response.status_code == 302 and expected in response["Location"]:
            tally["requests ok"] += 1
        else:
            tally["unclear answers"] += 1
            return None
    return response["Location"].rstrip("/").split("/")[-1]


def test_confirmations_wait_for_a_refusing_mail_server_and_go_once(flushed_from_public, essex,
                                                                   mail_server, capsys):
    run = uuid.uuid4().hex[:6].upper()
    people = []
    for number in range(PEOPLE):
        offer, sessions = make_journey_data(essex, reference=f"SMT-{run}{number:02d}",
                                            fee_pence=0)
        people.append((offer.reference, sessions[2].pk, f"person{number}.{run.lower()}@example.com"))
    tally = Counter()

    # The server refuses the recipient for good (554) for half the crowd, then says it is
    # closing (421) for the rest: each booking still confirms, its message waits.
    booked = []
    for index, (reference, session_id, email) in enumerate(people):
        mail_server.mood = "554" if index < PEOPLE // 2 else "421"
        booked.append(book_free_course(reference, session_id, email, tally))
    connections.close_all()
    with schema_context(essex.schema_name):
        bookings = Booking.objects.filter(reference__in=[b for b in booked if b])
        confirmed_while_refused = bookings.filter(status="confirmed").count()
        messages = OutboundMessage.objects.filter(
            kind=CONFIRMATION, regarding__booking__in=list(bookings.values_list("pk", flat=True)))
        waiting_first = messages.filter(status="pending", attempts=1).count()

        # Still refusing when the retry is due: the sweep's retry fails too, and it waits on.
        retry_delays_pass(messages)
        sweep()
        waiting_after_retry = messages.filter(status="pending", attempts=2).count()
        errors = set(messages.values_list("last_error", flat=True))

        # The server accepts again: the next due sweep sends each message, and only once.
        mail_server.mood = "accept"
        retry_delays_pass(messages)
        sweep()
        retry_delays_pass(messages)
        sweep()  # and a later one sends nothing again
        sent = messages.filter(status="sent").count()
        attempts = sorted(messages.values_list("attempts", flat=True))
        addresses = Counter(to for to, _content in mail_server.received)
        expected = {email for _r, _s, email in people}
        lost = len(expected - set(addresses))
        doubled = sum(1 for email in expected if addresses[email] > 1)

    figures = {"people": PEOPLE, "requests ok": tally["requests ok"],
               "unclear answers": tally["unclear answers"],
               "bookings confirmed while mail refused": confirmed_while_refused,
               "refusals (554 / 421)": [mail_server.refused["554"], mail_server.refused["421"]],
               "confirmations sent": sent, "attempts each": attempts,
               "lost": lost, "doubled": doubled}
    with capsys.disabled():
        print("\nSMTP refusing:", json.dumps(figures, indent=1))

    assert tally["unclear answers"] == 0 and all(booked)
    assert confirmed_while_refused == PEOPLE
    assert mail_server.refused["554"] >= PEOPLE // 2 and mail_server.refused["421"] >= 1
    assert waiting_first == PEOPLE, "each confirmation should wait after its first refusal"
    assert waiting_after_retry == PEOPLE, "the retry while still refused should fail and wait"
    assert all(error for error in errors)
    assert sent == PEOPLE and attempts == [3] * PEOPLE
    assert lost == 0 and doubled == 0
    assert set(addresses) == expected and all(count == 1 for count in addresses.values())
