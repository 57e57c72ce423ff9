"""Every page staff can reach by following links, on a client full of demo data (bookings in
every status, payments, cases, calls), answers each role without a server error. Catches the
template that breaks only on data the hand-made fixtures never had."""

import re
from collections import Counter, deque
from urllib.parse import urldefrag, urlsplit

from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.demo import seed_client_demo
from booking.models import Booking, Offer

from .conftest import make_user

HOST = "essex.localhost"
STARTS = {
    Role.CLIENT_ADMIN: ["/manage/"],
    Role.BOOKING_OFFICER: ["/manage/"],
    Role.CONTACT_CENTRE_AGENT: ["/contact-centre/"],
    Role.TRAINER: ["/manage/"],
    Role.AUDITOR: ["/manage/"],
}
# Links that end the visit or leave the staff pages.
SKIP = re.compile(r"^/(accounts/sign-out|static/|media/|book/|pay/|api/)")
PAGES_PER_ROLE = 300
# Pages of one shape (an offer, a booking, a register) are visited a few times, not hundreds.
VISITS_PER_SHAPE = 4


# Django's {# #} comment is one line only; a longer one, or a stray tag, is printed on the page.
TEMPLATE_SYNTAX = re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}")


def shape(path: str) -> str:
    return re.sub(r"/[A-Z]{2,4}-[\w-]+/|/\d+/", "/*/", path)


def crawl(client, starts):
    seen, queue, shapes = set(starts), deque(starts), Counter()
    answers = {}
    while queue and len(answers) < PAGES_PER_ROLE:
        url = queue.popleft()
        response = client.get(url, HTTP_HOST=HOST)
        answers[url] = response.status_code
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        assert not TEMPLATE_SYNTAX.search(response.content.decode()), url
        for href in re.findall(r'href="([^"]+)"', response.content.decode()):
            href = urldefrag(href.replace("&amp;", "&"))[0]
            parts = urlsplit(href)
            if parts.netloc or not href.startswith("/") or SKIP.match(parts.path) or href in seen:
                continue
            seen.add(href)
            shapes[shape(parts.path)] += 1
            if shapes[shape(parts.path)] <= VISITS_PER_SHAPE:
                queue.append(href)
    return answers


def one_of_each_status(organisation) -> list[str]:
    """An offer and a booking in every status: the pages whose wording and buttons vary most."""
    with schema_context(organisation.schema_name):
        offers = {o.status: o.reference for o in Offer.objects.order_by("pk")}
        bookings = {b.status: b.reference for b in Booking.objects.order_by("pk")}
    return ([f"/manage/offenders/{ref}/" for ref in offers.values()]
            + [f"/contact-centre/offers/{ref}/" for ref in offers.values()]
            + [f"/contact-centre/bookings/{ref}/" for ref in bookings.values()]
            + [f"/contact-centre/payments/{ref}/" for ref in bookings.values()])


def test_no_staff_page_fails_on_demo_data(essex, client):
    seed_client_demo(essex, today=timezone.localdate())
    every_status = one_of_each_status(essex)
    assert len(every_status) > 30
    for role, starts in STARTS.items():
        starts = starts + every_status
        user = make_user(f"crawl-{role}@essex.test", organisation=essex, role=role)
        client.force_login(user)
        answers = crawl(client, starts)
        broken = {url: status for url, status in answers.items() if status >= 500}
        assert not broken, (role, broken)
        # The walk really went somewhere: the starting page and the pages behind it.
        assert answers[starts[0]] == 200, role
        assert sum(status == 200 for status in answers.values()) >= 5, (role, answers)
        client.logout()


def test_no_public_page_fails_in_either_language(essex, south_wales, client):
    """The offender's side, anonymous, on the English client and in both languages on the
    bilingual one: every page reachable by links answers, and says which language it is in."""
    for organisation, host in ((essex, "essex.localhost"), (south_wales, "south-wales.localhost")):
        languages = ["cy", "en-gb"] if organisation.languages == "cy-en" else ["en-gb"]
        for language in languages:
            client.get(f"/language/{language}/?next=/", HTTP_HOST=host)
            answers = {}
            queue, seen = deque(["/"]), {"/"}
            while queue:
                url = queue.popleft()
                response = client.get(url, HTTP_HOST=host)
                answers[url] = response.status_code
                if response.status_code != 200:
                    continue
                page = response.content.decode()
                assert not TEMPLATE_SYNTAX.search(page), (url, TEMPLATE_SYNTAX.search(page))
                assert f'<html lang="{"cy" if language == "cy" else "en-GB"}"' in page, url
                for href in re.findall(r'href="(/[^"]*)"', page):
                    path = urlsplit(href.replace("&amp;", "&")).path
                    if path not in seen and not re.match(r"^/(static|media|language|accounts)/", path):
                        seen.add(path)
                        queue.append(path)
            assert {url: s for url, s in answers.items() if s >= 500} == {}, (host, language)
            assert sum(s == 200 for s in answers.values()) >= 4, (host, language, answers)
