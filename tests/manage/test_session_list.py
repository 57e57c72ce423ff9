"""The course-dates table: filtered by venue (or online), course type and trainer, paged, and
downloaded as CSV with the same filters."""

import csv
import io
import re
from datetime import timedelta

from django.utils import timezone

from accounts.roles import Role

from ..factories import CourseTypeFactory, TrainerFactory, VenueFactory
from .conftest import get, make_session

URL = "/manage/sessions/"
ROW = re.compile(r'href="/manage/sessions/\d+/"')


def test_filters_by_venue_course_type_and_trainer_and_exports_what_is_shown(
        world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    now = timezone.now()
    hall = VenueFactory(name="Witham Library", postcode="CM8 2AB", latitude=51.8, longitude=0.64)
    nmac = CourseTypeFactory(code="NMAC")
    tess = TrainerFactory(full_name="Tess Other", email="tess@essex.test", course_types=[nmac])
    make_session(nmac, hall, now + timedelta(days=3), trainers=[tess])
    make_session(world["nsac"], hall, now + timedelta(days=4))

    everything = get(client, URL).content.decode()
    assert len(ROW.findall(everything)) == 5  # world's three and these two
    by_venue = get(client, URL, data={"venue": hall.pk}).content.decode()
    assert len(ROW.findall(by_venue)) == 2
    assert by_venue.count('<td class="govuk-table__cell">Witham Library') == 2
    by_type = get(client, URL, data={"course_type": nmac.pk}).content.decode()
    assert by_type.count('<td class="govuk-table__cell">NMAC') == 1
    by_trainer = get(client, URL, data={"trainer": world["trainer"].pk}).content.decode()
    assert "Tess Other</td>" not in by_trainer and "Terry Trainer</td>" in by_trainer
    online = get(client, URL, data={"venue": "online"}).content.decode()
    assert "No course dates yet." in online

    response = get(client, URL, data={"venue": hall.pk, "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Start", "End", "Course"]
    assert sorted(row[2] for row in rows[1:]) == ["NMAC", "NSAC"]
    assert {row[4] for row in rows[1:]} == {str(hall)}


def test_a_choice_not_on_the_list_is_an_error_not_a_500(world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    response = get(client, URL, data={"venue": "999999"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page and "No course dates yet." in page


def test_pages_of_twenty_five_with_govuk_pagination(world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    start = timezone.now() + timedelta(days=1)
    for n in range(30):
        make_session(world["nsac"], world["venue"], start + timedelta(hours=3 * n))
    first = get(client, URL).content.decode()
    assert len(ROW.findall(first)) == 25
    assert 'class="govuk-pagination"' in first and 'aria-current="page"' in first
    assert "33 course dates, page 1 of 2" in first
    second = get(client, URL, data={"page": 2}).content.decode()
    assert "33 course dates, page 2 of 2" in second and 'rel="prev"' in second
