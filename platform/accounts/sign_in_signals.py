"""The sign-in report hears every door, not only our sign-in page: Django's `user_logged_in`
(any `login()`), `user_login_failed` (any `authenticate()` that fails, and our own refusal of
someone who does not work here) and django-axes' `user_locked_out`. Each attempt is one row,
however many of those signals it raises: a failure that reaches the lock-out limit raises both
axes' lock-out and the failure, and is reported once, as the lock-out.

A `login()` with no HTTP request behind it (the test client's force_login, a script) is nobody
signing in from anywhere, and is not reported. An API key is not a sign-in: it raises none of
these signals. The second factor's steps are recorded by accounts.services, which owns them."""

from django.contrib.auth.signals import user_logged_in, user_login_failed

from audit.services import client_ip

from .models import SignInEvent, User
from .sign_in_report import record_sign_in

# Set on the request once its attempt is in the report.
RECORDED = "_waymark_sign_in_recorded"


def _a_real_attempt(request) -> bool:
    """True once per HTTP request: the first signal of the attempt records it."""
    if request is None or getattr(request, "method", None) is None:
        return False
    if getattr(request, RECORDED, False):
        return False
    setattr(request, RECORDED, True)
    return True


def _account(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first() if email else None


def _record(outcome, request, *, email, user=None, reason=""):
    record_sign_in(outcome, email=email, user=user, reason=reason,
                   organisation=getattr(request, "tenant", None), ip_address=client_ip(request))


def signed_in(sender, request, user, **kwargs):
    if _a_real_attempt(request):
        _record(SignInEvent.Outcome.SUCCEEDED, request, email=user.email, user=user)


def sign_in_failed(sender, credentials, request=None, reason="", **kwargs):
    if not _a_real_attempt(request):
        return
    email = str(credentials.get("email") or credentials.get("username") or "").strip()
    account = _account(email)
    if getattr(request, "axes_locked_out", False):
        _record(SignInEvent.Outcome.LOCKED_OUT, request, email=email, user=account, reason=reason)
        return
    if not reason:
        reason = (SignInEvent.Reason.UNKNOWN_ACCOUNT if account is None
                  else SignInEvent.Reason.INACTIVE if not account.is_active
                  else SignInEvent.Reason.WRONG_PASSWORD)
    _record(SignInEvent.Outcome.FAILED, request, email=email, user=account, reason=reason)


def locked_out(sender, request=None, username=None, **kwargs):
    if _a_real_attempt(request):
        email = str(username or "")
        _record(SignInEvent.Outcome.LOCKED_OUT, request, email=email, user=_account(email))


def connect() -> None:
    """Called from AccountsConfig.ready. Importing axes.signals connects axes' own receivers
    first, so ours run after axes has counted the failure and decided on a lock-out."""
    from axes.signals import user_locked_out

    user_locked_out.connect(locked_out, dispatch_uid="waymark.sign_in_report.locked_out")
    user_login_failed.connect(sign_in_failed, dispatch_uid="waymark.sign_in_report.failed")
    user_logged_in.connect(signed_in, dispatch_uid="waymark.sign_in_report.succeeded")
