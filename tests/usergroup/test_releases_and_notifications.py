"""Releases, subscriptions, digests, votes on behalf, impact, comments with replies, mentions and
edits, and full-text search: the user group's rules against real PostgreSQL, counting the
outbox's rows."""

from datetime import date, timedelta

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.roles import Role
from billing.models import UsageRecord
from outbox.models import OutboundMessage
from usergroup import notifications, queries, releases, services
from usergroup.models import (
    ChangeRequest,
    Comment,
    DigestEntry,
    NotificationPreference,
    Release,
    StatusChange,
    Subscription,
    Vote,
)

from ..conftest import make_user


def _raise(user, area, title="Let people book two courses at once", description=""):
    return services.raise_request(title=title, description=description, area=area,
                                  acting_user=user)


def _release(provider_admin, requests, version="4.2"):
    return releases.create_release(version=version, released_on=date(2026, 12, 1),
                                   notes="**Faster** booking", acting_user=provider_admin,
                                   request_numbers=[r.pk for r in requests])


def _outbox(kind):
    return OutboundMessage.objects.filter(kind=kind)


# --- releases ------------------------------------------------------------------------------

def test_publishing_tells_each_follower_once_listing_their_requests(
        essex, south_wales, essex_member, wales_member, provider_admin, area):
    requests = [_raise(essex_member, area, f"Request number {n}") for n in range(5)]
    # The Welsh member votes on all five, a third member on one and comments on another.
    for item in requests:
        services.vote(item, acting_user=wales_member)
    third = make_user("third@essex.test", organisation=essex, role=Role.USERGROUP_MEMBER)
    services.vote(requests[0], acting_user=third)
    services.add_comment(requests[1], body="Yes please", acting_user=third)
    unrelated = _raise(make_user("other@essex.test", organisation=essex,
                                 role=Role.USERGROUP_MEMBER), area, "Something else entirely")
    release = _release(provider_admin, requests)

    queued = releases.publish_release(release, acting_user=provider_admin)

    messages = _outbox("usergroup.release")
    # Three people follow some of the five: one message each (the raiser, who voted on all
    # five as the Welsh member did, gets one listing all five).
    assert queued == 3 and messages.count() == 3
    assert sorted(messages.values_list("to", flat=True)) == [
        "member@essex.test", "member@south-wales.test", "third@essex.test"]
    welsh = messages.get(to="member@south-wales.test")
    assert all(f"Request number {n}" in welsh.body_text for n in range(5))
    assert "the changes you asked for are live" in welsh.subject
    assert welsh.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    third_message = messages.get(to="third@essex.test")
    assert "Request number 0" in third_message.body_text
    assert "Request number 1" in third_message.body_text
    assert "Request number 2" not in third_message.body_text
    # Released, each with its public response; the status-change e-mails are not sent besides.
    assert set(ChangeRequest.objects.filter(pk__in=[r.pk for r in requests])
               .values_list("status", flat=True)) == {"released"}
    assert StatusChange.objects.filter(request__in=requests, to_status="released",
                                       response="Released in version 4.2.").count() == 5
    assert not _outbox("usergroup.status_changed").exists()
    unrelated.refresh_from_db()
    assert unrelated.status == "open"

    # Twice: nothing more is queued or changed.
    assert releases.publish_release(release, acting_user=provider_admin) is None
    assert _outbox("usergroup.release").count() == 3
    assert StatusChange.objects.filter(to_status="released").count() == 5
    release.refresh_from_db()
    assert release.is_published and release.published_by == provider_admin


def test_only_provider_staff_draft_or_publish(essex_admin, essex_member, provider_admin, area):
    item = _raise(essex_member, area)
    with pytest.raises(PermissionDenied):
        releases.create_release(version="1", released_on=date(2026, 12, 1),
                                request_numbers=[item.pk], acting_user=essex_admin)
    release = _release(provider_admin, [item])
    for user in (essex_admin, essex_member):
        with pytest.raises(PermissionDenied):
            releases.publish_release(release, acting_user=user)
    assert not _outbox("usergroup.release").exists()
    release.refresh_from_db()
    assert release.status == "draft"


