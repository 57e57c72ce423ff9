"""The user group's demo: 40 change requests across the areas and every status, votes from the
staff of both demo clients, comments with a reply and an official response, a duplicate merged
into its original, a past meeting with published minutes, a published release and a planned
meeting. Called by seed_demo after the clients and their staff exist.

The rows are written directly, as the booking demo writes its history: a seed tells nobody (no
e-mail to the demo accounts, no webhook) and dates its rows in the past. It is one transaction
and runs once: if the demo's release is there, nothing is changed.
"""

import random
from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, User
from accounts.roles import Role
from tenants.models import ClientOrganisation

from .ics import LONDON
from .models import (
    AgendaItem,
    Area,
    ChangeRequest,
    Comment,
    Meeting,
    Merge,
    Release,
    StatusChange,
    Subscription,
    Vote,
)
from .services import refresh_tallies

Status = ChangeRequest.Status
RELEASE_VERSION = "2026.11"
# More members than the one login per client seed_demo makes, so tallies read like a real
# group's ("9 votes from 2 organisations"); they have no password and never sign in.
EXTRA_MEMBERS = {
    "essex": ["claire.booth", "sanjay.mehta", "linda.frost", "paul.reeve"],
    "south-wales": ["carys.morgan", "dylan.hughes", "ffion.rees", "huw.davies"],
}

