"""Values longer than their column are refused by name at every door, before anything is
written; a card token Stripe refuses is a clear 400 and leaves the payment to be tried again."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context, schema_exists
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Membership, User
from accounts.roles import Role
from booking.models import Booking, Payment
from booking.services.bookings import book, place_hold
from booking.services.payments import pay_with_card_token, start_card_payment
from booking.services.staff import invite_staff
from booking.site.forms import DetailsForm
from integrations import stripe_gateway as gateway
from tenants.models import ClientOrganisation
from tenants.services import NewClient, onboard_client, validate_new_client

from .conftest import enable_card_payments, make_user, sign_in_verified
from .journey_data import make_journey_data
from .test_payments import card_token

EMAIL_260 = "a" * 248 + "@example.com"


def kent(**overrides) -> NewClient:
    values = dict(name="Kent Police", slug="kent", kind="police_force",
                  admin_email="chief@kent.test")
    values.update(overrides)
    return NewClient(**values)


@pytest.mark.parametrize("field, value, message", [
    ("name", "x" * 201, "Organisation name must be 200 characters or less"),
    ("display_name_en", "x" * 201,
     "Name shown on the site (English) must be 200 characters or less"),
    ("display_name_cy", "x" * 201, "Name shown on the site (Welsh) must be 200 characters or less"),
    ("admin_name", "x" * 201, "First administrator's name must be 200 characters or less"),
    ("admin_email", EMAIL_260, "First administrator's email must be 254 characters or less"),
    ("contact_email", EMAIL_260, "Contact email must be 254 characters or less"),
    ("contact_phone", "0" * 33, "Contact phone must be 32 characters or less"),
    ("primary_colour", "#" + "0" * 7, "Brand colour must be 7 characters or less"),
    ("domain", "a" * 254, "Web address must be 253 characters or less"),
])
def test_the_service_refuses_each_over_long_value_by_name(db, field, value, message):
    with pytest.raises(ValidationError) as refused:
        validate_new_client(kent(**{field: value}))
    assert refused.value.message_dict[field] == [message]


def test_the_service_lists_every_field_at_once_and_writes_nothing(db):
    with pytest.raises(ValidationError) as refused:
        onboard_client(kent(admin_email=EMAIL_260, admin_name="x" * 300),
                       acting_user="tests")
    assert set(refused.value.message_dict) == {"admin_email", "admin_name"}
    assert not ClientOrganisation.objects.filter(slug="kent").exists()
    assert not schema_exists("client_kent")
    assert not User.objects.filter(email=EMAIL_260).exists()


def test_the_console_names_the_field(db, provider_admin, client):
    sign_in_verified(client, provider_admin)
    response = client.post("/clients/new/", {
        "name": "Kent Police", "slug": "kent", "kind": "police_force", "languages": "en",
        "primary_colour": "#1d70b8", "admin_email": EMAIL_260}, HTTP_HOST="localhost")
    assert response.status_code == 200
    assert "First administrator&#x27;s email must be 254 characters or less" in (
        response.content.decode())
    assert not ClientOrganisation.objects.filter(slug="kent").exists()


def test_the_api_names_the_field(db, provider_admin):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=provider_admin).key}")
    response = api.post("/api/platform/v1/organisations/", {
        "name": "Kent Police", "slug": "kent", "kind": "police_force",
        "admin_email": EMAIL_260, "display_name_cy": "x" * 201}, format="json",
        HTTP_HOST="localhost")
    assert response.status_code == 400
    assert {"admin_email", "display_name_cy"} <= set(response.json()["errors"])
    assert not ClientOrganisation.objects.filter(slug="kent").exists()


def test_the_command_prints_the_options_at_fault(db):
    with pytest.raises(CommandError) as refused:
        call_command("onboard_client", "--name", "Kent Police", "--slug", "kent",
                     "--kind", "police_force", "--admin-email", EMAIL_260,
                     "--display-name-cy", "x" * 201)
    text = str(refused.value)
    assert "Nothing was created" in text
    assert "--admin-email: First administrator's email must be 254 characters or less" in text
    assert "--display-name-cy: Name shown on the site (Welsh) must be 200" in text
    assert not ClientOrganisation.objects.filter(slug="kent").exists()


def test_the_public_details_form_bounds_the_email_by_its_column():
    form = DetailsForm({"email": EMAIL_260, "phone": "07700 900982", "language": "en"})
    assert not form.is_valid()
    assert form.errors["email"] == ["Email address must be 254 characters or less"]


def test_a_staff_invitation_refuses_over_long_values_in_the_form_and_the_service(essex, client):
    admin = make_user("limits@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    memberships = Membership.objects.filter(organisation=essex).count()
    client.force_login(admin)
    page = client.post("/manage/staff/invite/", {"email": EMAIL_260, "role": "trainer"},
                       HTTP_HOST="essex.localhost")
    assert "Email address must be 254 characters or less" in page.content.decode()
    with pytest.raises(ValidationError) as refused:
        invite_staff(essex, email=EMAIL_260, role=Role.TRAINER, actor=admin)
    assert refused.value.message_dict == {
        "email": ["Email address must be 254 characters or less"]}
    with pytest.raises(ValidationError) as refused:
        invite_staff(essex, email="new@essex.test", full_name="x" * 201, role=Role.TRAINER,
                     actor=admin)
    assert refused.value.message_dict == {
        "full_name": ["Full name must be 200 characters or less"]}
    assert not User.objects.filter(email__in=[EMAIL_260, "new@essex.test"]).exists()
    assert Membership.objects.filter(organisation=essex).count() == memberships


def test_a_token_stripe_does_not_know_is_refused_and_the_payment_can_be_retried(
        essex, stripe_api, client):
    enable_card_payments(essex)
    offer, sessions = make_journey_data(essex)
    with schema_context(essex.schema_name):
        place_hold(offer.pk, sessions[0].pk, channel="online", actor="offender")
        booking = book(offer.pk, channel="online", actor="offender")
        payment, _intent = start_card_payment(booking.pk, organisation=essex, channel="online",
                                              actor="offender")
        with pytest.raises(gateway.CardDetailsRefused):
            pay_with_card_token(payment.pk, "tok_unknown", organisation=essex, actor="offender")
        assert Payment.objects.get(pk=payment.pk).status == "pending"

    client.post("/book/find/", {"reference": offer.reference, "date_of_birth_0": "27",
                                "date_of_birth_1": "3", "date_of_birth_2": "1985"},
                HTTP_HOST="essex.localhost")
    url = f"/book/pay/{booking.reference}/card/"
    refused = client.post(url, json.dumps({"token": "tok_unknown"}),
                          content_type="application/json", HTTP_HOST="essex.localhost")
    assert refused.status_code == 400
    assert refused.json() == {"status": "error", "message": (
        "We could not use those card details. Nothing has been taken: enter them again or use "
        "a different card.")}
    paid = client.post(url, json.dumps({"token": card_token(stripe_api)}),
                       content_type="application/json", HTTP_HOST="essex.localhost")
    assert paid.status_code == 200, paid.content
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
