"""The user group on the platform API (/api/platform/v1/user-group/): change requests with their
tallies and status history, votes, comments, releases, and the webhook endpoints provider staff
keep for the user group's events.

Members (client staff with the user-group role, client administrators of a live client) and
provider staff authenticate with their token, as on the rest of the platform API. Serializers
check types and sizes only; every rule (who may, what is allowed) is the services', so the API
refuses exactly what the pages refuse, with the same messages.

    GET  /api/platform/v1/user-group/requests/?sort=organisations&status=open
    POST /api/platform/v1/user-group/requests/            {"title", "description", "area"}
    POST /api/platform/v1/user-group/requests/12/vote/    (DELETE takes the vote back)
    POST /api/platform/v1/user-group/requests/12/status/  {"status", "response"}   provider
    POST /api/platform/v1/user-group/releases/3/publish/                           provider
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from accounts import second_factor
from audit.services import client_ip
from outbox.models import WebhookEndpoint
from tenants.models import ClientOrganisation

from . import access, queries, releases, services, webhooks
from .markdown import render as render_markdown
from .models import TITLE_MAX, Area, ChangeRequest, Comment, Release, StatusChange

DESCRIPTION_MAX = 20_000


class UserGroupAccess(BasePermission):
    """Members and provider staff (after the second factor where their account needs it);
    views marked `moderators_only` are provider staff's alone. What a member may do beyond
    reading is the services' to say (a Django PermissionDenied there answers 403)."""

    def has_permission(self, request, view):
        if request.method not in view.allowed_methods:
            raise MethodNotAllowed(request.method)
        user = request.user
        if not getattr(user, "is_authenticated", False) or not hasattr(user, "memberships"):
            return False
        if second_factor.is_missing(user, credential=request.auth):
            self.message = "This account needs two-factor authentication."
            return False
        if getattr(view, "moderators_only", False):
            return access.is_moderator(user)
        return access.can_view(user)


def refused(error: DjangoValidationError) -> ValidationError:
    """A service's ValidationError in the API's error shape (400, by field)."""
    if hasattr(error, "error_dict"):
        return ValidationError({field: [str(m) for m in messages]
                                for field, messages in error.message_dict.items()})
    return ValidationError({"__all__": [str(m) for m in error.messages]})


