"""/user-group/webhooks/: provider staff keep the endpoints told of the user group's events (a
request raised, a status changed, a release published); the secret is shown once. The rules are
usergroup.webhooks'."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.services import client_ip
from outbox.webhooks import SIGNATURE_HEADER

from . import access, webhooks
from .views import _add_errors, _context

DELIVERIES_SHOWN = 50


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("Web address"), max_length=500,
                          help_text=gettext_lazy("Starting https://, for example "
                                                 "https://tracker.example.org/waymark"),
                          error_messages={"required": gettext_lazy("Enter the web address")})
    description = forms.CharField(label=gettext_lazy("Description (optional)"), max_length=200,
                                  required=False)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events to send"), widget=forms.CheckboxSelectMultiple,
        choices=list(webhooks.EVENT_TYPES.items()),
        error_messages={"required": gettext_lazy("Choose at least one event")})


@access.moderator_required
def endpoint_list(request):
    form = WebhookEndpointForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = webhooks.create_webhook_endpoint(
                form.cleaned_data["url"], form.cleaned_data["events"],
                description=form.cleaned_data["description"], acting_user=request.user,
                ip_address=client_ip(request))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            # The secret is on this response only: it is never shown again.
            return _detail(request, endpoint, secret=secret)
    return render(request, "usergroup/webhooks.html", _context(
        request, form=form, endpoints=webhooks.endpoints()))


def _detail(request, endpoint, *, secret=None):
    return render(request, "usergroup/webhook.html", _context(
        request, endpoint=endpoint, secret=secret, signature_header=SIGNATURE_HEADER,
        events=[webhooks.EVENT_TYPES.get(name, name) for name in endpoint.events],
        deliveries=endpoint.deliveries.all()[:DELIVERIES_SHOWN]))


@access.moderator_required
def endpoint_detail(request, pk: int):
    endpoint = webhooks.endpoints().filter(pk=pk).first()
    if endpoint is None:
        raise Http404
    return _detail(request, endpoint)


@require_POST
@access.moderator_required
def endpoint_test(request, pk: int):
    try:
        webhooks.send_test_event(pk, acting_user=request.user, ip_address=client_ip(request))
    except ValidationError:
        raise Http404 from None
    messages.success(request, _("Test event sent. Its delivery is in the log below."))
    return redirect("usergroup:webhook", pk=pk)


@require_POST
@access.moderator_required
def endpoint_delete(request, pk: int):
    try:
        webhooks.delete_webhook_endpoint(pk, acting_user=request.user,
                                         ip_address=client_ip(request))
    except ValidationError:
        raise Http404 from None
    messages.success(request, _("Webhook endpoint removed."))
    return redirect("usergroup:webhooks")
