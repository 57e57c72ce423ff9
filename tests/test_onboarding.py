"""Onboarding: one service behind the console form, the command and the platform API."""

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists
from rest_framework.authtoken.models import Token

from accounts.models import Membership, User
from audit.models import AuditEntry
from booking.models import CourseType
from tenants import services
from tenants.models import ClientOrganisation, Domain
from tenants.services import NewClient, onboard_client

from .conftest import PASSWORD, sign_in_verified


def norfolk(**overrides):
    values = dict(name="Norfolk County Council", slug="norfolk", kind="county_council",
                  admin_email="lead@norfolk.test", admin_name="Nora Folk",
                  primary_colour="#005ea5", contact_phone="01603 222222")
    values.update(overrides)
    return NewClient(**values)


def test_onboarding_makes_a_live_site(db, provider_admin, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        organisation = onboard_client(norfolk(), acting_user=provider_admin)

    assert organisation.status == ClientOrganisation.Status.LIVE
    assert schema_exists("client_norfolk")
    assert Domain.objects.get(tenant=organisation).domain == "norfolk.localhost"
    with schema_context("client_norfolk"):
        codes = set(CourseType.objects.values_list("code", flat=True))
    assert codes == {"NSAC", "NMAC", "NDAC", "WDU", "D4C", "RiDE"}
    admin = User.objects.get(email="lead@norfolk.test")
    assert not admin.has_usable_password()
    assert Membership.objects.filter(user=admin, organisation=organisation,
                                     role="client_admin").exists()
    entry = AuditEntry.objects.get(action="organisation.onboarded", object_id=str(organisation.pk))
    assert entry.actor == provider_admin

    # The invitation's link lets the administrator set a password on the new site.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["lead@norfolk.test"]
    link = re.search(r"https?://norfolk\.localhost(?::\d+)?(/accounts/set-password/\S+/)",
                     mail.outbox[0].body).group(1)
    response = client.post(link, {"password": PASSWORD, "password_again": PASSWORD},
                           HTTP_HOST="norfolk.localhost")
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD)

    start = client.get("/", HTTP_HOST="norfolk.localhost")
    assert start.status_code == 200
    assert b"Norfolk County Council" in start.content
    assert b"--waymark-brand: #005ea5" in start.content


def test_a_failed_onboarding_leaves_nothing_behind(db, provider_admin, monkeypatch):
    users_before = User.objects.count()

    def broken_membership(*args, **kwargs):
        raise RuntimeError("mail server exploded mid-onboarding")

    monkeypatch.setattr(services.Membership.objects, "create", broken_membership)
    with pytest.raises(RuntimeError):
        onboard_client(norfolk(), acting_user=provider_admin)

    connection.set_schema_to_public()
    assert not schema_exists("client_norfolk")
    assert not ClientOrganisation.objects.filter(slug="norfolk").exists()
    assert not Domain.objects.filter(domain="norfolk.localhost").exists()
    assert User.objects.count() == users_before
    assert not AuditEntry.objects.filter(action="organisation.onboarded",
                                         object_repr="Norfolk County Council").exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"name": "  "}, "name"),
        ({"slug": "essex"}, "slug"),
        ({"slug": "Bad_Slug"}, "slug"),
        ({"slug": "www"}, "slug"),
        ({"domain": "bad_domain.example"}, "domain"),
        ({"domain": "essex.localhost"}, "domain"),
        ({"domain": "bookings.norfolk.gov.uk"}, "domain"),  # not in ALLOWED_HOSTS
        ({"primary_colour": "blue"}, "primary_colour"),
        ({"primary_colour": "#ffff00"}, "primary_colour"),
        ({"admin_email": "not-an-email"}, "admin_email"),
        ({"kind": "parish"}, "kind"),
        ({"languages": "cy-en", "display_name_cy": ""}, "display_name_cy"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(essex, overrides, field):
    with pytest.raises(ValidationError) as raised:
        onboard_client(norfolk(**overrides), acting_user="tests")
    assert field in raised.value.message_dict
    assert not schema_exists("client_norfolk")
    assert not ClientOrganisation.objects.filter(name="Norfolk County Council").exists()


def test_a_custom_domain_the_server_answers_for_makes_a_live_site(db, settings, client):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "bookings.norfolk.gov.uk"]
    organisation = onboard_client(norfolk(domain="bookings.norfolk.gov.uk"), acting_user="tests")
    assert organisation.domains.get().domain == "bookings.norfolk.gov.uk"
    assert client.get("/", HTTP_HOST="bookings.norfolk.gov.uk").status_code == 200


