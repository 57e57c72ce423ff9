"""Pay-by-link by text message: UK mobile numbers only, the message in the offer's language, the
event written only once the text has gone, and GOV.UK Notify spoken to over real HTTP."""

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Booking, OfferEvent
from booking.services.bookings import ContactDetails, book
from booking.services.pay_links import LinkBy, send_pay_by_link
from booking.services.rules import BookingRefused
from integrations import text_messages
from outbox.models import OutboundMessage

from .conftest import deliver_outbox, enable_card_payments, make_user
from .journey_data import make_journey_data
from .test_payments import card_token

HOST = {"HTTP_HOST": "essex.localhost"}


@pytest.mark.parametrize("number, expected", [
    ("07700 900982", "+447700900982"),
    ("+44 7700 900 982", "+447700900982"),
    ("(07700) 900-982", "+447700900982"),
    ("447700900982", "+447700900982"),
])
def test_uk_mobiles_are_written_in_full(number, expected):
    assert text_messages.uk_mobile(number) == expected


@pytest.mark.parametrize("number, code", [
    ("", "invalid"), ("hello", "invalid"), ("07700", "invalid"),
    ("+33 6 12 34 56 78", "invalid"),   # a French mobile: Notify here sends to UK numbers only
    ("01245 430000", "not_mobile"),     # a landline cannot take a text
])
def test_other_numbers_are_refused_with_the_reason(number, code):
    with pytest.raises(ValidationError) as refused:
        text_messages.uk_mobile(number)
    assert refused.value.code == code
    assert "mobile" in refused.value.messages[0]


def _phone_booking(organisation, *, phone="07700 900982"):
    offer, sessions = make_journey_data(organisation, reference="ESX-500001")
    with schema_context(organisation.schema_name):
        booking = book(offer.pk, channel="telephone", actor="agent", session_id=sessions[0].pk,
                       details=ContactDetails(email="", phone=phone))
    return offer, booking


def test_the_link_goes_by_text_to_the_offers_phone(essex, text_outbox):
    enable_card_payments(essex)
    offer, booking = _phone_booking(essex)
    with schema_context(essex.schema_name):
        link = send_pay_by_link(booking.pk, organisation=essex, actor="agent", by=LinkBy.TEXT)
        deliver_outbox()
        [message] = text_outbox
        assert message.to == "+447700900982"
        assert link in message.body and booking.reference in message.body
        assert message.body.startswith("Essex Driver Awareness: pay £")
        assert re.search(r"Pay by \d\d:\d\d to keep your place\.", message.body)
        event = OfferEvent.objects.get(offer_id=offer.pk, kind="payment.link_sent")
        assert event.after == {"to": "+447700900982", "by": "text"}
        assert event.channel == "telephone"


def test_a_welsh_offer_gets_its_text_in_welsh(south_wales, text_outbox):
    enable_card_payments(south_wales)
    offer, sessions = make_journey_data(south_wales, reference="SWA-500001")
    with schema_context(south_wales.schema_name):
        booking = book(offer.pk, channel="telephone", actor="agent", session_id=sessions[0].pk,
                       details=ContactDetails(email="", phone="07700 900123", language="cy"))
        send_pay_by_link(booking.pk, organisation=south_wales, actor="agent", by=LinkBy.TEXT)
        deliver_outbox()
    [message] = text_outbox
    assert message.body.startswith("Ymwybyddiaeth Gyrwyr De Cymru: ")
    assert "Talwch" in message.body


def test_a_bad_number_is_refused_and_a_failed_send_is_retried(essex, text_outbox, settings):
    enable_card_payments(essex)
    offer, booking = _phone_booking(essex, phone="01245 430000")
    with schema_context(essex.schema_name):
        with pytest.raises(BookingRefused) as refused:
            send_pay_by_link(booking.pk, organisation=essex, actor="agent", by=LinkBy.TEXT)
        assert refused.value.code == "bad_mobile"
        settings.SMS_BACKEND = None
        with pytest.raises(BookingRefused) as refused:
            send_pay_by_link(booking.pk, organisation=essex, actor="agent", by=LinkBy.TEXT,
                             mobile="07700 900982")
        assert refused.value.code == "no_text_service"
        assert not OfferEvent.objects.filter(offer_id=offer.pk, kind="payment.link_sent").exists()
        # The provider refusing is the outbox's to retry; the timeline shows it if it gives up.
        settings.SMS_BACKEND = "tests.test_text_messages.BrokenBackend"
        send_pay_by_link(booking.pk, organisation=essex, actor="agent", by=LinkBy.TEXT,
                         mobile="07700 900982")
        deliver_outbox()
        waiting = OutboundMessage.objects.get(medium=OutboundMessage.Medium.TEXT)
        assert waiting.status == OutboundMessage.Status.PENDING
        assert "provider down" in waiting.last_error and waiting.to == "+447700900982"
    assert text_outbox == []


