"""What a GOV.UK date input posts: <name>_day, <name>_month and <name>_year."""

from datetime import date


def date_parts(name: str, day: date) -> dict[str, str]:
    return {f"{name}_day": str(day.day), f"{name}_month": str(day.month),
            f"{name}_year": str(day.year)}


def anchor(field: str, date_fields=()) -> str:
    """The error summary's link: a date input's links go to its first part in error."""
    return f'href="#id_{field}_day"' if field in date_fields else f'href="#id_{field}"'
