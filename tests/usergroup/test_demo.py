"""The user group's demo (usergroup/demo.py): 40 requests across the areas and statuses, votes
from both demo clients, comments, a merged duplicate, a past meeting with published minutes, a
published release and a planned meeting; a second seed changes nothing and nobody is e-mailed."""

from django.db.models import Count
from django.utils import timezone

from accounts.roles import Role
from outbox.models import OutboundMessage, WebhookDelivery
from usergroup.demo import RELEASE_VERSION, seed_usergroup_demo
from usergroup.models import (
    AgendaItem,
    Area,
    ChangeRequest,
    Comment,
    Meeting,
    Merge,
    Release,
    StatusChange,
    Vote,
)

from ..conftest import make_user


def _snapshot():
    return {model.__name__: sorted(model.objects.values_list("pk", flat=True))
            for model in (ChangeRequest, Vote, Comment, Meeting, AgendaItem, Release,
                          StatusChange, Merge)}


def test_the_demo_is_complete_and_seeds_once(essex, south_wales, essex_member, wales_member):
    provider = make_user("provider@waymark.test", role=Role.PROVIDER_ADMIN)
    now = timezone.now()
    messages_before = OutboundMessage.objects.count()  # the clients' onboarding invitations
    made = seed_usergroup_demo(provider=provider, now=now)
    assert made["requests"] == 40 and made["release"] == RELEASE_VERSION

    requests = ChangeRequest.objects.all()
    assert requests.count() == 40
    assert set(requests.values_list("status", flat=True)) == set(ChangeRequest.Status.values)
    assert set(requests.values_list("area__name", flat=True)) == set(
        Area.objects.values_list("name", flat=True))
    # Votes from the staff of both demo clients, one per member per request.
    assert set(Vote.objects.values_list("organisation__slug", flat=True)) == {
        "essex", "south-wales"}
    assert not Vote.objects.values("request", "member").annotate(n=Count("pk")).filter(
        n__gt=1).exists()
    assert requests.filter(organisation=essex).exists()
    assert requests.filter(organisation=south_wales).exists()
    # Every request's raiser voted for it (unless it was merged away).
    for change_request in requests.exclude(status="duplicate"):
        assert Vote.objects.filter(request=change_request,
                                   member=change_request.raised_by).exists()
    # Every status but open was reached with a public response.
    for change_request in requests.exclude(status="open"):
        last = change_request.status_changes.order_by("-pk").first()
        assert last.to_status == change_request.status and last.response

    (duplicate,) = requests.filter(status="duplicate")
    merge = Merge.objects.get(source=duplicate)
    assert duplicate.merged_into == merge.target
    assert not Vote.objects.filter(request=duplicate).exclude(
        member_id__in=Vote.objects.filter(request=merge.target).values("member_id")).exists()

    assert Comment.objects.filter(official=True).exists()
    assert Comment.objects.filter(parent__isnull=False).exists()

    release = Release.objects.get(version=RELEASE_VERSION)
    assert release.is_published
    assert set(release.requests.values_list("status", flat=True)) == {"released"}
    assert release.requests.count() == requests.filter(status="released").count() == 5

    past = Meeting.objects.get(ends_at__lt=now)
    assert past.is_published and past.minutes and past.minutes_published
    assert set(past.attended_organisations.values_list("slug", flat=True)) == {
        "essex", "south-wales"}
    assert past.agenda_items.exclude(decision="").count() == past.agenda_items.count() == 5
    planned = Meeting.objects.get(starts_at__gt=now)
    assert planned.is_published and not planned.minutes
    assert planned.agenda_items.filter(change_request__isnull=False).count() == 4
    assert planned.agenda_items.filter(change_request__isnull=True).count() == 2
    # Raised over the past months, not all at the moment of seeding.
    assert requests.order_by("created_at").first().created_at < now - timezone.timedelta(
        days=200)
    # A seed tells nobody.
    assert OutboundMessage.objects.count() == messages_before
    assert not WebhookDelivery.objects.exists()

    before = _snapshot()
    assert seed_usergroup_demo(provider=provider) is None
    assert _snapshot() == before
