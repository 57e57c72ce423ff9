"""User-group meetings against real PostgreSQL: creating and publishing, drafts kept from
members, the .ics and the signed calendar feed, sanitised minutes, the request page's links,
403s for members and bad input named by field."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry
from usergroup import ics, meetings, services
from usergroup.models import AgendaItem, Meeting

from ..conftest import sign_in_verified

PLATFORM = "localhost"
LONDON = ZoneInfo("Europe/London")


def _raise(user, area, title="Let people book two courses at once"):
    return services.raise_request(title=title, description="", area=area, acting_user=user)


def _meeting(moderator, *, title="Spring user group", starts_at=None, hours=2, publish=True,
             request_numbers=(), **extra):
    starts_at = starts_at or datetime.now(UTC) + timedelta(days=30)
    return meetings.create_meeting(
        title=title, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours),
        place=extra.pop("place", "Chelmsford County Hall"), request_numbers=request_numbers,
        publish=publish, acting_user=moderator, **extra)


def _form(**overrides):
    data = {"title": "Autumn user group", "date": "2027-03-28", "starts_at": "10:00",
            "ends_at": "12:30", "place": "Chelmsford County Hall", "online_link": "",
            "agenda_requests": "", "agenda_other": "Best practice\nAny other business",
            "status": "published"}
    return {**data, **overrides}


def test_staff_create_a_draft_then_publish_with_its_agenda(client, provider_admin, essex_member,
                                                           area):
    first = _raise(essex_member, area, "Show parking at venues")
    second = _raise(essex_member, area, "Export bookings as CSV")
    sign_in_verified(client, provider_admin)
    response = client.post("/user-group/meetings/new/", _form(
        status="draft", agenda_requests=f"{second.pk}, #{first.pk}, {second.pk}"),
        HTTP_HOST=PLATFORM)
    meeting = Meeting.objects.get(title="Autumn user group")
    assert response.status_code == 302 and response["Location"] == f"/user-group/meetings/{meeting.pk}/"
    assert meeting.status == Meeting.Status.DRAFT
    # UK times: 28 March 2027 is the day the clocks go forward, 10:00 is BST (09:00 UTC).
    assert meeting.starts_at == datetime(2027, 3, 28, 9, 0, tzinfo=UTC)
    agenda = [(item.change_request_id, item.title) for item in meeting.agenda_items.all()]
    assert agenda == [(second.pk, ""), (first.pk, ""), (None, "Best practice"),
                      (None, "Any other business")]
    assert AuditEntry.objects.filter(action="usergroup.meeting_created",
                                     object_id=str(meeting.pk)).exists()

    client.post(f"/user-group/meetings/{meeting.pk}/publish/", HTTP_HOST=PLATFORM)
    meeting.refresh_from_db()
    assert meeting.is_published and meeting.sequence == 1
    assert AuditEntry.objects.filter(action="usergroup.meeting_published").count() == 1


def test_drafts_are_hidden_from_members(client, provider_admin, essex_member, area):
    published = _meeting(provider_admin, title="Published meeting")
    draft = _meeting(provider_admin, title="Secret draft", publish=False)
    client.force_login(essex_member)
    listing = client.get("/user-group/meetings/", HTTP_HOST=PLATFORM).content.decode()
    assert "Published meeting" in listing and "Secret draft" not in listing
    assert client.get(f"/user-group/meetings/{draft.pk}/", HTTP_HOST=PLATFORM).status_code == 404
    assert client.get(f"/user-group/meetings/{draft.pk}/meeting.ics",
                      HTTP_HOST=PLATFORM).status_code == 404
    assert client.get(f"/user-group/meetings/{published.pk}/",
                      HTTP_HOST=PLATFORM).status_code == 200

    sign_in_verified(client, provider_admin)
    listing = client.get("/user-group/meetings/", HTTP_HOST=PLATFORM).content.decode()
    assert "Secret draft" in listing


def test_upcoming_and_past_meetings_are_listed_apart(client, provider_admin, essex_member):
    _meeting(provider_admin, title="Next month's meeting")
    _meeting(provider_admin, title="Last year's meeting",
             starts_at=datetime.now(UTC) - timedelta(days=300))
    client.force_login(essex_member)
    page = client.get("/user-group/meetings/", HTTP_HOST=PLATFORM).content.decode()
    upcoming, past = page.split("Past meetings", 1)
    assert "Next month&#x27;s meeting" in upcoming and "Last year" not in upcoming
    assert "Last year&#x27;s meeting" in past


def test_the_ics_parses_back_with_uk_times_either_side_of_the_clock_change(
        client, provider_admin, essex_member):
    # 10:00 in London on the Saturday before the clocks go forward (GMT) and on the Monday after
    # (BST): the same wall-clock time, an hour apart in UTC.
    before = _meeting(provider_admin, title='Before; the "change", in GMT',
                      starts_at=datetime(2027, 3, 27, 10, 0, tzinfo=LONDON))
    after = _meeting(provider_admin, title="After the change, in BST",
                     starts_at=datetime(2027, 3, 29, 10, 0, tzinfo=LONDON))
    client.force_login(essex_member)
    for meeting, utc_hour in ((before, 10), (after, 9)):
        response = client.get(f"/user-group/meetings/{meeting.pk}/meeting.ics",
                              HTTP_HOST=PLATFORM)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.content)
        (event,) = calendar.events
        assert str(event["UID"]) == f"usergroup-meeting-{meeting.pk}@waymark"
        assert event.get("DTSTAMP") is not None
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start.hour == 10 and str(start.tzinfo) == "Europe/London"
        assert start.astimezone(UTC).hour == utc_hour
        assert end - start == timedelta(hours=2)
        assert event.get("SUMMARY") == meeting.title  # escaped and unescaped by the library
        assert calendar.timezones  # a VTIMEZONE for the TZID
    again = client.get(f"/user-group/meetings/{before.pk}/meeting.ics", HTTP_HOST=PLATFORM)
    assert str(icalendar.Calendar.from_ical(again.content).events[0]["UID"]) == \
        f"usergroup-meeting-{before.pk}@waymark"


def test_the_feed_lists_published_meetings_for_a_valid_token_only(client, provider_admin,
                                                                  essex_member):
    published = _meeting(provider_admin, title="Published meeting")
    _meeting(provider_admin, title="Secret draft", publish=False)
    token = ics.feed_token(essex_member)
    client.force_login(essex_member)
    listing = client.get("/user-group/meetings/", HTTP_HOST=PLATFORM).content.decode()
    assert f"/user-group/meetings/feed/{token}.ics" in listing
    client.logout()

    response = client.get(f"/user-group/meetings/feed/{token}.ics", HTTP_HOST=PLATFORM)
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    assert [str(event["SUMMARY"]) for event in calendar.events] == ["Published meeting"]
    assert str(calendar.events[0]["UID"]) == ics.meeting_uid(published)

    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/user-group/meetings/feed/{tampered}.ics",
                      HTTP_HOST=PLATFORM).status_code == 404
    other_user = ics.feed_token(provider_admin).split(":")[0]
    forged = other_user + ":" + token.split(":", 1)[1]
    assert client.get(f"/user-group/meetings/feed/{forged}.ics",
                      HTTP_HOST=PLATFORM).status_code == 404
    # A member who no longer takes part loses the feed.
    essex_member.memberships.update(is_active=False)
    assert client.get(f"/user-group/meetings/feed/{token}.ics",
                      HTTP_HOST=PLATFORM).status_code == 404


def test_minutes_and_decisions_are_rendered_sanitised(client, provider_admin, essex_member,
                                                      area):
    request = _raise(essex_member, area)
    meeting = _meeting(provider_admin, starts_at=datetime.now(UTC) - timedelta(days=2),
                       request_numbers=[request.pk])
    item = meeting.agenda_items.get()
    sign_in_verified(client, provider_admin)
    response = client.post(f"/user-group/meetings/{meeting.pk}/minutes/", {
        "minutes": "We **agreed** <script>alert('minutes')</script>",
        f"decision_{item.pk}": "Planned for spring <script>alert('decision')</script>",
        "publish": "on"}, HTTP_HOST=PLATFORM)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.decision.startswith("Planned for spring")
    client.force_login(essex_member)
    page = client.get(f"/user-group/meetings/{meeting.pk}/", HTTP_HOST=PLATFORM).content.decode()
    assert "<strong>agreed</strong>" in page and "Planned for spring" in page
    assert "<script>alert" not in page
    assert AuditEntry.objects.filter(action="usergroup.minutes_recorded").count() == 1


def test_minutes_wait_for_the_meeting(provider_admin):
    meeting = _meeting(provider_admin)
    with pytest.raises(ValidationError) as error:
        meetings.record_minutes(meeting, minutes="Early", decisions={},
                                acting_user=provider_admin)
    assert "minutes" in error.value.message_dict


def test_the_request_page_links_to_its_meetings(client, provider_admin, essex_member, area):
    request = _raise(essex_member, area)
    past = _meeting(provider_admin, title="January meeting",
                    starts_at=datetime.now(UTC) - timedelta(days=10), request_numbers=[request.pk])
    _meeting(provider_admin, title="Draft meeting", publish=False, request_numbers=[request.pk])
    client.force_login(essex_member)
    page = client.get(f"/user-group/requests/{request.pk}/", HTTP_HOST=PLATFORM).content.decode()
    assert "Discussed at" in page
    assert f'href="/user-group/meetings/{past.pk}/">January meeting</a>' in page
    assert "Draft meeting" not in page
    meeting_page = client.get(f"/user-group/meetings/{past.pk}/",
                              HTTP_HOST=PLATFORM).content.decode()
    assert f'href="/user-group/requests/{request.pk}/"' in meeting_page


def test_members_cannot_create_or_edit_meetings(client, provider_admin, essex_member,
                                                essex_admin):
    meeting = _meeting(provider_admin, publish=False)
    published = _meeting(provider_admin, title="Published")
    for user in (essex_member, essex_admin):
        client.force_login(user)
        assert client.get("/user-group/meetings/new/", HTTP_HOST=PLATFORM).status_code == 403
        assert client.post("/user-group/meetings/new/", _form(),
                           HTTP_HOST=PLATFORM).status_code == 403
        for path in ("edit/", "publish/", "minutes/"):
            assert client.post(f"/user-group/meetings/{published.pk}/{path}", _form(),
                               HTTP_HOST=PLATFORM).status_code == 403
    with pytest.raises(PermissionDenied):
        meetings.publish_meeting(meeting, acting_user=essex_member)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.DRAFT
    assert Meeting.objects.count() == 2


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"ends_at": "09:00"}, "ends_at", "The end time must be after the start time"),
    ({"agenda_requests": "999999"}, "agenda_requests",
     "There is no change request numbered 999999"),
    ({"agenda_requests": "twelve"}, "agenda_requests", "Enter request numbers separated by"),
    ({"title": "x" * 300}, "title", "Title must be 120 characters or fewer"),
    ({"title": ""}, "title", "Enter a title"),
    ({"place": "", "online_link": ""}, "place", "Enter a place or an online link"),
    ({"online_link": "not a link at all"}, "online_link", "Enter a full web address"),
    ({"date": "2027-02-30"}, "date", "The date of the meeting must be a real date"),
    ({"date": "2027-03-28", "starts_at": "01:30", "ends_at": "03:00"}, "starts_at",
     "That time does not exist in the UK"),
])
def test_bad_input_is_named_by_field(client, provider_admin, overrides, field, message):
    sign_in_verified(client, provider_admin)
    response = client.post("/user-group/meetings/new/", _form(**overrides), HTTP_HOST=PLATFORM)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    # The error sits on the field (GOV.UK's error message) and links there from the summary.
    assert f'id="id_{field}-error"' in page or f'href="#id_{field}"' in page
    assert f'href="#id_{field}"' in page or f'href="#id_{field}_day"' in page
    assert not Meeting.objects.exists()


def test_the_service_names_the_field_too(provider_admin, essex_member, area):
    start = datetime.now(UTC) + timedelta(days=3)
    with pytest.raises(ValidationError) as error:
        meetings.create_meeting(title="y" * 121, starts_at=start, ends_at=start,
                                place="", request_numbers=[424242], acting_user=provider_admin)
    assert set(error.value.message_dict) == {"title", "ends_at", "place", "agenda_requests"}
    assert not Meeting.objects.exists() and not AgendaItem.objects.exists()


def test_editing_keeps_decisions_and_bumps_the_sequence(provider_admin, essex_member, area):
    first = _raise(essex_member, area, "First")
    second = _raise(essex_member, area, "Second")
    start = datetime.now(UTC) - timedelta(days=1)
    meeting = _meeting(provider_admin, starts_at=start, request_numbers=[first.pk, second.pk])
    item = meeting.agenda_items.get(change_request=first)
    meetings.record_minutes(meeting, minutes="Done", decisions={item.pk: "Planned"},
                            acting_user=provider_admin)
    meetings.update_meeting(meeting, title="Renamed", starts_at=start,
                            ends_at=start + timedelta(hours=1), place="Online room",
                            request_numbers=[first.pk], other_items=["AOB"],
                            acting_user=provider_admin)
    meeting.refresh_from_db()
    assert meeting.title == "Renamed" and meeting.sequence == 1
    assert [(i.change_request_id, i.title, i.decision) for i in meeting.agenda_items.all()] == [
        (first.pk, "", "Planned"), (None, "AOB", "")]


def test_only_web_links_and_unpublishing(provider_admin):
    start = datetime.now(UTC) + timedelta(days=3)
    with pytest.raises(ValidationError) as error:
        meetings.create_meeting(title="Online", starts_at=start, ends_at=start + timedelta(hours=1),
                                online_link="javascript:alert(1)", acting_user=provider_admin)
    assert set(error.value.message_dict) == {"online_link"}
    meeting = _meeting(provider_admin)
    meetings.update_meeting(meeting, title=meeting.title, starts_at=meeting.starts_at,
                            ends_at=meeting.ends_at, place=meeting.place, publish=False,
                            acting_user=provider_admin)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.DRAFT


# --- invitations, attendance, decisions that move statuses, published minutes ---------------

def test_publishing_invites_every_member_once_with_the_ics(essex, south_wales, essex_member,
                                                           wales_member, essex_admin,
                                                           provider_admin):
    from accounts.roles import Role
    from outbox.models import OutboundMessage

    from ..conftest import make_user

    make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER)  # not a member
    meeting = _meeting(provider_admin, publish=False)
    invitations = OutboundMessage.objects.filter(kind="usergroup.meeting_invitation")
    assert not invitations.exists()  # a draft invites nobody
    assert meetings.publish_meeting(meeting, acting_user=provider_admin) is True
    # Client administrators take part too (the clients' first administrators and boss@).
    assert sorted(invitations.values_list("to", flat=True)) == [
        "admin@essex.test", "admin@south-wales.test", "boss@essex.test", "member@essex.test",
        "member@south-wales.test"]
    message = invitations.get(to="member@essex.test")
    (attachment,) = message.attachments
    assert attachment["filename"] == "meeting.ics"
    event = icalendar.Calendar.from_ical(attachment["content"]).walk("VEVENT")[0]
    assert str(event["UID"]) == ics.meeting_uid(meeting)
    assert "Spring user group" in message.subject
    # Publishing again, or an edit that does not move it, sends nothing more.
    assert meetings.publish_meeting(meeting, acting_user=provider_admin) is False
    meeting.refresh_from_db()
    meetings.update_meeting(meeting, title="Spring user group (agenda)",
                            starts_at=meeting.starts_at, ends_at=meeting.ends_at,
                            place=meeting.place, publish=True, acting_user=provider_admin)
    assert invitations.count() == 5
    # Moving it sends each member an update carrying the new SEQUENCE.
    meetings.update_meeting(meeting, title="Spring user group", starts_at=meeting.starts_at
                            + timedelta(days=1), ends_at=meeting.ends_at + timedelta(days=1),
                            place=meeting.place, publish=True, acting_user=provider_admin)
    assert invitations.count() == 10
    update = invitations.filter(to="member@essex.test").order_by("-pk").first()
    assert "changed" in update.subject
    meeting.refresh_from_db()
    event = icalendar.Calendar.from_ical(update.attachments[0]["content"]).walk("VEVENT")[0]
    assert int(event["SEQUENCE"]) == meeting.sequence


def test_members_of_a_suspended_client_are_not_invited(essex, essex_member, wales_member,
                                                       provider_admin):
    from outbox.models import OutboundMessage
    from tenants.models import ClientOrganisation

    ClientOrganisation.objects.filter(pk=essex.pk).update(
        status=ClientOrganisation.Status.SUSPENDED)
    _meeting(provider_admin)
    assert sorted(OutboundMessage.objects.filter(kind="usergroup.meeting_invitation")
                  .values_list("to", flat=True)) == ["admin@south-wales.test",
                                                     "member@south-wales.test"]


def test_minutes_record_attendance_and_move_statuses_in_one_go(
        client, essex, south_wales, essex_member, wales_member, provider_admin, area):
    from outbox.models import OutboundMessage
    from usergroup.models import ChangeRequest, StatusChange

    first = _raise(essex_member, area, title="Print registers")
    second = _raise(wales_member, area, title="Welsh reminders by text")
    meeting = _meeting(provider_admin, starts_at=datetime.now(UTC) - timedelta(hours=3),
                       request_numbers=[first.pk, second.pk], other_items=["Best practice"])
    one, two, free = meeting.agenda_items.order_by("position")
    sign_in_verified(client, provider_admin)
    form = client.get(f"/user-group/meetings/{meeting.pk}/minutes/", HTTP_HOST=PLATFORM)
    assert f'name="status_{one.pk}"' in form.content.decode()
    assert f'name="status_{free.pk}"' not in form.content.decode()
    response = client.post(f"/user-group/meetings/{meeting.pk}/minutes/", {
        "minutes": "Eight organisations came.", "attended": [essex.pk, south_wales.pk],
        f"decision_{one.pk}": "Agreed: planned for the spring release.",
        f"status_{one.pk}": "planned", f"decision_{two.pk}": "Needs a text provider first.",
        f"status_{two.pk}": "under_review", f"decision_{free.pk}": "Shared tips.",
        f"status_{free.pk}": "", }, HTTP_HOST=PLATFORM)
    assert response.status_code == 302, response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("planned", "under_review")
    assert StatusChange.objects.get(request=first).response == \
        "Agreed: planned for the spring release."
    assert sorted(meeting.attended_organisations.values_list("slug", flat=True)) == [
        "essex", "south-wales"]
    # Not yet published: members see the agenda but neither minutes nor decisions.
    client.force_login(essex_member)
    page = client.get(f"/user-group/meetings/{meeting.pk}/", HTTP_HOST=PLATFORM).content.decode()
    assert "Eight organisations came" not in page and "Agreed: planned" not in page
    assert not OutboundMessage.objects.filter(kind="usergroup.minutes_published").exists()
    # Saving again with the statuses reached changes nothing more, and publishes once.
    meeting.refresh_from_db()
    for _ in range(2):
        meetings.record_minutes(meeting, minutes="Eight organisations came.",
                                decisions={one.pk: "Agreed: planned for the spring release."},
                                status_changes={one.pk: "planned"}, publish=True,
                                acting_user=provider_admin)
    assert StatusChange.objects.filter(request=first).count() == 1
    published = OutboundMessage.objects.filter(kind="usergroup.minutes_published")
    assert sorted(published.values_list("to", flat=True)) == [
        "admin@essex.test", "admin@south-wales.test", "member@essex.test",
        "member@south-wales.test"]
    page = client.get(f"/user-group/meetings/{meeting.pk}/", HTTP_HOST=PLATFORM).content.decode()
    assert "Eight organisations came" in page and "Agreed: planned" in page
    assert "South Wales" in page.split('id="attended"')[1]
    assert ChangeRequest.objects.get(pk=first.pk).status == "planned"


def test_a_bad_decision_writes_nothing(essex_member, provider_admin, area):
    from usergroup.models import StatusChange

    first = _raise(essex_member, area, title="Print registers")
    second = _raise(essex_member, area, title="Welsh reminders by text")
    meeting = _meeting(provider_admin, starts_at=datetime.now(UTC) - timedelta(hours=3),
                       request_numbers=[first.pk, second.pk], other_items=["Best practice"])
    one, two, free = meeting.agenda_items.order_by("position")
    with pytest.raises(ValidationError) as error:
        meetings.record_minutes(meeting, minutes="Notes", decisions={one.pk: "Yes"},
                                status_changes={one.pk: "planned", two.pk: "duplicate"},
                                acting_user=provider_admin)
    assert f"status_{two.pk}" in error.value.message_dict
    with pytest.raises(ValidationError):
        meetings.record_minutes(meeting, minutes="Notes", decisions={},
                                status_changes={free.pk: "planned"}, acting_user=provider_admin)
    with pytest.raises(ValidationError) as error:
        meetings.record_minutes(meeting, minutes="Notes", decisions={}, attended=[999999],
                                acting_user=provider_admin)
    assert "attended" in error.value.message_dict
    first.refresh_from_db()
    meeting.refresh_from_db()
    assert first.status == "open" and meeting.minutes == ""
    assert not StatusChange.objects.exists()
    one.refresh_from_db()
    assert one.decision == ""


def test_a_client_admin_cannot_record_minutes(essex_admin, provider_admin):
    meeting = _meeting(provider_admin, starts_at=datetime.now(UTC) - timedelta(hours=3))
    with pytest.raises(PermissionDenied):
        meetings.record_minutes(meeting, minutes="Mine", decisions={}, publish=True,
                                acting_user=essex_admin)
