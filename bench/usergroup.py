"""The user group at size: the request list with 5,000 requests and 100,000 votes, and
publishing a release of 50 requests to 2,000 voters.

Run it:

    .venv/bin/python bench/usergroup.py                       # 5,000 requests, 100,000 votes
    .venv/bin/python bench/usergroup.py --requests 500 --votes 10000 --keep

It creates its OWN database (default `waymark_bench_usergroup` on the server in
BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/waymark_bench_usergroup), dropped
first and at the end unless --keep (bench/harness.py). The data are public-schema rows only
(the user group lives there): 100 client organisations (public rows, no schemas), 2,000 members
across them, `--requests` change requests across areas and statuses, and `--votes` votes (a
skewed share per request, one per member per request) written with COPY.

Measured, with DEBUG off:
- the request list page (/user-group/, signed in as a member, first page of 25) sorted by votes
  and by organisations: p50 and p95 of `--runs` requests each through Django's test client
  (middleware, the query, the page), goal p95 under 100 ms;
- `usergroup.releases.publish_release` of a release delivering 50 requests followed by 2,000
  people: the service's time through commit (the outbox rows written, the hand-over to the
  workers counted but not sent: sending is the workers' job), goal under 5 s, and the outbox
  rows counted: exactly 2,000.
"""

import argparse
import io
import os
import random
import sys
import time

from harness import bench_database, log, migrate

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/waymark_bench_usergroup"
ORGANISATIONS = 100
MEMBERS = 2000
RELEASE_REQUESTS = 50


def percentile(values, share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(share * len(ordered) + 0.5)) - 1))]


def _copy(table: str, columns, rows) -> None:
    from django.db import connection

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(str(value) for value in row) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_from(buffer, table, columns=columns)


def populate(requests: int, votes: int):
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Membership, User
    from accounts.roles import Role
    from tenants.models import ClientOrganisation
    from usergroup.models import Area, ChangeRequest

    rng = random.Random(2026)
    organisations = ClientOrganisation.objects.bulk_create([
        ClientOrganisation(schema_name=f"client_bench_{n}", name=f"Bench council {n:03d}",
                           slug=f"bench-{n}", kind="county_council", status="live",
                           display_name_en=f"Bench {n}") for n in range(ORGANISATIONS)])
    unusable = make_password(None)
    members = User.objects.bulk_create([
        User(email=f"member{n}@bench-{n % ORGANISATIONS}.test", full_name=f"Member {n}",
             password=unusable) for n in range(MEMBERS)])
    Membership.objects.bulk_create([
        Membership(user=user, organisation=organisations[n % ORGANISATIONS],
                   role=Role.USERGROUP_MEMBER) for n, user in enumerate(members)])
    org_of = {user.pk: organisations[n % ORGANISATIONS].pk for n, user in enumerate(members)}
    areas = list(Area.objects.all())
    statuses = (["open"] * 6 + ["under_review"] * 2 + ["planned", "in_progress", "released",
                                                       "declined"])
    now = timezone.now()
    log(f"populating {requests} requests")
    raised = ChangeRequest.objects.bulk_create([
        ChangeRequest(title=f"Change request {n}: {rng.choice(['book', 'pay', 'report', 'call', 'export', 'remind'])} "
                            f"{rng.choice(['faster', 'in Welsh', 'by text', 'online', 'in bulk'])}",
                      description="Bench request.", area=areas[n % len(areas)],
                      raised_by=members[n % MEMBERS],
                      organisation_id=org_of[members[n % MEMBERS].pk],
                      status=statuses[n % len(statuses)])
        for n in range(requests)], batch_size=1000)
    # A skewed share of the votes per request (a few popular, most with a handful), each
    # capped at the number of members and summing to `votes`.
    weights = [1 / (rank + 10) for rank in range(requests)]
    rng.shuffle(weights)
    scale = votes / sum(weights)
    counts = [min(MEMBERS, max(1, int(w * scale))) for w in weights]
    shortfall = votes - sum(counts)
    index = 0
    while shortfall > 0:
        if counts[index % requests] < MEMBERS:
            counts[index % requests] += 1
            shortfall -= 1
        index += 1
    while shortfall < 0:
        if counts[index % requests] > 1:
            counts[index % requests] -= 1
            shortfall += 1
        index += 1
    log(f"populating {votes} votes")
    member_ids = [user.pk for user in members]
    stamp = now.isoformat()

    def vote_rows():
        for change_request, count in zip(raised, counts, strict=True):
            for member_id in rng.sample(member_ids, count):
                yield change_request.pk, member_id, org_of[member_id], "\\N", stamp

    _copy("usergroup_vote", ("request_id", "member_id", "organisation_id", "recorded_by_id",
                             "created_at"), vote_rows())
    from usergroup.services import refresh_tallies

    refresh_tallies([r.pk for r in raised])  # as each vote's service does for its request
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE usergroup_vote")
        cursor.execute("ANALYZE usergroup_changerequest")
    return members


