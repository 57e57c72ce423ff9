"""The API reference pages (Redoc, served from our own static files by drf-spectacular-sidecar).

Redoc writes its styles into <style> elements at run time, some of them before it can be given a
nonce, and draws its icons from data: URLs, so these pages alone allow both. Their scripts stay our
own, and nothing is loaded from a CDN (Redoc's footer logo from cdn.redoc.ly is refused, and
Redoc then hides it).
"""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView


@method_decorator(csp_replace({"style-src": [SELF, UNSAFE_INLINE], "img-src": [SELF, "data:"]}),
                  name="get")
class ApiReference(SpectacularRedocView):
    pass
