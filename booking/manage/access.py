"""Who may do what in /manage/, and the page frame every view renders into.

Every view is wrapped by `page(view_action, change_action)`: accounts.permissions'
`requires_action(view_action)` for reading (sign-in, second factor, role at this client), and
for any other method also the "manage.change" action (which the auditor role never grants) and
the view's own `change_action`. A page that changes nothing answers other methods with 405,
after the same check, so an auditor's POST is always a 403."""

from functools import wraps

from django.http import HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.permissions import check, requires_action, roles_of
from accounts.roles import CLIENT_ACTIONS, Role
from audit.services import client_ip

SAFE_METHODS = ("GET", "HEAD")
CHANGE = "manage.change"
# Roles that see every course date; a trainer without one of these sees only their own.
SEE_ALL_SESSIONS = frozenset({Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.AUDITOR})


def page(view_action: str, change_action: str | None = None):
    def decorator(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if request.method not in SAFE_METHODS:
                check(request, CHANGE)
                if change_action is None:
                    return HttpResponseNotAllowed(SAFE_METHODS)
                check(request, change_action)
            return view(request, *args, **kwargs)

        wrapped = requires_action(view_action)(guarded)
        wrapped.change_action = change_action
        return wrapped

    return decorator


def allowed_actions(request) -> frozenset[str]:
    if not hasattr(request, "_manage_can"):
        roles = roles_of(request.user, request.tenant)
        request._manage_roles = frozenset(roles)
        request._manage_can = frozenset(action for action, allowed in CLIENT_ACTIONS.items()
                                        if roles & allowed)
    return request._manage_can


def sees_only_own_sessions(request) -> bool:
    allowed_actions(request)
    return not (request._manage_roles & SEE_ALL_SESSIONS)


def ip(request):
    return client_ip(request)


NAVIGATION = (
    ("manage:dashboard", _("Dashboard"), "client.view"),
    ("manage:offenders", _("Offenders"), "offers.view"),
    ("manage:registers", _("Registers"), "registers.view"),
    ("manage:sessions", _("Course dates"), "configuration.view"),
    ("manage:configure", _("Configuration"), "configuration.view"),
    ("manage:cases", _("Special circumstances"), "cases.view"),
    ("/manage/offers/import/", _("Import offers"), "offers.import"),
    ("manage:staff", _("Staff"), "staff.view"),
    ("manage:audit", _("Audit trail"), "client.view_audit"),
    ("manage:sign_ins", _("Sign-ins"), "client.view_audit"),
    ("manage:privacy", _("Data protection"), "privacy.view"),
    ("/manage/reports/", _("Reports"), "reports.view"),
    ("/manage/billing/", _("Billing"), "billing.view"),
)


def navigation(request) -> list[dict]:
    can = allowed_actions(request)
    items = []
    for name, label, action in NAVIGATION:
        if action not in can:
            continue
        url = name if name.startswith("/") else reverse(name)
        if url == reverse("manage:dashboard"):
            current = request.path == url
        else:
            current = request.path.startswith(url)
        items.append({"url": url, "label": label, "current": current})
    return items


def render_page(request, template: str, context: dict | None = None, *, status: int = 200):
    context = dict(context or {})
    context.update(can=allowed_actions(request), manage_nav=navigation(request))
    return render(request, template, context, status=status)


def add_service_errors(form, error, default_field=None) -> None:
    """Put a service's ValidationError on the form: by field where the form has that field,
    otherwise at the top of the error summary."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else default_field, messages)
    else:
        form.add_error(default_field, error.messages)


def posted(request):
    """The submitted data of a POST (even an empty one, so it is validated), else None."""
    return request.POST if request.method == "POST" else None
