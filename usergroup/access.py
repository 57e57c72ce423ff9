"""Who takes part in the user group, on the control plane (no client domain answers there, so
client roles are read from the user's memberships of live clients).

Members are client staff with the user-group member role, and client administrators; their
client must be live (a suspended client's staff are refused). Provider staff moderate
(accounts.roles: "usergroup.moderate")."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from accounts import second_factor
from accounts.models import Membership
from accounts.permissions import is_allowed
from accounts.roles import Role
from tenants.models import ClientOrganisation

MEMBER_ROLES = (Role.USERGROUP_MEMBER, Role.CLIENT_ADMIN)


def member_organisations(user):
    """The live clients `user` takes part for (by name)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ClientOrganisation.objects.none()
    ids = Membership.objects.filter(user=user, is_active=True, role__in=MEMBER_ROLES,
                                    organisation__isnull=False).values("organisation_id")
    return ClientOrganisation.objects.filter(pk__in=ids, status=ClientOrganisation.Status.LIVE,
                                             is_template=False).order_by("name")


def voting_organisation(user):
    """The organisation a member's votes and requests count for (the first by name)."""
    return member_organisations(user).first()


def is_member(user) -> bool:
    return member_organisations(user).exists()


def is_moderator(user) -> bool:
    return is_allowed(user, None, "usergroup.moderate")


def can_view(user) -> bool:
    return is_member(user) or is_moderator(user)


def _gate(test):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if second_factor.is_missing(request.user):
                return redirect(second_factor.page_url(request.get_full_path()))
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)
        return wrapped
    return decorator


viewer_required = _gate(can_view)
member_required = _gate(is_member)
moderator_required = _gate(is_moderator)


def members():
    """Everyone who takes part for a live client (active accounts), for invitations."""
    from accounts.models import User

    ids = Membership.objects.filter(
        is_active=True, role__in=MEMBER_ROLES, organisation__status=ClientOrganisation.Status.LIVE,
        organisation__is_template=False).values("user_id")
    return User.objects.filter(pk__in=ids, is_active=True).order_by("pk")
