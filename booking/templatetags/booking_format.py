from django import template
from django.utils import formats, timezone, translation

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


# Names a person reads, in the page's language: every public template names a course or a venue
# through these, so a Welsh page never falls back to the English field while a Welsh one exists.

def _active_language() -> str:
    return translation.get_language() or "en-gb"


@register.filter
def course_name(course_type) -> str:
    return course_type.name(_active_language()) if course_type else ""


@register.filter
def venue_name(venue) -> str:
    return venue.name_in(_active_language()) if venue else ""


@register.filter
def venue_directions(venue) -> str:
    return venue.directions_in(_active_language()) if venue else ""


@register.filter
def venue_address(venue) -> list[str]:
    """The address lines under the venue's name, without repeating it."""
    return venue.address_lines() if venue else []


@register.filter
def venue_map_url(venue) -> str:
    """OpenStreetMap at the venue's placed point: a plain link, nothing loaded on our page."""
    if not venue:
        return ""
    return (f"https://www.openstreetmap.org/?mlat={venue.latitude:.5f}&mlon={venue.longitude:.5f}"
            f"#map=17/{venue.latitude:.5f}/{venue.longitude:.5f}")