def test_an_existing_user_is_given_the_new_client_too(essex, essex_admin):
    organisation = onboard_client(norfolk(admin_email=essex_admin.email), acting_user="tests")
    assert set(essex_admin.memberships.values_list("organisation__slug", flat=True)) == {
        "essex", "norfolk"}
    assert organisation.memberships.get().user == essex_admin


def test_the_command_uses_the_same_service(db):
    call_command("onboard_client", "--name", "Kent Police", "--slug", "kent",
                 "--kind", "police_force", "--admin-email", "chief@kent.test")
    assert ClientOrganisation.objects.get(slug="kent").status == "live"
    with pytest.raises(CommandError, match="slug"):
        call_command("onboard_client", "--name", "Kent again", "--slug", "kent",
                     "--kind", "police_force", "--admin-email", "chief@kent.test")


def api_client_for(user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return api


def test_api_onboards_for_provider_admins_only(db, provider_admin, provider_support, essex_admin):
    body = {"name": "Norfolk County Council", "slug": "norfolk", "kind": "county_council",
            "admin_email": "lead@norfolk.test"}
    url = "/api/platform/v1/organisations/"
    assert api_client_for(provider_support).post(url, body, format="json",
                                                 HTTP_HOST="localhost").status_code == 403
    assert api_client_for(essex_admin).post(url, body, format="json",
                                            HTTP_HOST="localhost").status_code == 403
    from rest_framework.test import APIClient
    assert APIClient().post(url, body, format="json", HTTP_HOST="localhost").status_code == 401
    assert not ClientOrganisation.objects.filter(slug="norfolk").exists()

    response = api_client_for(provider_admin).post(url, body, format="json", HTTP_HOST="localhost")
    assert response.status_code == 201, response.content
    assert response.json()["domain"] == "norfolk.localhost"
    listing = api_client_for(provider_support).get(url, HTTP_HOST="localhost")
    assert "norfolk" in {row["slug"] for row in listing.json()}


def test_api_reports_bad_input_per_field(db, provider_admin):
    response = api_client_for(provider_admin).post(
        "/api/platform/v1/organisations/",
        {"name": "", "slug": "x", "kind": "county_council", "admin_email": "nope",
         "primary_colour": "#fff"},
        format="json", HTTP_HOST="localhost",
    )
    assert response.status_code == 400
    assert {"name", "slug", "admin_email", "primary_colour"} <= set(response.json()["errors"])


NORFOLK_BODY = {"name": "Norfolk County Council", "slug": "norfolk", "kind": "county_council",
                "admin_email": "lead@norfolk.test"}


@pytest.mark.parametrize("field, value, limit", [
    ("name", "N" * 201, 200),
    ("slug", "n" * 51, 50),
    ("admin_email", "a" * 243 + "@norfolk.test", 254),
    ("admin_name", "A" * 201, 200),
    ("display_name_en", "D" * 201, 200),
    ("display_name_cy", "D" * 201, 200),
    ("contact_email", "c" * 243 + "@norfolk.test", 254),
    ("contact_phone", "0" * 33, 32),
    ("primary_colour", "#" + "0" * 7, 7),
    ("languages", "en" * 5, 8),
    ("domain", "d" * 254, 253),
])
def test_api_refuses_text_longer_than_its_column(db, provider_admin, field, value, limit):
    response = api_client_for(provider_admin).post(
        "/api/platform/v1/organisations/", {**NORFOLK_BODY, field: value}, format="json",
        HTTP_HOST="localhost")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        field: [f"Ensure this field has no more than {limit} characters."]}
    assert not ClientOrganisation.objects.filter(slug="norfolk").exists()
    assert not schema_exists("client_norfolk")


@pytest.mark.parametrize("value", [1e308, 10 ** 300, True, None, ["Norfolk"], {"en": "Norfolk"}])
def test_api_refuses_values_that_are_not_text(db, provider_admin, value):
    response = api_client_for(provider_admin).post(
        "/api/platform/v1/organisations/", {**NORFOLK_BODY, "name": value}, format="json",
        HTTP_HOST="localhost")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name"}
    assert not ClientOrganisation.objects.filter(slug="norfolk").exists()