# (title, area, status, description)
REQUESTS = [
    ("Let people choose a course date in the evening", "Booking site", Status.OPEN,
     "Many people work during the day. A filter for sessions starting after 17:00 would "
     "save calls to the contact centre."),
    ("Show the walking route from the nearest station", "Booking site", Status.OPEN,
     "Directions today assume a car. Add public transport directions to the venue page."),
    ("Remember the language chosen on the first page", "Booking site", Status.PLANNED,
     "Welsh speakers have to choose Cymraeg again after the offer look-up."),
    ("Send a reminder text two days before the course", "Booking site", Status.RELEASED,
     "E-mail reminders are missed; a text message two days before would cut no-shows."),
    ("Let people upload evidence for special circumstances", "Booking site",
     Status.UNDER_REVIEW, "Medical letters arrive by post and are scanned by hand."),
    ("Offer the online course first to people far from a venue", "Booking site", Status.OPEN,
     "Sort online sessions first when the nearest venue is over 30 miles away."),
    ("Explain the critical date in plain words", "Booking site", Status.RELEASED,
     "People do not understand 'critical date'. Say 'you must finish the course by'."),
    ("Allow paying by Apple Pay and Google Pay", "Booking site", Status.IN_PROGRESS,
     "Card entry on a phone is where most people give up."),
    ("Let callers pay by link sent by text message", "Contact centre", Status.RELEASED,
     "Agents read the link out today; a text would be quicker and safer."),
    ("Show the caller's last three calls on the booking page", "Contact centre", Status.OPEN,
     "Agents ask the same questions again when a caller rings back."),
    ("Record call outcomes with one click", "Contact centre", Status.PLANNED,
     "The outcome form takes four clicks for the most common case: booked."),
    ("Warn agents when a session is nearly full", "Contact centre", Status.OPEN,
     "Callers are offered a session that fills before payment is taken."),
    ("Search offers by licence number", "Contact centre", Status.RELEASED,
     "Callers often have their licence to hand but not the offer letter."),
    ("Transfer a booking without re-entering card details", "Contact centre",
     Status.UNDER_REVIEW, "A transfer fee needs the card again even when it is on file."),
    ("Let agents see which venues have a hearing loop", "Contact centre", Status.DECLINED,
     "Shown on the venue list already."),
    ("Bulk move bookings when a venue closes", "Administration", Status.IN_PROGRESS,
     "When a venue shuts for the day we move thirty bookings one by one."),
    ("Copy a week of sessions to the next week", "Administration", Status.OPEN,
     "Setting up the timetable takes a day each month."),
    ("Let trainers swap sessions between themselves", "Administration", Status.OPEN,
     "Swaps are arranged by e-mail and keyed in by an administrator."),
    ("Import offers from the police feed every hour", "Administration", Status.PLANNED,
     "A daily import leaves people waiting for their letter."),
    ("Mark attendance from a tablet at the venue", "Administration", Status.UNDER_REVIEW,
     "Trainers print the register and we type the outcomes in afterwards."),
    ("Set a different transfer fee for Welsh sessions", "Administration", Status.DECLINED,
     "The fee is set per course type, as the scheme requires."),
    ("Let administrators edit an offer's postcode", "Administration", Status.OPEN,
     "A wrong postcode from the police feed shows the wrong venues."),
    ("Export the register as a spreadsheet", "Reports", Status.RELEASED,
     "Venues ask for the register in Excel."),
    ("Show no-shows by venue and month", "Reports", Status.OPEN,
     "We want to see which venues have the most people not turning up."),
    ("Schedule the monthly remittance report to finance", "Reports", Status.PLANNED,
     "Finance asks for it on the first working day of each month."),
    ("Compare channel shift with last year", "Reports", Status.OPEN,
     "The chart shows this year only."),
    ("Add satisfaction scores by course type", "Reports", Status.UNDER_REVIEW,
     "The survey result is one figure for everything."),
    ("Show the invoice lines behind each month's total", "Billing", Status.OPEN,
     "Finance reconciles the invoice with our own booking counts."),
    ("Send invoices to a shared finance mailbox", "Billing", Status.IN_PROGRESS,
     "Invoices go to one person and get lost when they are away."),
    ("Forecast next year's cost with the new price plan", "Billing", Status.OPEN,
     "Budget setting needs next year's figure in November."),
    ("Pay invoices by direct debit", "Billing", Status.DECLINED,
     "Card and bank transfer cover this; direct debit is not planned."),
    ("Push outcomes to our case system through the API", "API", Status.PLANNED,
     "We copy attendance outcomes into our own system every week."),
    ("Webhooks for cancelled bookings", "API", Status.IN_PROGRESS,
     "Our back office needs to know when a place frees up."),
    ("Read venues and sessions through the API", "API", Status.OPEN,
     "Our website lists course dates and copies them by hand."),
    ("An API sandbox with test data", "API", Status.UNDER_REVIEW,
     "We test our integration against the live service today."),
    ("Dark mode for staff pages", "Other", Status.OPEN,
     "Some staff find the white pages tiring on long shifts."),
    ("Keyboard shortcuts for the register", "Other", Status.OPEN,
     "Marking forty people present takes many clicks."),
    ("Show the service's status and planned maintenance", "Other", Status.UNDER_REVIEW,
     "We hear of maintenance from callers."),
    ("Welsh translations for the staff pages", "Other", Status.OPEN,
     "Our Welsh-speaking staff would like the administration in Welsh."),
    # Merged into "Send a reminder text two days before the course" below.
    ("Text message reminders before the course", "Booking site", Status.OPEN,
     "Could people get a text before their course?"),
]
DUPLICATE_TITLE = "Text message reminders before the course"
ORIGINAL_TITLE = "Send a reminder text two days before the course"
RESPONSES = {
    Status.UNDER_REVIEW: "We are looking at how this would work for every client.",
    Status.PLANNED: "Planned for the first half of next year.",
    Status.IN_PROGRESS: "Work has started; we will demonstrate it at the next meeting.",
    Status.DECLINED: "We will not do this: see the comment for why.",
}
STEPS = {Status.UNDER_REVIEW: [Status.UNDER_REVIEW],
         Status.PLANNED: [Status.UNDER_REVIEW, Status.PLANNED],
         Status.IN_PROGRESS: [Status.UNDER_REVIEW, Status.PLANNED, Status.IN_PROGRESS],
         Status.RELEASED: [Status.PLANNED, Status.IN_PROGRESS],
         Status.DECLINED: [Status.UNDER_REVIEW, Status.DECLINED]}


def _members(organisation) -> list[User]:
    """The demo client's people in the user group: its administrator and member logins, and
    the extra members (created here)."""
    people = list(User.objects.filter(
        memberships__organisation=organisation,
        memberships__role__in=[Role.CLIENT_ADMIN, Role.USERGROUP_MEMBER],
        memberships__is_active=True).distinct().order_by("email"))
    for handle in EXTRA_MEMBERS.get(organisation.slug, []):
        name = handle.replace(".", " ").title()
        user, created = User.objects.get_or_create(email=f"{handle}@{organisation.slug}.test",
                                                   defaults={"full_name": name})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(user=user, organisation=organisation,
                                         role=Role.USERGROUP_MEMBER)
        people.append(user)
    return people


def seed_usergroup_demo(*, provider, now=None) -> dict | None:
    """Seed the user group once; None if it was seeded before (nothing is changed)."""
    if Release.objects.filter(version=RELEASE_VERSION).exists():
        return None
    with transaction.atomic():
        return _seed(provider, now or timezone.now())


