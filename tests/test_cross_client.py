"""No client's data reaches another client through any page or API endpoint (DESIGN §7).

Two clients full of demo data whose ids collide (each schema counts from 1). Everything a
visitor can carry from client A — a staff member's signed-in session in every role, a booking
journey proven on A's site, A's API key and A's staff API token, A's signed payment link — is
sent to client B's site, to every URL pattern of the client URL tree and every operation of the
client API's OpenAPI schema, filled with B's own ids and references. The answer is always a
refusal (302 to a sign-in or start page, 401, 403, 404, 405) and no body contains anything of
B's offenders or staff. The same sessions on A's own site reach A's pages, so the test proves the
sessions were live.
"""

import json
import re
from itertools import product

import pytest
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from accounts.models import Membership
from accounts.roles import Role
from billing.models import Invoice
from booking.demo import seed_client_demo
from booking.models import (
    Booking,
    CorrespondenceTemplate,
    CourseSession,
    CourseType,
    Offer,
    SpecialCircumstancesCase,
    Trainer,
    Venue,
)
from booking.services.api_keys import create_api_key
from booking.services.cases import raise_case
from booking.services.pay_links import pay_link_token

from .conftest import make_user
from .factories import complete_setup

A_HOST, B_HOST = "essex.localhost", "south-wales.localhost"
# Demo offer ESX-DEMO-001, as a person on A's site proves it.
A_OFFER = {"reference": "ESX-DEMO-001", "date_of_birth_0": "15", "date_of_birth_1": "1",
           "date_of_birth_2": "1980"}
# Pages anyone may open, session or not: they answer whoever asks and show no offender's data.
PUBLIC = {"site:start", "site:accessibility", "site:privacy", "site:contact", "site:language",
          "site:cookies", "site:survey", "site:survey_thanks", "site:status", "console:status",
          "site:logo", "journey:find", "healthz", "readyz", "accounts:login", "accounts:two_factor",
          "accounts:set_password", "accounts:logout", "client_api:schema", "client_api:docs",
          "platform_api:schema", "platform_api:docs", "console:home", "stripe_webhook",
          "admin:login", "admin:logout"}
REFUSED = {301, 302, 401, 403, 404, 405}
# Signing out would end the visitor's session halfway through the walk.
SIGN_OUTS = {"accounts:logout", "journey:sign_out", "admin:logout"}
# Where a refusal may send the visitor: to prove who they are again, never into B's pages.
SAFE_REDIRECTS = re.compile(r"^(https?://[^/]+)?/(book/find/|accounts/sign-in/|admin/login/|admin/$|$)")
ROLES = (Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.CONTACT_CENTRE_AGENT, Role.TRAINER,
         Role.AUDITOR)


def url_patterns(urlconf: str) -> list[tuple[str, str]]:
    """(route with <converters>, name) for every pattern of the URL tree."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or route)
                found.append((route, name))

    walk(get_resolver(urlconf).url_patterns, "/", None)
    return found


def fill(route: str, values: dict[str, list[str]]) -> list[str]:
    """Every path the route makes with the candidate values for its parameters."""
    names = re.findall(r"<(?:\w+:)?(\w+)>", route)
    paths = []
    for choice in product(*(values[name] for name in names)):
        path = route
        for name, value in zip(names, choice, strict=True):
            path = re.sub(rf"<(?:\w+:)?{name}>", value, path, count=1)
        paths.append(path)
    return paths


def b_secrets(organisation, other) -> set[str]:
    """What of B's people must never appear on a page answered to A's visitors (minus anything
    A has too: the demo reuses some names across clients)."""
    def people(schema):
        with schema_context(schema):
            found = set()
            for offer in Offer.objects.all():
                found |= {offer.reference, f"{offer.first_name} {offer.last_name}", offer.email,
                          offer.phone, offer.licence_number}
            found |= set(Booking.objects.values_list("reference", flat=True))
            return {value for value in found if value and len(value) >= 6}

    staff = set(Membership.objects.filter(organisation=organisation)
                .values_list("user__email", flat=True))
    return (people(organisation.schema_name) - people(other.schema_name)) | staff


def align_id_sequences(*organisations) -> None:
    """Each schema counts its ids from 1, but earlier tests move the counters on unevenly. Set
    every booking table's counter to the same value in each schema, so the two clients' rows get
    the same ids, as two real clients' do."""
    from django.apps import apps
    from django.db import connection

    tables = [(model._meta.db_table, model._meta.pk.column)
              for model in apps.get_app_config("booking").get_models()]
    with connection.cursor() as cursor:
        for table, key in tables:
            sequences = []
            for organisation in organisations:
                # A table keyed by another's id (a one-to-one) has no counter of its own.
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)",
                               [f"{organisation.schema_name}.{table}", key])
                (sequence,) = cursor.fetchone()
                if sequence:
                    cursor.execute(f"SELECT last_value FROM {sequence}")
                    sequences.append((sequence, cursor.fetchone()[0]))
            highest = max((value for _sequence, value in sequences), default=0)
            for sequence, _value in sequences:
                cursor.execute("SELECT setval(%s, %s)", [sequence, highest])


