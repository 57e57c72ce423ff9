"""The Content-Security-Policy in a real browser: what it refuses is reported and fails the test,
and the pages that need script beyond GOV.UK Frontend's (print, the API docs, the admin) work
under it. Paying through Stripe.js under the policy is test_payment.py."""

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

from ..conftest import PASSWORD, make_user
from .conftest import assert_accessible, assert_no_csp_violations, site
from .test_manage import _started_session_with_people, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_code_that_got_into_a_page_is_refused_and_reported(essex, live_server, page):
    page.goto(site(live_server, "essex.localhost") + "/")
    assert_no_csp_violations(page)
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.append(script);
        document.querySelector("main").setAttribute("style", "display: none");
    }""")
    wait_for_reports(page, 4)  # an event and a console line for each
    assert page.evaluate("window.injected") is None
    assert page.locator("main").is_visible()
    with pytest.raises(AssertionError, match="script-src"):
        assert_no_csp_violations(page)
    assert any("style-src" in violation for violation in page.csp_violations)
    page.csp_violations.clear()  # refused as this test expected


def test_the_browser_understands_every_feature_the_permissions_policy_denies(essex, live_server,
                                                                            page):
    complaints = []
    page.on("console", lambda message: complaints.append(message.text)
            if "Permissions-Policy" in message.text else None)
    response = page.goto(site(live_server, "essex.localhost") + "/")
    assert "camera=()" in response.headers["permissions-policy"]
    assert page.evaluate("document.featurePolicy.allowsFeature('camera')") is False
    assert page.evaluate("document.featurePolicy.allowsFeature('payment')") is False
    assert not complaints, complaints


def test_the_print_button_prints_without_an_inline_handler(essex, live_server, page):
    session, _bookings = _started_session_with_people(essex, "PRN")
    admin = make_user("print-admin@essex.test", organisation=essex, role="client_admin")
    base = site(live_server, "essex.localhost")
    sign_in(page, base, admin)
    page.goto(f"{base}/manage/registers/{session.pk}/print/")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed") == 1
    assert_accessible(page)


@pytest.mark.parametrize("host, path", [("essex.localhost", "/api/v1/docs/"),
                                        ("localhost", "/api/platform/v1/docs/")])
def test_the_api_docs_render_from_our_own_files(essex, live_server, page, host, path):
    loaded = []
    page.on("requestfinished", lambda request: loaded.append(request.url))
    page.goto(site(live_server, host) + path)
    page.get_by_role("heading", name="Waymark API", exact=False).first.wait_for()
    assert page.locator("redoc").inner_text()
    assert all(url.startswith(site(live_server, host)) for url in loaded), loaded
    # The one thing refused is Redoc's footer logo from its CDN, which Redoc then removes.
    page.locator("img[alt='redocly logo']").wait_for(state="detached")
    wait_for_reports(page, 2)  # the event and the console line
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in violation
               for violation in page.csp_violations), page.csp_violations
    page.csp_violations.clear()


def wait_for_reports(page, count):
    for _ in range(50):
        if len(page.csp_violations) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"expected {count} reports, got {page.csp_violations}")


def test_the_django_admin_works_under_the_policy(live_server, page):
    user = User.objects.create_superuser(email="root@waymark.test", password=PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    base = site(live_server, "localhost")
    page.goto(base + "/admin/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Security code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.goto(base + "/admin/accounts/user/")
    page.get_by_role("link", name="root@waymark.test").click()
    page.get_by_label("Email").first.wait_for()
    assert_no_csp_violations(page)
