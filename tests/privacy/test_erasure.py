"""Erasure: every detail of the person gone from every table (the append-only timeline and
audit trail rewritten only through the one database function), the person found by no search,
page, API or export, and the client's figures and billing usage unchanged."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEntry
from billing.models import UsageRecord
from booking import usage
from booking.models import ErasureRecord, Offer, OfferEvent
from booking.services import retention
from booking.services.api_keys import create_api_key
from booking.services.offers import find_offer
from booking.services.search import offer_with_reference, search_offers
from reports.bookings import bookings_report
from reports.funnel import funnel_report
from reports.periods import Period
from reports.remittance import remittance_report

from ..factories import CourseSessionFactory, book_offer
from .conftest import ESSEX_HOST, SECRETS, every_row_text, make_person

REQUEST = ErasureRecord.Rule.REQUEST


def erase(offer, admin):
    return retention.erase_offer(offer.pk, rule=REQUEST, reason="subject_request",
                                 acting_user=admin)


def test_erasure_removes_every_detail_from_every_table(person, staff):
    offer, _booking = person
    text = every_row_text()
    for secret in SECRETS:  # the fixture wrote each of them somewhere
        assert secret in text, secret
    erasure = erase(offer, staff[Role.CLIENT_ADMIN])
    text = every_row_text()
    assert [secret for secret in SECRETS if secret in text] == []
    offer.refresh_from_db()
    assert offer.reference == erasure.pseudonym and offer.reference.startswith("ERASED-")
    assert offer.date_of_birth == retention.ERASED_DATE_OF_BIRTH and offer.erased_at
    assert (offer.first_name, offer.last_name, offer.email, offer.access_requirements) == (
        "", "", "", [])
    # The log says what kinds of data, when, why and by whom, and holds nothing of theirs.
    assert erasure.rule == REQUEST and erasure.reason == "subject_request"
    assert erasure.actor == staff[Role.CLIENT_ADMIN].email
    assert {"offer_details", "call_notes", "case_text", "messages", "timeline",
            "audit_trail"} <= set(erasure.erased)
    assert AuditEntry.objects.filter(action="privacy.erased", object_id=str(offer.pk)).exists()


def test_erasing_twice_changes_nothing(person, staff):
    offer, _booking = person
    first = erase(offer, staff[Role.CLIENT_ADMIN])
    before = every_row_text()
    again = retention.erase_offer(offer.pk, rule=REQUEST, reason="subject_request",
                                  acting_user=staff[Role.CLIENT_ADMIN])
    assert again.pk == first.pk and ErasureRecord.objects.count() == 1
    assert every_row_text() == before


def test_the_timeline_and_audit_trail_stay_append_only(person, staff):
    offer, _booking = person
    event = OfferEvent.objects.filter(offer=offer).first()
    entry = AuditEntry.objects.filter(object_id=str(offer.pk)).first()
    for statement, args in (
            ("UPDATE booking_offerevent SET after = '{}' WHERE id = %s", [event.pk]),
            ("DELETE FROM booking_offerevent WHERE id = %s", [event.pk]),
            ("UPDATE audit_auditentry SET after = '{}' WHERE id = %s", [entry.pk]),
            ("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk]),
            # Even with the erasure switch on, only the payload columns may change.
            ("SELECT set_config('waymark.erasing', 'on', true); "
             "UPDATE booking_offerevent SET kind = 'forged' WHERE id = %s", [event.pk]),
            ("SELECT set_config('waymark.erasing', 'on', true); "
             "DELETE FROM booking_offerevent WHERE id = %s", [event.pk]),
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement, args)
    # The function rewrites only the timeline and the audit trail.
    with pytest.raises(Exception, match="rewrites only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("SELECT public.waymark_erase_payload('booking_offer'::regclass, %s, "
                       "NULL, NULL, NULL)", [offer.pk])
    # After it has run, the guard is on again within the same transaction.
    with pytest.raises(IntegrityError), transaction.atomic():
        retention._rewrite("booking_offerevent", event.pk, event.before, event.after)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE booking_offerevent SET after = '{}' WHERE id = %s",
                           [event.pk])


def test_an_open_record_is_not_erased(essex, staff, in_essex):
    from ..factories import OfferFactory

    session = CourseSessionFactory()
    offer = OfferFactory(course_type=session.course_type, reference="ESX-900002")
    with pytest.raises(retention.ErasureRefused, match="withdraw it first"):
        erase(offer, staff[Role.CLIENT_ADMIN])
    book_offer(offer, session)
    with pytest.raises(retention.ErasureRefused, match="still open"):
        erase(offer, staff[Role.CLIENT_ADMIN])
    with pytest.raises(ValidationError):
        retention.erase_offer(offer.pk, rule=REQUEST, reason="", acting_user="x")
    assert not ErasureRecord.objects.exists()
    assert Offer.objects.get(pk=offer.pk).first_name == "Sam"


def test_an_erased_person_is_found_by_no_search(person, staff):
    offer, booking = person
    assert search_offers("Erasable") and offer_with_reference("ESX-900001")
    erasure = erase(offer, staff[Role.CLIENT_ADMIN])
    for text in ("Erasable", "Priya Erasable", "ESX-900001", booking.reference, "04/05/1979",
                 "07700 900123", "priya@example.test", "CM2 9ZZ", erasure.pseudonym,
                 "01/01/1900"):
        assert search_offers(text) == [], text
    assert offer_with_reference(erasure.pseudonym) is None
    # The public site's look-up, with their old details or the erased ones.
    assert find_offer("ESX-900001", date(1979, 5, 4)) is None
    assert find_offer(erasure.pseudonym, retention.ERASED_DATE_OF_BIRTH) is None


def _manage(client, url, **data):
    return client.get(url, data, HTTP_HOST=ESSEX_HOST)


def test_an_erased_person_is_on_no_page_or_api(person, staff, client):
    offer, booking = person
    admin = staff[Role.CLIENT_ADMIN]
    _row, key = create_api_key("dpo-test", ["offers.view", "bookings.view"], actor="tests")
    api = {"HTTP_HOST": ESSEX_HOST, "HTTP_AUTHORIZATION": f"Api-Key {key}"}
    assert client.get("/api/v1/offers/ESX-900001/", **api).status_code == 200
    erasure = erase(offer, admin)
    client.force_login(admin)
    for query in ("Erasable", "ESX-900001", booking.reference, erasure.pseudonym):
        page = _manage(client, "/manage/offenders/", q=query)
        assert page.status_code == 200 and b"0 results" in page.content, query
    for url in (f"/manage/offenders/{erasure.pseudonym}/",
                f"/manage/privacy/records/{erasure.pseudonym}/",
                f"/manage/privacy/records/{erasure.pseudonym}/export/",
                f"/manage/offenders/{erasure.pseudonym}/withdraw/"):
        assert _manage(client, url).status_code == 404, url
    agent = staff[Role.CONTACT_CENTRE_AGENT]
    client.force_login(agent)
    for url in (f"/contact-centre/offers/{erasure.pseudonym}/",
                f"/contact-centre/bookings/{booking.reference}/"):
        assert client.get(url, HTTP_HOST=ESSEX_HOST).status_code == 404, url
    found = client.post("/contact-centre/", {"by": "reference", "reference": "ESX-900001"},
                        HTTP_HOST=ESSEX_HOST)
    assert found.status_code == 404
    by_name = client.post("/contact-centre/", {
        "by": "name", "last_name": "Erasable", "first_name": "Priya",
        "date_of_birth_0": "4", "date_of_birth_1": "5", "date_of_birth_2": "1979"},
        HTTP_HOST=ESSEX_HOST)
    assert by_name.status_code == 200 and b"/contact-centre/offers/" not in by_name.content
    client.logout()
    for reference in ("ESX-900001", erasure.pseudonym):
        assert client.get(f"/api/v1/offers/{reference}/", **api).status_code == 404
    feed = client.get("/api/v1/bookings/", **api)
    assert not [secret for secret in SECRETS if secret in feed.content.decode()]


def _figures():
    period = Period.last_months(3)
    return (repr(bookings_report(period)), repr(funnel_report(period)),
            repr(remittance_report(period)))


def test_figures_and_billing_usage_are_unchanged(person, staff, essex):
    offer, _booking = person
    now = timezone.now()
    figures = _figures()
    billable = usage.billable_ids(now - timedelta(days=400), now + timedelta(days=1))
    ledger = list(UsageRecord.objects.filter(client=essex).order_by("pk").values_list(
        "pk", "kind", "channel", "source_event_id", "amount_pence"))
    assert billable and ledger
    erase(offer, staff[Role.CLIENT_ADMIN])
    assert _figures() == figures
    assert usage.billable_ids(now - timedelta(days=400), now + timedelta(days=1)) == billable
    assert list(UsageRecord.objects.filter(client=essex).order_by("pk").values_list(
        "pk", "kind", "channel", "source_event_id", "amount_pence")) == ledger


def test_another_clients_person_is_untouched(person, staff, south_wales):
    from django_tenants.utils import schema_context

    from ..manage.conftest import make_staff

    with schema_context(south_wales.schema_name):
        wales_admin = make_staff("dpo@south-wales.test", south_wales, Role.CLIENT_ADMIN)
        wales_offer, _b = make_person(wales_admin)  # the same reference, another client
    offer, _booking = person
    erase(offer, staff[Role.CLIENT_ADMIN])
    with schema_context(south_wales.schema_name):
        kept = Offer.objects.get(pk=wales_offer.pk)
        assert (kept.reference, kept.last_name) == ("ESX-900001", "Erasable")
        assert not ErasureRecord.objects.exists()