class BrokenBackend:
    def send(self, message):
        raise text_messages.TextMessageFailed("provider down")


def test_agent_sends_the_link_by_text_and_the_caller_pays(essex, stripe_api, client, text_outbox):
    enable_card_payments(essex)
    agent = make_user("agent@essex.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT)
    offer, booking = _phone_booking(essex, phone="07700 900982")
    client.force_login(agent)
    url = f"/contact-centre/payments/{booking.reference}/"
    page = client.get(url, **HOST).content.decode()
    assert "There is no email address on this offer." in page
    assert 'value="07700 900982"' in page  # the number on the offer, to read back
    assert "The place is held until" in page
    refused = client.post(url, {"action": "text_link", "mobile": "01245 430000"}, **HOST)
    assert refused.status_code == 200
    assert "That is not a mobile number" in refused.content.decode()
    assert 'href="#id_mobile"' in refused.content.decode()  # the error summary links to it
    assert text_outbox == []
    sent = client.post(url, {"action": "text_link", "mobile": "07700 900 111"}, **HOST)
    assert sent.status_code == 302
    with schema_context(essex.schema_name):
        deliver_outbox()
    [message] = text_outbox
    assert message.to == "+447700900111"
    link = re.search(r"https?://essex\.localhost(?::\d+)?(/pay/\S+/)", message.body).group(1)
    client.logout()
    response = client.post(link + "card/", json.dumps({"token": card_token(stripe_api)}),
                           content_type="application/json", **HOST)
    assert response.status_code == 200, response.content
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"


def test_without_a_text_service_only_email_is_offered(essex, client, settings):
    enable_card_payments(essex)
    settings.SMS_BACKEND = None
    agent = make_user("agent@essex.test", organisation=essex, role=Role.CONTACT_CENTRE_AGENT)
    offer, booking = _phone_booking(essex)
    client.force_login(agent)
    page = client.get(f"/contact-centre/payments/{booking.reference}/", **HOST).content.decode()
    assert "Send payment link by text" not in page
    assert client.get(f"/contact-centre/payments/{booking.reference}/",
                      HTTP_HOST="south-wales.localhost").status_code == 403


class FakeNotify(BaseHTTPRequestHandler):
    """GOV.UK Notify's send-a-text endpoint, enough to see what the client library sends."""

    received: list = []
    answer = 201

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeNotify.received.append({"path": self.path, "auth": self.headers["Authorization"],
                                    "body": body})
        self.send_response(FakeNotify.answer)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if FakeNotify.answer == 201:
            self.wfile.write(json.dumps({"id": str(uuid.uuid4()), "content": {}}).encode())
        else:
            self.wfile.write(json.dumps({"status_code": FakeNotify.answer, "errors": [
                {"error": "BadRequestError", "message": "Can't send to this recipient"}]}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_notify(settings):
    server = HTTPServer(("127.0.0.1", 0), FakeNotify)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeNotify.received, FakeNotify.answer = [], 201
    settings.SMS_BACKEND = "integrations.text_messages.NotifyBackend"
    settings.NOTIFY_BASE_URL = f"http://127.0.0.1:{server.server_port}"
    settings.NOTIFY_API_KEY = f"waymark_test-{uuid.uuid4()}-{uuid.uuid4()}"
    settings.NOTIFY_SMS_TEMPLATE_ID = str(uuid.uuid4())
    yield settings
    server.shutdown()


def test_notify_gets_the_number_template_and_body(fake_notify):
    text_messages.send_text("07700 900982", "Pay here")
    [request] = FakeNotify.received
    assert request["path"] == "/v2/notifications/sms"
    assert request["auth"].startswith("Bearer ")
    assert request["body"]["phone_number"] == "+447700900982"
    assert request["body"]["template_id"] == fake_notify.NOTIFY_SMS_TEMPLATE_ID
    assert request["body"]["personalisation"] == {"body": "Pay here"}


def test_notify_refusing_is_a_clear_failure(fake_notify):
    FakeNotify.answer = 400
    with pytest.raises(text_messages.TextMessageFailed):
        text_messages.send_text("07700 900982", "Pay here")


def test_development_texts_are_printed_and_kept_as_files(settings, tmp_path, capsys):
    settings.SMS_BACKEND = "integrations.text_messages.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    text_messages.send_text("07700 900982", "Pay here")
    [kept] = (tmp_path / "sms").iterdir()
    assert json.loads(kept.read_text()) == {"to": "+447700900982", "body": "Pay here"}
    assert "SMS to +447700900982: Pay here" in capsys.readouterr().out
