"""Configuration: course types, venues (postcodes placed), trainers and branding; every change
audited, every bad input a field error."""

import pytest

from accounts.roles import Role
from audit.models import AuditEntry
from booking.models import CourseType, Trainer, Venue
from tenants.models import ClientOrganisation

from .conftest import get, make_staff, post


@pytest.fixture
def admin(staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    return staff[Role.CLIENT_ADMIN]


COURSE = {
    "code": "SCD", "name_en": "Safe and Considerate Driving", "name_cy": "",
    "duration_minutes": "150",
    "delivery_modes": ["classroom", "online"], "eligibility_family": "careless",
    "provider_fee": "60.50", "police_cost_recovery": "45", "free_transfer_notice_days": "7",
    "late_transfer_fee": "15.00", "transfer_cutoff_hours": "24", "max_transfers": "2",
    "online_booking_lead_hours": "48", "is_active": "on",
}


def test_create_and_change_a_course_type(world, admin, client):
    response = post(client, "/manage/configure/course-types/new/", COURSE)
    assert response.status_code == 302
    course = CourseType.objects.get(code="SCD")
    assert course.provider_fee_pence == 6050 and course.police_cost_recovery_pence == 4500
    assert course.delivery_modes == ["classroom", "online"] and not course.vat_applies
    entry = AuditEntry.objects.get(action="course_type.created")
    assert entry.actor_id == admin.pk and entry.after["code"] == "SCD"
    changed = dict(COURSE, provider_fee="70", vat_applies="on", delivery_modes=["online"])
    post(client, f"/manage/configure/course-types/{course.pk}/", changed)
    course.refresh_from_db()
    assert course.provider_fee_pence == 7000 and course.vat_applies
    entry = AuditEntry.objects.get(action="course_type.changed")
    assert entry.before["provider_fee_pence"] == 6050 and entry.after["provider_fee_pence"] == 7000


@pytest.mark.parametrize("change, field", [
    ({"code": "NSAC"}, "code"),
    ({"code": "no spaces!"}, "code"),
    ({"delivery_modes": []}, "delivery_modes"),
    ({"delivery_modes": ["teleport"]}, "delivery_modes"),
    ({"provider_fee": "-1"}, "provider_fee"),
    ({"provider_fee": "ten pounds"}, "provider_fee"),
    ({"duration_minutes": "5"}, "duration_minutes"),
    ({"duration_minutes": "99999999999999999999"}, "duration_minutes"),
])
def test_course_type_errors_name_the_field(world, admin, client, change, field):
    response = post(client, "/manage/configure/course-types/new/", dict(COURSE, **change))
    assert response.status_code == 200
    assert f'href="#id_{field}"'.encode() in response.content
    assert not CourseType.objects.filter(code="SCD").exists()


VENUE = {"name": "Library", "address": "1 High St", "town": "Colchester", "postcode": "co1 1aa",
         "capacity": "30", "step_free": "on", "is_active": "on"}


def test_create_a_venue_placed_by_its_postcode(world, admin, client):
    assert post(client, "/manage/configure/venues/new/", VENUE).status_code == 302
    venue = Venue.objects.get(name="Library")
    assert venue.postcode == "CO1 1AA" and 51 < venue.latitude < 52 and 0 < venue.longitude < 1.5
    assert venue.step_free and not venue.parking
    assert AuditEntry.objects.filter(action="venue.created", object_id=str(venue.pk)).exists()


@pytest.mark.parametrize("postcode, message", [
    ("XX1", b"Enter a real postcode"),
    ("XX1 1AA", b"We cannot find the postcode XX1 1AA"),
])
def test_a_bad_postcode_is_a_field_error(world, admin, client, postcode, message):
    response = post(client, "/manage/configure/venues/new/", dict(VENUE, postcode=postcode))
    assert response.status_code == 200
    assert b'href="#id_postcode"' in response.content and message in response.content
    assert not Venue.objects.filter(name="Library").exists()


def test_trainer_with_qualifications_and_login(world, admin, essex, client):
    login = make_staff("tina@essex.test", essex, Role.TRAINER)
    nmac = CourseType.objects.get(code="NMAC")
    response = post(client, "/manage/configure/trainers/new/", {
        "full_name": "Tina Teacher", "email": "tina@essex.test", "user_id": str(login.pk),
        "course_types": [str(world["nsac"].pk), str(nmac.pk)], "is_active": "on",
        "working_days": ["mon", "tue", "wed"]})
    assert response.status_code == 302
    trainer = Trainer.objects.get(full_name="Tina Teacher")
    assert trainer.user_id == login.pk
    assert set(trainer.course_types.values_list("code", flat=True)) == {"NSAC", "NMAC"}
    assert trainer.working_days == ["mon", "tue", "wed"]
    entry = AuditEntry.objects.get(action="trainer.created")
    assert entry.after["course_types"] == ["NMAC", "NSAC"]


def test_trainer_login_must_be_a_trainer_here(world, admin, staff, client):
    response = post(client, "/manage/configure/trainers/new/", {
        "full_name": "Bob", "email": "bob@essex.test",
        "user_id": str(staff[Role.AUDITOR].pk), "is_active": "on", "working_days": ["mon"]})
    assert response.status_code == 200 and b'href="#id_user_id"' in response.content
    taken = post(client, "/manage/configure/trainers/new/", {
        "full_name": "Bob", "email": "bob@essex.test",
        "user_id": str(staff[Role.TRAINER].pk), "is_active": "on", "working_days": ["mon"]})
    assert b"already linked to another trainer" in taken.content


BRANDING = {"display_name_en": "Essex Safer Roads", "display_name_cy": "",
            "primary_colour": "#0B0C0C", "contact_phone": "0300 555 0000",
            "contact_email": "help@essex.test", "mon_opens": "09:00", "mon_closes": "17:30",
            "sat_opens": "10:00", "sat_closes": "12:00"}


def test_branding_is_saved_and_audited(world, admin, essex, client):
    assert post(client, "/manage/configure/branding/", BRANDING).status_code == 302
    essex.refresh_from_db()
    assert essex.display_name_en == "Essex Safer Roads" and essex.primary_colour == "#0b0c0c"
    assert essex.opening_hours == {"mon": ["09:00", "17:30"], "sat": ["10:00", "12:00"]}
    entry = AuditEntry.objects.get(action="organisation.branding_changed")
    assert entry.before["display_name_en"] == "Essex Driver Awareness"
    # The public site shows the new name at once.
    assert b"Essex Safer Roads" in get(client, "/").content


@pytest.mark.parametrize("change, field, message", [
    ({"primary_colour": "#ffff00"}, "primary_colour", b"too light for white text"),
    ({"primary_colour": "red"}, "primary_colour", b"hex code"),
    ({"contact_phone": "call me"}, "contact_phone", b"UK phone number"),
    ({"contact_email": "nope"}, "contact_email", b"correct format"),
    ({"mon_closes": ""}, "mon_closes", b"Enter both times"),
    ({"mon_closes": "08:00"}, "mon_closes", b"closing time must be after"),
    ({"mon_opens": "25:00"}, "mon_opens", b"Enter a time"),
])
def test_branding_errors_name_the_field(world, admin, essex, client, change, field, message):
    response = post(client, "/manage/configure/branding/", dict(BRANDING, **change))
    assert response.status_code == 200
    assert f'href="#id_{field}"'.encode() in response.content and message in response.content
    assert ClientOrganisation.objects.get(pk=essex.pk).display_name_en == \
        "Essex Driver Awareness"