@pytest.fixture
def two_full_clients(essex, south_wales):
    today = timezone.localdate()
    align_id_sequences(essex, south_wales)
    seed_client_demo(essex, today=today)
    seed_client_demo(south_wales, today=today)
    for organisation in (essex, south_wales):
        with schema_context(organisation.schema_name):
            complete_setup(organisation)  # both public sites take bookings
            offer = Offer.objects.filter(status=Offer.Status.OFFERED).order_by("pk").last()
            raise_case(offer.pk, kind=SpecialCircumstancesCase.Kind.MEDICAL,
                       notes="Needs a ground-floor room", actor="tests")
    return essex, south_wales


def _b_endpoint():
    """A webhook endpoint in the current (B's) schema."""
    from outbox.models import WebhookEndpoint

    return WebhookEndpoint.objects.order_by("pk").first() or WebhookEndpoint.objects.create(
        url="https://example.org/hooks", events=["booking.confirmed"], secret="whsec_b",
        created_by="tests")


def _b_schedule(b):
    """A scheduled report in the current (B's) schema, set up by one of B's administrators."""
    from reports.models import ScheduledReport

    existing = ScheduledReport.objects.order_by("pk").first()
    if existing is not None:
        return existing
    owner = Membership.objects.filter(organisation=b).order_by("pk").first().user
    return ScheduledReport.objects.create(
        report="bookings", frequency="monthly", day_of_month=1, recipient_ids=[owner.pk],
        owner_user_id=owner.pk, owner=owner.email)


def b_values(b, a) -> dict[str, list[str]]:
    """B's own ids and references for every URL parameter; the ids exist in A's schema too."""
    with schema_context(b.schema_name):
        offers = [Offer.objects.filter(status=status).order_by("pk").first()
                  for status in (Offer.Status.OFFERED, Offer.Status.BOOKED)]
        bookings = [Booking.objects.filter(status=status).order_by("pk").first()
                    for status in (Booking.Status.CONFIRMED, Booking.Status.PENDING_PAYMENT)]
        values = {
            "reference": [o.reference for o in offers + bookings if o is not None],
            "booking_reference": [b.reference for b in bookings if b is not None],
            "session_id": [str(CourseSession.objects.order_by("pk").first().pk)],
            "course_type_id": [str(CourseType.objects.order_by("pk").first().pk)],
            "venue_id": [str(Venue.objects.order_by("pk").first().pk)],
            "trainer_id": [str(Trainer.objects.order_by("pk").first().pk)],
            "case_id": [str(SpecialCircumstancesCase.objects.order_by("pk").first().pk)],
            # A webhook endpoint of B's, made if B has none, so A's staff and keys are tried on it.
            "endpoint_id": [str(_b_endpoint().pk)],
            # A scheduled report of B's (reports/urls.py), made if B has none.
            "pk": [str(_b_schedule(b).pk)],
        }
    membership = Membership.objects.filter(organisation=b).order_by("pk").first()
    with schema_context(a.schema_name):
        a_booking = Booking.objects.filter(status=Booking.Status.PENDING_PAYMENT).first()
        token = pay_link_token(a_booking)  # a real link of A's, tried on B's site
    values.update(
        membership_id=[str(membership.pk)], user_id=[str(membership.user_id)], token=[token],
        kind=[CorrespondenceTemplate.Kind.values[0]], language=["en"], code=["cy"],
        uidb64=["MQ"], path=["x"],
        # B's invoices (none unless a month was closed: then the number a first one would get).
        number=list(Invoice.objects.filter(client=b).values_list("number", flat=True))
        or ["WM-000001"])
    return values


