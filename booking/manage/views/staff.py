"""Staff accounts at this client: invite someone with a role, change a role, deactivate or
reactivate a person's access here. Memberships live in the public schema; only this client's
are ever listed or changed."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from booking.services.staff import (
    change_role,
    invite_staff,
    reset_staff_two_factor,
    set_staff_active,
)

from ..access import add_service_errors, ip, page, posted, render_page
from ..forms import ChangeRoleForm, ConfirmForm, InviteStaffForm

VIEW, MANAGE = "staff.view", "client.manage_staff"


@page(VIEW)
def staff_list(request):
    memberships = (Membership.objects.select_related("user")
                   .filter(organisation=request.tenant).order_by("user__email", "role"))
    people = {}
    for membership in memberships:
        person = people.setdefault(membership.user_id, {"user": membership.user,
                                                        "memberships": [], "active": False})
        person["memberships"].append(membership)
        person["active"] = person["active"] or (membership.is_active
                                                and membership.user.is_active)
    return render_page(request, "manage/staff/list.html", {"people": list(people.values())})


@page(VIEW, MANAGE)
def staff_invite(request):
    form = InviteStaffForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            membership = invite_staff(
                request.tenant, email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"], role=form.cleaned_data["role"],
                actor=request.user, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(email)s now has the role %(role)s.") % {
                "email": membership.user.email, "role": membership.get_role_display()})
            return redirect("manage:staff")
    return render_page(request, "manage/staff/invite.html", {"form": form})


@page(VIEW, MANAGE)
def staff_role(request, membership_id):
    membership = get_object_or_404(Membership.objects.select_related("user"),
                                   pk=membership_id, organisation=request.tenant)
    form = ChangeRoleForm(posted(request), initial={"role": membership.role})
    if request.method == "POST" and form.is_valid():
        try:
            change_role(membership.pk, form.cleaned_data["role"],
                        organisation=request.tenant, actor=request.user,
                        ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Role changed."))
            return redirect("manage:staff")
    return render_page(request, "manage/staff/role.html",
                       {"form": form, "membership": membership})


def _person(request, user_id) -> tuple[User, list[Membership]]:
    memberships = list(Membership.objects.select_related("user")
                       .filter(organisation=request.tenant, user_id=user_id).order_by("role"))
    if not memberships:
        raise Http404
    return memberships[0].user, memberships


def _set_active(request, user_id, active: bool):
    person, memberships = _person(request, user_id)
    form = ConfirmForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            set_staff_active(person.pk, active, organisation=request.tenant,
                             actor=request.user, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, (_("%(email)s can use this site again.") if active
                                       else _("%(email)s can no longer use this site."))
                             % {"email": person.email})
            return redirect("manage:staff")
    return render_page(request, "manage/staff/active.html", {
        "form": form, "person": person, "memberships": memberships, "activating": active})


@page(VIEW, MANAGE)
def staff_deactivate(request, user_id):
    return _set_active(request, user_id, False)


@page(VIEW, MANAGE)
def staff_reactivate(request, user_id):
    return _set_active(request, user_id, True)


@page(VIEW, MANAGE)
def staff_reset_two_factor(request, user_id):
    """A lost phone: the person sets up a new authenticator app at their next sign-in."""
    person, memberships = _person(request, user_id)
    form = ConfirmForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            reset_staff_two_factor(person.pk, organisation=request.tenant, actor=request.user,
                                   ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(email)s will set up two-factor authentication again "
                                        "when they next sign in.") % {"email": person.email})
            return redirect("manage:staff")
    return render_page(request, "manage/staff/reset_two_factor.html", {
        "form": form, "person": person, "memberships": memberships})
