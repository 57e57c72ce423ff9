"""Who viewed my record, for pages that list people: every staff URL (/manage/, its reports,
offer import and billing, /contact-centre/ and its payment pages), and every search, filter and
download that can name someone, is asked for as the role that may see it. Any answer that
shows the seeded person's name must have logged a read of them during that request. A new URL
pattern this walk cannot fill in fails it too, so no page is left out by accident."""

from datetime import date, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.roles import Role
from booking.models import CallLog, OffenderRead
from booking.services.calls import log_call
from booking.services.cases import raise_case

from ..factories import book_offer
from ..manage.conftest import ESSEX_HOST, make_offer

LAST_NAME = "Zanzibarvale"
# Unbooked, near their critical date: the dashboard lists them.
NEAR_LAST_NAME = "Quarrendonne"
# Walked URL namespaces, and who asks for them.
NAMESPACES = {
    "manage": Role.CLIENT_ADMIN, "reports": Role.CLIENT_ADMIN,
    "offer_import": Role.CLIENT_ADMIN, "client_billing": Role.CLIENT_ADMIN,
    "contact_centre": Role.CONTACT_CENTRE_AGENT, "agent_payments": Role.CONTACT_CENTRE_AGENT,
}
# Pages that need something the walk does not make (an invoice, a report schedule) and that
# name no one (an invoice counts bookings; a schedule's stop button is a POST).
NOT_WALKED = {"reports:schedule_stop", "client_billing:invoice", "client_billing:invoice_pdf",
              "client_billing:invoice_csv", "client_billing:credit_note",
              "client_billing:credit_note_pdf"}


@pytest.fixture
def seeded(world, staff):
    """Quintessa Zanzibarvale: booked on today's course date, with a case and a call."""
    person = make_offer("ESX-777001", first_name="Quintessa", last_name=LAST_NAME,
                        date_of_birth=date(1981, 7, 9), phone="07700 900777",
                        email="quintessa@example.test")
    booking = book_offer(person, world["started"], channel="admin", actor="setup",
                         now=timezone.now() - timedelta(days=5))
    case = raise_case(person.pk, kind="part_payment", notes="Asked to pay in two",
                      actor=staff[Role.CLIENT_ADMIN])
    log_call(actor=staff[Role.CONTACT_CENTRE_AGENT], call_type=CallLog.Type.ENQUIRY,
             outcome=CallLog.Outcome.INFORMATION_GIVEN, duration_minutes=2, notes="",
             offer_id=person.pk)
    near = make_offer("ESX-777002", first_name="Ottoline", last_name=NEAR_LAST_NAME,
                      critical_in=3)
    kwargs = {**{key: value for key, value in world.items()
                 if isinstance(value, (int, str))},
              "reference": person.reference, "booking_reference": booking.reference,
              "case_id": case.pk}
    return {LAST_NAME: person, NEAR_LAST_NAME: near}, kwargs


def patterns(namespace):
    """Every URL pattern of the namespace, (name, keyword names), however nested."""
    resolver = get_resolver("config.urls_client")

    def walk(entries):
        for entry in entries:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns)
            elif isinstance(entry, URLPattern) and entry.name:
                yield entry.name, sorted(entry.pattern.regex.groupindex)

    found = resolver.namespace_dict[namespace][1]
    return list(walk(found.url_patterns))


def asks(namespace, kwargs):
    """(method, url, data) for each page of the namespace, then its searches and downloads."""
    for name, keywords in patterns(namespace):
        full = f"{namespace}:{name}"
        if full in NOT_WALKED:
            continue
        missing = [keyword for keyword in keywords if keyword not in kwargs]
        assert not missing, f"{full}: the walk cannot fill {missing}; seed it"
        url = reverse(full, kwargs={k: kwargs[k] for k in keywords},
                      urlconf="config.urls_client")
        yield "get", url, None
        if namespace == "reports":
            for export_format in ("csv", "xlsx"):
                yield "get", f"{url}?format={export_format}", None
    if namespace == "manage":
        yield "get", f"/manage/offenders/?q={LAST_NAME}", None
        yield "get", "/manage/offenders/?q=ESX-777001", None
        yield "get", "/manage/cases/?status=open", None
    if namespace == "contact_centre":
        yield "post", "/contact-centre/", {"by": "name", "last_name": LAST_NAME,
                                           "date_of_birth_0": "9", "date_of_birth_1": "7",
                                           "date_of_birth_2": "1981",
                                           "date_of_birth": "9 7 1981"}
        yield "post", "/contact-centre/", {"by": "phone", "phone": "07700 900777"}


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def test_every_page_that_names_a_person_logs_a_read_of_them(seeded, staff, client):
    people, kwargs = seeded
    shown, unlogged = [], []
    for namespace, role in NAMESPACES.items():
        client.force_login(staff[role])
        for method, url, data in asks(namespace, kwargs):
            before = {name: OffenderRead.objects.filter(offer=offer).count()
                      for name, offer in people.items()}
            response = getattr(client, method)(url, data or {}, HTTP_HOST=ESSEX_HOST)
            if response.status_code != 200:
                continue
            page = body(response)
            for name, offer in people.items():
                if name not in page:
                    continue
                shown.append((url, name))
                if OffenderRead.objects.filter(offer=offer).count() == before[name]:
                    unlogged.append(f"{method.upper()} {url} ({name})")
    assert unlogged == [], f"these pages name a person without logging the read: {unlogged}"
    # The walk really reached the pages that list people.
    for url, name in (("/manage/", NEAR_LAST_NAME), (f"/manage/offenders/?q={LAST_NAME}",
                                                     LAST_NAME),
                      ("/manage/cases/", LAST_NAME), ("/contact-centre/", LAST_NAME),
                      (f"/manage/registers/{kwargs['session_id']}/", LAST_NAME)):
        assert (url, name) in shown, (url, name)


def test_a_register_of_thirty_is_one_insert(world, staff, client):
    from ..factories import CourseSessionFactory

    session = CourseSessionFactory(course_type=world["nsac"], venue=world["venue"],
                                   capacity=40, trainers=[world["trainer"]])
    for number in range(30):
        book_offer(make_offer(f"ESX-7781{number:02d}"), session, channel="admin", actor="setup")
    client.force_login(staff[Role.CLIENT_ADMIN])
    client.get(f"/manage/registers/{session.pk}/", HTTP_HOST=ESSEX_HOST)  # warm the caches
    OffenderRead.objects.all().delete()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/manage/registers/{session.pk}/",
                          HTTP_HOST=ESSEX_HOST).status_code == 200
    inserts = [q["sql"] for q in queries.captured_queries
               if q["sql"].startswith('INSERT INTO "booking_offenderread"')]
    assert len(inserts) == 1 and OffenderRead.objects.count() == 30