def _seed(provider, now) -> dict | None:
    organisations = list(ClientOrganisation.objects.filter(slug__in=list(EXTRA_MEMBERS))
                         .order_by("slug"))
    if len(organisations) < 2:
        return None
    rng = random.Random(11)
    people = {organisation.pk: _members(organisation) for organisation in organisations}
    everyone = [person for group in people.values() for person in group]
    organisation_of = {person.pk: org_pk for org_pk, group in people.items() for person in group}
    areas = {area.name: area for area in Area.objects.all()}
    requests, raised_at = [], {}
    for number, (title, area, status, description) in enumerate(REQUESTS):
        raiser = everyone[number % len(everyone)]
        change_request = ChangeRequest.objects.create(
            title=title, description=description, area=areas[area], raised_by=raiser,
            organisation_id=organisation_of[raiser.pk], status=status)
        # Spread over the last ten months, the oldest first.
        raised_at[change_request.pk] = now - timedelta(days=300 - number * 7,
                                                       hours=rng.randrange(8))
        requests.append(change_request)
    by_title = {r.title: r for r in requests}

    votes, subscriptions = [], []
    for change_request in requests:
        raiser = change_request.raised_by
        # Popular requests get most of the group; the raiser's own vote always counts.
        wanted = rng.randint(1, len(everyone))
        voters = {raiser.pk: raiser}
        for person in rng.sample(everyone, wanted):
            voters.setdefault(person.pk, person)
        start = raised_at[change_request.pk]
        for person in voters.values():
            days = max(0, (now - start).days)
            votes.append(Vote(request=change_request, member=person,
                              organisation_id=organisation_of[person.pk],
                              created_at=start + timedelta(days=rng.randint(0, days))))
            subscriptions.append(Subscription(request=change_request, user=person))
    cast_at = [vote.created_at for vote in votes]
    Vote.objects.bulk_create(votes)
    # created_at is set on insert (auto_now_add): the demo's own dates go in afterwards.
    for vote, at in zip(votes, cast_at, strict=True):
        vote.created_at = at
    Vote.objects.bulk_update(votes, ["created_at"], batch_size=500)
    Subscription.objects.bulk_create(subscriptions, ignore_conflicts=True)

    # Each status reached through the steps provider staff took, with their public responses.
    changes = []
    for change_request in requests:
        previous = Status.OPEN
        for step in STEPS.get(change_request.status, []):
            changes.append(StatusChange(request=change_request, from_status=previous,
                                        to_status=step, response=RESPONSES[step], by=provider))
            previous = step
        if change_request.status == Status.RELEASED:
            changes.append(StatusChange(request=change_request, from_status=previous,
                                        to_status=Status.RELEASED,
                                        response=f"Released in version {RELEASE_VERSION}.",
                                        by=provider))
    StatusChange.objects.bulk_create(changes)

    _merge(by_title[DUPLICATE_TITLE], by_title[ORIGINAL_TITLE], provider)
    _comments(by_title, people, organisations, provider)
    release = _release(requests, provider, now)
    past, planned = _meetings(requests, by_title, organisations, provider, now)

    for change_request in requests:
        at = raised_at[change_request.pk]
        ChangeRequest.objects.filter(pk=change_request.pk).update(created_at=at, updated_at=at)
    refresh_tallies([r.pk for r in requests])
    return {"requests": len(requests), "votes": len(votes), "release": release.version,
            "meetings": [past.pk, planned.pk]}


def _merge(source, target, provider) -> None:
    """The duplicate's voters vote on the original once each, as merge_requests does."""
    already = set(Vote.objects.filter(request=target).values_list("member_id", flat=True))
    moving = Vote.objects.filter(request=source).exclude(member_id__in=already)
    moved = sorted(moving.values_list("member_id", flat=True))
    moving.update(request=target)
    Subscription.objects.bulk_create(
        [Subscription(request=target, user_id=user_id) for user_id in
         Subscription.objects.filter(request=source).values_list("user_id", flat=True)],
        ignore_conflicts=True)
    Merge.objects.create(source=source, target=target, source_status=Status.OPEN,
                         moved_member_ids=moved, by=provider)
    StatusChange.objects.create(request=source, from_status=Status.OPEN,
                                to_status=Status.DUPLICATE, by=provider,
                                response=f"Merged into “{target.title}”.")
    ChangeRequest.objects.filter(pk=source.pk).update(status=Status.DUPLICATE,
                                                      merged_into=target)


