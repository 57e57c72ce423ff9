"""The report pages read from a real streaming replica (pg_basebackup -R of a private primary),
in the asking client's schema; a person who has just written reads from the primary instead;
the provider's console shows the replica's lag. The replica's replay is paused while a test
writes, so what the replica has not yet got tells which server answered."""

import re
import uuid

import pytest
from django.db import connections
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Venue
from config.replica_router import REPLICA, ReplicaRouter, reads_on_replica

from ..conftest import make_user, sign_in_verified
from .conftest import default_database_at

pytestmark = pytest.mark.scale

ESSEX_HOST, WALES_HOST = "essex.localhost", "south-wales.localhost"
VENUE = {
    "address": "1 Replica Street",
    "town": "Chelmsford",
    "postcode": "CM1 1QH",
    "latitude": 51.7,
    "longitude": 0.47,
    "capacity": 20,
}


@pytest.fixture(scope="session")
def replica_database(replica):
    """A "replica" database on the private replica, as DATABASE_REPLICA_URL adds it; in place
    before pytest-django sets a test up, which refuses queries to databases it was not told of
    (the tests name it: REPLICA_TESTS)."""
    connections.settings[REPLICA] = {
        **connections["default"].settings_dict,
        "HOST": "127.0.0.1",
        "PORT": replica.port,
        "PASSWORD": "",
        "TEST": {"MIRROR": "default"},
    }
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


REPLICA_TESTS = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture
def on_primary_and_replica(replica_database, primary, replica, settings):
    """Django's default database on the private primary, with the router and middleware that
    DATABASE_REPLICA_URL switches on."""
    replica.wait_until_replayed(primary)  # the fresh copy of the test database
    with default_database_at(primary.port):
        settings.DATABASE_ROUTERS = ["config.replica_router.ReplicaRouter", *settings.DATABASE_ROUTERS]
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, "config.replica_router.ReadYourWritesMiddleware"]
        try:
            yield primary, replica
        finally:
            replica.psql("SELECT pg_wal_replay_resume()")
            connections[REPLICA].close()


def venue_options(page: str) -> set[str]:
    """The venue names in a report's filter (read by the report page's own query)."""
    select = re.search(r'<select[^>]*name="venue".*?</select>', page, re.S)
    if select is None:
        return set()
    # Each option is "name, town".
    return {option.split(",")[0] for option in re.findall(r"<option[^>]*>([^<]+)</option>", select.group(0))}


@REPLICA_TESTS
def test_reads_in_the_block_come_from_the_replica_in_the_clients_schema(essex, south_wales, on_primary_and_replica):
    primary, replica = on_primary_and_replica
    tag = uuid.uuid4().hex[:8]
    with schema_context(essex.schema_name):
        Venue.objects.create(name=f"Replicated {tag}", **VENUE)
    with schema_context(south_wales.schema_name):
        Venue.objects.create(name=f"Welsh {tag}", **VENUE)
    replica.wait_until_replayed(primary)
    replica.wait_until_seen(
        f"SELECT count(*) FROM {south_wales.schema_name}.booking_venue WHERE name = 'Welsh {tag}'",
        "1", database=connections["default"].settings_dict["NAME"])
    replica.psql("SELECT pg_wal_replay_pause()")
    with schema_context(essex.schema_name):
        Venue.objects.create(name=f"Not yet replayed {tag}", **VENUE)
        on_primary = set(Venue.objects.values_list("name", flat=True))
    with reads_on_replica(essex):
        query = Venue.objects.all()
        assert query.db == REPLICA
        essex_on_replica = set(query.values_list("name", flat=True))
    with reads_on_replica(south_wales):
        wales_on_replica = set(Venue.objects.values_list("name", flat=True))
    assert f"Not yet replayed {tag}" in on_primary
    assert f"Replicated {tag}" in essex_on_replica
    assert f"Not yet replayed {tag}" not in essex_on_replica  # the replica answered
    assert f"Welsh {tag}" not in essex_on_replica  # in essex's schema, not another's
    assert f"Welsh {tag}" in wales_on_replica and f"Replicated {tag}" not in wales_on_replica
    # Writes inside the block still go to the primary.
    assert ReplicaRouter().db_for_write(Venue) is None


