"""Smoke test of a newcomer's `make run` on ports of their own: in Debian's chromium, book one
of the demo offers on http://essex.localhost:<PORT>/ and pay for it with the test card through
the real pay page (Stripe.js from localstripe on LOCALSTRIPE_PORT), then check the confirmation.
A script, not a pytest test (pytest collects test_*.py only): .ci/run runs it against the
server it started.

    .venv/bin/python tests/smoke/pay_by_card.py http://essex.localhost:8765

Exits 0 once the confirmation page shows, 1 with the step that failed otherwise. A demo offer
already booked (by an earlier run on the same .data/) goes straight to "Your booking": the next
one is tried. The demo offers are listed in README.md and booking/demo.py."""

import os
import shutil
import sys
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# reference, date of birth (day, month, year): Essex's demo offers (booking/demo.py).
DEMO_OFFERS = [("ESX-DEMO-001", ("15", "1", "1980")), ("ESX-DEMO-002", ("30", "6", "1975")),
               ("ESX-DEMO-003", ("2", "11", "1992")), ("ESX-DEMO-004", ("21", "3", "1968")),
               ("ESX-DEMO-005", ("9", "9", "2001"))]
TEST_CARD = "4242424242424242"
STEP_TIMEOUT_MS = 30_000


class SmokeFailure(Exception):
    pass


def step(page, what: str, action, *args):
    try:
        return action(*args)
    except PlaywrightError as error:
        shot = Path(".data") / "smoke-pay-by-card.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
        except PlaywrightError:
            shot = None
        where = page.url
        heading = page.locator("h1").first.inner_text(timeout=2000) if page.locator("h1").count() \
            else "(no heading)"
        raise SmokeFailure(f"{what} failed on {where} (page heading: {heading!r})"
                           + (f"; screenshot in {shot}" if shot else "")
                           + f"\n  {str(error).splitlines()[0]}") from None


def find_offer(page, reference, born):
    page.locator("#id_reference").fill(reference)
    for part, value in enumerate(born):
        page.locator(f"#id_date_of_birth_{part}").fill(value)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def start_booking(page, site: str) -> str:
    """Finds a demo offer not yet booked and goes to its first question; returns its reference."""
    for reference, (day, month, year) in DEMO_OFFERS:
        step(page, "Opening the start page", lambda: page.goto(site + "/"))
        step(page, "Pressing Start now",
             lambda: page.get_by_role("button", name="Start now").click())
        step(page, f"Finding {reference}", find_offer, page, reference, (day, month, year))
        if "/book/where/" in page.url:
            return reference
        print(f"  {reference} is booked already ({page.url}); trying the next demo offer")
        step(page, "Signing out of the booking",
             lambda: page.get_by_role("button", name="Sign out").click()
             if page.get_by_role("button", name="Sign out").count() else None)
        page.context.clear_cookies()
    raise SmokeFailure("every Essex demo offer is booked already: `make stop`, remove .data/ "
                       "and run again for a fresh demo")


def book_and_pay(page, site: str) -> str:
    reference = start_booking(page, site)
    print(f"  booking {reference}")
    step(page, "Choosing an online course", lambda: (
        page.get_by_label("Online, by video call").check(),
        page.get_by_role("button", name="Continue").click()))
    step(page, "Choosing the first date", lambda: (
        page.locator("input[name=session]").first.check(),
        page.get_by_role("button", name="Continue").click()))
    step(page, "Giving contact details", lambda: (
        page.get_by_label("Email address").fill("smoke@example.com"),
        page.get_by_label("Phone number").fill("07700 900982"),
        page.get_by_role("button", name="Continue").click()))
    step(page, "Going to payment from Check your answers",
         lambda: page.get_by_role("button", name="Continue to payment").click())
    step(page, "Waiting for the card fields (Stripe.js from localstripe)", lambda: (
        page.get_by_role("heading", name="Pay for your course").wait_for(),
        page.locator("#card-element input").first.wait_for()))
    fields = page.locator("#card-element input")
    step(page, "Typing the test card", lambda: (
        fields.nth(0).fill(TEST_CARD), fields.nth(1).fill("12"), fields.nth(2).fill("30"),
        fields.nth(3).fill("123")))
    step(page, "Pressing Pay", lambda: page.get_by_role("button", name="Pay £").click())
    step(page, "Waiting for the confirmation page",
         lambda: page.locator(".govuk-panel--confirmation").wait_for())
    panel = page.locator(".govuk-panel--confirmation").inner_text()
    if "confirmed" not in panel.lower() and "booked" not in panel.lower():
        raise SmokeFailure(f"the confirmation panel does not confirm the booking: {panel!r}")
    return reference


def main(argv) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    site = argv[1].rstrip("/")
    if not Path(CHROMIUM).exists():
        print(f"pay-by-card smoke test: no chromium at {CHROMIUM} (apt-get install chromium)")
        return 1
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run",
                  # The client sites are *.localhost: never ask a DNS server for them.
                  "--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1"])
        page = browser.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            reference = book_and_pay(page, site)
        except SmokeFailure as failure:
            print(f"pay-by-card smoke test FAILED: {failure}")
            for error in errors:
                print(f"  JavaScript error on the page: {error}")
            return 1
        finally:
            browser.close()
    print(f"pay-by-card smoke test passed: {reference} booked and paid with {TEST_CARD[:4]} "
          f"on {site}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
