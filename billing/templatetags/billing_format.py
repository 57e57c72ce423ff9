from django import template
from django.utils import formats

register = template.Library()


@register.filter
def gbp(pence) -> str:
    """183050 → £1,830.50"""
    if pence in (None, ""):
        return ""
    pence = int(pence)
    sign = "−" if pence < 0 else ""
    return f"{sign}£{abs(pence) / 100:,.2f}"


@register.filter
def percent(basis_points) -> str:
    """2000 → 20%, 175 → 1.75%"""
    if basis_points in (None, ""):
        return ""
    return f"{int(basis_points) / 100:g}%"


@register.filter
def month(period) -> str:
    return formats.date_format(period, "F Y")