@REPLICA_TESTS
def test_report_pages_read_the_replica_except_for_who_just_wrote(essex, south_wales, on_primary_and_replica, client):
    primary, replica = on_primary_and_replica
    tag = uuid.uuid4().hex[:8]
    reader = make_user(f"reader-{tag}@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    writer = make_user(f"writer-{tag}@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    wales = make_user(f"reader-{tag}@south-wales.test", organisation=south_wales, role=Role.CLIENT_ADMIN)
    with schema_context(essex.schema_name):
        Venue.objects.create(name=f"Older hall {tag}", **VENUE)
    readers = {}
    for name, user in (("reader", reader), ("writer", writer), ("wales", wales)):
        readers[name] = client.__class__()
        readers[name].force_login(user)
    replica.wait_until_replayed(primary)
    replica.wait_until_seen(
        f"SELECT count(*) FROM {essex.schema_name}.booking_venue WHERE name = 'Older hall {tag}'",
        "1", database=connections["default"].settings_dict["NAME"])
    replica.psql("SELECT pg_wal_replay_pause()")

    # The writer adds a venue through the page (a write: the middleware marks them).
    response = readers["writer"].post(
        "/manage/configure/venues/new/",
        {
            "name": f"New hall {tag}",
            "address": "2 Primary Road",
            "town": "Chelmsford",
            "postcode": "CM1 1QH",
            "capacity": "30",
            "is_active": "on",
        },
        HTTP_HOST=ESSEX_HOST,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "waymark_wrote" in response.cookies

    pages = {
        name: browser.get("/manage/reports/bookings/", HTTP_HOST=(WALES_HOST if name == "wales" else ESSEX_HOST))
        for name, browser in readers.items()
    }
    for page in pages.values():
        assert page.status_code == 200
    seen = {name: venue_options(page.content.decode()) for name, page in pages.items()}
    assert f"Older hall {tag}" in seen["reader"]
    assert f"New hall {tag}" not in seen["reader"]  # read from the paused replica
    assert f"New hall {tag}" in seen["writer"]  # read-your-writes: from the primary
    assert f"Older hall {tag}" not in seen["wales"]  # the replica, in south-wales' schema

    replica.psql("SELECT pg_wal_replay_resume()")
    replica.wait_until_replayed(primary)
    replica.wait_until_seen(
        f"SELECT count(*) FROM {essex.schema_name}.booking_venue WHERE name = 'New hall {tag}'",
        "1", database=connections["default"].settings_dict["NAME"])
    again = venue_options(readers["reader"].get("/manage/reports/bookings/", HTTP_HOST=ESSEX_HOST).content.decode())
    assert f"New hall {tag}" in again


@REPLICA_TESTS
def test_the_console_shows_the_replicas_lag(provider_admin, on_primary_and_replica, client):
    primary, replica = on_primary_and_replica
    sign_in_verified(client, provider_admin)
    replica.wait_until_replayed(primary)
    page = client.get("/", HTTP_HOST="localhost").content.decode()
    assert "Database replica" in page and "Streaming" in page
    caught_up = float(re.search(r'data-replica-lag="([0-9.]+)"', page).group(1))
    assert caught_up == 0.0

    primary.psql(
        "CREATE TABLE IF NOT EXISTS drill_lag (at timestamptz); INSERT INTO drill_lag VALUES (now())",
        database="postgres",
    )
    replica.wait_until_replayed(primary)
    replica.psql("SELECT pg_wal_replay_pause()")
    replica.psql("SELECT pg_sleep(1.1)")
    primary.psql("INSERT INTO drill_lag VALUES (now())", database="postgres")
    replica.psql("SELECT pg_sleep(0.5)")  # the WAL has reached the replica, not been replayed
    behind = client.get("/", HTTP_HOST="localhost").content.decode()
    lag = float(re.search(r'data-replica-lag="([0-9.]+)"', behind).group(1))
    assert lag > 0
