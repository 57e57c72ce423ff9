"""Demo data for the two demo clients (essex: English; south-wales: bilingual Welsh/English).

`seed_client_demo(organisation, *, today=None)` fills one client's schema with venues, trainers,
six weeks of course dates, a few hundred offers and bookings in every status, going through the
booking services wherever a service exists. `booking/management/commands/seed_demo.py` calls it
for each demo client and prints the demo offers below.

Idempotent: everything is keyed on fixed names and references (venues by name, trainers by email,
course dates by course, venue or online, and start time, offers by reference), so running it
again the same day adds nothing. Running it on a later day tops the timetable up to six weeks
ahead, expires offers whose critical date has passed (the real `expire_offers` service), and
moves the demo offers' dates forward while they are still unbooked (through the real offer
import, which logs "offer.updated"); the generated offers and their bookings are never touched
again.

Demo offers (find them at /start on each client's site with reference + date of birth; the
postcode is optional on that form). All are "offered" when seeded, with a critical date 9 weeks
and a booking-period end 5 weeks after the day of seeding, and the course's normal fee
(NSAC £95, NMAC £100, WDU £135):

    reference      date of birth  postcode  course  correspondence  name
    ESX-DEMO-001   1980-01-15     CM1 2AB   NSAC    English         Alex Morgan
    ESX-DEMO-002   1975-06-30     CO4 3AB   NSAC    English         Jordan Patel
    ESX-DEMO-003   1992-11-02     SS1 2AB   NMAC    English         Sam Okafor
    ESX-DEMO-004   1968-03-21     CM20 2AB  WDU     English         Chris Nowak
    ESX-DEMO-005   2001-09-09     SS14 3AB  NSAC    English         Robin Hughes
    SWA-DEMO-001   1980-01-15     CF10 1AB  NSAC    English         Alex Morgan
    SWA-DEMO-002   1975-06-30     SA1 3AB   NSAC    Welsh           Siân Prydderch
    SWA-DEMO-003   1992-11-02     NP20 2AB  NMAC    English         Sam Okafor
    SWA-DEMO-004   1968-03-21     CF47 8AB  NSAC    Welsh           Dafydd ap Rhys
    SWA-DEMO-005   2001-09-09     CF31 1AB  WDU     English         Robin Hughes

What else each client gets:

- 6 venues with real postcodes (5 active, 1 inactive), placed with integrations.postcodes.locate,
  with varied step-free / hearing-loop / parking flags (Welsh directions in south-wales);
- 6 trainers qualified for NSAC and some for NMAC / WDU, never on two sessions at once;
- course dates from 3 days to 6 weeks ahead: NSAC at every active venue on three weekdays a week
  (mornings 09:00, afternoons 13:30, evenings 18:00), NMAC weekly at two venues and online, WDU
  fortnightly at two venues and online, online NSAC every Tuesday and Thursday evening and
  Saturday morning; capacities 20–24; in south-wales Welsh-language ("cy") NSAC dates at Swansea
  and Merthyr Tydfil and an online Welsh NSAC every Wednesday evening;
- 300 offers with deterministic pseudo-random names, dates of birth, postcodes in the area,
  critical dates 4–16 weeks ahead and booking-period ends 2–6 weeks ahead (about a fifth Welsh
  correspondence in south-wales), 250 by the CSV/API import and 50 historic ones;
- offers in every status and bookings in every status: confirmed (online + payment, telephone +
  payment, administrator with the fee waived), pending payment, transferred (the transfer fee
  paid where the notice was short), a move waiting for its transfer fee, cancelled, and — on
  eight completed course dates 1–5 weeks ago — completed, did not attend, refused entry and not
  completed, via `record_outcome`; offers expired by `expire_offers` and withdrawn by
  `withdraw_offer`; and, because no service sets them yet, special-arrangement and cancelled
  offers set directly with an event each.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django_tenants.utils import schema_context

from booking.models import (
    Booking,
    Channel,
    CourseSession,
    CourseType,
    DeliveryMode,
    Hold,
    Language,
    Offer,
    OfferEvent,
    Trainer,
    Venue,
)
from booking.services.bookings import ContactDetails, FeeWaiver, book, confirm_booking, place_hold
from booking.services.changes import (
    cancel_booking,
    complete_transfer,
    transfer_booking,
    withdraw_offer,
)
from booking.services.closures import Nation, closed_days
from booking.services.events import log_event
from booking.services.offer_import import import_offers
from booking.services.offers import expire_offers, record_outcome
from booking.services.rules import BookingRefused, fee_breakdown, policy_snapshot
from booking.services.search import search_sessions
from booking.services.seats import REFERENCE_ALPHABET
from integrations import postcodes

GENERATED_OFFERS = 300
HISTORIC_OFFERS = 40  # of the 300: booked on past course dates, with outcomes
EXPIRED_OFFERS = 10  # of the 300: critical date passed, never booked
FIRST_DAY = 3  # course dates from today + 3 days ...
LAST_DAY = 42  # ... to today + 6 weeks
HISTORY_DAYS = 60  # past course dates go back at most five weeks and a few days
SLOTS = {"morning": time(9, 0), "afternoon": time(13, 30), "evening": time(18, 0)}
AGENT = "agent@waymark.test"  # the contact-centre agent on telephone bookings
OFFENDER = "offender"  # the actor of the online journey (booking/site/journey.py)
PAYMENTS = "payments"  # the card-payment confirmation

# What happens to each generated offer that is not historic or expired, in order of the
# shuffled list. The rest stay "offered".
PLANS = (
    [("confirmed", Channel.ONLINE)] * 40 + [("confirmed", Channel.TELEPHONE)] * 22
    + [("confirmed", Channel.ADMIN)] * 12
    + [("pending", Channel.ONLINE)] * 7 + [("pending", Channel.TELEPHONE)] * 3
    + [("transferred", Channel.ONLINE)] * 6 + [("transferred", Channel.TELEPHONE)] * 4
    + [("transfer_pending", Channel.ONLINE)] * 2
    + [("cancelled", Channel.ONLINE)] * 6 + [("cancelled", Channel.TELEPHONE)] * 4
    + [("withdrawn", None)] * 5 + [("special_arrangement", None)] * 4
    + [("offer_cancelled", Channel.TELEPHONE)] * 2
)
OUTCOME_PLAN = ([Booking.Status.COMPLETED] * 29 + [Booking.Status.DID_NOT_ATTEND] * 5
                + [Booking.Status.REFUSED_ENTRY] * 3 + [Booking.Status.NOT_COMPLETED] * 3)


# --- The clients' data ---------------------------------------------------------------------

@dataclass(frozen=True)
class DemoVenue:
    name: str
    address: str
    town: str
    postcode: str
    capacity: int
    step_free: bool
    hearing_loop: bool
    parking: bool
    directions_en: str
    directions_cy: str = ""
    welsh: bool = False  # runs Welsh-language dates
    active: bool = True
    name_cy: str = ""  # a bilingual client's Welsh name for the venue


@dataclass(frozen=True)
class DemoTrainer:
    full_name: str
    email: str
    course_types: tuple[str, ...]
    welsh: bool = False


@dataclass(frozen=True)
class DemoOffer:
    reference: str
    date_of_birth: date
    postcode: str
    course_type: str
    language: str
    first_name: str
    last_name: str


CLIENTS = {
    "essex": {
        "prefix": "ESX",
        "welsh": False,
        "venues": [
            DemoVenue("County Hall", "Market Road", "Chelmsford", "CM1 1QH", 30, True, True,
                      False, "Five minutes' walk from Chelmsford station. Pay-and-display "
                      "parking in the High Chelmer car park."),
            DemoVenue("Colchester Town Hall", "High Street", "Colchester", "CO1 1PJ", 24, True,
                      False, False, "On the High Street; the nearest car park is St Mary's."),
            DemoVenue("Basildon Centre", "St Martin's Square", "Basildon", "SS14 1DL", 26, True,
                      True, True, "Next to the town square. Free parking for course "
                      "attendees: ask at reception for a permit."),
            DemoVenue("Southend Civic Centre", "Victoria Avenue", "Southend-on-Sea", "SS2 6ER",
                      24, False, True, True, "Ten minutes from Southend Victoria station. The "
                      "training room is up a flight of stairs."),
            DemoVenue("Harlow Civic Centre", "The Water Gardens", "Harlow", "CM20 1WG", 24, True,
                      False, True, "In the Water Gardens, by the town centre car parks."),
            DemoVenue("Clacton Town Hall", "Station Road", "Clacton-on-Sea", "CO15 1SE", 24,
                      False, False, True, "Closed for refurbishment.", active=False),
        ],
        "trainers": [
            DemoTrainer("Helen Marsh", "helen.marsh@essex.test", ("NSAC", "NMAC")),
            DemoTrainer("David Okafor", "david.okafor@essex.test", ("NSAC", "WDU")),
            DemoTrainer("Priya Shah", "priya.shah@essex.test", ("NSAC",)),
            DemoTrainer("Tom Whitlock", "tom.whitlock@essex.test", ("NSAC", "NMAC")),
            DemoTrainer("Grace Adeyemi", "grace.adeyemi@essex.test", ("NSAC", "WDU")),
            DemoTrainer("Martin Cole", "martin.cole@essex.test", ("NSAC",)),
        ],
        "districts": ["CM1", "CM2", "CM3", "CM7", "CM8", "CM9", "CM11", "CM12", "CM13",
                      "CM17", "CM18", "CM19", "CM20", "CO1", "CO2", "CO3", "CO4", "CO5", "CO6",
                      "CO7", "CO15", "CO16", "SS0", "SS1", "SS2", "SS3", "SS5", "SS6", "SS7",
                      "SS8", "SS9", "SS11", "SS12", "SS13", "SS14", "SS15", "SS16", "SS17"],
        "first_names": [("Oliver", "m"), ("Amelia", "f"), ("Harry", "m"), ("Isla", "f"),
                        ("George", "m"), ("Ava", "f"), ("Jack", "m"), ("Emily", "f"),
                        ("Mohammed", "m"), ("Sophie", "f"), ("Daniel", "m"), ("Chloe", "f"),
                        ("Aleksander", "m"), ("Zofia", "f"), ("Kwame", "m"), ("Priya", "f"),
                        ("Liam", "m"), ("Grace", "f"), ("Chidi", "m"), ("Zoë", "f")],
        "last_names": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Johnson", "Davies",
                       "Patel", "Wright", "Walker", "Robinson", "Thompson", "Khan", "Nowak",
                       "Mensah", "Clarke", "Hughes", "Green", "O'Brien", "Hall-Jones"],
        "streets": ["High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane",
                    "Park Avenue", "The Green", "Queen's Road", "London Road", "Manor Way"],
        "demo_offers": [
            DemoOffer("ESX-DEMO-001", date(1980, 1, 15), "CM1 2AB", "NSAC", "en", "Alex",
                      "Morgan"),
            DemoOffer("ESX-DEMO-002", date(1975, 6, 30), "CO4 3AB", "NSAC", "en", "Jordan",
                      "Patel"),
            DemoOffer("ESX-DEMO-003", date(1992, 11, 2), "SS1 2AB", "NMAC", "en", "Sam",
                      "Okafor"),
            DemoOffer("ESX-DEMO-004", date(1968, 3, 21), "CM20 2AB", "WDU", "en", "Chris",
                      "Nowak"),
            DemoOffer("ESX-DEMO-005", date(2001, 9, 9), "SS14 3AB", "NSAC", "en", "Robin",
                      "Hughes"),
        ],
    },
    "south-wales": {
        "prefix": "SWA",
        "welsh": True,
        "venues": [
            DemoVenue("City Hall", "Cathays Park", "Cardiff", "CF10 3ND", 30, True, True, False,
                      "Ten minutes' walk from Cardiff Queen Street station. No parking on "
                      "site; use the North Road car park.",
                      "Deng munud ar droed o orsaf Caerdydd Heol y Frenhines. Does dim parcio "
                      "ar y safle; defnyddiwch faes parcio Heol y Gogledd.", name_cy="Neuadd y Ddinas"),
            DemoVenue("Guildhall", "Oystermouth Road", "Swansea", "SA1 4PE", 26, True, True,
                      True, "Opposite the seafront. Free parking at the front of the building.",
                      "Gyferbyn â glan y môr. Parcio am ddim o flaen yr adeilad.", welsh=True,
                      name_cy="Neuadd y Ddinas"),
            DemoVenue("Civic Centre", "Godfrey Road", "Newport", "NP20 4UR", 24, True, False,
                      True, "Up the hill from Newport station, about fifteen minutes' walk. "
                      "Visitor parking behind the building.",
                      "I fyny'r bryn o orsaf Casnewydd, tua chwarter awr ar droed. Parcio i "
                      "ymwelwyr y tu ôl i'r adeilad.", name_cy="Canolfan Ddinesig"),
            DemoVenue("Civic Offices", "Angel Street", "Bridgend", "CF31 4WB", 24, False, True,
                      False, "In the town centre, five minutes from Bridgend station. The "
                      "training room is on the first floor, up stairs.",
                      "Yng nghanol y dref, bum munud o orsaf Pen-y-bont ar Ogwr. Mae'r ystafell "
                      "hyfforddi ar y llawr cyntaf, i fyny'r grisiau.", name_cy="Swyddfeydd Dinesig"),
            DemoVenue("Civic Centre", "Castle Street", "Merthyr Tydfil", "CF47 8AN", 24, True,
                      False, True, "Next to the bus station. Lift to the first-floor training "
                      "room.", "Drws nesaf i'r orsaf fysiau. Lifft i'r ystafell hyfforddi ar y "
                      "llawr cyntaf.", welsh=True, name_cy="Canolfan Ddinesig"),
            DemoVenue("Llys Cadwyn", "Taff Street", "Pontypridd", "CF37 4TH", 24, True, True,
                      False, "No longer used for courses.", "Ddim yn cael ei ddefnyddio mwyach.",
                      active=False),
        ],
        "trainers": [
            DemoTrainer("Rhian Evans", "rhian.evans@south-wales.test", ("NSAC", "NMAC"),
                        welsh=True),
            DemoTrainer("Gareth Price", "gareth.price@south-wales.test", ("NSAC", "WDU"),
                        welsh=True),
            DemoTrainer("Siân Lewis", "sian.lewis@south-wales.test", ("NSAC",), welsh=True),
            DemoTrainer("Mark Thomas", "mark.thomas@south-wales.test", ("NSAC", "NMAC")),
            DemoTrainer("Aisha Khan", "aisha.khan@south-wales.test", ("NSAC", "WDU")),
            DemoTrainer("Owen Jenkins", "owen.jenkins@south-wales.test", ("NSAC",)),
        ],
        "districts": ["CF3", "CF5", "CF10", "CF11", "CF14", "CF23", "CF24", "CF31", "CF32",
                      "CF33", "CF35", "CF37", "CF38", "CF40", "CF44", "CF47", "CF48", "CF62",
                      "CF63", "CF64", "SA1", "SA2", "SA3", "SA4", "SA5", "SA6", "SA7", "SA10",
                      "SA11", "SA12", "NP19", "NP20"],
        "first_names": [("Rhys", "m"), ("Cerys", "f"), ("Dafydd", "m"), ("Siân", "f"),
                        ("Gareth", "m"), ("Angharad", "f"), ("Owain", "m"), ("Ffion", "f"),
                        ("Iwan", "m"), ("Nia", "f"), ("Tomos", "m"), ("Megan", "f"),
                        ("Ieuan", "m"), ("Carys", "f"), ("Aled", "m"), ("Lowri", "f"),
                        ("James", "m"), ("Chloe", "f"), ("Mohammed", "m"), ("Amira", "f")],
        "last_names": ["Jones", "Williams", "Davies", "Evans", "Thomas", "Roberts", "Hughes",
                       "Lewis", "Morgan", "Griffiths", "Price", "Owen", "Rees", "Jenkins",
                       "Powell", "Ali", "Edwards", "ap Gwilym", "Llewellyn", "Pritchard"],
        "streets": ["High Street", "Station Road", "Heol y Parc", "Church Street",
                    "Heol Isaf", "Bryn Road", "Commercial Street", "Stryd Fawr", "Park Place",
                    "Ffordd y Brenin"],
        "demo_offers": [
            DemoOffer("SWA-DEMO-001", date(1980, 1, 15), "CF10 1AB", "NSAC", "en", "Alex",
                      "Morgan"),
            DemoOffer("SWA-DEMO-002", date(1975, 6, 30), "SA1 3AB", "NSAC", "cy", "Siân",
                      "Prydderch"),
            DemoOffer("SWA-DEMO-003", date(1992, 11, 2), "NP20 2AB", "NMAC", "en", "Sam",
                      "Okafor"),
            DemoOffer("SWA-DEMO-004", date(1968, 3, 21), "CF47 8AB", "NSAC", "cy", "Dafydd",
                      "ap Rhys"),
            DemoOffer("SWA-DEMO-005", date(2001, 9, 9), "CF31 1AB", "WDU", "en", "Robin",
                      "Hughes"),
        ],
    },
}
DEMO_CRITICAL_WEEKS = 9
DEMO_BOOKING_PERIOD_WEEKS = 5


# --- Entry point ---------------------------------------------------------------------------

def seed_client_demo(organisation, *, today: date | None = None) -> dict:
    """Seed one demo client (slug "essex" or "south-wales"); returns
    {"client", "demo_offers": [{reference, date_of_birth, postcode, course_type, language,
    name, critical_date, booking_period_end, status}], "counts": {...}}."""
    data = CLIENTS.get(organisation.slug)
    if data is None:
        raise ValueError(f"No demo data for client {organisation.slug!r}; demo clients: "
                         f"{', '.join(CLIENTS)}")
    real_now = timezone.now()
    today = today or timezone.localdate(real_now)
    if today == timezone.localdate(real_now):
        now = real_now
    else:
        now = timezone.make_aware(datetime.combine(today, timezone.localtime(real_now).time()))
    admin = _admin_label(organisation)
    with schema_context(organisation.schema_name):
        seeder = _Seeder(organisation.slug, data, today=today, now=now, admin=admin,
                         nation=organisation.nation)
        seeder.run()
        return {
            "client": organisation.slug,
            "demo_offers": seeder.demo_offer_rows(),
            "counts": demo_counts(),
        }


def demo_counts() -> dict:
    """Row counts of the current schema's booking tables, and offers and bookings by status."""
    return {
        "venues": Venue.objects.count(),
        "trainers": Trainer.objects.count(),
        "sessions": CourseSession.objects.count(),
        "welsh_sessions": CourseSession.objects.filter(language=Language.WELSH).count(),
        "online_sessions": CourseSession.objects.filter(delivery_mode=DeliveryMode.ONLINE).count(),
        "offers": Offer.objects.count(),
        "holds": Hold.objects.count(),
        "bookings": Booking.objects.count(),
        "events": OfferEvent.objects.count(),
        "offers_by_status": dict(Offer.objects.values_list("status").annotate(n=Count("pk"))
                                 .order_by("status")),
        "bookings_by_status": dict(Booking.objects.values_list("status").annotate(n=Count("pk"))
                                   .order_by("status")),
    }


