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
        f"decision_{item.pk}": "Planned for spring <script>alert('decision')</script>"},
        HTTP_HOST=PLATFORM)
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
    ({"date": "2027-02-30"}, "date", "Enter a real date"),
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
    assert f'href="#id_{field}"' in page
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
