"""The user group's rules against real PostgreSQL: votes, tallies, merges, status changes,
sanitised Markdown and refused input."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections

from accounts.roles import Role
from outbox.models import OutboundMessage
from tenants.models import ClientOrganisation
from usergroup import queries, services
from usergroup.markdown import render
from usergroup.models import Area, ChangeRequest, StatusChange, Vote

from ..conftest import make_user


def _raise(user, area, title="Let people book two courses at once"):
    return services.raise_request(title=title, description="", area=area, acting_user=user)


def test_areas_are_seeded(db):
    names = set(Area.objects.values_list("name", flat=True))
    assert {"Booking site", "Contact centre", "Administration", "Reports", "Billing", "API",
            "Other"} <= names


def test_raise_votes_and_tally(essex, south_wales, essex_member, wales_member, area):
    request = _raise(essex_member, area)
    assert services.tally(request).votes == 1  # the raiser's own vote
    assert services.vote(request, acting_user=essex_member) is False  # a second click: still one
    assert services.vote(request, acting_user=wales_member) is True
    other = make_user("officer@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    services.vote(request, acting_user=other)
    tally = services.tally(request)
    assert (tally.votes, tally.organisations) == (3, 2)
    assert str(tally) == "3 votes from 2 organisations"
    assert services.unvote(request, acting_user=other) is True
    assert services.tally(request).votes == 2


@pytest.mark.parametrize("title", ["", "   ", "x" * 300, "x" * 121])
def test_bad_titles_are_refused_and_nothing_is_written(essex_member, area, title):
    with pytest.raises(ValidationError) as error:
        _raise(essex_member, area, title=title)
    assert "title" in error.value.message_dict
    assert not ChangeRequest.objects.exists()


def test_markdown_scripts_are_sanitised():
    html = render("**bold** <script>alert(1)</script> [x](javascript:alert(1)) "
                  "<img src=x onerror=alert(1)>")
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "&lt;script&gt;" in html  # shown as text, never run
    assert 'href="javascript' not in html and "<img" not in html


def test_closed_requests_take_no_votes(essex_member, wales_member, provider_admin, area):
    request = _raise(essex_member, area)
    services.change_status(request, to_status="declined", response="Out of scope.",
                           acting_user=provider_admin)
    with pytest.raises(ValidationError):
        services.vote(request, acting_user=wales_member)
    assert services.tally(request).votes == 1


def test_only_provider_staff_change_status_and_everyone_following_is_told(
        essex_admin, essex_member, wales_member, provider_admin, area):
    request = _raise(essex_member, area)
    services.vote(request, acting_user=wales_member)
    with pytest.raises(PermissionDenied):
        services.change_status(request, to_status="planned", response="Yes",
                               acting_user=essex_admin)
    with pytest.raises(ValidationError):
        services.change_status(request, to_status="planned", response="  ",
                               acting_user=provider_admin)
    services.change_status(request, to_status="planned", response="In the spring release.",
                           acting_user=provider_admin)
    request.refresh_from_db()
    assert request.status == "planned"
    change = StatusChange.objects.get(request=request)
    assert (change.from_status, change.to_status) == ("open", "planned")
    told = sorted(OutboundMessage.objects.filter(kind="usergroup.status_changed")
                  .values_list("to", flat=True))
    assert told == ["member@essex.test", "member@south-wales.test"]


def test_a_member_of_a_suspended_client_is_refused(essex, essex_member, area):
    ClientOrganisation.objects.filter(pk=essex.pk).update(
        status=ClientOrganisation.Status.SUSPENDED)
    with pytest.raises(PermissionDenied):
        _raise(essex_member, area)


def test_merge_keeps_every_vote_once_and_can_be_undone(
        essex, south_wales, essex_member, wales_member, provider_admin, area):
    both = make_user("both@essex.test", organisation=essex, role=Role.USERGROUP_MEMBER)
    only_a = make_user("a@south-wales.test", organisation=south_wales,
                       role=Role.USERGROUP_MEMBER)
    a = _raise(essex_member, area, "Book two courses at once")
    b = _raise(wales_member, area, "Book several courses together")
    services.vote(a, acting_user=both)
    services.vote(b, acting_user=both)
    services.vote(a, acting_user=only_a)
    voters = {essex_member.pk, wales_member.pk, both.pk, only_a.pk}

    merge = services.merge_requests(a, b, response="Same thing.", acting_user=provider_admin)
    a.refresh_from_db()
    assert a.status == "duplicate" and a.merged_into == b
    assert set(Vote.objects.filter(request=b).values_list("member_id", flat=True)) == voters
    assert Vote.objects.filter(request=b).count() == 4  # every voter once
    # A member who had voted on both keeps A's vote on A's record (for an exact undo), counted
    # once on B; A, a duplicate, is out of the lists.
    assert list(Vote.objects.filter(request=a).values_list("member_id", flat=True)) == [both.pk]
    assert services.tally(b).votes == 4
    # A's voters are told it was merged (the provider is not).
    assert set(OutboundMessage.objects.filter(kind="usergroup.merged")
               .values_list("to", flat=True)) == {"member@essex.test", "both@essex.test",
                                                  "a@south-wales.test"}

    services.undo_merge(merge, acting_user=provider_admin)
    a.refresh_from_db()
    assert a.status == "open" and a.merged_into is None
    assert set(Vote.objects.filter(request=a).values_list("member_id", flat=True)) == {
        essex_member.pk, only_a.pk, both.pk}
    assert services.tally(b).votes == 2


def test_similar_titles_by_trigram(essex_member, area):
    _raise(essex_member, area, "Let people book two courses at once")
    _raise(essex_member, area, "Show venue parking information")
    titles = [r.title for r in queries.similar("book two courses")]
    assert titles == ["Let people book two courses at once"]


def test_sorts_by_votes_and_by_organisations(essex, essex_member, wales_member, area):
    many = _raise(essex_member, area, "Many votes from one client")
    for n in range(3):
        services.vote(many, acting_user=make_user(f"m{n}@essex.test", organisation=essex,
                                                   role=Role.USERGROUP_MEMBER))
    spread = _raise(essex_member, area, "Votes from two clients")
    services.vote(spread, acting_user=wales_member)
    assert [r.pk for r in queries.request_list(sort="votes")] == [many.pk, spread.pk]
    assert [r.pk for r in queries.request_list(sort="organisations")] == [spread.pk, many.pk]
    assert [r.pk for r in queries.request_list(sort="newest")] == [spread.pk, many.pk]


@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_give_an_exact_tally(essex, south_wales):
    area = Area.objects.get_or_create(name="Booking site")[0]
    raiser = make_user("raiser@essex.test", organisation=essex, role=Role.USERGROUP_MEMBER)
    request = _raise(raiser, area)
    members = [make_user(f"v{n}@{'essex' if n % 2 else 'south-wales'}.test",
                         organisation=essex if n % 2 else south_wales,
                         role=Role.USERGROUP_MEMBER) for n in range(12)]
    barrier = threading.Barrier(len(members) * 2)
    errors = []

    def click(member):
        try:
            barrier.wait()
            services.vote(request, acting_user=member)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    # Each member clicks twice at the same moment.
    threads = [threading.Thread(target=click, args=(m,)) for m in members for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    connection.close()
    tally = services.tally(request)
    assert (tally.votes, tally.organisations) == (13, 2)
    assert Vote.objects.filter(request=request).count() == 13


def test_stored_tallies_follow_every_change_of_the_votes(essex, south_wales, essex_member,
                                                         wales_member, provider_admin, area):
    """The list sorts by the stored tallies: raise, vote, unvote, vote on behalf, merge and its
    undoing each leave them equal to a count of the votes."""
    from django.db.models import Count

    def stored(request):
        request.refresh_from_db()
        return request.votes_total, request.organisations_total

    def counted(request):
        counts = Vote.objects.filter(request=request).aggregate(
            v=Count("pk"), o=Count("organisation", distinct=True))
        return counts["v"], counts["o"]

    first = _raise(essex_member, area, title="Print registers")
    second = _raise(wales_member, area, title="Registers printed")
    assert stored(first) == counted(first) == (1, 1)
    services.vote(first, acting_user=wales_member)
    assert stored(first) == counted(first) == (2, 2)
    other = make_user("officer@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    services.vote_on_behalf(second, member=other, acting_user=provider_admin)
    assert stored(second) == counted(second) == (2, 2)
    services.unvote(first, acting_user=wales_member)
    assert stored(first) == counted(first) == (1, 1)
    merge = services.merge_requests(second, first, response="", acting_user=provider_admin)
    assert stored(first) == counted(first) == (3, 2)
    assert stored(second) == counted(second) == (0, 0)
    services.undo_merge(merge, acting_user=provider_admin)
    assert stored(first) == counted(first) == (1, 1)
    assert stored(second) == counted(second) == (2, 2)
    assert [r.pk for r in queries.request_list(sort="votes")] == [second.pk, first.pk]