def test_bad_releases_are_refused_and_nothing_is_written(essex_member, provider_admin, area):
    item = _raise(essex_member, area)
    _release(provider_admin, [item], version="5.0")
    with pytest.raises(ValidationError) as error:
        releases.create_release(version="5.0", released_on=None, request_numbers=[999999],
                                acting_user=provider_admin)
    assert set(error.value.message_dict) == {"version", "released_on", "request_numbers"}
    declined = _raise(essex_member, area, "Not this one")
    services.change_status(declined, to_status="declined", response="No.",
                           acting_user=provider_admin)
    with pytest.raises(ValidationError) as error:
        releases.create_release(version="5.1", released_on=date(2026, 12, 1),
                                request_numbers=[declined.pk], acting_user=provider_admin)
    assert "declined or merged" in error.value.message_dict["request_numbers"][0]
    assert Release.objects.count() == 1


# --- subscriptions, preferences, unsubscribe, digest ---------------------------------------

def test_raisers_voters_and_commenters_are_subscribed(essex, essex_member, wales_member,
                                                      area):
    item = _raise(essex_member, area)
    services.vote(item, acting_user=wales_member)
    commenter = make_user("c@essex.test", organisation=essex, role=Role.USERGROUP_MEMBER)
    services.add_comment(item, body="Agreed", acting_user=commenter)
    assert set(Subscription.objects.filter(request=item, active=True)
               .values_list("user__email", flat=True)) == {
        "member@essex.test", "member@south-wales.test", "c@essex.test"}


