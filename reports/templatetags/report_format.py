from django import template
from django.utils import formats

register = template.Library()


@register.filter
def percent(share) -> str:
    """A share (0–1) as a whole percentage in the page's language; a dash when there is none."""
    if share is None:
        return "–"
    return f"{formats.number_format(round(share * 100))}%"


@register.filter
def absolute_percent(change) -> str:
    """A change (−1…) as its size in whole percent, the direction said in words beside it."""
    return percent(abs(change))
