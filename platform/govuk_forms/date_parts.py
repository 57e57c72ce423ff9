"""The day, month and year of a GOV.UK date input, turned into a date or into the reason it is
not one. Every three-part date in the project is read here, so none can pass Python's `date`
a 20-digit day (an OverflowError, not a ValueError)."""

import re
from datetime import date

DAY_OR_MONTH = re.compile(r"[0-9]{1,2}")
YEAR = re.compile(r"[0-9]{1,4}")


class DateProblem(ValueError):
    """Why the parts are not a date, as the GOV.UK pattern names it: `required` (nothing
    typed), `incomplete` (`missing` names the first empty part: "day", "month" or "year"),
    `invalid` (not a real date) or `year_digits` (a real date whose year is not 4 digits)."""

    def __init__(self, code: str, missing: str = ""):
        super().__init__(code)
        self.code = code
        self.missing = missing


def parse_date_parts(day: str | None, month: str | None, year: str | None) -> date:
    day, month, year = ((part or "").strip() for part in (day, month, year))
    if not (day or month or year):
        raise DateProblem("required")
    for name, value in (("day", day), ("month", month), ("year", year)):
        if not value:
            raise DateProblem("incomplete", missing=name)
    if not (DAY_OR_MONTH.fullmatch(day) and DAY_OR_MONTH.fullmatch(month)
            and YEAR.fullmatch(year)):
        raise DateProblem("invalid")
    try:
        parsed = date(int(year), int(month), int(day))
    except ValueError:
        raise DateProblem("invalid") from None
    if len(year) != 4:
        raise DateProblem("year_digits")
    return parsed