def measure_list(members, runs: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(members[0])
    results = {}
    for sort in ("votes", "organisations"):
        with CaptureQueriesContext(connection) as queries:
            first = client.get("/user-group/", {"sort": sort}, HTTP_HOST="localhost")
        query_count = len(queries.captured_queries)
        if first.status_code != 200:
            sys.exit(f"the list answered {first.status_code}")
        if os.environ.get("BENCH_SHOW_QUERIES"):
            for query in queries.captured_queries:
                log(f"{query['time']} {query['sql'][:300]}")
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            response = client.get("/user-group/", {"sort": sort}, HTTP_HOST="localhost")
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            client.get("/user-group/", {"sort": sort}, HTTP_HOST="localhost")
            profile.disable()
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
        results[sort] = (percentile(times, 0.5), percentile(times, 0.95), query_count)
    return results


def measure_release(members) -> dict:
    from datetime import date

    from accounts.models import Membership, User
    from accounts.roles import Role
    from outbox import services as outbox_services
    from outbox.models import OutboundMessage
    from usergroup import releases
    from usergroup.models import Area, ChangeRequest, Subscription

    provider = User.objects.create_user(email="provider@bench.test", password=None)
    Membership.objects.create(user=provider, organisation=None, role=Role.PROVIDER_ADMIN)
    area = Area.objects.first()
    delivered = ChangeRequest.objects.bulk_create([
        ChangeRequest(title=f"Delivered request {n}", area=area, raised_by=members[n],
                      organisation_id=Membership.objects.get(user=members[n]).organisation_id,
                      status="in_progress") for n in range(RELEASE_REQUESTS)])
    # Every member follows one to three of the 50 (raisers, voters and commenters are
    # subscribed as they act): 2,000 people, each told once with the list of theirs.
    rng = random.Random(50)
    rows = set()
    for member in members:
        for change_request in rng.sample(delivered, rng.randint(1, 3)):
            rows.add((change_request.pk, member.pk))
    Subscription.objects.bulk_create([Subscription(request_id=r, user_id=u) for r, u in rows],
                                     batch_size=2000)
    release = releases.create_release(version="9.9", released_on=date(2026, 12, 3),
                                      notes="Bench release.",
                                      request_numbers=[r.pk for r in delivered],
                                      acting_user=provider)
    handed_over = []
    real_dispatch = outbox_services.dispatch
    # The hand-over to the workers is counted, not performed: sending is theirs, after commit.
    outbox_services.dispatch = lambda message_id, schema, **kwargs: handed_over.append(message_id)
    try:
        before = OutboundMessage.objects.count()
        began = time.perf_counter()
        queued = releases.publish_release(release, acting_user=provider)
        took = time.perf_counter() - began
        again = releases.publish_release(release, acting_user=provider)
    finally:
        outbox_services.dispatch = real_dispatch
    rows_queued = OutboundMessage.objects.filter(kind="usergroup.release").count()
    return {"seconds": took, "queued": queued, "rows": rows_queued,
            "new_rows": OutboundMessage.objects.count() - before, "handed_over": len(handed_over),
            "again": again, "followers": len(rows)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("BENCH_DATABASE_URL must name a database containing 'bench'")
    with bench_database(url, keep=args.keep):
        migrate()
        from django.conf import settings

        settings.DEBUG = False
        members = populate(args.requests, args.votes)
        listed = measure_list(members, args.runs)
        from usergroup.models import ChangeRequest, Vote

        print(f"request list, {ChangeRequest.objects.count():,} requests and "
              f"{Vote.objects.count():,} votes, first page of 25, {args.runs} runs each:")
        for sort, (p50, p95, queries) in listed.items():
            verdict = "under" if p95 < 100 else "OVER"
            print(f"  sorted by {sort:<13} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                  f"({verdict} the 100 ms goal; {queries} queries a page)")
        release = measure_release(members)
        verdict = "under" if release["seconds"] < 5 else "OVER"
        exact = "exactly" if release["rows"] == 2000 == release["new_rows"] else "NOT"
        print(f"publishing a release of {RELEASE_REQUESTS} requests followed by 2,000 people "
              f"({release['followers']:,} subscriptions): {release['seconds']:.2f} s "
              f"({verdict} the 5 s goal)")
        print(f"  outbox rows queued: {release['rows']:,} ({exact} 2,000; the service said "
              f"{release['queued']}; handed to workers after commit: "
              f"{release['handed_over']:,}); publishing again queued: {release['again']}")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
