"""Correspondence: the client's own wording for each message in English and Welsh, with a
preview filled in with example details."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from booking.models import CorrespondenceTemplate, Language
from booking.services.correspondence import (
    PLACEHOLDERS,
    fill_placeholders,
    reset_correspondence_template,
    sample_values,
    save_correspondence_template,
    standard_wording,
)

from ..access import add_service_errors, ip, page, posted, render_page
from ..forms import CorrespondenceForm

VIEW, CONFIGURE = "configuration.view", "client.configure"


def _languages(request):
    if request.tenant.is_bilingual:
        return list(Language.choices)
    return [(Language.ENGLISH.value, Language.ENGLISH.label)]


@page(VIEW)
def template_list(request):
    saved = {(t.kind, t.language): t for t in CorrespondenceTemplate.objects.all()}
    rows = [{"kind": kind, "label": label,
             "languages": [{"code": code, "label": language, "template": saved.get((kind, code))}
                           for code, language in _languages(request)]}
            for kind, label in CorrespondenceTemplate.Kind.choices]
    return render_page(request, "manage/correspondence/list.html", {"rows": rows})


@page(VIEW, CONFIGURE)
def template_edit(request, kind, language):
    if kind not in CorrespondenceTemplate.Kind.values or language not in Language.values:
        raise Http404
    template = CorrespondenceTemplate.objects.filter(kind=kind, language=language).first()
    subject, body = ((template.subject, template.body) if template
                     else standard_wording(kind, language))
    initial = {"subject": subject, "body": body}
    form = CorrespondenceForm(posted(request), initial=initial)
    action = request.POST.get("action", "save")
    preview = None
    if request.method == "POST" and action == "reset":
        if reset_correspondence_template(
                kind, language, actor=request.user, organisation=request.tenant,
                ip_address=ip(request)):
            messages.success(request, _("The standard wording will be used again."))
        return redirect("manage:correspondence")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if action == "preview":
            preview = (data["subject"], data["body"])
        else:
            try:
                saved = save_correspondence_template(
                    kind, language, subject=data["subject"], body=data["body"],
                    actor=request.user, organisation=request.tenant, ip_address=ip(request))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Message saved.") if saved is not None
                                 else _("Nothing was changed: the standard wording is used."))
                return redirect("manage:correspondence")
    elif request.method != "POST":
        preview = (subject, body)
    if preview is not None:
        values = sample_values(request.tenant, language)
        preview = tuple(fill_placeholders(text, values) for text in preview)
    return render_page(request, "manage/correspondence/edit.html", {
        "form": form, "template": template, "kind_label": CorrespondenceTemplate.Kind(kind).label,
        "language_label": Language(language).label, "language": language, "preview": preview,
        "placeholders": PLACEHOLDERS.items()})
