"""The one reader of GOV.UK day/month/year inputs, and the fields built on it."""

from datetime import date

import pytest

from booking.contact_centre.forms import NameSearchForm
from booking.services.search import search_offers
from booking.site.forms import FindOfferForm
from govuk_forms.date_parts import DateProblem, parse_date_parts


def problem(day, month, year) -> tuple[str, str]:
    with pytest.raises(DateProblem) as raised:
        parse_date_parts(day, month, year)
    return raised.value.code, raised.value.missing


def test_real_dates_are_read_with_spaces_and_leading_zeros():
    assert parse_date_parts(" 27 ", "03", "1985") == date(1985, 3, 27)
    assert parse_date_parts("1", "1", "2000") == date(2000, 1, 1)


@pytest.mark.parametrize("parts, expected", [
    (("", "", ""), ("required", "")),
    ((None, None, None), ("required", "")),
    (("27", "", "1985"), ("incomplete", "month")),
    (("", "3", ""), ("incomplete", "day")),
    (("27", "3", " "), ("incomplete", "year")),
    (("31", "2", "1985"), ("invalid", "")),
    (("0", "3", "1985"), ("invalid", "")),
    (("27", "13", "1985"), ("invalid", "")),
    (("9" * 20, "3", "1985"), ("invalid", "")),
    (("27", "9" * 20, "1985"), ("invalid", "")),
    (("27", "3", "9" * 20), ("invalid", "")),
    (("-1", "3", "1985"), ("invalid", "")),
    (("27", "3", "1985.0"), ("invalid", "")),
    (("²", "3", "1985"), ("invalid", "")),
    (("٢", "3", "1985"), ("invalid", "")),
    (("27", "3", "0"), ("invalid", "")),
    (("27", "3", "85"), ("year_digits", "")),
])
def test_every_problem_is_named(parts, expected):
    assert problem(*parts) == expected


def dob(day, month, year):
    return {"date_of_birth_0": day, "date_of_birth_1": month, "date_of_birth_2": year}


def test_the_public_look_up_gives_the_gov_uk_messages():
    def errors(day, month, year):
        form = FindOfferForm({"reference": "ESX-100001", **dob(day, month, year)})
        assert not form.is_valid()
        return form.errors["date_of_birth"]

    assert errors("9" * 20, "3", "1985") == ["Date of birth must be a real date"]
    assert errors("27", "3", "85") == ["Year must include 4 numbers"]
    assert errors("27", "", "1985") == ["Date of birth must include a month"]
    assert errors("", "", "") == ["Enter your date of birth"]
    assert errors("27", "3", "2999") == ["Date of birth must be in the past"]


def test_the_contact_centre_search_speaks_of_the_caller():
    form = NameSearchForm({"last_name": "Driver", **dob("27", "9" * 20, "1985")})
    assert not form.is_valid()
    assert form.errors["date_of_birth"] == [
        "The caller's date of birth must be a real date, like 27 3 1985"]


@pytest.mark.django_db
def test_the_staff_search_ignores_a_date_that_is_not_one(essex):
    from django_tenants.utils import schema_context

    from tests.journey_data import make_journey_data

    make_journey_data(essex)
    with schema_context(essex.schema_name):
        assert [o.reference for o in search_offers("27/03/1985")] == ["ESX-100001"]
        assert search_offers("31/02/1985") == []
