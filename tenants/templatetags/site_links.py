"""`{% fixed_url %}`: `{% url %}` for the links every page of a site carries (header, footer,
phase banner), reversed once per process rather than on every page.

A link whose name and arguments are literals in the template reverses to the same path for as
long as the URLconf, the script prefix and the language are the same, so those are the key.
Nothing about a client goes into these paths (the host picks the client, not the path), so no
change to a client can make one stale. The cache is emptied when the URL settings change (tests
that override ROOT_URLCONF) and is bounded, in case a template ever passes variable arguments.
"""

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

register = template.Library()

_MAX_ENTRIES = 512
_reversed: dict[tuple, str] = {}


@register.simple_tag
def fixed_url(name, *args):
    """The path `{% url name args %}` gives, remembered per URLconf, script prefix and language.
    Output is escaped as `{% url %}`'s is; `as variable` works as it does for `{% url %}`."""
    key = (get_urlconf(), get_script_prefix(), get_language(), name, args)
    try:
        return _reversed[key]
    except KeyError:
        pass
    path = reverse(name, args=args, urlconf=key[0])
    if len(_reversed) >= _MAX_ENTRIES:
        _reversed.clear()
    _reversed[key] = path
    return path


def clear():
    _reversed.clear()


@receiver(setting_changed)
def _url_settings_changed(setting, **kwargs):
    if setting in {"ROOT_URLCONF", "PUBLIC_SCHEMA_URLCONF", "FORCE_SCRIPT_NAME", "LANGUAGES"}:
        clear()
