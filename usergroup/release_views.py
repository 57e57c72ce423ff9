"""Release pages: the public changelog for everyone in the user group; drafting, editing and
publishing for provider staff only (usergroup.releases holds the rules)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import access, releases
from .forms import ReleaseForm
from .markdown import render as render_markdown
from .models import ChangeRequest, Release
from .views import _add_errors, _context


def _visible(request):
    found = Release.objects.all()
    if not access.is_moderator(request.user):
        found = found.filter(status=Release.Status.PUBLISHED)
    return found


@access.viewer_required
def release_list(request):
    shown = _visible(request).prefetch_related("requests")
    return render(request, "usergroup/releases.html", _context(
        request, releases=[(release, render_markdown(release.notes)) for release in shown]))


@access.viewer_required
def release_detail(request, pk):
    release = _visible(request).filter(pk=pk).first()
    if release is None:
        raise Http404
    return render(request, "usergroup/release.html", _context(
        request, release=release, notes_html=render_markdown(release.notes),
        delivered=release.requests.select_related("area").order_by("pk")))


def _form_page(request, release=None):
    if release is not None and release.is_published:
        messages.error(request, _("This release is published and can no longer be changed."))
        return redirect("usergroup:release", pk=release.pk)
    if request.method != "POST":
        initial = ReleaseForm.initial_for(release) if release else {
            "request_numbers": ", ".join(str(pk) for pk in ChangeRequest.objects.filter(
                status=ChangeRequest.Status.IN_PROGRESS).order_by("pk").values_list("pk",
                                                                                    flat=True))}
        form = ReleaseForm(initial=initial)
        return render(request, "usergroup/release_form.html",
                      _context(request, form=form, release=release))
    form = ReleaseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if release is None:
                release = releases.create_release(
                    version=data["version"], released_on=data["released_on"],
                    notes=data["notes"], request_numbers=data["request_numbers"],
                    acting_user=request.user)
            else:
                releases.update_release(
                    release, version=data["version"], released_on=data["released_on"],
                    notes=data["notes"], request_numbers=data["request_numbers"],
                    acting_user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The release is saved as a draft."))
            return redirect("usergroup:release", pk=release.pk)
    return render(request, "usergroup/release_form.html",
                  _context(request, form=form, release=release), status=400)


@access.moderator_required
def release_new(request):
    return _form_page(request)


@access.moderator_required
def release_edit(request, pk):
    return _form_page(request, get_object_or_404(Release, pk=pk))


@require_POST
@access.moderator_required
def release_publish(request, pk):
    release = get_object_or_404(Release, pk=pk)
    try:
        queued = releases.publish_release(release, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if queued is None:
            messages.info(request, _("This release was already published: nobody is told "
                                     "again."))
        else:
            messages.success(request, _("Published. Its requests are released and everyone "
                                        "who asked for them is told."))
    return redirect("usergroup:release", pk=pk)
