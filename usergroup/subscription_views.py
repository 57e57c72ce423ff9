"""How a person hears from the user group: their preferences page, following a request or not,
and the signed one-click unsubscribe link every e-mail carries (which needs no sign-in: the
signature is the proof, and a tampered link is refused)."""

from django.contrib import messages
from django.core import signing
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import access, notifications
from .forms import PreferenceForm
from .models import ChangeRequest, Subscription
from .views import _context


@access.viewer_required
def preferences(request):
    status = 200
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            notifications.set_delivery(request.user, delivery=form.cleaned_data["delivery"],
                                       acting_user=request.user)
            messages.success(request, _("Your choice is saved."))
            return redirect("usergroup:preferences")
        status = 400
    else:
        form = PreferenceForm(initial={"delivery": notifications.delivery_of(request.user)})
    following = (Subscription.objects.filter(user=request.user, active=True)
                 .select_related("request").order_by("-created_at"))
    return render(request, "usergroup/preferences.html",
                  _context(request, form=form, following=following), status=status)


@require_POST
@access.viewer_required
def follow(request, pk):
    change_request = get_object_or_404(ChangeRequest, pk=pk)
    active = request.POST.get("action") != "stop"
    notifications.set_following(change_request, request.user, active=active,
                                acting_user=request.user)
    messages.success(request, _("You follow this request.") if active
                     else _("You no longer follow this request."))
    if request.POST.get("next") == "preferences":
        return redirect("usergroup:preferences")
    return redirect("usergroup:detail", pk=pk)


@csrf_exempt  # a mail client's one-click POST (RFC 8058) has no CSRF token: the link is signed
def unsubscribe(request, token):
    try:
        user_id, request_id = notifications.read_unsubscribe_token(token)
    except signing.BadSignature:
        return render(request, "usergroup/unsubscribe.html", {"invalid": True}, status=404)
    change_request = ChangeRequest.objects.filter(pk=request_id).first() if request_id else None
    if request.method != "POST":
        return render(request, "usergroup/unsubscribe.html",
                      {"change_request": change_request, "token": token})
    try:
        _user, change_request = notifications.unsubscribe(token)
    except signing.BadSignature:
        return render(request, "usergroup/unsubscribe.html", {"invalid": True}, status=404)
    return render(request, "usergroup/unsubscribe.html",
                  {"done": True, "change_request": change_request})

