"""The offer's timeline: one label table and renderer for /manage/ and the contact centre, with
a label in words for every kind of event the code writes."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.roles import Role
from booking.models import Offer, OfferEvent
from booking.services.calls import log_call
from booking.timeline import LABELS, label, offer_timeline, timeline

from .conftest import make_user
from .factories import CourseSessionFactory, OfferFactory, book_offer

ROOT = Path(__file__).resolve().parents[1]


def _literals(node) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}


def _kind_argument(call: ast.Call):
    if len(call.args) > 1:
        return call.args[1]
    return next((k.value for k in call.keywords if k.arg == "kind"), None)


def _calls(tree, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr",
                                                                            None)) == name:
            yield node


def written_kinds() -> tuple[set[str], list[str]]:
    """Every kind passed to log_event in booking/ (following a kind a function passes on from
    its own callers), and each f-string kind's text before its first placeholder."""
    kinds, prefixes = set(), []
    for path in (ROOT / "booking").rglob("*.py"):
        if "migrations" in path.parts or path.name == "events.py":
            continue
        tree = ast.parse(path.read_text())
        functions = {node.name: node for node in ast.walk(tree)
                     if isinstance(node, ast.FunctionDef)}
        for call in _calls(tree, "log_event"):
            kind = _kind_argument(call)
            if isinstance(kind, ast.JoinedStr):
                prefixes.append(kind.values[0].value)
            elif isinstance(kind, ast.Name):
                passing = next(f for f in functions.values() if call in ast.walk(f))
                position = [a.arg for a in passing.args.args].index(kind.id)
                forwarded = [c.args[position] if len(c.args) > position else
                             next(k.value for k in c.keywords if k.arg == kind.id)
                             for c in _calls(tree, passing.name)]
                assert forwarded, f"{path}: no caller gives {passing.name} its kind"
                for argument in forwarded:
                    kinds |= _literals(argument)
            else:
                assert kind is not None, f"{path}:{call.lineno}: log_event without a kind"
                kinds |= _literals(kind)
    return kinds, prefixes


def test_every_kind_the_code_writes_has_a_label_in_words():
    kinds, prefixes = written_kinds()
    # The scan finds kinds in each way they are written: literal, either branch, passed on.
    assert {"offer.imported", "booking.created", "booking.confirmed", "message.sent",
            "message.failed", "message.skipped", "payment.refunded"} <= kinds
    unlabelled = sorted(kind for kind in kinds if kind not in LABELS)
    assert unlabelled == [], f"label these kinds in booking/timeline.py: {unlabelled}"
    for prefix in prefixes:
        assert prefix == "offer.", f"an f-string kind {prefix!r}… has no rule in label()"
    for status in Offer.Status.values:
        assert label(f"offer.{status}") != f"offer.{status}"


def test_an_unknown_kind_is_shown_as_it_is():
    assert label("something.new") == "something.new"
    assert str(label("offer.special_arrangement")) == "Offer status: Special arrangement pending"


@pytest.fixture
def offer_with_history(essex, in_essex):
    now = timezone.now()
    session = CourseSessionFactory(starts_at=now + timedelta(days=10))
    offer = OfferFactory(reference="ESX-700001")
    booking = book_offer(offer, session, channel="admin", now=now - timedelta(minutes=5))
    log_call(actor="agent@essex.test", call_type="new_booking", outcome="booked",
             duration_minutes=7, notes="", offer_id=offer.pk, booking_id=booking.pk)
    return offer, session, booking


def test_details_are_in_words(offer_with_history):
    offer, session, _booking = offer_with_history
    rows = {row["event"].kind: row for row in offer_timeline(offer)}
    call = rows["call.logged"]
    assert call["label"] == "Call logged" and call["channel"] == "Telephone"
    assert dict(call["details"]) == {"Call type": "New booking", "Outcome": "Booked",
                                     "Length of the call, in minutes": 7}
    confirmed = dict(rows["booking.confirmed"]["details"])
    assert confirmed["Course date"] == str(session)
    assert confirmed["Status"] == "Confirmed"
    # Newest first.
    assert [row["event"].kind for row in offer_timeline(offer)][0] == "call.logged"


def test_a_change_shows_before_and_after(offer_with_history):
    offer, _session, _booking = offer_with_history
    event = OfferEvent(offer=offer, kind="case.approved", channel="admin", actor="boss",
                       occurred_at=timezone.now(), before={"status": "open"},
                       after={"status": "approved", "kind": "medical", "case": 1})
    refund = OfferEvent(offer=offer, kind="payment.refunded", channel="system", actor="stripe",
                        occurred_at=timezone.now(), after={"amount_pence": 123456})
    approved, refunded = timeline([event, refund])
    assert approved["label"] == "Case approved" and approved["channel"] == "Administrator"
    assert approved["details"] == [("Status", "Open → Approved"), ("Kind", "Medical")]
    assert refunded["details"] == [("Amount", "£1,234.56")]  # the one money format


def test_manage_and_the_contact_centre_read_the_same_timeline(essex, offer_with_history, client):
    offer, _session, _booking = offer_with_history
    client.force_login(make_user("boss@essex.test", organisation=essex, role=Role.CLIENT_ADMIN))
    manage = client.get(f"/manage/offenders/{offer.reference}/", HTTP_HOST="essex.localhost")
    client.force_login(make_user("agent@essex.test", organisation=essex,
                                 role=Role.CONTACT_CENTRE_AGENT))
    console = client.get(f"/contact-centre/offers/{offer.reference}/",
                         HTTP_HOST="essex.localhost")
    for page in (manage.content.decode(), console.content.decode()):
        assert 'id="timeline"' in page
        assert "Call logged" in page and "Booking confirmed" in page
        assert "Call type: New booking" in page
