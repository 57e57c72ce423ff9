"""User-group pages on the control plane: thin views over services and queries; every view
passes one of access's gates (sign-in, second factor, member or provider staff: else 403)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenants.models import ClientOrganisation

from . import access, queries, screenshots, services
from .forms import (
    CommentForm,
    EditCommentForm,
    FilterForm,
    HideForm,
    MergeForm,
    ReplyForm,
    RequestForm,
    ScreenshotForm,
    StatusForm,
    VoteOnBehalfForm,
)
from .markdown import render as render_markdown
from .models import ChangeRequest, Comment, Meeting, Merge, Release, Screenshot, Subscription, Vote


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
    organisations = ClientOrganisation.objects.filter(
        pk__in=ChangeRequest.objects.values("organisation_id")).order_by("name")
    form = FilterForm(request.GET or None, organisations=organisations)
    data = form.cleaned_data if form.is_valid() else {}
    filters = {"status": data.get("status", ""), "area": data.get("area"),
               "organisation": data.get("organisation"), "search": data.get("q", "")}
    sort = form.sort_value() if request.GET else "votes"
    paginator = Paginator(queries.request_list(**filters, sort=sort), 25)
    if sort != "relevance" or not filters["search"]:
        # Counted without the tallies: the count needs no pass over every vote.
        paginator.count = queries.filtered_requests(**filters).count()
    page = paginator.get_page(request.GET.get("page"))
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
        form = RequestForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                uploads = form.cleaned_data["screenshots"]
                if any(upload.size > screenshots.MAX_BYTES for upload in uploads):
                    # Refused before reading it into memory.
                    raise ValidationError({"screenshots": _("Each image must be 5 MB or "
                                                            "smaller")})
                change_request = services.raise_request(
                    title=form.cleaned_data["title"], area=form.cleaned_data["area"],
                    description=form.cleaned_data["description"], acting_user=request.user,
                    screenshots=[(upload.read(), "") for upload in uploads])
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Your request is raised, with your vote."))
                return redirect("usergroup:detail", pk=change_request.pk)
        status = 400
    return render(request, "usergroup/new.html", _context(
        request, form=form, similar=similar, checked=checked), status=status)


@access.member_required
def similar_requests(request):
    """The similar requests for a title being typed: the fragment the new-request page's
    script shows while the member types (the button does the same without a script)."""
    title = request.GET.get("title", "")[:RequestForm.base_fields["title"].max_length]
    return render(request, "usergroup/_similar.html",
                  {"similar": list(queries.similar(title))})


def _detail_context(request, change_request, **forms):
    context = _context(request)
    comments = (change_request.comments.select_related("author")
                .prefetch_related("revisions"))
    if not context["is_moderator"]:
        comments = comments.filter(hidden=False)
    comments = list(comments)
    replies = {}
    for comment_ in comments:
        if comment_.parent_id:
            replies.setdefault(comment_.parent_id, []).append(
                (comment_, render_markdown(comment_.body), []))
    threads = [(c, render_markdown(c.body), replies.get(c.pk, []))
               for c in comments if not c.parent_id]
    subscription = Subscription.objects.filter(request=change_request,
                                               user=request.user).first()
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
        "comments": threads,
        "following": bool(subscription and subscription.active),
        "delivered_by": change_request.releases.filter(status=Release.Status.PUBLISHED)
        .order_by("released_on").first(),
        "recorded_votes": (change_request.votes.filter(recorded_by__isnull=False)
                           .select_related("member", "recorded_by", "organisation")
                           if context["is_moderator"] else ()),
        "behalf_form": forms.get("behalf_form") or VoteOnBehalfForm(),
        "screenshots": change_request.screenshots.all(),
        "may_add_screenshot": (context["is_moderator"]
                               or change_request.raised_by_id == request.user.pk),
        "screenshot_form": forms.get("screenshot_form") or ScreenshotForm(),
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
    parent = None
    if request.POST.get("parent"):
        parent = get_object_or_404(Comment, pk=request.POST["parent"], request=change_request)
        form = ReplyForm(request.POST)
    else:
        form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(change_request, body=form.cleaned_data["body"],
                                 official=form.cleaned_data.get("official", False),
                                 parent=parent, acting_user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Your reply is posted.") if parent
                             else _("Your comment is posted."))
            return redirect("usergroup:detail", pk=pk)
    if parent is not None:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("usergroup:detail", pk=pk)
    return render(request, "usergroup/detail.html",
                  _detail_context(request, change_request, comment_form=form), status=400)


@require_POST
@access.viewer_required
def edit_comment(request, pk):
    comment_ = get_object_or_404(Comment.objects.select_related("request"), pk=pk)
    if comment_.author_id != request.user.pk:
        raise PermissionDenied
    form = EditCommentForm(request.POST)
    if form.is_valid():
        try:
            services.edit_comment(comment_, body=form.cleaned_data["body"],
                                  acting_user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Your comment is changed. What it said before is kept."))
            return redirect("usergroup:detail", pk=comment_.request_id)
    messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("usergroup:detail", pk=comment_.request_id)


@require_POST
@access.moderator_required
def vote_on_behalf(request, pk):
    from accounts.models import User

    change_request = _get_request(pk)
    form = VoteOnBehalfForm(request.POST)
    if form.is_valid():
        member = User.objects.filter(email__iexact=form.cleaned_data["member"],
                                     is_active=True).first()
        try:
            if member is None:
                raise ValidationError({"member": _("There is no member with that e-mail "
                                                   "address")})
            cast = services.vote_on_behalf(change_request, member=member,
                                           acting_user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if cast is None:
                messages.info(request, _("That member had already voted for this request."))
            else:
                messages.success(request, _("The vote is recorded and the member is told."))
            return redirect("usergroup:detail", pk=pk)
    return render(request, "usergroup/detail.html",
                  _detail_context(request, change_request, behalf_form=form), status=400)


@access.moderator_required
def ranking(request):
    return render(request, "usergroup/ranking.html",
                  _context(request, requests=queries.impact_ranking()))


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


@require_POST
@access.viewer_required
def add_screenshot(request, pk):
    change_request = _get_request(pk)
    form = ScreenshotForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["image"]
        try:
            if upload.size > screenshots.MAX_BYTES:
                raise ValidationError({"image": _("The image must be 5 MB or smaller")})
            screenshots.add_screenshot(change_request, data=upload.read(),
                                       description=form.cleaned_data["description"],
                                       acting_user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The screenshot is added."))
            return redirect("usergroup:detail", pk=pk)
    return render(request, "usergroup/detail.html",
                  _detail_context(request, change_request, screenshot_form=form), status=400)


@require_POST
@access.viewer_required
def remove_screenshot(request, pk):
    screenshot = get_object_or_404(Screenshot.objects.select_related("request"), pk=pk)
    screenshots.remove_screenshot(screenshot, acting_user=request.user)
    messages.success(request, _("The screenshot is removed."))
    return redirect("usergroup:detail", pk=screenshot.request_id)


@access.viewer_required
def screenshot_file(request, pk):
    """The stored (re-encoded) image, to signed-in members and provider staff only, with a type
    we set and the browser may not second-guess."""
    screenshot = get_object_or_404(Screenshot, pk=pk)
    response = FileResponse(screenshot.image.open("rb"), content_type=screenshot.content_type,
                            as_attachment=False,
                            filename=f"screenshot-{screenshot.pk}.{screenshot.extension}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
