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


@register.filter
def money(pence) -> str:
    """Pence as pounds, a net that went below nothing with a minus before the pound sign."""
    if pence in (None, ""):
        return ""
    sign = "−" if int(pence) < 0 else ""
    return f"{sign}£{abs(int(pence)) / 100:,.2f}"
