"""User-group pages on the control plane: thin views over services and queries; every view
passes one of access's gates (sign-in, second factor, member or provider staff: else 403)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenants.models import ClientOrganisation

from . import access, queries, services
from .forms import CommentForm, FilterForm, HideForm, MergeForm, RequestForm, StatusForm
from .markdown import render as render_markdown
from .models import ChangeRequest, Comment, Meeting, Merge, Vote


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _context(request, **extra):
    return {"is_member": access.is_member(request.user),
            "is_moderator": access.is_moderator(request.user), **extra}


@access.viewer_required
def request_list(request):
    organisations = ClientOrganisation.objects.filter(change_requests__isnull=False).distinct() \
        .order_by("name")
    form = FilterForm(request.GET or None, organisations=organisations)
    data = form.cleaned_data if form.is_valid() else {}
    requests = queries.request_list(status=data.get("status", ""), area=data.get("area"),
                                    organisation=data.get("organisation"),
                                    sort=form.sort_value() if request.GET else "votes")
    page = Paginator(requests, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "usergroup/list.html", _context(
        request, form=form, page=page, query=query.urlencode()))


@access.member_required
def raise_request(request):
    """No script needed: "Check for similar requests" shows the requests like the title
    entered, keeping what was typed; "Raise request" saves it."""
    similar, checked, status = [], False, 200
    if request.method != "POST":
        form = RequestForm()
    elif "check" in request.POST:
        form = RequestForm(initial=request.POST.dict())
        similar, checked = list(queries.similar(request.POST.get("title", ""))), True
    else:
        form = RequestForm(request.POST)
        if form.is_valid():
            try:
                change_request = services.raise_request(
                    title=form.cleaned_data["title"], area=form.cleaned_data["area"],
                    description=form.cleaned_data["description"], acting_user=request.user)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Your request is raised, with your vote."))
                return redirect("usergroup:detail", pk=change_request.pk)
        status = 400
    return render(request, "usergroup/new.html", _context(
        request, form=form, similar=similar, checked=checked), status=status)


def _detail_context(request, change_request, **forms):
    context = _context(request)
    comments = change_request.comments.select_related("author")
    if not context["is_moderator"]:
        comments = comments.filter(hidden=False)
    merge = (Merge.objects.filter(source=change_request, undone_at__isnull=True)
             .order_by("-at").first())
    agenda_items = (change_request.agenda_items.select_related("meeting")
                    .order_by("meeting__starts_at"))
    if not context["is_moderator"]:
        agenda_items = agenda_items.filter(meeting__status=Meeting.Status.PUBLISHED)
    return {
        **context, "change_request": change_request,
        "description_html": render_markdown(change_request.description),
        "tally": services.tally(change_request),
        "has_voted": Vote.objects.filter(request=change_request, member=request.user).exists(),
        "comments": [(c, render_markdown(c.body)) for c in comments],
        "history": change_request.status_changes.select_related("by"),
        "merged_from": change_request.merged_from.all(), "merge": merge,
        "agenda_items": agenda_items, "now": timezone.now(),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "status_form": forms.get("status_form") or StatusForm(),
        "merge_form": forms.get("merge_form") or MergeForm(),
    }


def _get_request(pk):
    return get_object_or_404(ChangeRequest.objects.select_related(
        "area", "organisation", "raised_by", "merged_into"), pk=pk)


@access.viewer_required
def detail(request, pk):
    change_request = _get_request(pk)
    return render(request, "usergroup/detail.html", _detail_context(request, change_request))


@require_POST
@access.member_required
def vote(request, pk):
    change_request = _get_request(pk)
    try:
        if request.POST.get("action") == "remove":
            services.unvote(change_request, acting_user=request.user)
            messages.success(request, _("Your vote is removed."))
        else:
            services.vote(change_request, acting_user=request.user)
            messages.success(request, _("Your vote is counted."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("usergroup:detail", pk=pk)


@require_POST
@access.viewer_required
def comment(request, pk):
    change_request = _get_request(pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(change_request, body=form.cleaned_data["body"],
                                 official=form.cleaned_data["official"], acting_user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Your comment is posted."))
            return redirect("usergroup:detail", pk=pk)
    return render(request, "usergroup/detail.html",
                  _detail_context(request, change_request, comment_form=form), status=400)


@require_POST
@access.moderator_required
def change_status(request, pk):
    change_request = _get_request(pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.change_status(change_request, to_status=form.cleaned_data["to_status"],
                                   response=form.cleaned_data["response"],
                                   acting_user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Status changed. Everyone following it is told."))
            return redirect("usergroup:detail", pk=pk)
    return render(request, "usergroup/detail.html",
                  _detail_context(request, change_request, status_form=form), status=400)


@require_POST
@access.moderator_required
def merge(request, pk):
    change_request = _get_request(pk)
    form = MergeForm(request.POST)
    if form.is_valid():
        target = ChangeRequest.objects.filter(pk=form.cleaned_data["target"]).first()
        if target is None:
            form.add_error("target", _("There is no request with that number"))
        else:
            try:
                services.merge_requests(change_request, target,
                                        response=form.cleaned_data["response"],
                                        acting_user=request.user)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Merged. Its votes now count on the other request."))
                return redirect("usergroup:detail", pk=pk)
    return render(request, "usergroup/detail.html",
                  _detail_context(request, change_request, merge_form=form), status=400)


@require_POST
@access.moderator_required
def undo_merge(request, pk):
    merge_record = get_object_or_404(Merge, pk=pk)
    try:
        services.undo_merge(merge_record, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The merge is undone."))
    return redirect("usergroup:detail", pk=merge_record.source_id)


@require_POST
@access.moderator_required
def hide_comment(request, pk):
    comment_ = get_object_or_404(Comment, pk=pk)
    form = HideForm(request.POST)
    if form.is_valid():
        services.hide_comment(comment_, reason=form.cleaned_data["reason"],
                              acting_user=request.user)
        messages.success(request, _("The comment is hidden."))
    else:
        messages.error(request, _("Enter why the comment is hidden"))
    return redirect("usergroup:detail", pk=comment_.request_id)


@access.viewer_required
def roadmap(request):
    columns = []
    for status in (ChangeRequest.Status.PLANNED, ChangeRequest.Status.IN_PROGRESS,
                   ChangeRequest.Status.RELEASED):
        requests = (ChangeRequest.objects.filter(status=status).select_related("area")
                    .annotate(vote_count=Count("votes", distinct=True),
                              organisation_count=Count("votes__organisation", distinct=True))
                    .order_by("-vote_count", "-updated_at")[:50])
        columns.append((status.label, requests))
    return render(request, "usergroup/roadmap.html", _context(request, columns=columns))