def test_console_form_onboards_and_shows_errors(db, client, provider_admin):
    sign_in_verified(client, provider_admin)
    bad = client.post("/clients/new/", {"name": "", "slug": "essex"}, HTTP_HOST="localhost")
    assert bad.status_code == 200
    assert b"There is a problem" in bad.content and b"Enter the organisation" in bad.content
    good = client.post("/clients/new/", {
        "name": "Norfolk County Council", "slug": "norfolk", "kind": "county_council",
        "languages": "en", "admin_email": "lead@norfolk.test", "primary_colour": "#005ea5",
    }, HTTP_HOST="localhost")
    assert good.status_code == 302 and good["Location"] == "/clients/norfolk/"
    assert ClientOrganisation.objects.get(slug="norfolk").status == "live"


def test_suspend_reactivate_and_offboard_are_audited(essex, essex_admin, provider_admin, client):
    services.suspend_client(essex, reason="Unpaid invoice", acting_user=provider_admin)
    assert client.get("/", HTTP_HOST="essex.localhost").status_code == 503
    services.reactivate_client(essex, reason="Paid", acting_user=provider_admin)
    assert client.get("/", HTTP_HOST="essex.localhost").status_code == 200
    with pytest.raises(ValidationError):
        services.reactivate_client(essex, reason="Already live", acting_user=provider_admin)
    with pytest.raises(ValidationError):
        services.suspend_client(essex, reason="", acting_user=provider_admin)
    services.offboard_client(essex, reason="Contract ended", acting_user=provider_admin)
    assert client.get("/", HTTP_HOST="essex.localhost").status_code == 404
    assert not essex_admin.memberships.filter(is_active=True).exists()
    actions = list(AuditEntry.objects.filter(object_id=str(essex.pk),
                                             object_type="tenants.ClientOrganisation")
                   .order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["organisation.suspended", "organisation.reactivated",
                            "organisation.offboarded"]


# --- the price plan chosen at onboarding ----------------------------------------------------


@pytest.fixture
def two_plans(db):
    from billing.models import PricePlan

    from .billing.conftest import make_plan

    make_plan("standard", "graduated")
    make_plan("volume", "volume")
    return PricePlan.objects.get(code="standard"), PricePlan.objects.get(code="volume")


def plan_of(slug):
    from billing.models import ClientPlan
    from billing.onboarding import onboarding_day

    rows = list(ClientPlan.objects.filter(client__slug=slug).select_related("plan"))
    assert all(row.valid_from == onboarding_day() for row in rows)
    return [row.plan.code for row in rows]


def assert_no_norfolk():
    from billing.models import ClientPlan

    connection.set_schema_to_public()
    assert not schema_exists("client_norfolk")
    assert not ClientOrganisation.objects.filter(slug="norfolk").exists()
    assert not User.objects.filter(email="lead@norfolk.test").exists()
    assert not ClientPlan.objects.filter(client__slug="norfolk").exists()


def test_onboarding_puts_the_client_on_the_chosen_plan_from_today(two_plans, provider_admin):
    organisation = onboard_client(norfolk(plan="volume"), acting_user=provider_admin)
    assert plan_of("norfolk") == ["volume"]
    entry = AuditEntry.objects.get(action="billing.plan_assigned")
    assert entry.organisation == organisation and entry.actor == provider_admin


def test_an_unknown_plan_is_refused_by_name_with_the_other_errors(two_plans):
    with pytest.raises(ValidationError) as raised:
        onboard_client(norfolk(plan="platinum", admin_email="nope"), acting_user="tests")
    errors = raised.value.message_dict
    assert set(errors) == {"plan", "admin_email"}
    assert errors["plan"] == ["There is no price plan “platinum”. Choose one of: standard, "
                              "volume."]
    assert_no_norfolk()


def test_a_plan_named_when_there_are_none_says_so(db):
    with pytest.raises(ValidationError) as raised:
        onboard_client(norfolk(plan="standard"), acting_user="tests")
    assert "There are no price plans yet" in raised.value.message_dict["plan"][0]
    assert_no_norfolk()


def test_a_plan_without_prices_yet_is_refused(db):
    from datetime import date

    from billing.services import plans

    plan = plans.create_plan(code="future", name="Future", acting_user="tests")
    plans.add_version(plan, valid_from=date(2099, 1, 1), mode="graduated", acting_user="tests",
                      tiers=[{"first": 1, "last": None, "unit_pence": 100}])
    with pytest.raises(ValidationError) as raised:
        onboard_client(norfolk(plan="future"), acting_user="tests")
    assert "has no prices yet" in raised.value.message_dict["plan"][0]
    assert_no_norfolk()


def test_a_plan_that_fails_inside_the_transaction_leaves_nothing(two_plans, monkeypatch):
    """The plan is written in onboarding's own transaction: if it fails there, the schema,
    organisation, administrator and plan all go."""
    from billing.services import plans

    def broken(*args, **kwargs):
        raise ValidationError({"plan": ["The plan went away."]})

    monkeypatch.setattr(plans, "assign_plan_within", broken)
    with pytest.raises(ValidationError) as raised:
        onboard_client(norfolk(plan="standard"), acting_user="tests")
    assert raised.value.message_dict == {"plan": ["The plan went away."]}
    assert_no_norfolk()


def test_no_plan_is_still_allowed_and_assigns_nothing(two_plans):
    onboard_client(norfolk(), acting_user="tests")
    assert plan_of("norfolk") == []


def test_the_command_takes_a_plan(two_plans):
    call_command("onboard_client", "--name", "Kent Police", "--slug", "kent",
                 "--kind", "police_force", "--admin-email", "chief@kent.test",
                 "--plan", "standard")
    assert plan_of("kent") == ["standard"]
    with pytest.raises(CommandError, match="--plan: There is no price plan “gold”"):
        call_command("onboard_client", "--name", "Devon", "--slug", "devon",
                     "--kind", "police_force", "--admin-email", "chief@devon.test",
                     "--plan", "gold")
    assert not ClientOrganisation.objects.filter(slug="devon").exists()


def test_the_api_takes_a_plan(two_plans, provider_admin):
    api = api_client_for(provider_admin)
    url = "/api/platform/v1/organisations/"
    refused = api.post(url, {**NORFOLK_BODY, "plan": "gold"}, format="json",
                       HTTP_HOST="localhost")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["plan"]
    assert_no_norfolk()
    not_text = api.post(url, {**NORFOLK_BODY, "plan": 7}, format="json", HTTP_HOST="localhost")
    assert not_text.status_code == 400 and list(not_text.json()["errors"]) == ["plan"]
    done = api.post(url, {**NORFOLK_BODY, "plan": "volume"}, format="json",
                    HTTP_HOST="localhost")
    assert done.status_code == 201, done.content
    assert plan_of("norfolk") == ["volume"]


def test_the_api_schema_documents_the_plan(db, provider_admin):
    schema = api_client_for(provider_admin).get("/api/platform/v1/schema/",
                                                HTTP_HOST="localhost")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "plan" in text and "Code of the price plan" in text


def test_the_console_form_offers_the_plans(two_plans, client, provider_admin):
    sign_in_verified(client, provider_admin)
    form = client.get("/clients/new/", HTTP_HOST="localhost").content.decode()
    assert '<option value="standard">' in form and '<option value="volume">' in form
    body = {"name": "Norfolk County Council", "slug": "norfolk", "kind": "county_council",
            "languages": "en", "admin_email": "lead@norfolk.test", "primary_colour": "#005ea5"}
    bad = client.post("/clients/new/", {**body, "plan": "gold"}, HTTP_HOST="localhost")
    assert bad.status_code == 200 and 'id="id_plan-error"' in bad.content.decode()
    assert_no_norfolk()
    good = client.post("/clients/new/", {**body, "plan": "standard"}, HTTP_HOST="localhost")
    assert good.status_code == 302
    assert plan_of("norfolk") == ["standard"]


def test_the_console_form_says_when_there_are_no_plans(db, client, provider_admin):
    sign_in_verified(client, provider_admin)
    form = client.get("/clients/new/", HTTP_HOST="localhost").content.decode()
    assert "There are no price plans yet" in form


def test_only_an_account_without_a_password_is_sent_an_invitation(
        db, django_capture_on_commit_callbacks):
    signs_in = User.objects.create_user(email="lead@norfolk.test", password=PASSWORD,
                                        full_name="Norfolk Lead")
    with django_capture_on_commit_callbacks(execute=True):
        onboard_client(norfolk(), acting_user="tests")
        onboard_client(norfolk(name="Kent Police", slug="kent", admin_email="chief@kent.test"),
                       acting_user="tests")
    assert [message.to for message in mail.outbox] == [["chief@kent.test"]]
    assert signs_in.memberships.get().organisation.slug == "norfolk"