class StrictCharField(serializers.CharField):
    """Text only: DRF's CharField would take a JSON number and turn it into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- change requests -------------------------------------------------------------------------

# Statuses as plain text described in words: as enums they would clash in the document with
# the other apps' fields named `status`.
REQUEST_STATUSES = "One of: " + ", ".join(ChangeRequest.Status.values)


class StatusChangeSerializer(serializers.ModelSerializer):
    from_status = serializers.CharField(read_only=True, help_text=REQUEST_STATUSES)
    to_status = serializers.CharField(read_only=True, help_text=REQUEST_STATUSES)

    class Meta:
        model = StatusChange
        fields = ["from_status", "to_status", "response", "at"]


class ChangeRequestSerializer(serializers.ModelSerializer):
    area = serializers.CharField(source="area.name", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    votes = serializers.IntegerField(source="vote_count", read_only=True)
    organisations = serializers.IntegerField(source="organisation_count", read_only=True)
    status = serializers.CharField(read_only=True, help_text=REQUEST_STATUSES)

    class Meta:
        model = ChangeRequest
        fields = ["id", "title", "area", "status", "organisation", "votes", "organisations",
                  "merged_into", "created_at", "updated_at"]


class ChangeRequestDetailSerializer(ChangeRequestSerializer):
    description_html = serializers.SerializerMethodField(
        help_text="The description's Markdown rendered and sanitised")
    tally = serializers.SerializerMethodField(help_text='e.g. "14 votes from 9 organisations"')
    status_changes = StatusChangeSerializer(many=True, read_only=True)

    class Meta(ChangeRequestSerializer.Meta):
        fields = [*ChangeRequestSerializer.Meta.fields, "description", "description_html",
                  "tally", "status_changes"]

    def get_description_html(self, change_request) -> str:
        return render_markdown(change_request.description)

    def get_tally(self, change_request) -> str:
        return str(services.Tally(change_request.vote_count, change_request.organisation_count))


class NewChangeRequestSerializer(serializers.Serializer):
    title = StrictCharField(max_length=TITLE_MAX, allow_blank=True)
    description = StrictCharField(max_length=DESCRIPTION_MAX, required=False, default="",
                                  allow_blank=True, trim_whitespace=False,
                                  help_text="Markdown; rendered sanitised")
    area = StrictCharField(max_length=80, help_text="The area's name, e.g. Booking site")


class RequestPages(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


def _request_or_404(pk) -> ChangeRequest:
    found = (ChangeRequest.objects.select_related("area", "organisation")
             .prefetch_related("status_changes")
             .annotate(vote_count=F("votes_total"),
                       organisation_count=F("organisations_total"))
             .filter(pk=pk).first())
    if found is None:
        raise Http404
    return found


class ChangeRequestList(ListAPIView):
    permission_classes = [UserGroupAccess]
    serializer_class = ChangeRequestSerializer
    pagination_class = RequestPages

    def get_queryset(self):
        params = self.request.query_params
        wanted = params.get("status", "")
        if wanted and wanted not in ChangeRequest.Status.values:
            raise ValidationError({"status": [
                "Choose one of: " + ", ".join(ChangeRequest.Status.values) + "."]})
        sort = params.get("sort") or "votes"
        if sort not in queries.SORTS:
            raise ValidationError({"sort": ["Choose one of: " + ", ".join(queries.SORTS) + "."]})
        area = organisation = None
        if params.get("area"):
            area = Area.objects.filter(name__iexact=params["area"][:80]).first()
            if area is None:
                raise ValidationError({"area": ["There is no such area."]})
        if params.get("organisation"):
            organisation = ClientOrganisation.objects.filter(
                slug=params["organisation"][:40], is_template=False).first()
            if organisation is None:
                raise ValidationError({"organisation": ["There is no such organisation."]})
        return queries.request_list(status=wanted, area=area, organisation=organisation,
                                    sort=sort, search=params.get("q", "")[:200])

    @extend_schema(parameters=[
        OpenApiParameter("status", str, description=REQUEST_STATUSES),
        OpenApiParameter("area", str, description="An area's name"),
        OpenApiParameter("organisation", str, description="The raising client's slug"),
        OpenApiParameter("sort", str, description="One of: " + ", ".join(queries.SORTS)),
        OpenApiParameter("q", str, description="Full-text search (words, \"a phrase\", -not)")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=NewChangeRequestSerializer,
                   responses={201: ChangeRequestDetailSerializer})
    def post(self, request):
        incoming = NewChangeRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        area = Area.objects.filter(name__iexact=data["area"].strip()).first()
        if area is None:
            raise ValidationError({"area": ["There is no such area."]})
        try:
            raised = services.raise_request(title=data["title"], description=data["description"],
                                            area=area, acting_user=request.user)
        except DjangoValidationError as error:
            raise refused(error) from None
        return Response(ChangeRequestDetailSerializer(_request_or_404(raised.pk)).data,
                        status=status.HTTP_201_CREATED)


class ChangeRequestDetail(GenericAPIView):
    permission_classes = [UserGroupAccess]
    serializer_class = ChangeRequestDetailSerializer

    def get(self, request, pk: int):
        return Response(self.get_serializer(_request_or_404(pk)).data)


class VoteView(GenericAPIView):
    """POST: the member's vote (201, or 200 if they had voted already). DELETE: taken back."""

    permission_classes = [UserGroupAccess]
    serializer_class = ChangeRequestSerializer

    @extend_schema(request=None, responses={200: ChangeRequestSerializer,
                                            201: ChangeRequestSerializer})
    def post(self, request, pk: int):
        change_request = _request_or_404(pk)
        try:
            added = services.vote(change_request, acting_user=request.user)
        except DjangoValidationError as error:
            raise refused(error) from None
        return Response(self.get_serializer(_request_or_404(pk)).data,
                        status=status.HTTP_201_CREATED if added else status.HTTP_200_OK)

    @extend_schema(responses={200: ChangeRequestSerializer})
    def delete(self, request, pk: int):
        change_request = _request_or_404(pk)
        services.unvote(change_request, acting_user=request.user)
        return Response(self.get_serializer(_request_or_404(pk)).data)


