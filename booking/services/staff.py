"""The client's staff: inviting someone to a role, changing a role, deactivating and
reactivating a person. The client always keeps an active administrator, and nobody deactivates
themselves. Each change is one durable transaction with its audit row; problems are a
ValidationError keyed by the form field."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.invitations import queue_invitation
from accounts.models import Membership, User
from accounts.roles import CLIENT_ROLES, Role
from accounts.services import reset_two_factor
from audit.services import record

from .editing import field_errors


def _lock_admins(organisation):
    return list(Membership.objects.select_for_update().filter(
        organisation=organisation, role=Role.CLIENT_ADMIN, is_active=True,
        user__is_active=True).order_by("pk"))


def _membership_after(membership) -> dict:
    return {"user": membership.user.email, "role": membership.role,
            "is_active": membership.is_active}


def invite_staff(organisation, *, email: str, full_name: str = "", role: str, actor,
                 ip_address=None):
    """Give someone a role at this client. A new person gets an account and an invitation to
    set their password (after commit); someone who already has an account just gains the
    role. Returns the membership."""
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    if role not in CLIENT_ROLES:
        raise field_errors(role=_("Choose a role from the list."))
    if not email:
        raise field_errors(email=_("Enter the person's email address."))
    email_limit = User._meta.get_field("email").max_length
    if len(email) > email_limit:
        raise field_errors(email=_("Email address must be %(limit_value)s characters or less")
                           % {"limit_value": email_limit})
    name_limit = User._meta.get_field("full_name").max_length
    if len(full_name) > name_limit:
        raise field_errors(full_name=_("Full name must be %(limit)s characters or less")
                           % {"limit": name_limit})
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        new_user = user is None
        if new_user:
            user = User.objects.create_user(email=email, password=None, full_name=full_name)
        elif not user.is_active:
            raise field_errors(email=_("That account has been closed. Ask the provider to reopen "
                                       "it."))
        membership = Membership.objects.filter(user=user, organisation=organisation,
                                               role=role).first()
        if membership is not None and membership.is_active:
            raise field_errors(email=_("%(email)s already has that role here.") % {"email": email})
        if membership is None:
            membership = Membership.objects.create(user=user, organisation=organisation,
                                                   role=role)
        else:
            membership.is_active = True
            membership.save(update_fields=["is_active"])
        record(actor=actor, action="staff.invited", obj=membership, organisation=organisation,
               after=dict(_membership_after(membership), new_account=new_user),
               ip_address=ip_address)
        if new_user or not user.has_usable_password():
            queue_invitation(user, organisation=organisation, invited_by=actor)
        return membership


def change_role(membership_id, new_role: str, *, organisation, actor, ip_address=None):
    if new_role not in CLIENT_ROLES:
        raise field_errors(role=_("Choose a role from the list."))
    with transaction.atomic(durable=True):
        admins = _lock_admins(organisation)
        membership = Membership.objects.select_for_update().select_related("user").get(
            pk=membership_id, organisation=organisation)
        if membership.role == new_role:
            raise field_errors(role=_("That is already their role."))
        if Membership.objects.filter(user=membership.user, organisation=organisation,
                                     role=new_role).exists():
            raise field_errors(role=_("They already have that role here."))
        if (membership.role == Role.CLIENT_ADMIN and membership.is_active
                and [m.pk for m in admins] == [membership.pk]):
            raise field_errors(role=_("This is the only administrator: make someone else an "
                                      "administrator first."))
        before = _membership_after(membership)
        membership.role = new_role
        membership.save(update_fields=["role"])
        record(actor=actor, action="staff.role_changed", obj=membership,
               organisation=organisation, before=before, after=_membership_after(membership),
               ip_address=ip_address)
        return membership


def set_staff_active(user_id, active: bool, *, organisation, actor, ip_address=None) -> int:
    """Deactivate (or reactivate) every role a person has at this client. Their account and
    their roles elsewhere are untouched. Returns how many roles changed."""
    with transaction.atomic(durable=True):
        admins = _lock_admins(organisation)
        memberships = list(Membership.objects.select_for_update().select_related("user")
                           .filter(user_id=user_id, organisation=organisation).order_by("pk"))
        if not memberships:
            raise Membership.DoesNotExist
        if not active:
            if getattr(actor, "pk", None) == user_id:
                raise field_errors(confirm=_("You cannot deactivate your own account."))
            remaining = [m for m in admins if m.user_id != user_id]
            if any(m.role == Role.CLIENT_ADMIN for m in memberships if m.is_active) \
                    and not remaining:
                raise field_errors(confirm=_("This is the only administrator: make someone else an "
                                             "administrator first."))
        changed = [m for m in memberships if m.is_active != active]
        for membership in changed:
            before = _membership_after(membership)
            membership.is_active = active
            membership.save(update_fields=["is_active"])
            record(actor=actor, action="staff.reactivated" if active else "staff.deactivated",
                   obj=membership, organisation=organisation, before=before,
                   after=_membership_after(membership), ip_address=ip_address)
        return len(changed)


def reset_staff_two_factor(user_id, *, organisation, actor, ip_address=None) -> int:
    """Remove a member of staff's authenticator app (a lost phone): they set up a new one at
    their next sign-in. Only for someone who works for this client alone: the account is shared
    with every site its owner works on, so the provider resets anyone else's. Returns how many
    apps were removed."""
    user = User.objects.get(pk=user_id)
    if not Membership.objects.filter(user=user, organisation=organisation).exists():
        raise Membership.DoesNotExist
    if Membership.objects.filter(user=user).exclude(organisation=organisation).exists():
        raise field_errors(confirm=_("This person also works elsewhere. Ask the provider's "
                                     "support team to reset their two-factor authentication."))
    if getattr(actor, "pk", None) == user_id:
        raise field_errors(confirm=_("You cannot reset your own two-factor authentication."))
    return reset_two_factor(user, acting_user=actor, organisation=organisation,
                            ip_address=ip_address)
