"""PgBouncer in front of PostgreSQL: in session mode every request sees only its own client's
schema, although one server connection serves both clients in turn; in transaction mode a
session-level `SET search_path` (what django-tenants runs) leaks to whichever client's statement
runs next on that server connection, so one client's query is answered from another's schema —
the reason docs/scaling.md allows session mode only."""

import uuid

import psycopg2
import pytest
from django.db import connections
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Venue

from ..conftest import make_user
from .conftest import default_database_at

pytestmark = pytest.mark.scale

ESSEX_HOST, WALES_HOST = "essex.localhost", "south-wales.localhost"


def make_venue(organisation, name: str) -> int:
    with schema_context(organisation.schema_name):
        return Venue.objects.create(
            name=name,
            address="1 Test Street",
            town="Town",
            postcode="CM1 1QH",
            latitude=51.7,
            longitude=0.47,
            capacity=20,
        ).pk


def server_connections(bouncer) -> int:
    """The server connections PgBouncer holds for the test database (SHOW SERVERS)."""
    rows = [line.split("|") for line in bouncer.admin("SHOW SERVERS").splitlines()]
    return sum(1 for row in rows if len(row) > 3 and row[3] != "pgbouncer")


def test_session_mode_keeps_each_request_in_its_clients_schema(
    transactional_db, essex, south_wales, bouncer_factory, client
):
    # The clients first: the primary's copy of the test database is taken after they exist.
    tag = uuid.uuid4().hex[:8]
    bouncer = bouncer_factory("session", pool_size=1)
    with default_database_at(bouncer.port):
        essex_venue = f"Essex Hall {tag}"
        wales_venue = f"Neuadd Cymru {tag}"
        make_venue(essex, essex_venue)
        make_venue(south_wales, wales_venue)
        essex_admin = make_user(f"boss-{tag}@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
        wales_admin = make_user(f"boss-{tag}@south-wales.test", organisation=south_wales, role=Role.CLIENT_ADMIN)
        pages = []
        for round_ in range(4):
            for host, admin in ((ESSEX_HOST, essex_admin), (WALES_HOST, wales_admin)):
                # A new client connection each request: PgBouncer hands it the one server
                # connection the other client's request has just left.
                connections["default"].close()
                client.force_login(admin)
                start = client.get("/", HTTP_HOST=host).content.decode()
                venues = client.get("/manage/configure/venues/", HTTP_HOST=host)
                assert venues.status_code == 200, (round_, host, venues.status_code)
                pages.append((host, start, venues.content.decode()))
                client.logout()
        used = server_connections(bouncer)
    assert used == 1  # both clients were served by the same server connection
    for host, start, venues in pages:
        if host == ESSEX_HOST:
            assert "Essex Driver Awareness" in start and "South Wales" not in start
            assert essex_venue in venues and wales_venue not in venues
        else:
            assert "South Wales Driver Awareness" in start and "Essex" not in start
            assert wales_venue in venues and essex_venue not in venues


def _interleave(port: int, database: str, schemas: tuple[str, str]) -> tuple[str, str]:
    """Two app connections, as django-tenants drives them: each runs a session-level
    `SET search_path` for its client, then (autocommit) its query; the two interleave."""
    first, second = (psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=database) for _ in range(2))
    try:
        for conn in (first, second):
            conn.autocommit = True
        a, b = first.cursor(), second.cursor()
        a.execute(f'SET search_path = "{schemas[0]}", public')
        b.execute(f'SET search_path = "{schemas[1]}", public')
        a.execute("SELECT name FROM drill_offender")
        answered_a = a.fetchone()[0]
        b.execute("SELECT name FROM drill_offender")
        answered_b = b.fetchone()[0]
        return answered_a, answered_b
    finally:
        first.close()
        second.close()


@pytest.fixture
def two_client_schemas(primary):
    """Two schemas, each with a table of the same name holding its own client's offender."""
    tag = uuid.uuid4().hex[:8]
    schemas = (f"drill_a_{tag}", f"drill_b_{tag}")
    for schema, person in zip(schemas, ("offender of client A", "offender of client B"), strict=True):
        primary.psql(
            f'CREATE SCHEMA "{schema}"; CREATE TABLE "{schema}".drill_offender '
            f"(name text); INSERT INTO \"{schema}\".drill_offender VALUES ('{person}')",
            database="postgres",
        )
    yield schemas
    for schema in schemas:
        primary.psql(f'DROP SCHEMA "{schema}" CASCADE', database="postgres")


def test_transaction_mode_answers_one_client_from_another_clients_schema(bouncer_factory, two_client_schemas):
    bouncer = bouncer_factory("transaction", pool_size=1)
    answered_a, answered_b = _interleave(bouncer.port, "postgres", two_client_schemas)
    # Client A asked in its own schema and got client B's offender: the second SET ran on the
    # same server connection, after the first.
    assert answered_a == "offender of client B"
    assert answered_b == "offender of client B"


def test_session_mode_answers_each_client_from_its_own_schema(bouncer_factory, two_client_schemas):
    """The control: the same interleaving through session mode (two server connections)."""
    bouncer = bouncer_factory("session", pool_size=2)
    answered_a, answered_b = _interleave(bouncer.port, "postgres", two_client_schemas)
    assert answered_a == "offender of client A"
    assert answered_b == "offender of client B"