class StatusChangeInput(serializers.Serializer):
    status = StrictCharField(max_length=20, help_text="One of: " + ", ".join(
        ChangeRequest.Status.values) + " (duplicate: merge on the page)")
    response = StrictCharField(max_length=10_000, allow_blank=True,
                               help_text="The public response shown on the request")


class StatusChangeView(GenericAPIView):
    """Provider staff only (a member gets 403 from the service)."""

    permission_classes = [UserGroupAccess]
    serializer_class = StatusChangeSerializer

    @extend_schema(request=StatusChangeInput, responses={201: StatusChangeSerializer})
    def post(self, request, pk: int):
        change_request = _request_or_404(pk)
        incoming = StatusChangeInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            change = services.change_status(
                change_request, to_status=incoming.validated_data["status"],
                response=incoming.validated_data["response"], acting_user=request.user)
        except DjangoValidationError as error:
            raise refused(error) from None
        return Response(StatusChangeSerializer(change).data, status=status.HTTP_201_CREATED)


# --- comments --------------------------------------------------------------------------------

class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField(help_text="The author's e-mail address")
    body = serializers.SerializerMethodField(help_text="Empty when hidden by a moderator")
    body_html = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "parent", "author", "body", "body_html", "official", "hidden",
                  "hidden_reason", "created_at", "edited_at"]

    def get_author(self, comment) -> str:
        return comment.author.email

    def get_body(self, comment) -> str:
        return "" if comment.hidden else comment.body

    def get_body_html(self, comment) -> str:
        return "" if comment.hidden else render_markdown(comment.body)


class NewCommentSerializer(serializers.Serializer):
    body = StrictCharField(max_length=services.COMMENT_MAX, allow_blank=True)
    parent = serializers.IntegerField(required=False, allow_null=True, default=None,
                                      min_value=1, max_value=2**31 - 1,
                                      help_text="The comment this one replies to")
    official = serializers.BooleanField(required=False, default=False,
                                        help_text="The provider's official response "
                                                  "(provider staff only)")


class CommentList(ListAPIView):
    permission_classes = [UserGroupAccess]
    serializer_class = CommentSerializer
    pagination_class = RequestPages

    def get_queryset(self):
        return _request_or_404(self.kwargs["pk"]).comments.select_related("author")

    @extend_schema(request=NewCommentSerializer, responses={201: CommentSerializer})
    def post(self, request, pk: int):
        change_request = _request_or_404(pk)
        incoming = NewCommentSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        parent = None
        if data["parent"] is not None:
            parent = Comment.objects.filter(pk=data["parent"]).first()
            if parent is None:
                raise ValidationError({"parent": ["There is no such comment."]})
        try:
            comment = services.add_comment(change_request, body=data["body"],
                                           official=data["official"], parent=parent,
                                           acting_user=request.user)
        except DjangoValidationError as error:
            raise refused(error) from None
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


# --- releases --------------------------------------------------------------------------------

class ReleaseSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="draft or published")
    notes_html = serializers.SerializerMethodField()
    change_requests = serializers.PrimaryKeyRelatedField(source="requests", many=True,
                                                         read_only=True)

    class Meta:
        model = Release
        fields = ["id", "version", "released_on", "status", "notes", "notes_html",
                  "change_requests", "published_at"]

    def get_notes_html(self, release) -> str:
        return render_markdown(release.notes)


