from django.utils import translation

from .branding import darker


def client_site(request):
    organisation = getattr(request, "tenant", None)
    if organisation is None:
        return {"organisation": None}
    language = translation.get_language() or "en-gb"
    return {
        "organisation": organisation,
        "client_name": organisation.display_name(language),
        "brand_colour": organisation.primary_colour,
        "brand_colour_dark": darker(organisation.primary_colour),
        "is_welsh": language.startswith("cy"),
        # The base layout asks on every page; `request.setup_preview` is unset on most, and a
        # template's failed attribute lookup costs a dir(request) (issue 13).
        "setup_preview": getattr(request, "setup_preview", False),
    }
