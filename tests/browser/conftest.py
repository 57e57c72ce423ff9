"""Real-browser tests: Playwright driving Debian's chromium (never a downloaded browser), with
axe-core checking every page visited for WCAG 2.2 AA problems."""

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Playwright's sync API runs an event loop; Django must allow ORM use from the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


# Every frame reports what the Content-Security-Policy blocked; the test fails on any of it.
REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) =>
    window.reportCspViolation(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
        + ` in ${event.documentURI} (${event.sourceFile}:${event.lineNumber})`));"""


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    page.context.close()
    assert_no_csp_violations(page)


def new_page(browser):
    """A page in a context of its own (a person on their own device), which records every
    Content-Security-Policy violation for assert_no_csp_violations."""
    context = browser.new_context(locale="en-GB")
    violations = []
    context.expose_function("reportCspViolation", lambda text: violations.append(text))
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.csp_violations = violations
    # Chromium also logs each violation on the console, including the ones no event reaches.
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.set_default_timeout(15000)
    return page


def assert_no_csp_violations(page):
    assert not page.csp_violations, "Content-Security-Policy violations:\n" + "\n".join(
        page.csp_violations)


def fill_date(page, legend: str, day) -> None:
    """A GOV.UK date input: the Day, Month and Year boxes of the fieldset `legend` names."""
    group = page.get_by_role("group", name=legend, exact=True)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def site(live_server, host: str) -> str:
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://{host}:{port}"


def _run_axe(page):
    # Evaluated by the browser's debugging protocol, which the page's policy does not govern: a
    # <script> tag added to the page would be refused, as an attacker's would.
    page.evaluate(AXE.read_text())
    return page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag", values:
            ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})"""
    )


def assert_accessible(page):
    """0 WCAG 2.2 AA violations of any impact, and none of the Content-Security-Policy, on the
    page as it stands."""
    assert_no_csp_violations(page)
    page.wait_for_load_state("load")
    try:
        result = _run_axe(page)
    except PlaywrightError:
        # A click's navigation can replace the document while axe reads it: check the page
        # that arrived.
        page.wait_for_load_state("load")
        result = _run_axe(page)
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]
    assert not problems, f"{page.url}:\n" + "\n".join(problems)