def check_refused(response, *, name: str, path: str, secrets: set[str], who: str) -> list[str]:
    problems = []
    body = response.content.decode(errors="replace")
    leaked = sorted(secret for secret in secrets if secret in body)
    if leaked:
        problems.append(f"{who} {path} ({name}) shows B's {leaked[:3]}")
    if name in PUBLIC:
        if response.status_code >= 500:
            problems.append(f"{who} {path}: {response.status_code}")
        return problems
    if response.status_code not in REFUSED:
        problems.append(f"{who} {path} ({name}): {response.status_code}")
    elif response.status_code in (301, 302) and not SAFE_REDIRECTS.match(response["Location"]):
        problems.append(f"{who} {path} ({name}): redirected to {response['Location']}")
    return problems


def staff_sessions(a, client_factory):
    sessions = {}
    for role in ROLES:
        user = make_user(f"matrix-{role}@essex.test", organisation=a, role=role)
        client = client_factory()
        client.force_login(user)
        sessions[f"A's {role}"] = client
    return sessions


def assert_live_on_a(visitors, a_offer):
    """Each visitor's session works on A's own site, so their refusals on B mean something."""
    for who, client in visitors.items():
        path = ("/booking/" if who == "A's booking journey" else "/contact-centre/"
                if who == "A's contact_centre_agent" else "/manage/")
        response = client.get(path, HTTP_HOST=A_HOST)
        assert response.status_code == 200, (who, path, response.status_code)
    journey = visitors["A's booking journey"].get("/booking/", HTTP_HOST=A_HOST)
    assert a_offer.reference in journey.content.decode()


def journey_session(client_factory):
    cache.clear()  # look-ups other tests failed from this address must not refuse this one
    client = client_factory()
    proven = client.post("/book/find/", A_OFFER, HTTP_HOST=A_HOST)
    assert proven.status_code == 302, proven.content.decode()[:500]
    return client


def test_nothing_of_one_client_reaches_another_client(two_full_clients, django_user_model):
    from django.test import Client

    a, b = two_full_clients
    with schema_context(a.schema_name):
        a_offer = Offer.objects.get(reference=A_OFFER["reference"])
    with schema_context(b.schema_name):
        # The premise: A's offer id names one of B's people, so trusting the id would leak.
        assert Offer.objects.filter(pk=a_offer.pk).exists()
    secrets = b_secrets(b, a)
    assert len(secrets) > 300

    visitors = {**staff_sessions(a, Client), "A's booking journey": journey_session(Client)}
    assert_live_on_a(visitors, a_offer)
    values = b_values(b, a)
    problems, tried = [], 0
    for route, name in url_patterns("config.urls_client"):
        if name in SIGN_OUTS:
            continue
        for path in fill(route, values):
            for who, client in visitors.items():
                for method in ("get", "post"):
                    response = getattr(client, method)(path, HTTP_HOST=B_HOST)
                    tried += 1
                    problems += check_refused(response, name=name, path=f"{method} {path}",
                                              secrets=secrets, who=who)
    assert tried > 1000
    assert problems == [], "\n".join(problems[:40])
    assert_live_on_a(visitors, a_offer)  # the walk was made with live sessions throughout