def _comments(by_title, people, organisations, provider) -> None:
    essex, wales = (people[organisation.pk] for organisation in organisations)
    first = Comment.objects.create(
        request=by_title["Bulk move bookings when a venue closes"], author=essex[0],
        body="This happened three times last winter. Being able to pick the new session "
             "for everyone at once would save a morning each time.")
    Comment.objects.create(request=first.request, author=wales[0], parent=first,
                           body="Same here. It would help if people were told by text too.")
    Comment.objects.create(request=first.request, author=provider, official=True,
                           body="We are building this now: one screen to choose the new "
                                "session, with free transfers and a message to everyone moved.")
    Comment.objects.create(
        request=by_title["Pay invoices by direct debit"], author=provider, official=True,
        body="We looked at this with finance teams: card and bank transfer cover every "
             "client's needs today, so we are not planning direct debit.")
    Comment.objects.create(
        request=by_title["Remember the language chosen on the first page"], author=wales[1],
        body="Mae hyn yn bwysig i ni: about a third of our callers choose Welsh.")
    Comment.objects.create(
        request=by_title["Import offers from the police feed every hour"], author=essex[1],
        body="Our force can send the feed hourly already; we are waiting on this side.")


def _release(requests, provider, now) -> Release:
    released_on = (now - timedelta(days=21)).date()
    release = Release.objects.create(
        version=RELEASE_VERSION, released_on=released_on, created_by=provider,
        published_by=provider, published_at=now - timedelta(days=21),
        status=Release.Status.PUBLISHED,
        notes="## What's new\n\n"
              "- **Text reminders** two days before the course, in the person's language.\n"
              "- Callers can **pay by a link sent by text**.\n"
              "- The booking site says *“you must finish the course by”* instead of "
              "“critical date”.\n"
              "- Search offers by **licence number** in the contact centre.\n"
              "- Export a register as a **spreadsheet**.\n")
    release.requests.set([r for r in requests if r.status == Status.RELEASED])
    return release


def _at(day, hour) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(UTC)


def _meetings(requests, by_title, organisations, provider, now):
    past_day = (now - timedelta(days=42)).astimezone(LONDON).date()
    past = Meeting.objects.create(
        title="Autumn user group meeting", starts_at=_at(past_day, 10),
        ends_at=_at(past_day, 13), place="County Hall, Chelmsford",
        online_link="https://meet.example.org/atlas-user-group", status=Meeting.Status.PUBLISHED,
        created_by=provider, minutes_published_at=_at(past_day, 17), sequence=1,
        minutes="Eleven people from both organisations came, in the room and online.\n\n"
                "We demonstrated the text reminders and the pay-by-link text before their "
                "release, then went through the requests most organisations had voted for.")
    past.attended_organisations.set(organisations)
    decided = [("Bulk move bookings when a venue closes",
                "Agreed to build it next; provider to demonstrate at the spring meeting."),
               ("Import offers from the police feed every hour",
                "Planned: both forces can send the feed hourly."),
               ("Pay invoices by direct debit", "Declined: card and bank transfer suffice."),
               ("Send a reminder text two days before the course",
                "Shown working; goes out in the November release.")]
    for position, (title, decision) in enumerate(decided):
        AgendaItem.objects.create(meeting=past, position=position,
                                  change_request=by_title[title], decision=decision)
    AgendaItem.objects.create(meeting=past, position=len(decided), title="Best practice: "
                              "cutting no-shows", decision="Essex shared their reminder "
                              "wording; South Wales will try it.")

    planned_day = (now + timedelta(days=35)).astimezone(LONDON).date()
    planned = Meeting.objects.create(
        title="Spring user group meeting", starts_at=_at(planned_day, 10),
        ends_at=_at(planned_day, 12), place="Online",
        online_link="https://meet.example.org/atlas-user-group", status=Meeting.Status.PUBLISHED,
        created_by=provider)
    # The agenda drawn up from the open requests most organisations voted for.
    top = sorted((r for r in requests if r.status in (Status.OPEN, Status.UNDER_REVIEW)),
                 key=lambda r: (-Vote.objects.filter(request=r).values("organisation")
                                .distinct().count(), -Vote.objects.filter(request=r).count(),
                                r.pk))[:4]
    for position, change_request in enumerate(top):
        AgendaItem.objects.create(meeting=planned, position=position,
                                  change_request=change_request)
    AgendaItem.objects.create(meeting=planned, position=len(top),
                              title="Demonstration: bulk moves when a venue closes")
    AgendaItem.objects.create(meeting=planned, position=len(top) + 1,
                              title="Any other business")
    return past, planned
