"""The client API's back-office reads and reports: scoped keys, a client's own rows only, paged
by change time in a stable order, and the reports' figures with their pages' filters."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import Booking, CourseSession, Venue
from booking.services.api_keys import create_api_key
from booking.services.offers import record_outcome

from ..factories import CourseSessionFactory, make_booking

ESSEX, SOUTH_WALES = "essex.localhost", "south-wales.localhost"


def key_for(organisation, scopes):
    with schema_context(organisation.schema_name):
        return create_api_key("integration", scopes, actor="tests")[1]


def get(host, key, path, **params):
    return Client().get(path, params, HTTP_HOST=host, HTTP_AUTHORIZATION=f"Api-Key {key}")


@pytest.fixture
def two_clients_booked(essex, south_wales):
    """Essex: three bookings on one date, one attended; South Wales: one booking."""
    with schema_context(essex.schema_name):
        session = CourseSessionFactory(starts_at=timezone.now() - timedelta(hours=5))
        essex_bookings = [make_booking(session) for _n in range(3)]
        record_outcome(essex_bookings[0].pk, Booking.Status.COMPLETED, actor="tests")
    with schema_context(south_wales.schema_name):
        wales_booking = make_booking(CourseSessionFactory())
    return essex_bookings, wales_booking


def test_a_key_without_the_scope_gets_403_in_the_one_error_shape(essex):
    key = key_for(essex, ["offers.view"])
    for path in ("/api/v1/bookings/", "/api/v1/outcomes/", "/api/v1/course-dates/",
                 "/api/v1/venues/", "/api/v1/reports/bookings/",
                 "/api/v1/webhooks/endpoints/"):
        response = get(ESSEX, key, path)
        assert response.status_code == 403, path
        assert set(response.json()) == {"errors"}


def test_bookings_are_the_clients_own(two_clients_booked, essex, south_wales):
    essex_bookings, wales_booking = two_clients_booked
    key = key_for(essex, ["bookings.view"])
    response = get(ESSEX, key, "/api/v1/bookings/")
    assert response.status_code == 200
    references = [row["reference"] for row in response.json()["results"]]
    assert sorted(references) == sorted(booking.reference for booking in essex_bookings)
    assert wales_booking.reference not in references
    # Essex's key is unknown on South Wales's domain.
    assert get(SOUTH_WALES, key, "/api/v1/bookings/").status_code == 401
    wales_key = key_for(south_wales, ["bookings.view"])
    wales = get(SOUTH_WALES, wales_key, "/api/v1/bookings/").json()["results"]
    assert [row["reference"] for row in wales] == [wales_booking.reference]


def test_outcomes_list_only_bookings_with_an_outcome(two_clients_booked, essex):
    essex_bookings, _wales = two_clients_booked
    key = key_for(essex, ["bookings.view"])
    results = get(ESSEX, key, "/api/v1/outcomes/").json()["results"]
    assert [(row["booking"], row["outcome"]) for row in results] == [
        (essex_bookings[0].reference, "completed")]
    assert results[0]["recorded_at"] is not None


def test_pages_follow_each_other_in_a_stable_order_without_repeats(two_clients_booked, essex):
    essex_bookings, _wales = two_clients_booked
    key = key_for(essex, ["bookings.view"])
    first = get(ESSEX, key, "/api/v1/bookings/", page_size=2).json()
    assert len(first["results"]) == 2 and first["next_cursor"]
    assert f"cursor={first['next_cursor']}" in first["next"]
    second = get(ESSEX, key, "/api/v1/bookings/", page_size=2,
                 cursor=first["next_cursor"]).json()
    assert len(second["results"]) == 1 and second["next_cursor"] is None
    seen = [row["reference"] for row in first["results"] + second["results"]]
    assert len(set(seen)) == 3
    times = [(row["updated_at"], row["reference"]) for row in first["results"]
             + second["results"]]
    assert times == sorted(times, key=lambda pair: pair[0])


def test_updated_since_gives_what_changed_at_or_after_it(two_clients_booked, essex):
    essex_bookings, _wales = two_clients_booked
    key = key_for(essex, ["bookings.view"])
    with schema_context(essex.schema_name):
        since = timezone.now()
        # A queryset update, which Django's auto_now would not see: the trigger does.
        Booking.objects.filter(pk=essex_bookings[2].pk).update(made_by="someone else")
        changed = Booking.objects.get(pk=essex_bookings[2].pk)
        assert changed.updated_at >= since
    results = get(ESSEX, key, "/api/v1/bookings/",
                  updated_since=since.isoformat()).json()["results"]
    assert [row["reference"] for row in results] == [essex_bookings[2].reference]


@pytest.mark.parametrize("params, field", [
    ({"updated_since": "yesterday"}, "updated_since"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"page_size": "0"}, "page_size"),
    ({"page_size": "501"}, "page_size"),
])
def test_bad_paging_is_named(essex, params, field):
    key = key_for(essex, ["bookings.view"])
    response = get(ESSEX, key, "/api/v1/bookings/", **params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_course_dates_and_venues_by_change_time(essex):
    with schema_context(essex.schema_name):
        session = CourseSessionFactory()
        venue = session.venue
        before = timezone.now()
        # A booking moves the date's seat count: a change an integrator sees.
        make_booking(session)
        assert CourseSession.objects.get(pk=session.pk).updated_at >= before
        Venue.objects.filter(pk=venue.pk).update(parking=True)
    key = key_for(essex, ["configuration.view"])
    dates = get(ESSEX, key, "/api/v1/course-dates/",
                updated_since=before.isoformat()).json()["results"]
    assert [(row["id"], row["seats_booked"]) for row in dates] == [(session.pk, 1)]
    venues = get(ESSEX, key, "/api/v1/venues/", updated_since=before.isoformat()).json()
    assert [(row["id"], row["parking"]) for row in venues["results"]] == [(venue.pk, True)]


def test_the_bookings_report_counts_the_clients_own_bookings(two_clients_booked, essex):
    key = key_for(essex, ["reports.view"])
    response = get(ESSEX, key, "/api/v1/reports/bookings/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["report"] == "bookings"
    # Three staff bookings in Essex (South Wales's one is not Essex's).
    assert body["data"]["totals"]["total"]["count"] == 3
    this_month = f"{timezone.localdate():%Y-%m}"
    assert body["last_month"] == this_month


@pytest.mark.parametrize("name", ["bookings", "fill", "funnel", "calls"])
def test_every_report_answers_with_its_filters(two_clients_booked, essex, name):
    key = key_for(essex, ["reports.view"])
    month = f"{timezone.localdate():%Y-%m}"
    response = get(ESSEX, key, f"/api/v1/reports/{name}/", start=month, end=month)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["first_month"], body["last_month"]) == (month, month)
    json.dumps(body)  # plain JSON all the way down


def test_the_fill_report_counts_the_attended(two_clients_booked, essex):
    key = key_for(essex, ["reports.view"])
    data = get(ESSEX, key, "/api/v1/reports/fill/").json()["data"]
    assert data["total"]["booked"] == 3 and data["total"]["attended"] == 1


def test_a_bad_report_filter_is_named(essex):
    key = key_for(essex, ["reports.view"])
    response = get(ESSEX, key, "/api/v1/reports/bookings/", start="2001-01", end="2001-02")
    assert response.status_code == 400
    assert set(response.json()["errors"]) <= {"start", "end"}
    response = get(ESSEX, key, "/api/v1/reports/funnel/", start=f"{timezone.localdate():%Y-%m}",
                   end=f"{timezone.localdate():%Y-%m}", venue="99999")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["venue"]
