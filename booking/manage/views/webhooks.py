"""/manage/configure/webhooks/: the client's outgoing webhook endpoints. Those who read the
configuration read the endpoints and their delivery logs; administrators (the
`webhooks.manage` action) add one (its secret shown once), send a test event, remove one."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking.services.webhooks import (
    EVENT_TYPES,
    create_webhook_endpoint,
    delete_webhook_endpoint,
    send_test_event,
)
from outbox.models import WebhookEndpoint
from outbox.webhooks import SIGNATURE_HEADER

from ..access import add_service_errors, ip, page, posted, render_page

VIEW, CHANGE = "configuration.view", "webhooks.manage"
DELIVERIES_SHOWN = 50


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("Web address"), max_length=500,
                          help_text=gettext_lazy("Starting https://, for example "
                                                 "https://backoffice.example.gov.uk/waymark"),
                          error_messages={"required": gettext_lazy("Enter the web address")})
    description = forms.CharField(label=gettext_lazy("Description (optional)"), max_length=200,
                                  required=False)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events to send"), widget=forms.CheckboxSelectMultiple,
        choices=list(EVENT_TYPES.items()),
        error_messages={"required": gettext_lazy("Choose at least one event")})


@page(VIEW, CHANGE)
def endpoint_list(request):
    form = WebhookEndpointForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = create_webhook_endpoint(
                form.cleaned_data["url"], form.cleaned_data["events"],
                description=form.cleaned_data["description"], actor=request.user,
                ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error, default_field="url")
        else:
            # The secret is on this response only: it is never shown again.
            return _detail(request, endpoint, secret=secret)
    return render_page(request, "manage/webhooks/list.html", {
        "form": form, "endpoints": WebhookEndpoint.objects.all()})


def _endpoint(endpoint_id) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise Http404
    return endpoint


def _detail(request, endpoint, *, secret=None):
    return render_page(request, "manage/webhooks/detail.html", {
        "endpoint": endpoint, "secret": secret, "signature_header": SIGNATURE_HEADER,
        "events": [EVENT_TYPES.get(name, name) for name in endpoint.events],
        "deliveries": endpoint.deliveries.all()[:DELIVERIES_SHOWN]})


@page(VIEW, CHANGE)
def endpoint_detail(request, endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "test":
        send_test_event(endpoint.pk, actor=request.user, ip_address=ip(request))
        messages.success(request, _("Test event sent. Its delivery is in the log below."))
        return redirect("manage:webhook", endpoint_id=endpoint.pk)
    if action == "delete":
        delete_webhook_endpoint(endpoint.pk, actor=request.user, ip_address=ip(request))
        messages.success(request, _("Webhook endpoint removed."))
        return redirect("manage:webhooks")
    return _detail(request, endpoint)