def _releases(user):
    found = Release.objects.prefetch_related("requests")
    if not access.is_moderator(user):
        found = found.filter(status=Release.Status.PUBLISHED)
    return found


class ReleaseList(ListAPIView):
    """Published releases (drafts too, for provider staff)."""

    permission_classes = [UserGroupAccess]
    serializer_class = ReleaseSerializer
    pagination_class = RequestPages

    def get_queryset(self):
        return _releases(self.request.user)


def _release_or_404(user, pk) -> Release:
    release = _releases(user).filter(pk=pk).first()
    if release is None:
        raise Http404
    return release


class ReleaseDetail(GenericAPIView):
    permission_classes = [UserGroupAccess]
    serializer_class = ReleaseSerializer

    def get(self, request, pk: int):
        return Response(self.get_serializer(_release_or_404(request.user, pk)).data)


class ReleasePublish(GenericAPIView):
    """Publish a draft: its requests become released and every follower is told once. Publishing
    a published release changes nothing and answers 200 with `messages_queued` null."""

    permission_classes = [UserGroupAccess]
    moderators_only = True
    serializer_class = ReleaseSerializer

    @extend_schema(request=None, responses={200: inline_serializer("PublishedRelease", {
        "release": ReleaseSerializer(),
        "messages_queued": serializers.IntegerField(allow_null=True)})})
    def post(self, request, pk: int):
        release = _release_or_404(request.user, pk)
        try:
            queued = releases.publish_release(release, acting_user=request.user)
        except DjangoValidationError as error:
            raise refused(error) from None
        return Response({"release": ReleaseSerializer(_release_or_404(request.user, pk)).data,
                         "messages_queued": queued})


# --- webhook endpoints -----------------------------------------------------------------------

class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "is_active", "created_at"]


class EventNames(serializers.ListField):
    """Event type names; a bad one is refused in one message (the API's error shape has a list
    of messages per field, not one per list item)."""

    child = serializers.ChoiceField(choices=list(webhooks.EVENT_TYPES))

    def run_child_validation(self, data):
        try:
            return super().run_child_validation(data)
        except ValidationError:
            raise ValidationError(
                ["Choose events from: " + ", ".join(webhooks.EVENT_TYPES) + "."]) from None


class NewWebhookEndpointSerializer(serializers.Serializer):
    url = StrictCharField(max_length=500)
    description = StrictCharField(max_length=200, required=False, default="", allow_blank=True)
    events = EventNames(max_length=len(webhooks.EVENT_TYPES))


class WebhookEndpointList(ListAPIView):
    """Provider staff: where the user group's events are sent, signed (Waymark-Signature)."""

    permission_classes = [UserGroupAccess]
    moderators_only = True
    serializer_class = WebhookEndpointSerializer

    pagination_class = None

    def get_queryset(self):
        return webhooks.endpoints()

    @extend_schema(request=NewWebhookEndpointSerializer, responses={201: inline_serializer(
        "CreatedWebhookEndpoint", {"endpoint": WebhookEndpointSerializer(),
                               "secret": serializers.CharField(help_text="Shown this once")})})
    def post(self, request):
        incoming = NewWebhookEndpointSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            endpoint, secret = webhooks.create_webhook_endpoint(
                data["url"], data["events"], description=data["description"],
                acting_user=request.user, ip_address=client_ip(request))
        except DjangoValidationError as error:
            raise refused(error) from None
        return Response({"endpoint": WebhookEndpointSerializer(endpoint).data, "secret": secret},
                        status=status.HTTP_201_CREATED)


class WebhookEndpointDetail(GenericAPIView):
    permission_classes = [UserGroupAccess]
    moderators_only = True
    serializer_class = WebhookEndpointSerializer

    def get(self, request, pk: int):
        endpoint = webhooks.endpoints().filter(pk=pk).first()
        if endpoint is None:
            raise Http404
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        if not webhooks.endpoints().filter(pk=pk).exists():
            raise Http404
        webhooks.delete_webhook_endpoint(pk, acting_user=request.user,
                                         ip_address=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
