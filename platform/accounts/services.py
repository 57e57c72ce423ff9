"""Staff sign-in with lock-out, and the TOTP second factor."""

from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import get_public_schema_name, schema_context

from audit.services import SYSTEM_ACTOR, client_ip, record

from .models import SignInEvent, User
from .roles import PROVIDER_ROLES
from .sign_in_report import record_sign_in


@dataclass
class SignInResult:
    user: User | None
    locked: bool = False


def sign_in(*, email: str, password: str, organisation, request) -> SignInResult:
    """Check a password on the site of `organisation` (None: the control plane).

    django-axes counts failures per e-mail address and source address together
    (settings.AXES_*): after the limit that pair is refused, right password or not, real account
    or not, while the same person elsewhere is not. A right password for someone who does not
    work for this client is refused and counted exactly like a wrong one.

    The sign-in report's row comes from the signals each outcome raises (accounts.
    sign_in_signals), the same for every door: the success from login(), which the caller
    calls; a failure or a lock-out from authenticate() or from the refusal below."""
    email = (email or "").strip().lower()
    credentials = {settings.AXES_USERNAME_FORM_FIELD: email}
    with transaction.atomic(durable=True):
        if not AxesProxyHandler.is_allowed(request, credentials):
            # Refused before the password is even checked, so the lock is not extended; told
            # as axes tells a lock-out, so the report hears it the same way.
            user_locked_out.send("axes", request=request, username=email,
                                 ip_address=client_ip(request))
            return SignInResult(user=None, locked=True)
        user = authenticate(request, email=email, password=password)
        if user is not None and not _works_here(user, organisation):
            user = None
            # Counted by axes as the failure it is (authenticate() sends the same signal).
            user_login_failed.send(sender=__name__, credentials=credentials, request=request,
                                   reason=SignInEvent.Reason.NO_ACCESS_HERE)
        if user is not None:
            return SignInResult(user=user)
        locked = bool(getattr(request, "axes_locked_out", False))
        if locked:
            _record_lock_out(email, organisation=organisation, ip_address=client_ip(request))
        return SignInResult(user=None, locked=locked)


def _works_here(user, organisation) -> bool:
    """A client's site signs in its own staff and the provider's; the control plane anyone."""
    if organisation is None:
        return True
    return user.memberships.filter(is_active=True).filter(
        Q(organisation=organisation) | Q(organisation__isnull=True, role__in=PROVIDER_ROLES)
    ).exists()


def _record_lock_out(email: str, *, organisation, ip_address) -> None:
    """In the control plane's trail, against the client whose site it happened on; in that
    client's own trail too if the address is one of its staff (never another client's)."""
    account = User.objects.filter(email__iexact=email).first()
    entry = {"actor": SYSTEM_ACTOR, "action": "user.locked_out", "obj": account,
             "organisation": organisation, "ip_address": ip_address,
             "after": {"email": email, "until": timezone.now() + settings.AXES_COOLOFF_TIME}}
    with schema_context(get_public_schema_name()):
        record(**entry)
    if (organisation is not None and account is not None
            and account.memberships.filter(organisation=organisation).exists()):
        with schema_context(organisation.schema_name):
            record(**entry)


def start_totp_setup(user) -> TOTPDevice:
    """An unconfirmed device to scan; replaces any earlier unconfirmed one."""
    with transaction.atomic(durable=True):
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def confirm_totp_setup(user, device_id: int, token: str, *, ip_address=None,
                       organisation=None) -> bool:
    """`organisation`: the client whose site it was set up on (None: the control plane)."""
    with transaction.atomic(durable=True):
        device = TOTPDevice.objects.select_for_update().filter(
            user=user, pk=device_id, confirmed=False
        ).first()
        if device is None or not device.verify_token(token):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(actor=user, action="user.two_factor_enabled", obj=user, ip_address=ip_address)
        record_sign_in(SignInEvent.Outcome.TWO_FACTOR_SET_UP, email=user.email, user=user,
                       organisation=organisation, ip_address=ip_address)
        return True


def second_factor_failed(user, *, organisation, ip_address=None) -> None:
    """A wrong security code after the right password: a failed sign-in in the report."""
    with transaction.atomic(durable=True):
        record_sign_in(SignInEvent.Outcome.FAILED, email=user.email, user=user,
                       organisation=organisation, ip_address=ip_address,
                       reason=SignInEvent.Reason.WRONG_CODE)


def reset_two_factor(user, *, acting_user, organisation, ip_address=None) -> int:
    """Remove every authenticator app of `user` (lost phone): they set one up again at their
    next sign-in. Returns how many were removed. The caller checks that `acting_user` may
    manage `user` here; `organisation` is where it was done (None: the control plane)."""
    with transaction.atomic(durable=True):
        removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
        record(actor=acting_user, action="user.two_factor_reset", obj=user,
               organisation=organisation, ip_address=ip_address,
               after={"devices_removed": removed})
        record_sign_in(SignInEvent.Outcome.TWO_FACTOR_RESET, email=user.email, user=user,
                       organisation=organisation, ip_address=ip_address, by=acting_user)
        return removed


def set_password(user, password: str, *, ip_address=None) -> None:
    with transaction.atomic(durable=True):
        user.set_password(password)
        user.save(update_fields=["password"])
        record(actor=user, action="user.password_set", obj=user, ip_address=ip_address)
