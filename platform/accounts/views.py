"""Sign-in, the second factor, set-password (invitations) and sign-out: the same pages on the
control plane and on every client domain."""

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.tokens import default_token_generator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import client_ip

from . import second_factor, services
from .forms import SetPasswordForm, SignInForm, TokenForm
from .permissions import roles_of
from .roles import Role

# Client roles whose work is in /manage/; an agent with none of them works in the contact centre.
MANAGE_ROLES = frozenset({Role.CLIENT_ADMIN, Role.BOOKING_OFFICER, Role.TRAINER, Role.AUDITOR})


def _home(request) -> str:
    """Where the signed-in user's own work starts, so nobody lands on a page they may not see."""
    organisation = getattr(request, "tenant", None)
    roles = roles_of(request.user, organisation)
    if organisation is None:
        # Client staff on the control plane are there for the user group, not the console.
        return reverse("console:home") if roles else reverse("usergroup:list")
    if Role.CONTACT_CENTRE_AGENT in roles and not roles & MANAGE_ROLES:
        return reverse("contact_centre:home")
    return reverse("manage:dashboard")


def _asked_for(request) -> str:
    """The safe `next` the user asked for, or "" (never a home chosen before sign-in)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return candidate
    return ""


def _next_url(request) -> str:
    return _asked_for(request) or _home(request)


def _base_template(request) -> str:
    return "platform/base.html" if getattr(request, "tenant", None) is None else "client/base.html"


@sensitive_post_parameters("password")
def sign_in(request):
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.sign_in(email=form.cleaned_data["email"],
                                  password=form.cleaned_data["password"],
                                  organisation=getattr(request, "tenant", None), request=request)
        if result.locked:
            form.add_error(None, _("Your account is locked after too many failed attempts. "
                                   "Try again in 15 minutes or ask an administrator."))
        elif result.user is None:
            form.add_error(None, _("Enter a correct email address and password."))
        else:
            login(request, result.user)
            if second_factor.is_missing(request.user):
                return redirect(second_factor.page_url(_next_url(request)))
            return redirect(_next_url(request))
    return render(request, "accounts/sign_in.html",
                  {"form": form, "next": _asked_for(request),
                   "base_template": _base_template(request)})


def two_factor(request):
    """Verify the TOTP code, or set TOTP up first if the person has no device yet."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if request.user.is_verified():
        return redirect(_next_url(request))
    setting_up = not user_has_device(request.user, confirmed=True)
    form = TokenForm(request.POST or None)
    device = None
    if setting_up:
        device_id = request.session.get("totp_setup_device")
        device = TOTPDevice.objects.filter(user=request.user, pk=device_id, confirmed=False).first()
        if device is None:
            device = services.start_totp_setup(request.user)
            request.session["totp_setup_device"] = device.pk
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        if setting_up:
            if services.confirm_totp_setup(request.user, device.pk, token,
                                           ip_address=client_ip(request),
                                           organisation=getattr(request, "tenant", None)):
                device.refresh_from_db()
                otp_login(request, device)
                request.session.pop("totp_setup_device", None)
                messages.success(request, _("Two-factor authentication is now on for your account."))
                return redirect(_next_url(request))
        else:
            for candidate in TOTPDevice.objects.filter(user=request.user, confirmed=True):
                if candidate.verify_token(token):
                    otp_login(request, candidate)
                    return redirect(_next_url(request))
            services.second_factor_failed(request.user,
                                          organisation=getattr(request, "tenant", None),
                                          ip_address=client_ip(request))
        form.add_error("token", _("The security code is wrong or has expired. Enter the current code."))
    context = {"form": form, "setting_up": setting_up, "next": _next_url(request),
               "base_template": _base_template(request)}
    if setting_up:
        context["qr_svg"] = _qr_svg(device.config_url)
        context["secret"] = base64.b32encode(device.bin_key).decode()
    return render(request, "accounts/two_factor.html", context)


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@sensitive_post_parameters("password", "password_again")
def set_password(request, uidb64, token):
    User = get_user_model()
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uidb64).decode()))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        return render(request, "accounts/link_expired.html",
                      {"base_template": _base_template(request)}, status=400)
    form = SetPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        services.set_password(user, form.cleaned_data["password"], ip_address=client_ip(request))
        messages.success(request, _("Your password is set. Sign in to continue."))
        return redirect("accounts:login")
    return render(request, "accounts/set_password.html",
                  {"form": form, "account": user, "base_template": _base_template(request)})


@require_POST
def sign_out(request):
    logout(request)
    return redirect("accounts:login")
