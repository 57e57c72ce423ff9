"""Issue 14, item 10: a phase banner with a feedback link, a cookies page and an accessibility
statement per client with its compliance status and dates."""

from datetime import date

from tenants.models import ClientOrganisation

ESSEX = {"HTTP_HOST": "essex.localhost"}
WALES = {"HTTP_HOST": "south-wales.localhost"}


def test_public_pages_have_a_phase_banner_and_feedback_link(essex, client, essex_admin):
    for path in ("/", "/book/find/", "/contact/", "/cookies/", "/accessibility/"):
        page = client.get(path, **ESSEX).content.decode()
        assert "govuk-phase-banner" in page and 'href="/feedback/"' in page, path
        assert 'href="/cookies/"' in page, path
    client.force_login(essex_admin)
    staff = client.get("/manage/", **ESSEX).content.decode()
    assert "govuk-phase-banner" not in staff


def test_cookies_page_names_every_cookie_we_set(south_wales, client, settings):
    page = client.get("/cookies/", **WALES).content.decode()
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME,
                 settings.LANGUAGE_COOKIE_NAME):
        assert name in page
    assert "8 hours" in page  # SESSION_COOKIE_AGE, 8 × 60 × 60 seconds


def test_accessibility_statement_is_each_clients_own(essex, south_wales, client):
    ClientOrganisation.objects.filter(pk=essex.pk).update(
        accessibility_compliance="full", accessibility_prepared_on=date(2026, 9, 1),
        accessibility_reviewed_on=date(2026, 11, 2), accessibility_tested_on=date(2026, 11, 3))
    ClientOrganisation.objects.filter(pk=south_wales.pk).update(
        accessibility_compliance="partial",
        accessibility_known_issues="Some PDF letters are not tagged",
        accessibility_known_issues_cy="Nid yw rhai llythyrau PDF wedi'u tagio")
    page = client.get("/accessibility/", **ESSEX).content.decode()
    assert "This website is fully compliant" in page and "Non-accessible content" not in page
    assert "prepared on 1 September 2026" in page and "last reviewed on 2 November 2026" in page
    assert "last tested on 3 November 2026" in page
    wales = client.get("/accessibility/", **WALES).content.decode()
    assert "partially compliant" in wales and "Some PDF letters are not tagged" in wales
    assert "fully compliant" not in wales
    # Dates not yet set fall back to the day the client was set up.
    set_up = south_wales.created_at.date()
    assert f"prepared on {set_up.day} {set_up:%B} {set_up.year}" in wales
    client.cookies["waymark_language"] = "cy"
    welsh = client.get("/accessibility/", **WALES).content.decode()
    assert "Nid yw rhai llythyrau PDF" in welsh and "Some PDF letters" not in welsh
