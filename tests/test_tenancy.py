"""Hosts: the control plane, each client's branded site, unknown hosts and suspended clients."""

from django.db import connection
from django_tenants.utils import schema_context

from booking.models import CourseType


def test_unknown_host_gets_a_friendly_404(essex, client):
    response = client.get("/", HTTP_HOST="nowhere.localhost")
    assert response.status_code == 404
    assert b"There is no course booking site at this address" in response.content


def test_suspended_client_gets_503(essex, client):
    essex.status = "suspended"
    essex.save(update_fields=["status"])
    response = client.get("/", HTTP_HOST="essex.localhost")
    assert response.status_code == 503
    assert b"temporarily unavailable" in response.content
    assert response["Retry-After"]
    # Health checks still answer so monitoring can tell "suspended" from "down".
    assert client.get("/healthz", HTTP_HOST="essex.localhost").status_code == 200


def test_each_client_site_has_its_own_branding(essex, south_wales, client):
    essex_page = client.get("/", HTTP_HOST="essex.localhost").content.decode()
    wales_page = client.get("/", HTTP_HOST="south-wales.localhost").content.decode()
    assert "Essex Driver Awareness" in essex_page and "#6a1b5d" in essex_page
    assert "South Wales Driver Awareness" in wales_page and "#00703c" in wales_page
    assert "South Wales" not in essex_page
    assert "Essex" not in wales_page
    for path in ("/accessibility/", "/privacy/", "/contact/"):
        assert client.get(path, HTTP_HOST="essex.localhost").status_code == 200


def test_bilingual_client_switches_to_welsh(taking_bookings, client):
    english = client.get("/", HTTP_HOST="south-wales.localhost").content.decode()
    assert 'lang="en-GB"' in english and ">Cymraeg</a>" in english
    response = client.get("/language/cy/?next=/", HTTP_HOST="south-wales.localhost")
    assert response.status_code == 302 and response["Location"] == "/"
    welsh = client.get("/", HTTP_HOST="south-wales.localhost").content.decode()
    assert '<html lang="cy"' in welsh
    assert "Ymwybyddiaeth Gyrwyr De Cymru" in welsh
    assert "Archebu cwrs" in welsh  # the Welsh title of the start page
    assert ">English</a>" in welsh


def test_english_only_client_ignores_a_welsh_cookie(essex, client):
    client.get("/language/cy/?next=/", HTTP_HOST="essex.localhost")
    client.cookies["waymark_language"] = "cy"
    page = client.get("/", HTTP_HOST="essex.localhost").content.decode()
    assert 'lang="en-GB"' in page and "Cymraeg" not in page


def test_language_switch_refuses_off_site_redirects(south_wales, client):
    response = client.get("/language/cy/?next=https://evil.example/", HTTP_HOST="south-wales.localhost")
    assert response["Location"] == "/"


def test_healthz_on_every_host(essex, client):
    for host in ("localhost", "essex.localhost"):
        assert client.get("/healthz", HTTP_HOST=host).json()["status"] == "ok"
        response = client.get("/readyz", HTTP_HOST=host)
        body = response.json()
        assert response.status_code == 200, body
        assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]
        assert body["checks"]["broker"]["ok"]
    assert client.get("/healthz", HTTP_HOST="essex.localhost").json()["site"] == "essex"


def test_client_data_stays_in_its_schema(essex, south_wales):
    with schema_context(essex.schema_name):
        CourseType.objects.filter(code="NSAC").update(provider_fee_pence=1)
        CourseType.objects.create(code="ESX1", name_en="Essex only", duration_minutes=60,
                                  delivery_modes=["classroom"], eligibility_family="x",
                                  provider_fee_pence=0, police_cost_recovery_pence=0)
    with schema_context(south_wales.schema_name):
        assert not CourseType.objects.filter(code="ESX1").exists()
        assert CourseType.objects.get(code="NSAC").provider_fee_pence != 1
    connection.set_schema_to_public()