def _admin_label(organisation) -> str:
    """The client administrator's e-mail (public schema), as the actor of admin actions."""
    from accounts.models import Membership
    from accounts.roles import Role

    membership = (Membership.objects.select_related("user")
                  .filter(organisation=organisation, role=Role.CLIENT_ADMIN)
                  .order_by("pk").first())
    return membership.user.email if membership else f"admin@{organisation.slug}.test"


def local_at(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


# --- The seeder ----------------------------------------------------------------------------

class _Seeder:
    def __init__(self, slug: str, data: dict, *, today: date, now: datetime, admin: str,
                 nation: str = Nation.ENGLAND_WALES):
        self.slug = slug
        self.data = data
        self.prefix = data["prefix"]
        self.welsh = data["welsh"]
        self.today = today
        self.now = now
        self.admin = admin
        self.course_types = {course_type.code: course_type
                             for course_type in CourseType.objects.all()}
        self.code_of = {course_type.pk: code for code, course_type in self.course_types.items()}
        self.venues: list[Venue] = []
        self.welsh_venue_ids: set[int] = set()
        self.trainers: list[tuple[Trainer, DemoTrainer]] = []
        # Bank holidays (and closures): the demo schedules nothing on them, as staff cannot.
        self.closed = set(closed_days(today - timedelta(days=HISTORY_DAYS),
                                      today + timedelta(days=LAST_DAY), nation=nation))

    def run(self) -> None:
        self.seed_venues()
        self.seed_trainers()
        self.seed_sessions(self.today + timedelta(days=FIRST_DAY),
                           self.today + timedelta(days=LAST_DAY))
        self.seed_offers()
        self.seed_demo_offers()
        # Offers whose critical date has passed go back to the police: the real service.
        expire_offers(today=self.today, actor="system")

    # --- venues, trainers, course dates ---------------------------------------------------

    def seed_venues(self) -> None:
        for spec in self.data["venues"]:
            place = postcodes.locate(spec.postcode)
            venue, _created = Venue.objects.get_or_create(
                name=spec.name, town=spec.town,
                defaults={
                    "address": f"{spec.name}\n{spec.address}\n{spec.town}",
                    "postcode": place.postcode, "latitude": place.latitude,
                    "longitude": place.longitude, "capacity": spec.capacity,
                    "step_free": spec.step_free, "hearing_loop": spec.hearing_loop,
                    "parking": spec.parking, "directions_en": spec.directions_en,
                    "directions_cy": spec.directions_cy, "is_active": spec.active,
                    "name_cy": spec.name_cy,
                },
            )
            if spec.name_cy and not venue.name_cy:  # fills a blank, never a staff edit
                venue.name_cy = spec.name_cy
                venue.save(update_fields=["name_cy"])
            if venue.is_active:
                self.venues.append(venue)
                if spec.welsh:
                    self.welsh_venue_ids.add(venue.pk)

    def seed_trainers(self) -> None:
        for spec in self.data["trainers"]:
            trainer, _created = Trainer.objects.get_or_create(
                email=spec.email, defaults={"full_name": spec.full_name})
            trainer.course_types.add(*(self.course_types[code] for code in spec.course_types))
            self.trainers.append((trainer, spec))

    def timetable(self, first: date, last: date) -> list[dict]:
        """The demo's regular timetable between two days (inclusive): a pure function of the
        day, so a later run makes exactly the same dates again and adds only new days. A venue
        never has two dates at once: a date whose slot is taken moves to the next free one."""
        rows = []
        day = first
        while day <= last:
            if day in self.closed:
                day += timedelta(days=1)
                continue
            weekday = day.weekday()
            week = day.isocalendar().week
            taken: set[tuple[int, str]] = set()

            def add(code, slot, venue=None, language="en", day=day, taken=taken):
                if venue is not None:
                    order = list(SLOTS)
                    for shift in range(len(order)):
                        candidate = order[(order.index(slot) + shift) % len(order)]
                        if (venue.pk, candidate) not in taken:
                            slot = candidate
                            break
                    else:
                        return
                    taken.add((venue.pk, slot))
                rows.append(dict(day=day, slot=slot, code=code, venue=venue, language=language))

            if len(self.venues) > 2:
                if weekday == 2:
                    add("NMAC", "morning", self.venues[0])
                if weekday == 3:
                    add("NMAC", "afternoon", self.venues[2])
                if weekday == 1 and week % 2 == 0:
                    add("WDU", "evening", self.venues[0])
                if weekday == 4 and week % 2 == 1:
                    add("WDU", "morning", self.venues[1])
            for index, venue in enumerate(self.venues):
                if weekday < 5 and (weekday + index) % 5 in (0, 2, 3):
                    welsh = self.welsh and venue.pk in self.welsh_venue_ids and (
                        (weekday + week) % 2 == 0)
                    add("NSAC", list(SLOTS)[(weekday + index + week) % 3], venue,
                        "cy" if welsh else "en")
            if weekday in (1, 3):
                add("NSAC", "evening")
            if weekday == 5:
                add("NSAC", "morning")
            if weekday == 2 and self.welsh:
                add("NSAC", "evening", language="cy")
            if weekday == 4:
                add("NMAC", "afternoon")
            if weekday == 0 and week % 2 == 1:
                add("WDU", "afternoon")
            day += timedelta(days=1)
        return rows

    def seed_sessions(self, first: date, last: date, *, status=CourseSession.Status.SCHEDULED,
                      rows: list[dict] | None = None) -> list[CourseSession]:
        """Create the timetable's missing course dates (keyed by course, venue or online, and
        start), each with a capacity of 20–24 and a free qualified trainer."""
        rows = self.timetable(first, last) if rows is None else rows
        wanted = []
        for row in rows:
            course_type = self.course_types[row["code"]]
            starts_at = local_at(row["day"], SLOTS[row["slot"]])
            venue = row["venue"]
            # A per-date seed keeps the capacity stable from run to run.
            capacity = random.Random(
                f"{self.slug}:{row['code']}:{venue.pk if venue else 'online'}:{starts_at}"
            ).randint(20, min(24, venue.capacity if venue else 24))
            wanted.append(CourseSession(
                course_type=course_type, venue=venue,
                delivery_mode=DeliveryMode.CLASSROOM if venue else DeliveryMode.ONLINE,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=course_type.duration_minutes),
                capacity=capacity, language=row.get("language", "en"), status=status,
                joining_url="" if venue else (
                    f"https://online-courses.example.org/{self.slug}/{row['code'].lower()}-"
                    f"{row['day']:%Y%m%d}-{SLOTS[row['slot']]:%H%M}"),
            ))
        if not wanted:
            return []
        existing = {
            (course_type_id, venue_id, starts_at): session_id
            for session_id, course_type_id, venue_id, starts_at in CourseSession.objects.filter(
                starts_at__gte=min(s.starts_at for s in wanted),
                starts_at__lte=max(s.starts_at for s in wanted),
            ).values_list("pk", "course_type_id", "venue_id", "starts_at")
        }
        new = [s for s in wanted
               if (s.course_type_id, s.venue_id, s.starts_at) not in existing]
        created = CourseSession.objects.bulk_create(new)
        self._assign_trainers(created)
        return created

    def _assign_trainers(self, sessions: list[CourseSession]) -> None:
        """One trainer per date (two for WDU), qualified for the course, Welsh-speaking for a
        Welsh date, and never on two overlapping dates; the least busy first."""
        if not sessions:
            return
        busy: dict[int, list[tuple[datetime, datetime]]] = {}
        load: dict[int, int] = {}
        through = CourseSession.trainers.through
        for trainer_id, starts_at, ends_at in through.objects.filter(
                coursesession__starts_at__lt=max(s.ends_at for s in sessions),
                coursesession__ends_at__gt=min(s.starts_at for s in sessions),
        ).values_list("trainer_id", "coursesession__starts_at", "coursesession__ends_at"):
            busy.setdefault(trainer_id, []).append((starts_at, ends_at))
            load[trainer_id] = load.get(trainer_id, 0) + 1
        def qualified(session):
            code = self.code_of[session.course_type_id]
            return [(trainer, spec) for trainer, spec in self.trainers
                    if code in spec.course_types and (session.language != "cy" or spec.welsh)]

        links = []
        # At each start time the dates with the fewest qualified trainers choose first; each
        # takes the free trainers with the fewest other qualifications, then the least busy.
        for session in sorted(sessions, key=lambda s: (s.starts_at, len(qualified(s)), s.pk)):
            code = self.code_of[session.course_type_id]
            free = [(trainer, spec) for trainer, spec in qualified(session)
                    if not any(start < session.ends_at and session.starts_at < end
                               for start, end in busy.get(trainer.pk, ()))]
            free.sort(key=lambda pair: (len(pair[1].course_types), load.get(pair[0].pk, 0),
                                        pair[0].pk))
            for trainer, _spec in free[:2 if code == "WDU" else 1]:
                links.append(through(coursesession_id=session.pk, trainer_id=trainer.pk))
                busy.setdefault(trainer.pk, []).append((session.starts_at, session.ends_at))
                load[trainer.pk] = load.get(trainer.pk, 0) + 1
        through.objects.bulk_create(links)

    # --- offers ---------------------------------------------------------------------------

    def seed_offers(self) -> None:
        rng = random.Random(f"waymark-demo:{self.slug}")
        sectors = _sectors_in(self.data["districts"])
        people = [self._person(rng, sectors, number)
                  for number in range(1, GENERATED_OFFERS + 1)]
        existing = set(Offer.objects.filter(
            reference__in=[person["reference"] for person in people]
        ).values_list("reference", flat=True))
        historic = people[:HISTORIC_OFFERS]
        expired = people[HISTORIC_OFFERS:HISTORIC_OFFERS + EXPIRED_OFFERS]
        current = people[HISTORIC_OFFERS + EXPIRED_OFFERS:]
        plans = list(PLANS) + [("offered", None)] * (len(current) - len(PLANS))
        random.Random(f"waymark-demo-plans:{self.slug}").shuffle(plans)

        if historic[0]["reference"] not in existing:
            self.seed_history(historic, rng)
        new_expired = [person for person in expired if person["reference"] not in existing]
        if new_expired:
            self.seed_expired(new_expired, rng)

        new_current = [(person, plan) for person, plan in zip(current, plans, strict=True)
                       if person["reference"] not in existing]
        if not new_current:
            return
        for source in ("csv", "api"):
            rows = [self._import_row(person) for person, _plan in new_current
                    if person["source"] == source]
            if rows:
                import_offers(rows, source=source, actor=self.admin if source == "csv"
                              else "police-referral-feed",
                              channel=Channel.ADMIN if source == "csv" else Channel.API)
        offers = {offer.reference: offer for offer in Offer.objects.select_related(
            "course_type").filter(reference__in=[p["reference"] for p, _plan in new_current])}
        plan_rng = random.Random(f"waymark-demo-bookings:{self.slug}")
        for person, (plan, channel) in new_current:
            self.carry_out(offers[person["reference"]], plan, channel, person, plan_rng)

    def _person(self, rng: random.Random, sectors: list[str], number: int) -> dict:
        first_name, sex = rng.choice(self.data["first_names"])
        last_name = rng.choice(self.data["last_names"])
        code = rng.choices(["NSAC", "NMAC", "WDU"], weights=[80, 12, 8])[0]
        critical_date = self.today + timedelta(days=rng.randint(28, 112))
        offence_date = critical_date - timedelta(days=rng.randint(120, 160))
        date_of_birth = offence_date - timedelta(days=rng.randint(17 * 365, 82 * 365))
        booking_period_end = min(critical_date, self.today + timedelta(days=rng.randint(14, 42)))
        welsh_name = first_name in {"Rhys", "Cerys", "Dafydd", "Siân", "Angharad", "Owain",
                                    "Ffion", "Iwan", "Nia", "Tomos", "Ieuan", "Carys", "Aled",
                                    "Lowri"}
        language = "cy" if self.welsh and rng.random() < (0.35 if welsh_name else 0.08) else "en"
        sector = rng.choice(sectors)
        postcode = f"{sector}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
        handle = _ascii(f"{first_name}.{last_name}").lower().replace(" ", "").replace("'", "")
        return {
            "reference": f"{self.prefix}-{number:06d}",
            "course_type": code,
            "offence_date": offence_date,
            "critical_date": critical_date,
            "booking_period_end": booking_period_end,
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": date_of_birth,
            "address": f"{rng.randint(1, 180)} {rng.choice(self.data['streets'])}",
            "postcode": postcode,
            "email": f"{handle}{number}@example.com" if rng.random() < 0.85 else "",
            "phone": f"07700 900{rng.randint(0, 999):03d}" if rng.random() < 0.9 else "",
            "licence_number": _licence_number(last_name, first_name, date_of_birth, sex, rng),
            "language": language,
            "source": "api" if rng.random() < 0.2 else "csv",
        }

    @staticmethod
    def _import_row(person: dict) -> dict:
        return {name: (value.isoformat() if isinstance(value, date) else value)
                for name, value in person.items() if name != "source"}

    def _create_offer_directly(self, person: dict, imported_at: datetime) -> Offer:
        """For past-dated offers only: the import service stamps everything with the present,
        so historic and expired offers are written here, with their import event back-dated."""
        offer = Offer(
            reference=person["reference"],
            course_type=self.course_types[person["course_type"]],
            offence_date=person["offence_date"], booking_period_end=person["booking_period_end"],
            critical_date=person["critical_date"], first_name=person["first_name"],
            last_name=person["last_name"], date_of_birth=person["date_of_birth"],
            address=person["address"], postcode=postcodes.normalise(person["postcode"]),
            email=person["email"], licence_number=person["licence_number"],
            language=person["language"], source=person["source"], status=Offer.Status.OFFERED,
        )
        offer.set_phone(person["phone"])
        offer.save()
        Offer.objects.filter(pk=offer.pk).update(created_at=imported_at, updated_at=imported_at)
        log_event(offer, "offer.imported", channel=Channel.ADMIN if person["source"] == "csv"
                  else Channel.API, actor=self.admin if person["source"] == "csv"
                  else "police-referral-feed", now=imported_at,
                  after={"reference": offer.reference, "source": person["source"]})
        return offer

    def seed_expired(self, people: list[dict], rng: random.Random) -> None:
        """Offers never booked whose critical date passed in the last month; run() then
        expires them with the real expire_offers service."""
        for person in people:
            critical_date = self.today - timedelta(days=rng.randint(1, 30))
            person.update(
                critical_date=critical_date,
                offence_date=critical_date - timedelta(days=rng.randint(120, 160)),
                booking_period_end=critical_date - timedelta(days=rng.randint(7, 21)),
            )
            self._create_offer_directly(
                person, local_at(person["offence_date"] + timedelta(days=rng.randint(5, 12)),
                                 time(7, 30)))

    def _open_weekday_on_or_before(self, day: date) -> date:
        day = _weekday_on_or_before(day)
        while day in self.closed:
            day = _weekday_on_or_before(day - timedelta(days=1))
        return day

    def seed_history(self, people: list[dict], rng: random.Random) -> None:
        """Course dates 1–5 weeks ago, status completed, with bookings and outcomes.

        The booking services refuse dates in the past, so the bookings are written directly in
        this one block: each a confirmed Booking with its fee and policy snapshot, the session's
        seats_booked raised with it (the check constraint still guards it), a back-dated
        "booking.confirmed" event, then the outcome through the real record_outcome service.
        """
        rows = []
        for weeks_ago, (index, slot) in zip(range(5, 0, -1), [(0, "morning"), (1, "afternoon"),
                                                               (2, "evening"), (3, "morning"),
                                                               (4, "afternoon")], strict=True):
            day = self._open_weekday_on_or_before(self.today - timedelta(weeks=weeks_ago, days=index % 3))
            rows.append(dict(day=day, slot=slot, code="NSAC",
                             venue=self.venues[index % len(self.venues)],
                             language="cy" if self.welsh and index == 1 else "en"))
        rows.append(dict(day=self._open_weekday_on_or_before(self.today - timedelta(days=9)),
                         slot="evening", code="NSAC", venue=None))
        rows.append(dict(day=self._open_weekday_on_or_before(self.today - timedelta(days=16)),
                         slot="morning", code="NMAC", venue=self.venues[0]))
        rows.append(dict(day=self._open_weekday_on_or_before(self.today - timedelta(days=23)),
                         slot="evening", code="WDU", venue=self.venues[0]))
        sessions = self.seed_sessions(self.today, self.today, rows=rows,
                                      status=CourseSession.Status.COMPLETED)
        if not sessions:
            return
        by_code: dict[str, list[CourseSession]] = {}
        for session in sessions:
            by_code.setdefault(self.code_of[session.course_type_id],
                               []).append(session)
        outcomes = list(OUTCOME_PLAN)
        random.Random(f"waymark-demo-outcomes:{self.slug}").shuffle(outcomes)
        # --- Historic bookings, written directly (see the docstring) ---------------------------
        for number, (person, outcome) in enumerate(zip(people, outcomes, strict=True)):
            choices = by_code.get(person["course_type"]) or by_code["NSAC"]
            session = choices[number % len(choices)]
            course_type = self.code_of[session.course_type_id]
            session_day = timezone.localdate(session.starts_at)
            booked_at = session.starts_at - timedelta(days=rng.randint(6, 30), hours=rng.randint(
                1, 9))
            person.update(
                course_type=course_type,
                offence_date=session_day - timedelta(days=rng.randint(45, 90)),
                critical_date=session_day + timedelta(days=rng.randint(5, 60)),
                booking_period_end=session_day + timedelta(days=rng.randint(0, 4)),
                language=session.language if session.language == "cy" else person["language"],
            )
            imported_at = local_at(person["offence_date"] + timedelta(days=rng.randint(3, 10)),
                                   time(7, 30))
            booked_at = max(booked_at, imported_at + timedelta(days=1))
            offer = self._create_offer_directly(person, imported_at)
            channel = rng.choices([Channel.ONLINE, Channel.TELEPHONE, Channel.ADMIN],
                                  weights=[60, 30, 10])[0]
            actor = {Channel.ONLINE: OFFENDER, Channel.TELEPHONE: AGENT}.get(channel, self.admin)
            ctype = self.course_types[course_type]
            fees = fee_breakdown(ctype)
            # One transaction per booking, as a service would: the event's usage row with it.
            with transaction.atomic():
                booking = Booking.objects.create(
                    reference="".join(rng.choice(REFERENCE_ALPHABET) for _ in range(8)),
                    offer=offer, session=session, channel=channel,
                    status=Booking.Status.CONFIRMED, fee_pence=fees["total_pence"],
                    fee_snapshot=fees, policy_snapshot=policy_snapshot(ctype), made_by=actor,
                    confirmed_at=booked_at,
                )
                Booking.objects.filter(pk=booking.pk).update(created_at=booked_at)
                CourseSession.objects.filter(pk=session.pk).update(
                    seats_booked=F("seats_booked") + 1)
                offer.status = Offer.Status.BOOKED
                offer.save(update_fields=["status"])
                Offer.objects.filter(pk=offer.pk).update(updated_at=booked_at)
                log_event(offer, "booking.confirmed", channel=channel, actor=actor, booking=booking,
                          now=booked_at, after={"session": session.pk, "status": booking.status,
                                                "fee_pence": booking.fee_pence,
                                                "note": "demo history, written directly"})
            # --- end of the direct writes: the outcome goes through the service ---------------
            trainer = session.trainers.order_by("pk").first()
            record_outcome(
                booking.pk, outcome, actor=trainer.email if trainer else self.admin,
                now=session.ends_at + timedelta(minutes=rng.randint(10, 90)),
                note=OUTCOME_NOTES.get(outcome, ""),
                id_seen="" if outcome == Booking.Status.REFUSED_ENTRY else "driving licence",
            )

    def carry_out(self, offer: Offer, plan: str, channel: str | None, person: dict,
                  rng: random.Random) -> None:
        """Take one imported offer to its planned status through the services. A plan that
        finds no course date (none before the critical date) leaves the offer offered."""
        if plan == "offered":
            return
        if plan == "withdrawn":
            withdraw_offer(offer.pk, reason=STATUS_REASONS[plan], actor=self.admin,
                           channel=Channel.ADMIN, now=self.now)
            return
        if plan == "special_arrangement":
            self._set_status_directly(offer, plan)
            return
        session = (self._soonest_session(offer) if plan == "transfer_pending"
                   else self._choose_session(offer, rng))
        if session is None:
            return
        try:
            if plan == "pending":
                self._hold_and_book(offer, session, channel)
                return
            booking = self._confirmed_booking(offer, session, channel, rng)
            if plan in ("transferred", "transfer_pending"):
                other = self._choose_session(offer, rng, exclude=session.pk)
                if other is not None:
                    move = transfer_booking(booking.pk, other.pk, channel=channel,
                                            actor=_actor(channel, self.admin), now=self.now)
                    if plan == "transferred":
                        self._pay_transfer_fee(move, channel)
            elif plan in ("cancelled", "offer_cancelled"):
                cancel_booking(booking.pk, channel=channel, actor=_actor(channel, self.admin),
                               reason=rng.choice(CANCEL_REASONS), now=self.now)
                if plan == "offer_cancelled":
                    offer.refresh_from_db()
                    self._set_status_directly(offer, "cancelled")
        except BookingRefused:
            # Only possible if the chosen date filled up meanwhile; the offer stays as it is.
            return

    def _set_status_directly(self, offer: Offer, status: str) -> None:
        """No service opens a special arrangement or closes an offer as cancelled yet, so the
        demo sets these directly, with the event the timeline reads."""
        before = offer.status
        offer.status = status
        if status == Offer.Status.SPECIAL_ARRANGEMENT:
            offer.access_notes = "Asked to pay in two instalments; needs a BSL interpreter."
            offer.access_requirements = ["interpreter"]
        offer.save()
        log_event(offer, f"offer.{status}", channel=Channel.ADMIN, actor=self.admin,
                  now=self.now, before={"status": before},
                  after={"status": status, "reason": STATUS_REASONS[status]})

    def _choose_session(self, offer: Offer, rng: random.Random, *,
                        exclude: int | None = None) -> CourseSession | None:
        online = rng.random() < 0.25
        welsh_only = offer.language == Language.WELSH and rng.random() < 0.7
        for online_, welsh_ in ((online, welsh_only), (online, False), (not online, False)):
            options = search_sessions(
                offer, now=self.now, online=online_, welsh_only=welsh_,
                near_postcode="" if online_ else offer.postcode,
                sort="date" if online_ else "distance")
            options = [option for option in options[:8] if option.session.pk != exclude]
            if options:
                return rng.choice(options).session
        return None

    def _soonest_session(self, offer: Offer) -> CourseSession | None:
        """The soonest date that can still be changed: inside the free-transfer notice, so a
        move from it waits for its transfer fee."""
        options = search_sessions(offer, now=self.now, sort="date")
        return options[0].session if options else None

    def _pay_transfer_fee(self, move: Booking, channel: str) -> None:
        """A move inside the notice waits for its fee: the demo's card payment settles it, as
        settle_payment would."""
        if move.status != Booking.Status.TRANSFER_PENDING:
            return
        complete_transfer(move.pk, channel=channel,
                          actor=AGENT if channel == Channel.TELEPHONE else PAYMENTS, now=self.now,
                          payment={"payment_intent": f"pi_demo_{move.reference.lower()}",
                                   "amount_pence": move.amount_due_pence,
                                   "method": "moto" if channel == Channel.TELEPHONE else "card"})

    def _hold_and_book(self, offer: Offer, session: CourseSession, channel: str) -> Booking:
        """The online (or telephone) flow up to payment: the booking waits, the hold keeps the
        seat for 15 minutes."""
        actor = _actor(channel, self.admin)
        place_hold(offer.pk, session.pk, channel=channel, actor=actor, now=self.now)
        return book(offer.pk, channel=channel, actor=actor, now=self.now, details=ContactDetails(
            email=offer.email, phone=offer.phone, language=offer.language))

    def _confirmed_booking(self, offer, session, channel, rng) -> Booking:
        if channel == Channel.ADMIN:
            return book(offer.pk, session_id=session.pk, channel=channel, actor=self.admin,
                        now=self.now, waiver=FeeWaiver(ADMIN_WAIVER_REASON))
        booking = self._hold_and_book(offer, session, channel)
        # Online: the card payment's confirmation; by telephone the agent takes the payment.
        return confirm_booking(booking.pk, channel=channel,
                               actor=AGENT if channel == Channel.TELEPHONE else PAYMENTS,
                               now=self.now,
                               payment={"payment_intent": f"pi_demo_{booking.reference.lower()}",
                                        "amount_pence": booking.fee_pence,
                                        "method": "moto" if channel == Channel.TELEPHONE
                                        else "card"})

    # --- the documented demo offers ---------------------------------------------------------

    def seed_demo_offers(self) -> None:
        """Through the import (source "api"): created the first time; on a later day, still
        unbooked ones get their dates moved forward ("offer.updated"); booked ones are left.
        Only the dates: for a demo offer that exists, the row carries what is stored for
        everything else, so whatever someone typed since (an e-mail address, a phone number,
        the letter language) stays, and a run that moves nothing sends nothing."""
        stored = {offer.reference: offer for offer in Offer.objects.filter(
            reference__in=[spec.reference for spec in self.data["demo_offers"]])}
        rows = []
        for spec in self.data["demo_offers"]:
            critical_date = self.today + timedelta(weeks=DEMO_CRITICAL_WEEKS)
            rows.append({
                "reference": spec.reference, "course_type": spec.course_type,
                "offence_date": (self.today - timedelta(days=30)).isoformat(),
                "booking_period_end": (self.today + timedelta(weeks=DEMO_BOOKING_PERIOD_WEEKS))
                .isoformat(),
                "critical_date": critical_date.isoformat(),
                "first_name": spec.first_name, "last_name": spec.last_name,
                "date_of_birth": spec.date_of_birth.isoformat(),
                "address": "1 Demo Street", "postcode": spec.postcode,
                "email": f"{spec.reference.lower()}@example.com", "phone": "07700 900000",
                "licence_number": _licence_number(spec.last_name, spec.first_name,
                                                  spec.date_of_birth, "m",
                                                  random.Random(spec.reference)),
                "language": spec.language,
            })
            offer = stored.get(spec.reference)
            if offer is None:
                continue
            if (offer.status != Offer.Status.OFFERED
                    or offer.critical_date >= critical_date):
                rows.pop()  # booked, closed, or already dated from today: nothing to move
                continue
            rows[-1].update({name: _row_value(getattr(offer, name)) for name in (
                "first_name", "last_name", "date_of_birth", "address", "postcode", "email",
                "phone", "licence_number", "language")})
        if rows:
            import_offers(rows, source="api", actor="police-referral-feed", channel=Channel.API)

    def demo_offer_rows(self) -> list[dict]:
        offers = {offer.reference: offer for offer in Offer.objects.filter(
            reference__in=[spec.reference for spec in self.data["demo_offers"]])}
        rows = []
        for spec in self.data["demo_offers"]:
            offer = offers[spec.reference]
            rows.append({
                "reference": offer.reference, "date_of_birth": offer.date_of_birth,
                "postcode": offer.postcode, "course_type": spec.course_type,
                "language": offer.language, "name": offer.full_name,
                "critical_date": offer.critical_date,
                "booking_period_end": offer.booking_period_end, "status": offer.status,
            })
        return rows


# --- Helpers -------------------------------------------------------------------------------

INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters an inward code uses (no C I K M O V)
ADMIN_WAIVER_REASON = "Booked by the administrators after a complaint; fee waived as goodwill."
CANCEL_REASONS = ["Cannot get time off work", "Booked the wrong date", "Childcare",
                  "Decided to take the penalty instead", "Moving away"]
OUTCOME_NOTES = {
    Booking.Status.DID_NOT_ATTEND: "No show; no contact before the course.",
    Booking.Status.REFUSED_ENTRY: "Arrived 20 minutes late; no photo ID.",
    Booking.Status.NOT_COMPLETED: "Left at the break.",
}
STATUS_REASONS = {
    Offer.Status.WITHDRAWN: "Withdrawn by the police: the offence is going to court.",
    Offer.Status.SPECIAL_ARRANGEMENT: "Special circumstances referred to the administrators.",
    Offer.Status.CANCELLED: "The person cancelled and does not want another date.",
}


def _row_value(value) -> str:
    """A stored offer's value as an import cell (dates as YYYY-MM-DD)."""
    return value.isoformat() if isinstance(value, date) else str(value or "")


def _actor(channel: str, admin: str) -> str:
    return {Channel.ONLINE: OFFENDER, Channel.TELEPHONE: AGENT}.get(channel, admin)


def _sectors_in(districts: list[str]) -> list[str]:
    """Every sector ("CM1 1") of these districts in the postcode data, in a stable order."""
    wanted = set(districts)
    return sorted(area for area in postcodes._sectors() if area.split(" ")[0] in wanted)


def _weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _licence_number(last_name: str, first_name: str, born: date, sex: str,
                    rng: random.Random) -> str:
    """A GB driving licence number in the DVLA's shape: surname (5, padded with 9), decade,
    month (+50 for women), day, year digit, initials (2, padded with 9), a digit, two letters."""
    surname = "".join(ch for ch in _ascii(last_name).upper() if ch.isalpha())[:5].ljust(5, "9")
    month = born.month + (50 if sex == "f" else 0)
    initials = _ascii(first_name).upper()[:1].ljust(2, "9")
    return (f"{surname}{str(born.year)[2]}{month:02d}{born.day:02d}{str(born.year)[3]}"
            f"{initials}9{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}")
