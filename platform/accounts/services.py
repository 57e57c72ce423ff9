"""Staff sign-in with lock-out, and the TOTP second factor."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import record

from .models import User


@dataclass
class SignInResult:
    user: User | None
    locked: bool = False


def sign_in(*, email: str, password: str, request=None, ip_address=None) -> SignInResult:
    """Check a password. After LOGIN_MAX_FAILURES failures in a row the account is locked for
    LOGIN_LOCKOUT_MINUTES, whether or not the next password is right."""
    email = (email or "").strip().lower()
    with transaction.atomic(durable=True):
        account = User.objects.select_for_update().filter(email__iexact=email).first()
        now = timezone.now()
        if account is not None and account.is_locked(now):
            return SignInResult(user=None, locked=True)
        user = authenticate(request, email=email, password=password)
        if account is None:
            return SignInResult(user=None)
        if user is None:
            account.failed_login_count += 1
            locked = account.failed_login_count >= settings.LOGIN_MAX_FAILURES
            if locked:
                account.locked_until = now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
                account.failed_login_count = 0
                record(actor="system", action="user.locked_out", obj=account,
                       after={"locked_until": account.locked_until}, ip_address=ip_address)
            account.save(update_fields=["failed_login_count", "locked_until"])
            return SignInResult(user=None, locked=locked)
        if account.failed_login_count or account.locked_until:
            account.failed_login_count = 0
            account.locked_until = None
            account.save(update_fields=["failed_login_count", "locked_until"])
        return SignInResult(user=user)


def start_totp_setup(user) -> TOTPDevice:
    """An unconfirmed device to scan; replaces any earlier unconfirmed one."""
    with transaction.atomic(durable=True):
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def confirm_totp_setup(user, device_id: int, token: str, *, ip_address=None) -> bool:
    with transaction.atomic(durable=True):
        device = TOTPDevice.objects.select_for_update().filter(
            user=user, pk=device_id, confirmed=False
        ).first()
        if device is None or not device.verify_token(token):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(actor=user, action="user.two_factor_enabled", obj=user, ip_address=ip_address)
        return True


def set_password(user, password: str, *, ip_address=None) -> None:
    with transaction.atomic(durable=True):
        user.set_password(password)
        user.failed_login_count = 0
        user.locked_until = None
        user.save(update_fields=["password", "failed_login_count", "locked_until"])
        record(actor=user, action="user.password_set", obj=user, ip_address=ip_address)
