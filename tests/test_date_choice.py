"""Issue 14, item 9: the date list is grouped by venue or by week, filtered by day and time with
a plain GET form, and each venue has its map and directions."""

from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone
from django_tenants.utils import schema_context

from .factories import CourseSessionFactory
from .journey_data import make_journey_data

ESSEX = {"HTTP_HOST": "essex.localhost"}
DOB = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}


def _radios(page: str) -> int:
    return page.count('name="session" type="radio"')


def test_dates_filter_by_day_and_time_and_group_by_venue_or_week(essex, client):
    cache.clear()
    offer, sessions = make_journey_data(essex, reference="ESX-100041")
    with schema_context(essex.schema_name):
        first = sessions[0]
        evening = timezone.localtime(first.starts_at).replace(hour=18, minute=0) + timedelta(
            days=1)
        late = CourseSessionFactory(course_type=first.course_type, delivery_mode="classroom",
                                    venue=first.venue, starts_at=evening,
                                    ends_at=evening + timedelta(hours=3), language="en")
        first.venue.directions_en = "Use the Market Road entrance"
        first.venue.save()
        weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[
            timezone.localtime(late.starts_at).weekday()]
    client.post("/book/find/", {"reference": "ESX-100041", **DOB}, **ESSEX)
    client.post("/book/where/", {"mode": "classroom", "postcode": "CM1 1QH"}, **ESSEX)

    everything = client.get("/book/dates/", **ESSEX).content.decode()
    assert _radios(everything) == 4  # three classroom dates of make_journey_data, and ours
    assert everything.count('id="id_session"') == 1
    assert "County Hall, " in everything and "Use the Market Road entrance" in everything
    assert "https://www.openstreetmap.org/?mlat=" in everything
    assert 'method="get"' in everything and "Filter by day and time" in everything

    evenings = client.get("/book/dates/?time=evening", **ESSEX).content.decode()
    assert _radios(evenings) == 1 and f'value="{late.pk}"' in evenings
    mornings_that_day = client.get(f"/book/dates/?time=morning&day={weekday}",
                                   **ESSEX).content.decode()
    assert f'value="{late.pk}"' not in mornings_that_day
    that_day = client.get(f"/book/dates/?day={weekday}", **ESSEX).content.decode()
    assert f'value="{late.pk}"' in that_day

    by_week = client.get("/book/dates/?group=week", **ESSEX).content.decode()
    assert "Week starting" in by_week and _radios(by_week) == 4
    assert by_week.count('id="id_session"') == 1
    # A choice posted from a filtered list still books.
    assert client.post("/book/dates/?time=evening", {"session": late.pk},
                       **ESSEX)["Location"] == "/book/details/"
    cache.clear()