def test_unsubscribe_link_stops_one_request_and_a_tampered_one_is_refused(
        essex_member, wales_member, provider_admin, area):
    item = _raise(essex_member, area)
    services.vote(item, acting_user=wales_member)
    token = notifications.unsubscribe_token(wales_member, item)
    with pytest.raises(signing.BadSignature):
        notifications.unsubscribe(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(signing.BadSignature):
        notifications.read_unsubscribe_token(signing.dumps({"u": wales_member.pk, "r": None},
                                                           salt="another.purpose"))
    assert Subscription.objects.get(request=item, user=wales_member).active

    notifications.unsubscribe(token)
    assert not Subscription.objects.get(request=item, user=wales_member).active
    services.change_status(item, to_status="planned", response="Next quarter.",
                           acting_user=provider_admin)
    assert list(_outbox("usergroup.status_changed").values_list("to", flat=True)) == [
        "member@essex.test"]
    # Voting again keeps their choice to stop.
    services.unvote(item, acting_user=wales_member)
    services.vote(item, acting_user=wales_member)
    assert not Subscription.objects.get(request=item, user=wales_member).active


def test_unsubscribe_from_everything_and_preferences(essex_member, wales_member,
                                                     provider_admin, area):
    item = _raise(essex_member, area)
    services.vote(item, acting_user=wales_member)
    notifications.unsubscribe(notifications.unsubscribe_token(wales_member))
    assert notifications.delivery_of(wales_member) == "none"
    services.change_status(item, to_status="planned", response="Soon.",
                           acting_user=provider_admin)
    assert list(_outbox("usergroup.status_changed").values_list("to", flat=True)) == [
        "member@essex.test"]
    with pytest.raises(PermissionDenied):
        notifications.set_delivery(wales_member, delivery="digest", acting_user=essex_member)
    with pytest.raises(ValidationError):
        notifications.set_delivery(wales_member, delivery="hourly", acting_user=wales_member)


def test_digest_goes_once_a_day_with_the_days_events(essex_member, wales_member,
                                                     provider_admin, area):
    item = _raise(essex_member, area)
    other = _raise(essex_member, area, "Show venue parking")
    services.vote(item, acting_user=wales_member)
    services.vote(other, acting_user=wales_member)
    notifications.set_delivery(wales_member, delivery="digest", acting_user=wales_member)
    services.change_status(item, to_status="planned", response="Soon.",
                           acting_user=provider_admin)
    services.change_status(other, to_status="under_review", response="Looking.",
                           acting_user=provider_admin)
    # No e-mail now for the digest subscriber, two events waiting.
    assert list(_outbox("usergroup.status_changed").values_list("to", flat=True)) == [
        "member@essex.test", "member@essex.test"]
    assert DigestEntry.objects.filter(user=wales_member, digested_on__isnull=True).count() == 2

    assert notifications.send_digests() == 1
    digest = _outbox("usergroup.digest").get()
    assert digest.to == "member@south-wales.test"
    assert "2 updates today" in digest.subject
    assert "Let people book two courses at once" in digest.body_text
    assert "Show venue parking" in digest.body_text
    # Again the same day, even with a new event since: nothing more today.
    services.change_status(other, to_status="planned", response="Planned.",
                           acting_user=provider_admin)
    assert notifications.send_digests() == 0
    assert _outbox("usergroup.digest").count() == 1
    # The new event waits for tomorrow's digest.
    tomorrow = timezone.now() + timedelta(days=1)
    assert notifications.send_digests(now=tomorrow) == 1
    assert _outbox("usergroup.digest").count() == 2
    assert notifications.send_digests(now=tomorrow) == 0


def test_the_digest_task_is_on_the_beat_schedule():
    from config.beat import CELERY_BEAT_SCHEDULE
    from usergroup.tasks import send_digests_task

    assert CELERY_BEAT_SCHEDULE["usergroup-send-digests"]["task"] == send_digests_task.name


# --- votes on behalf and impact ------------------------------------------------------------

def test_a_vote_on_behalf_names_who_recorded_it_and_tells_the_member(
        essex_member, wales_member, provider_admin, essex_admin, area):
    item = _raise(essex_member, area)
    vote = services.vote_on_behalf(item, member=wales_member, acting_user=provider_admin)
    assert vote.recorded_by == provider_admin and vote.organisation.slug == "south-wales"
    told = _outbox("usergroup.vote_on_behalf").get()
    assert told.to == "member@south-wales.test"
    assert "ops@waymark.test recorded your vote" in told.body_text
    assert services.tally(item).organisations == 2
    # Again: still one vote, nobody told twice.
    assert services.vote_on_behalf(item, member=wales_member, acting_user=provider_admin) is None
    assert _outbox("usergroup.vote_on_behalf").count() == 1
    with pytest.raises(PermissionDenied):
        services.vote_on_behalf(item, member=wales_member, acting_user=essex_admin)
    with pytest.raises(ValidationError):
        services.vote_on_behalf(item, member=provider_admin, acting_user=provider_admin)


def _bookings(client, count, *, prefix, days_ago=10, kind="booking_confirmed"):
    at = timezone.now() - timedelta(days=days_ago)
    UsageRecord.objects.bulk_create([
        UsageRecord(client=client, source_event_id=f"{prefix}{n}", kind=kind,
                    channel="online" if kind == "booking_confirmed" else "", occurred_at=at)
        for n in range(count)])


def test_impact_ranking_sums_each_voting_organisations_volume_once(
        essex, south_wales, essex_member, wales_member, area):
    # Hand-counted: Essex 30 confirmed − 5 credited = 25 (and 7 more than a year ago, not
    # counted); South Wales 12.
    _bookings(essex, 30, prefix="e")
    _bookings(essex, 5, prefix="ec", kind="booking_cancelled_credit")
    _bookings(essex, 7, prefix="old", days_ago=400)
    _bookings(south_wales, 12, prefix="w")
    both = _raise(essex_member, area, "Wanted by both")
    services.vote(both, acting_user=wales_member)
    second_essex = make_user("two@essex.test", organisation=essex, role=Role.USERGROUP_MEMBER)
    services.vote(both, acting_user=second_essex)  # Essex counted once in the impact
    welsh_only = _raise(wales_member, area, "Wanted in Wales")
    ranking = {item.title: item for item in queries.impact_ranking()}
    assert (ranking["Wanted by both"].vote_count, ranking["Wanted by both"].organisation_count,
            ranking["Wanted by both"].impact) == (3, 2, 37)
    assert (ranking["Wanted in Wales"].vote_count, ranking["Wanted in Wales"].impact) == (1, 12)
    assert welsh_only.pk in {item.pk for item in ranking.values()}


# --- comments: replies, mentions, edits ----------------------------------------------------

def test_mentions_notify_and_replies_stay_one_level(essex, essex_member, wales_member,
                                                    provider_admin, area):
    item = _raise(essex_member, area)
    top = services.add_comment(item, body="What do you think, @member@south-wales.test?",
                               acting_user=essex_member)
    mention = _outbox("usergroup.mentioned").get()
    assert mention.to == "member@south-wales.test"
    assert "mentioned you" in mention.body_text
    reply = services.add_comment(item, body="Yes, @ops", parent=top, acting_user=wales_member)
    deeper = services.add_comment(item, body="Thanks", parent=reply, acting_user=essex_member)
    assert reply.parent == top and deeper.parent == top  # one level: the thread's top
    assert set(_outbox("usergroup.mentioned").values_list("to", flat=True)) == {
        "member@south-wales.test", "ops@waymark.test"}
    # "@member" is both members' handle: it names nobody (the whole address does).
    services.add_comment(item, body="Hello @member", acting_user=provider_admin)
    assert _outbox("usergroup.mentioned").count() == 2


def test_edits_keep_their_history_and_only_new_mentions_are_told(essex_member, wales_member,
                                                                 provider_admin, area):
    item = _raise(essex_member, area)
    comment = services.add_comment(item, body="First @member@south-wales.test",
                                   acting_user=essex_member)
    with pytest.raises(PermissionDenied):
        services.edit_comment(comment, body="Hijacked", acting_user=wales_member)
    services.edit_comment(comment, body="Second @member@south-wales.test and @ops",
                          acting_user=essex_member)
    comment.refresh_from_db()
    assert comment.body.startswith("Second") and comment.edited_at is not None
    assert list(comment.revisions.values_list("body", flat=True)) == [
        "First @member@south-wales.test"]
    assert sorted(_outbox("usergroup.mentioned").values_list("to", flat=True)) == [
        "member@south-wales.test", "ops@waymark.test"]


def test_an_official_response_is_marked_and_told_to_followers(essex_member, wales_member,
                                                              provider_admin, area):
    item = _raise(essex_member, area)
    services.vote(item, acting_user=wales_member)
    comment = services.add_comment(item, body="We will build it.", official=True,
                                   acting_user=provider_admin)
    assert Comment.objects.get(pk=comment.pk).official
    assert sorted(_outbox("usergroup.official_response").values_list("to", flat=True)) == [
        "member@essex.test", "member@south-wales.test"]
    with pytest.raises(PermissionDenied):
        services.add_comment(item, body="Me too", official=True, acting_user=wales_member)


# --- full-text search ----------------------------------------------------------------------

def test_full_text_search_finds_and_omits_with_filters(essex_member, wales_member,
                                                       provider_admin, area):
    _raise(essex_member, area, "Show parking at venues", "Drivers ask where to leave cars")
    _raise(wales_member, area, "Welsh reminders", "Send reminders in Welsh by text message")
    closed = _raise(essex_member, area, "Parking permits", "")
    services.change_status(closed, to_status="declined", response="No.",
                           acting_user=provider_admin)

    def titles(**kwargs):
        return [item.title for item in queries.request_list(**kwargs)]

    assert titles(search="parking", sort="newest") == ["Parking permits",
                                                       "Show parking at venues"]
    assert titles(search="cars") == ["Show parking at venues"]  # found in the description
    assert titles(search="reminder") == ["Welsh reminders"]  # stemmed
    assert titles(search="parking", status="declined") == ["Parking permits"]
    assert titles(search="parking -permits") == ["Show parking at venues"]
    assert titles(search="invoices") == []
    assert titles(search="parking", sort="relevance")[0] in {"Parking permits",
                                                             "Show parking at venues"}
    assert titles(search='"unbalanced') == []  # odd syntax is no error


def test_the_full_text_index_exists(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ug_request_fulltext'")
        (definition,) = cursor.fetchone()
    assert "gin" in definition.lower() and "to_tsvector" in definition


def test_preference_model_defaults_to_immediate(essex_member):
    assert notifications.delivery_of(essex_member) == "immediate"
    assert not NotificationPreference.objects.exists()
    assert Vote.objects.count() == 0