def api_operations(client, host: str, schema_path: str) -> list[tuple[str, str]]:
    schema = json.loads(client.get(schema_path, {"format": "json"}, HTTP_HOST=host).content)
    return [(path, method) for path, item in schema["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


def test_no_credential_of_one_client_opens_another_clients_api(two_full_clients):
    from django.test import Client

    a, b = two_full_clients
    admin = make_user("matrix-api@essex.test", organisation=a, role=Role.CLIENT_ADMIN)
    with schema_context(a.schema_name):
        _row, key = create_api_key("matrix", ["offers.import", "offers.view", "client.view"],
                                   actor="tests")
    credentials = {
        "A's API key": {"HTTP_AUTHORIZATION": f"Api-Key {key}"},
        "A's staff token": {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=admin).key}"},
    }
    session = Client()
    session.force_login(admin)
    anonymous = Client()
    operations = api_operations(anonymous, A_HOST, "/api/v1/schema/")
    assert len(operations) >= 3
    # Control: A's key works on A.
    assert anonymous.get("/api/v1/organisation/", HTTP_HOST=A_HOST,
                         **credentials["A's API key"]).status_code == 200

    secrets = b_secrets(b, a)
    values = b_values(b, a)
    problems = []
    for path, method in operations:
        for filled in fill(re.sub(r"\{(\w+)\}", r"<\1>", path), values):
            tries = [(who, anonymous, headers) for who, headers in credentials.items()]
            tries.append(("A's staff session", session, {}))
            for who, client, headers in tries:
                response = getattr(client, method)(
                    filled, data=json.dumps({"offers": []}) if method != "get" else None,
                    content_type="application/json", HTTP_HOST=B_HOST, **headers)
                if response.status_code not in (401, 403, 404, 405):
                    problems.append(f"{who} {method} {filled}: {response.status_code}")
                body = response.content.decode(errors="replace")
                if any(secret in body for secret in secrets):
                    problems.append(f"{who} {method} {filled}: shows B's data")
    assert problems == [], "\n".join(problems)


def test_client_staff_get_nothing_on_the_control_plane(two_full_clients):
    from django.test import Client

    a, b = two_full_clients
    visitors = staff_sessions(a, Client)
    secrets = b_secrets(b, a)
    values = b_values(b, a)
    values.update(object_id=["1"], app_label=["accounts"], model_name=["user"], url=["x"],
                  action=["suspend"],
                  content_type_id=["1"], slug=[b.slug], pk=["1"])
    problems = []
    for route, name in url_patterns("config.urls_platform"):
        if name in SIGN_OUTS or name.startswith("admin:") and "<" in route:
            continue  # the admin's own object URLs: the admin index below covers its gate
        for path in fill(route, values):
            for who, client in visitors.items():
                response = client.get(path, HTTP_HOST="localhost")
                if name.startswith(("usergroup:", "platform_api:usergroup")):
                    # The user group is shared by every client's staff by design: its pages
                    # may answer them, but never with anything of B's people.
                    problems += check_refused(response, name="healthz", path=path,
                                              secrets=secrets, who=who)
                    continue
                problems += check_refused(response, name=name, path=path, secrets=secrets,
                                          who=who)
    assert problems == [], "\n".join(problems[:40])
    for who, client in visitors.items():
        assert client.get("/manage/", HTTP_HOST=A_HOST).status_code == 200, who


def test_client_sites_keep_session_data_only_through_client_session_data():
    """The class of the journey leak: anything a client's pages keep in the (shared) session
    goes through tenants.client_session, which binds it to the client. A new direct read or
    write of request.session in a client's code fails here."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    direct = re.compile(r"session\[|session\.(get|pop|setdefault|update)\(")
    offenders = []
    for source in [*root.glob("booking/**/*.py"), *root.glob("tenants/**/*.py")]:
        if source.name == "client_session.py":
            continue
        for number, line in enumerate(source.read_text().splitlines(), 1):
            if direct.search(line):
                offenders.append(f"{source.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []
