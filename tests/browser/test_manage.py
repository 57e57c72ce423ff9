"""Client administration in a real browser, checked with axe-core on every page: an
administrator signs in and sets up a venue, a course type, a trainer and a weekly series; a
trainer records outcomes; an auditor reads everything and can change nothing."""

import io
from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from PIL import Image

from accounts.roles import Role
from booking.models import Booking, CourseSession, CourseType, Trainer, Venue

from ..conftest import PASSWORD, make_user
from ..factories import CourseSessionFactory, OfferFactory, TrainerFactory, VenueFactory, book_offer
from .conftest import assert_accessible, fill_date, site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, user, *, start="/manage/"):
    page.goto(base + start)
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def visit(page, url):
    page.goto(url)
    page.wait_for_load_state()
    assert_accessible(page)


def test_administrator_sets_up_a_venue_course_type_and_series(essex, live_server, page, settings,
                                                               tmp_path):
    admin = make_user("setup-admin@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    make_user("setup-trainer@essex.test", organisation=essex, role=Role.TRAINER)
    base = site(live_server, "essex.localhost")
    page.goto(base + "/manage/")
    assert "/accounts/sign-in/" in page.url
    assert_accessible(page)
    sign_in(page, base, admin)
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert_accessible(page)

    # A venue: the empty form and a bad postcode are errors naming the field.
    page.get_by_role("link", name="Configuration").click()
    assert_accessible(page)
    page.get_by_role("link", name="Venues").click()
    assert_accessible(page)
    page.get_by_role("button", name="Add a venue").click()
    page.get_by_role("button", name="Save venue").click()
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
    page.get_by_label("Venue name").fill("Browser Hall")
    page.get_by_label("Address").fill("2 Station Road")
    page.get_by_label("Town or city").fill("Chelmsford")
    page.get_by_label("Postcode").fill("NOT A POSTCODE")
    page.get_by_label("Seats").fill("18")
    page.get_by_label("Step-free access").check()
    page.get_by_role("button", name="Save venue").click()
    assert "Enter a real postcode" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)
    page.get_by_label("Postcode").fill("cm2 0pp")
    page.get_by_role("button", name="Save venue").click()
    page.get_by_role("heading", name="Venues").wait_for()
    assert "Browser Hall saved" in page.locator(".govuk-notification-banner").inner_text()
    assert_accessible(page)

    # A course type, with fees in pounds.
    page.goto(base + "/manage/configure/course-types/")
    assert_accessible(page)
    page.get_by_role("button", name="Add a course type").click()
    assert_accessible(page)
    page.get_by_label("Code").fill("BRW")
    page.get_by_label("Name in English").fill("Browser Awareness Course")
    page.get_by_label("Length in minutes").fill("120")
    page.get_by_label("Online").check()
    page.get_by_label("Eligibility family").fill("browser")
    page.get_by_label("Course fee (£)").fill("55.00")
    page.get_by_role("button", name="Save course type").click()
    page.get_by_role("heading", name="Course types").wait_for()
    assert_accessible(page)

    # A trainer qualified for it, linked to the trainer's login.
    page.goto(base + "/manage/configure/trainers/new/")
    assert_accessible(page)
    page.get_by_label("Full name").fill("Bea Browser")
    page.get_by_label("Email address").fill("setup-trainer@essex.test")
    page.get_by_label("Staff account (optional)").select_option(label="setup-trainer@essex.test")
    page.get_by_label("BRW — Browser Awareness Course").check()
    page.get_by_role("button", name="Save trainer").click()
    page.get_by_role("heading", name="Trainers").wait_for()
    assert_accessible(page)

    # A weekly series of three dates.
    page.get_by_role("link", name="Course dates").click()
    assert_accessible(page)
    page.get_by_role("button", name="Add a weekly series").click()
    page.get_by_role("button", name="Create series").click()
    page.locator(".govuk-error-summary").wait_for()
    assert_accessible(page)
    first = timezone.localdate() + timedelta(days=21)
    page.get_by_label("Course", exact=True).select_option(label="BRW — Browser Awareness Course")
    page.get_by_label("Classroom").check()
    page.get_by_label("Venue").select_option(label="Browser Hall, Chelmsford (18)")
    fill_date(page, "First week starting", first)
    page.get_by_label("Day of the week").select_option(label="Thursday")
    page.get_by_label("Start time").fill("18:30")
    page.get_by_label("Number of weeks").fill("3")
    page.get_by_label("Seats").fill("16")
    page.get_by_label("English").check()
    page.get_by_label("Bea Browser").check()
    page.get_by_role("button", name="Create series").click()
    page.get_by_role("heading", name="Course dates").wait_for()
    assert "3 course dates created" in page.locator(".govuk-notification-banner").inner_text()
    assert_accessible(page)
    with schema_context(essex.schema_name):
        created = list(CourseSession.objects.filter(course_type__code="BRW")
                       .order_by("starts_at"))
        assert len(created) == 3
        assert all(timezone.localtime(s.starts_at).weekday() == 3 for s in created)
        assert all(s.trainers.filter(full_name="Bea Browser").exists() for s in created)
        assert Venue.objects.get(name="Browser Hall").postcode == "CM2 0PP"
        assert CourseType.objects.get(code="BRW").provider_fee_pence == 5500

    # The same trainer at the same time is refused, naming the clash.
    page.get_by_role("button", name="Add a course date").click()
    clash = timezone.localtime(created[0].starts_at)
    page.get_by_label("Course", exact=True).select_option(label="BRW — Browser Awareness Course")
    page.get_by_label("Online", exact=True).check()
    fill_date(page, "Date", clash.date())
    page.get_by_label("Start time").fill("19:00")
    page.get_by_label("Seats").fill("10")
    page.get_by_label("English").check()
    page.get_by_label("Bea Browser").check()
    page.get_by_role("button", name="Create course date").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Bea Browser is already teaching BRW" in summary
    assert_accessible(page)

    # Time away for the trainer, far from her dates: listed on her page.
    with schema_context(essex.schema_name):
        bea = Trainer.objects.get(full_name="Bea Browser")
    away = timezone.localdate() + timedelta(days=200)
    page.goto(base + f"/manage/configure/trainers/{bea.pk}/")
    fill_date(page, "First day away", away)
    fill_date(page, "Last day away", away + timedelta(days=4))
    page.get_by_label("Reason (optional)").fill("Annual leave")
    page.get_by_role("button", name="Add time away").click()
    assert "Time away added" in page.locator(".govuk-notification-banner").inner_text()
    assert "Annual leave" in page.locator("table").inner_text()
    assert_accessible(page)

    # The other pages of the area.
    for path in ("/manage/offenders/?q=Driver", "/manage/registers/", "/manage/cases/",
                 "/manage/staff/", "/manage/staff/invite/", "/manage/audit/",
                 "/manage/configure/branding/", "/manage/configure/correspondence/",
                 "/manage/configure/correspondence/booking_confirmation/en/",
                 f"/manage/sessions/{created[0].pk}/",
                 f"/manage/sessions/{created[0].pk}/cancel/"):
        visit(page, base + path)

    # A logo for the header: uploaded from the branding page, shown on every page.
    settings.MEDIA_ROOT = str(tmp_path)
    logo = io.BytesIO()
    Image.new("RGB", (160, 48), "#6a1b5d").save(logo, "PNG")
    page.goto(base + "/manage/configure/branding/")
    page.get_by_label("Upload a logo").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": logo.getvalue()})
    page.get_by_role("button", name="Save logo").click()
    assert "Logo saved" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("img.waymark-header__logo").evaluate("img => img.naturalWidth") == 160
    assert_accessible(page)

    # Own wording for the reminder, previewed with example details, then saved.
    page.goto(base + "/manage/configure/correspondence/reminder/en/")
    page.get_by_label("Subject line").fill("See you soon, {first_name}")
    page.get_by_label("Message").fill("Your course is on {course_date} at {start_time}.")
    page.get_by_role("button", name="Preview").click()
    assert "See you soon, Sam" in page.locator(".govuk-inset-text").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Save message").click()
    assert "Message saved" in page.locator(".govuk-notification-banner").inner_text()
    assert_accessible(page)


def _started_session_with_people(essex, prefix):
    """A date that started half an hour ago with two people on it. The essex schema keeps its
    rows between transactional tests, so references carry the test's own prefix."""
    now = timezone.now()
    with schema_context(essex.schema_name):
        venue = VenueFactory(name="Register Hall", address="1 Road", town="Witham",
                             postcode="CM8 1AA", latitude=51.8, longitude=0.64, capacity=20,
                             hearing_loop=True, directions_en="")
        session = CourseSessionFactory(venue=venue, starts_at=now - timedelta(minutes=30),
                                       ends_at=now + timedelta(hours=2))
        bookings = []
        for n, (first, last) in enumerate((("Ria", "Early"), ("Lou", "Late"))):
            offer = OfferFactory(
                reference=f"ESX-{prefix}{n}", offence_days_ago=40, booking_period_in=40,
                first_name=first, last_name=last, date_of_birth=date(1980, 1, n + 1),
                access_requirements=["hearing_loop"] if n == 0 else [])
            bookings.append(book_offer(offer, session, channel="admin", actor="setup",
                                       now=now - timedelta(days=5)))
    return session, bookings


def test_trainer_records_outcomes(essex, live_server, page):
    session, (early, late) = _started_session_with_people(essex, "REG")
    trainer_user = make_user("reg-trainer@essex.test", organisation=essex, role=Role.TRAINER)
    with schema_context(essex.schema_name):
        trainer = TrainerFactory(full_name="Reg Trainer", email=trainer_user.email,
                                 user_id=trainer_user.pk)
        session.trainers.add(trainer)
    base = site(live_server, "essex.localhost")
    sign_in(page, base, trainer_user)
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Registers").click()
    assert_accessible(page)
    page.locator(f"a[href='/manage/registers/{session.pk}/']").first.click()
    page.get_by_role("heading", name="Register", exact=False).first.wait_for()
    assert "A hearing loop" in page.locator("main").inner_text()
    assert_accessible(page)
    # Completed without the ID seen is an error naming the person.
    page.get_by_label("Outcome for Ria Early").select_option("completed")
    page.get_by_role("button", name="Save outcomes").click()
    assert "Ria Early: Record the ID seen" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)
    page.get_by_label("ID seen for Ria Early").select_option("photocard_licence")
    page.get_by_label("Outcome for Lou Late").select_option("refused_late")
    page.get_by_label("Note for Lou Late").fill("Arrived 25 minutes late")
    page.get_by_role("button", name="Save outcomes").click()
    assert "Outcomes saved: 2" in page.locator(".govuk-notification-banner").inner_text()
    assert_accessible(page)
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=early.pk).status == "completed"
        assert Booking.objects.get(pk=late.pk).status == "refused_entry"
    page.get_by_role("link", name="Printable register").click()
    assert "EARLY, Ria" in page.locator("main").inner_text()
    assert_accessible(page)
    # Configuration is not for trainers.
    response = page.goto(base + "/manage/configure/")
    assert response.status == 403


def test_auditor_can_change_nothing(essex, live_server, page):
    session, (early, _late) = _started_session_with_people(essex, "AUD")
    auditor = make_user("auditor-b@essex.test", organisation=essex, role=Role.AUDITOR)
    base = site(live_server, "essex.localhost")
    sign_in(page, base, auditor)
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert_accessible(page)
    pages = ["/manage/configure/venues/", f"/manage/registers/{session.pk}/",
             "/manage/configure/branding/", "/manage/offenders/ESX-AUD0/",
             "/manage/staff/", "/manage/audit/"]
    for path in pages:
        visit(page, base + path)
        # Nothing to press: no form that changes anything is offered.
        assert page.locator("main form[method=post] button[type=submit]").count() == 0, path
    # Posting anyway is refused (with a valid CSRF token, so it is the role that says no).
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    for path, data in ((f"/manage/registers/{session.pk}/",
                        {f"b{early.pk}-outcome": "completed",
                         f"b{early.pk}-id_seen": "passport"}),
                       ("/manage/configure/branding/", {"display_name_en": "Hacked",
                                                        "primary_colour": "#000000"}),
                       ("/manage/offenders/ESX-AUD0/cancel/", {"reason": "x"})):
        status, text = page.evaluate(
            """async ([path, data]) => {
                const body = new URLSearchParams(data);
                const response = await fetch(path, {method: "POST", body,
                                                    credentials: "same-origin"});
                return [response.status, await response.text()];
            }""", [path, {**data, "csrfmiddlewaretoken": token}])
        assert status == 403, path
        assert "You do not have access to this page" in text
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=early.pk).status == "confirmed"
    essex.refresh_from_db()
    assert essex.display_name_en != "Hacked"
