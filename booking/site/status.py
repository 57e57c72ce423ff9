"""The client site's status page: is booking working, how available it has been against the
99.5 % target, and the incidents that affected this client (never another client's)."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from config.headers import public_page
from tenants.status import status_page


@require_safe
@public_page
def status(request):
    return render(request, "site/status.html", status_page(request.tenant))
