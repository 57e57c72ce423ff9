"""The one permission check, used by every page (RequiresAction / requires_action) and every
API endpoint (HasAction), each after the one second-factor check (second_factor.is_missing). A
login for client A gives nothing on client B: client actions are checked against memberships of
the client whose domain served the request."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import BasePermission

from . import second_factor
from .credentials import ScopedCredential
from .roles import CLIENT_ACTIONS, PLATFORM_ACTIONS


def roles_of(user, organisation) -> set[str]:
    """Active roles of `user` at `organisation` (None: the provider)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    memberships = user.memberships.filter(is_active=True)
    if organisation is None:
        memberships = memberships.filter(organisation__isnull=True)
    else:
        memberships = memberships.filter(organisation_id=organisation.pk)
    return set(memberships.values_list("role", flat=True))


def is_allowed(user, organisation, action: str) -> bool:
    if action in PLATFORM_ACTIONS:
        if organisation is not None:
            return False
        return bool(roles_of(user, None) & PLATFORM_ACTIONS[action])
    if action in CLIENT_ACTIONS:
        if organisation is None:
            return False
        return bool(roles_of(user, organisation) & CLIENT_ACTIONS[action])
    raise KeyError(f"Unknown action {action!r}: add it to accounts/roles.py")


def check(request, action: str) -> None:
    organisation = getattr(request, "tenant", None)
    if not is_allowed(request.user, organisation, action):
        raise PermissionDenied


def requires_action(action: str):
    """Decorator for function views: sign-in, second factor, then the role check (403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if second_factor.is_missing(request.user):
                return redirect(second_factor.page_url(request.get_full_path()))
            check(request, action)
            return view(request, *args, **kwargs)

        wrapped.required_action = action
        return wrapped

    return decorator


class RequiresAction:
    """Mixin for class-based views: set `required_action`."""

    required_action: str = ""

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        return requires_action(cls.required_action)(view)


class HasAction(BasePermission):
    """DRF permission: the view's `required_action` (or `required_actions[method]`).

    Staff are checked by their role at the current client, after the second factor where their
    account needs it. A machine's credential (request.auth is a ScopedCredential, such as a
    client API key found in the current client's schema) may perform exactly the client actions
    in its `scopes`, and nothing else."""

    def has_permission(self, request, view):
        if request.method not in view.allowed_methods:
            # A method the view does not have is refused as such (405 with Allow), not as a 403
            # that reads as "someone else may".
            raise MethodNotAllowed(request.method)
        actions = getattr(view, "required_actions", None)
        action = (actions or {}).get(request.method) or getattr(view, "required_action", None)
        if action is None:
            return False
        organisation = getattr(request, "tenant", None)
        if isinstance(request.auth, ScopedCredential):
            return organisation is not None and request.auth.allows(action)
        if not hasattr(request.user, "memberships"):
            return False  # any other non-user principal gets nothing
        if second_factor.is_missing(request.user, credential=request.auth):
            self.message = _("This account needs two-factor authentication: enter your security "
                             "code at %(url)s, then try again.") % {"url": reverse("accounts:two_factor")}
            return False
        return is_allowed(request.user, organisation, action)
