"""The client's merchant account: connected through Stripe's own onboarding pages (an account
link), and back here, where whether it can take charges is asked of Stripe again (the
account.updated webhook keeps it current after that)."""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from integrations.stripe_gateway import PaymentServiceUnavailable
from tenants.services import merchant_onboarding_link, refresh_charges_enabled

from ..access import allowed_actions, ip, page, render_page

VIEW, CONFIGURE = "configuration.view", "client.configure"


@page(VIEW, CONFIGURE)
def merchant_account(request):
    """GET: the account's state. POST (and Stripe's refresh_url, a GET with ?start=1 after an
    expired link): off to Stripe's onboarding."""
    if request.method == "POST" or request.GET.get("start") == "1":
        if request.method != "POST" and "client.configure" not in allowed_actions(request):
            return redirect("manage:merchant_account")
        here = request.build_absolute_uri(reverse("manage:merchant_account"))
        try:
            url = merchant_onboarding_link(
                request.tenant, refresh_url=here + "?start=1",
                return_url=request.build_absolute_uri(reverse("manage:merchant_account_return")),
                acting_user=request.user, ip_address=ip(request))
        except PaymentServiceUnavailable:
            return render_page(request, "manage/merchant_account.html", {
                "unavailable": True}, status=503)
        return redirect(url)
    return render_page(request, "manage/merchant_account.html", {})


@page(VIEW)
def merchant_account_return(request):
    """Stripe's return_url: the person finished (or left) onboarding; the page says where the
    account stands now, asked of Stripe again."""
    ready = False
    if request.tenant.stripe_account_id:
        try:
            refreshed = refresh_charges_enabled(request.tenant.stripe_account_id,
                                                acting_user=request.user)
        except PaymentServiceUnavailable:
            refreshed = None
        if refreshed is not None:
            request.tenant.stripe_charges_enabled = refreshed.stripe_charges_enabled
            ready = refreshed.stripe_charges_enabled
    return render_page(request, "manage/merchant_account.html", {
        "returned": True,
        "outcome": _("The merchant account can take card payments.") if ready
        else _("Stripe has not finished checking the account yet. This page will show when "
               "it can take card payments.")})
