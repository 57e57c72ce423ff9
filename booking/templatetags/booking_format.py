from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def pounds(pence) -> str:
    """1500 → £15.00"""
    if pence in (None, ""):
        return ""
    return f"£{int(pence) / 100:,.2f}"


@register.filter
def when(session) -> str:
    """A session's day and times in the active language, e.g. Monday 7 December 2026, 09:30 to 12:15."""
    start = timezone.localtime(session.starts_at)
    end = timezone.localtime(session.ends_at)
    return (f"{formats.date_format(start, 'l j F Y')}, "
            f"{formats.time_format(start, 'H:i')}–{formats.time_format(end, 'H:i')}")
