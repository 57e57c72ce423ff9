"""No input gives a 500: every form, query string, path parameter and card endpoint that each
kind of user can reach is sent hostile values, and must answer below 500 and say what is wrong.

The walk is the class test for bad input (DESIGN §7): it signs in as each role, follows links
as tests/test_crawl.py does, reads every <form> on the pages it reaches with the standard
library's HTML parser, and posts each form's own valid-looking values with one field at a time
replaced by each hostile value. It is bounded by visiting each shape of page once or twice.
"""

import itertools
import json
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urldefrag, urlencode, urljoin, urlsplit

from django.core.cache import cache
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.demo import seed_client_demo
from booking.models import Booking, CourseSession, Offer, Trainer
from booking.services.bookings import book, place_hold

from .conftest import PASSWORD, enable_card_payments, make_user, sign_in_verified
from .journey_data import make_journey_data

CLIENT_HOST = "essex.localhost"
PLATFORM_HOST = "localhost"
EMAIL_260 = "a" * 248 + "@example.com"
FRESH = itertools.count(1)
# Each value as it is typed into a form field (or a query string, or a path), those most
# likely to be refused first: a value that is accepted may use up what the form was for.
HOSTILE = {
    "a NUL": "a\x00b",
    "5,000 characters": "x" * 5000,
    "an e-mail of 260 characters": EMAIL_260,
    "256 characters": "x" * 256,
    "a huge number": "9" * 30,
    "a negative number": "-1",
    "255 characters": "x" * 255,
}
# A lone surrogate cannot be typed into a form: these are its UTF-8 bytes, percent-escaped.
SURROGATE_BYTES = "%ED%A0%80"
DATE_PART = "9" * 20
HOSTILE_DATES = {
    "a 20-digit date part": DATE_PART,
    "an ISO date with a 20-digit year": DATE_PART + "-01-01",
    "a UK date with a 20-digit year": "01/01/" + DATE_PART,
}
# Fields whose hostile value can only be a choice that is not offered, and fields that take a
# number, a date or a time, where one long value stands for every length.
CHOICE_KINDS = {"radio", "checkbox", "select", "hidden", "submit"}
CHOICE_VALUES = ("a NUL", "256 characters", "a huge number", "a negative number")
SHAPED_KINDS = {"number", "date", "time"}
SHAPED_VALUES = {label: HOSTILE[label] for label in (
    "a NUL", "256 characters", "a huge number", "a negative number")} | {
    "a huge negative number": "-" + "9" * 30}
QUERY_VALUES = ("a NUL", "5,000 characters", "a huge number", "a negative number")
# Links and forms that end the visit, change the language, or leave the site.
NOT_FOLLOWED = re.compile(r"^/(accounts/sign-out|booking/sign-out|language/|static/|media/"
                          r"|admin/)")
VISITS_PER_SHAPE = 1
PAGES_PER_WALK = 150


def shape(path: str, urlconf: str) -> str:
    """The route a path is served by (offers/<str:reference>/): one shape, many pages."""
    try:
        return resolve(path, urlconf).route
    except Resolver404:
        return path


# --- reading pages -----------------------------------------------------------------------------

@dataclass
class Field:
    name: str
    kind: str
    value: str = ""
    choices: list = field(default_factory=list)


@dataclass
class Form:
    method: str
    action: str
    multipart: bool
    fields: list = field(default_factory=list)

    def key(self, urlconf):
        # The form for a new record and the same form editing one are tried once.
        route = re.sub(r"(new|<int:\w+>)/$", "*/", shape(urlsplit(self.action).path, urlconf))
        return (self.method, route, tuple(sorted({f.name for f in self.fields})))


class FormReader(HTMLParser):
    """Every <form> on a page: method, action and its named inputs, selects and textareas."""

    def __init__(self, page_url):
        super().__init__(convert_charrefs=True)
        self.page_url, self.forms = page_url, []
        self.form = self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.form = Form(method=(attrs.get("method") or "get").lower(),
                             action=urljoin(self.page_url, attrs.get("action") or self.page_url),
                             multipart="multipart" in attrs.get("enctype", ""))
            self.forms.append(self.form)
        elif tag == "option" and self.select is not None:
            value = attrs.get("value", "")
            self.select.choices.append(value)
            if "selected" in attrs or (value and not self.select.value):
                self.select.value = value
        elif self.form is None or not attrs.get("name"):
            return
        elif tag in ("input", "button"):
            kind = attrs.get("type", "text" if tag == "input" else "submit").lower()
            if kind in ("radio", "checkbox"):
                existing = next((f for f in self.form.fields if f.name == attrs["name"]), None)
                if existing is None:
                    existing = Field(attrs["name"], kind)
                    self.form.fields.append(existing)
                existing.choices.append(attrs.get("value", "on"))
                if "checked" in attrs or not existing.value:
                    existing.value = attrs.get("value", "on")
            else:
                if attrs.get("inputmode") in ("numeric", "decimal"):
                    kind = "number"
                self.form.fields.append(Field(attrs["name"], kind, attrs.get("value", "")))
        elif tag == "select":
            self.select = Field(attrs["name"], "select")
            self.form.fields.append(self.select)
        elif tag == "textarea":
            self.textarea = Field(attrs["name"], "textarea")
            self.form.fields.append(self.textarea)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def forms_on(url, html) -> list[Form]:
    reader = FormReader(url)
    reader.feed(html)
    return reader.forms


def links_on(html) -> list[str]:
    return [urldefrag(href.replace("&amp;", "&"))[0]
            for href in re.findall(r'href="([^"#][^"]*)"', html)]


def walk(client, host, urlconf, starts) -> dict[str, str]:
    """The pages reachable from `starts` by links, each shape of page once (the starts
    are all visited: they are the pages whose buttons vary with the record's status)."""
    pages, queue, seen, shapes = {}, deque(starts), set(starts), Counter()
    while queue and len(pages) < PAGES_PER_WALK:
        url = queue.popleft()
        response = client.get(url, HTTP_HOST=host)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        pages[url] = html = response.content.decode()
        for href in links_on(html):
            parts = urlsplit(href)
            if parts.netloc or not href.startswith("/") or NOT_FOLLOWED.match(parts.path):
                continue
            if href in seen:
                continue
            seen.add(href)
            shapes[shape(parts.path, urlconf)] += 1
            if shapes[shape(parts.path, urlconf)] <= VISITS_PER_SHAPE:
                queue.append(href)
    return pages


# --- valid-looking values ----------------------------------------------------------------------

def plausible(form_field: Field) -> str:
    """What a person would type into an empty field of this name and type."""
    name, kind = form_field.name.lower(), form_field.kind
    soon = timezone.localdate() + timedelta(days=30)
    if form_field.value or kind in CHOICE_KINDS:
        return form_field.value
    if name.endswith("_0") and "birth" in name:
        return "27"
    if name.endswith("_1") and "birth" in name:
        return "3"
    if name.endswith("_2") and "birth" in name:
        return "1985"
    # Values that must be unique are new each time, so an earlier post that was accepted (a
    # client onboarded, a person invited) does not turn every later one into a duplicate.
    n = next(FRESH)
    for word, value in (("email", f"sam{n}@example.com"), ("user", "sam@example.com"),
                        ("phone", "07700 900982"), ("mobile", "07700 900982"),
                        ("postcode", "CM1 1QH"), ("colour", "#1d70b8"),
                        ("password", PASSWORD), ("url", "https://meet.example/abc"),
                        ("slug", f"sweep-{n}"), ("domain", ""), ("reference", "ESX-100001"),
                        ("minutes", "5"), ("capacity", "20"), ("count", "2"),
                        ("fee", "50.00"), ("recovery", "45.00"), ("days", "7"),
                        ("hours", "24"), ("transfers", "2"), ("code", f"SW{n}")):
        if word in name:
            return value
    if kind == "date" or "date" in name or name.endswith("_day"):
        return soon.isoformat()
    if kind == "time" or name.endswith(("opens", "closes")):
        return "09:30"
    if kind == "number":
        return "5"
    return "Sweep value"


def hostile_values(form_field: Field) -> dict[str, str]:
    if form_field.kind in CHOICE_KINDS:
        values = {label: HOSTILE[label] for label in CHOICE_VALUES}
    elif form_field.kind in SHAPED_KINDS:
        values = dict(SHAPED_VALUES)
    else:
        values = dict(HOSTILE)
    name = form_field.name.lower()
    if form_field.kind == "date" or "date" in name or "birth" in name or "day" in name:
        values.update(HOSTILE_DATES)
    return values


def body_with(form: Form, replaced: str | None = None, raw: str | None = None) -> str:
    """The form's own values as a urlencoded body; `replaced` (a field name) given `raw`,
    already percent-escaped, so bytes no text can hold can be sent."""
    pairs = []
    for form_field in form.fields:
        if form_field.name == replaced:
            pairs.append(f"{quote(form_field.name)}={raw}")
        elif form_field.kind != "submit" or form_field is first_button(form):
            pairs.append(urlencode({form_field.name: plausible(form_field)}))
    return "&".join(pairs)


def first_button(form: Form):
    return next((f for f in form.fields if f.kind == "submit"), None)


# --- judging answers ---------------------------------------------------------------------------

BAD_CHARACTER = "There is a problem with the information you sent"
ERROR_SUMMARY = re.compile(r'govuk-error-summary__list">(.*?)</ul>', re.S)


def unexplained(response) -> str | None:
    """Why this answer is not acceptable, or None: never 5xx, and a refusal says what is wrong."""
    if response.status_code >= 500:
        error = getattr(response, "exc_info", None)
        return f"{response.status_code} {error[1]!r}" if error else str(response.status_code)
    content_type = response.get("Content-Type", "")
    if response.status_code == 400 and "json" in content_type:
        body = response.json()
        return None if body.get("errors") or body.get("message") else "400 without errors"
    if response.status_code in (200, 400) and "html" in content_type:
        page = response.content.decode()
        if BAD_CHARACTER in page:
            return None
        if "There is a problem" in page:
            summary = ERROR_SUMMARY.search(page)
            if summary is None or "<li" not in summary.group(1):
                return "an error summary that names nothing"
        elif response.status_code == 400 and "govuk-error-message" not in page:
            return "400 page that names nothing"
    return None


@dataclass
class Sweep:
    client: object
    host: str
    urlconf: str = "config.urls_client"
    problems: list = field(default_factory=list)
    sent: int = 0
    # Shapes of form and query already tried (by an earlier role too): each is tried once.
    done: set = field(default_factory=set)
    # Follow each accepted post to the next page and press its button (the public journey).
    follow_through: bool = False

    def judge(self, what, response):
        self.sent += 1
        reason = unexplained(response)
        if reason:
            self.problems.append(f"{what}: {reason}")

    def post_form(self, form: Form):
        if form.method != "post" or NOT_FOLLOWED.match(urlsplit(form.action).path):
            return
        path = form.action
        for form_field in form.fields:
            if form_field.name == "csrfmiddlewaretoken":
                continue
            # Each form starts from a clean slate: look-up limits would otherwise lock it.
            cache.clear()
            for label, value in hostile_values(form_field).items():
                what = f"POST {path} {form_field.name}={label}"
                if form.multipart:
                    data = {f.name: plausible(f) for f in form.fields if f.kind != "submit"}
                    data[form_field.name] = value
                    response = self.client.post(path, data, HTTP_HOST=self.host)
                else:
                    response = self.client.post(
                        path, body_with(form, form_field.name, quote(value)),
                        content_type="application/x-www-form-urlencoded", HTTP_HOST=self.host)
                self.judge(what, response)
                if self.follow_through and response.status_code == 302:
                    self.press_on(what, response["Location"])
            if not form.multipart and form_field.kind not in CHOICE_KINDS | SHAPED_KINDS:
                self.judge(f"POST {path} {form_field.name}=a lone surrogate", self.client.post(
                    path, body_with(form, form_field.name, SURROGATE_BYTES),
                    content_type="application/x-www-form-urlencoded", HTTP_HOST=self.host))

    def press_on(self, what, location):
        """Where an accepted answer leads, and that page's own button with nothing to fill in
        (the journey keeps answers in the session and writes them at "Check your answers")."""
        if urlsplit(location).netloc:
            return
        landing = self.client.get(location, HTTP_HOST=self.host)
        self.judge(f"{what}, then GET {location}", landing)
        if landing.status_code != 200 or "html" not in landing.get("Content-Type", ""):
            return
        for form in forms_on(location, landing.content.decode()):
            names = {f.name for f in form.fields} - {"csrfmiddlewaretoken"}
            if form.method == "post" and form.action == location and not names:
                self.judge(f"{what}, then POST {location}", self.client.post(
                    location, HTTP_HOST=self.host))

    def get_with_query(self, url, names):
        path = urlsplit(url).path
        for name in sorted(names):
            values = {label: HOSTILE[label] for label in QUERY_VALUES}
            if "date" in name or "day" in name:
                values.update(HOSTILE_DATES)
            for label, value in values.items():
                self.judge(f"GET {path}?{name}={label}", self.client.get(
                    path, {name: value}, HTTP_HOST=self.host))
            self.judge(f"GET {path}?{name}=a lone surrogate", self.client.get(
                f"{path}?{quote(name)}={SURROGATE_BYTES}", HTTP_HOST=self.host))

    def run(self, starts):
        """Walk, then post every form met (once per shape), then try every query parameter
        seen on each shape of page."""
        self.client.raise_request_exception = False
        pages = walk(self.client, self.host, self.urlconf, starts)
        forms, queries = {}, {}
        for url, html in pages.items():
            for form in forms_on(url, html):
                forms.setdefault(form.key(self.urlconf), form)
                if form.method == "get":
                    queries.setdefault(shape(urlsplit(form.action).path, self.urlconf),
                                       (form.action, set()))[1].update(f.name for f in form.fields)
            for href in links_on(html):
                parts = urlsplit(href)
                if parts.query and not parts.netloc and href.startswith("/"):
                    queries.setdefault(shape(parts.path, self.urlconf), (href, set()))[1].update(
                        name for name, _value in parse_qsl(parts.query))
        for key, form in forms.items():
            if key not in self.done:
                self.done.add(key)
                self.post_form(form)
        for route, (url, names) in queries.items():
            if route not in self.done:
                self.done.add(route)
                self.get_with_query(url, names - {"csrfmiddlewaretoken"})
        return pages, forms


# --- the walks ---------------------------------------------------------------------------------

def essex_demo(essex):
    seed_client_demo(essex, today=timezone.localdate())
    enable_card_payments(essex, allow_moto=True)
    with schema_context(essex.schema_name):
        offers = {o.status: o.reference for o in Offer.objects.order_by("pk")}
        bookings = {b.status: b.reference for b in Booking.objects.order_by("pk")}
        session = CourseSession.objects.filter(bookings__isnull=False).order_by("pk").first()
    return ([f"/manage/offenders/{ref}/" for ref in offers.values()]
            + [f"/contact-centre/offers/{ref}/" for ref in offers.values()]
            + [f"/contact-centre/bookings/{ref}/" for ref in bookings.values()]
            + [f"/contact-centre/payments/{bookings['pending_payment']}/",
               f"/manage/registers/{session.pk}/", f"/manage/sessions/{session.pk}/"])


# The roles with the fewest pages go first: a form every role sees is tried by the first.
STAFF = [(Role.TRAINER, "/manage/registers/"), (Role.CONTACT_CENTRE_AGENT, "/contact-centre/"),
         (Role.BOOKING_OFFICER, "/manage/"), (Role.CLIENT_ADMIN, "/manage/")]


def test_no_staff_form_fails_on_hostile_input(essex, client, stripe_api):
    seeds = essex_demo(essex)
    sweep, reached = Sweep(client, CLIENT_HOST), {}
    for role, start in STAFF:
        user = make_user(f"sweep-{role}@essex.test", organisation=essex, role=role)
        if role == Role.TRAINER:
            with schema_context(essex.schema_name):
                Trainer.objects.filter(pk__in=CourseSession.objects.filter(
                    bookings__isnull=False).values("trainers")).update(user_id=user.pk)
        client.force_login(user)
        pages, forms = sweep.run([start] + seeds)
        reached[role] = sum(form.method == "post" for form in forms.values())
        assert pages.get(start), role
    assert not sweep.problems, "\n".join(sweep.problems)
    # The walk really reached each role's forms (the register's outcomes for the trainer).
    assert reached[Role.CLIENT_ADMIN] >= 30 and min(reached.values()) >= 2, reached


def test_no_control_plane_form_fails_on_hostile_input(essex, provider_admin, client, stripe_api):
    sign_in_verified(client, provider_admin)
    sweep = Sweep(client, PLATFORM_HOST, "config.urls_platform")
    pages, forms = sweep.run(["/", "/clients/new/", f"/clients/{essex.slug}/", "/audit/"])
    assert not sweep.problems, "\n".join(sweep.problems)
    assert "/clients/new/" in pages and len(forms) >= 4


def proven_journey(client, offer):
    response = client.post("/book/find/", {
        "reference": offer.reference, "date_of_birth_0": "27", "date_of_birth_1": "3",
        "date_of_birth_2": "1985"}, HTTP_HOST=CLIENT_HOST)
    assert response.status_code == 302, response.content


def test_no_public_form_fails_on_hostile_input(essex, client, stripe_api):
    """An anonymous person with a proven journey and a live hold (the details and check
    pages), and one whose booking waits for payment (the pay page)."""
    from django.test import Client

    enable_card_payments(essex)
    held, sessions = make_journey_data(essex)
    paying, _ = make_journey_data(essex, reference="ESX-100002")
    with schema_context(essex.schema_name):
        place_hold(held.pk, sessions[0].pk, channel="online", actor="offender")
        place_hold(paying.pk, sessions[1].pk, channel="online", actor="offender")
        pending = book(paying.pk, channel="online", actor="offender")
    proven_journey(client, held)
    details = Sweep(client, CLIENT_HOST, follow_through=True)
    pages, forms = details.run(["/", "/book/details/", "/book/where/", "/book/dates/"])
    assert "/book/details/" in pages and any(
        "/book/details/" in form.action for form in forms.values())

    payer = Client()
    proven_journey(payer, paying)
    pay = Sweep(payer, CLIENT_HOST, done=details.done, follow_through=True)
    pay_pages, _forms = pay.run(["/booking/", f"/book/pay/{pending.reference}/"])
    assert f"/book/pay/{pending.reference}/" in pay_pages

    anonymous = Sweep(Client(), CLIENT_HOST, done=details.done)
    anonymous.run(["/", "/book/find/"])
    problems = details.problems + pay.problems + anonymous.problems
    assert not problems, "\n".join(problems)


# --- path parameters ---------------------------------------------------------------------------

def routes(urlconf) -> list[str]:
    """Every route of the URL tree with a <str:…> or <int:…> parameter, as written."""
    found = []

    def visit(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                visit(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and re.search(r"<(str|int):", route):
                found.append(route)

    visit(get_resolver(urlconf).url_patterns, "/")
    return found


PATH_VALUES = {"a NUL": "a%00b", "5,000 characters": "x" * 5000, "256 characters": "x" * 256,
               "a huge number": "9" * 30, "a 20-digit number": DATE_PART,
               "a negative number": "-1", "a lone surrogate": SURROGATE_BYTES}


# A POST reaches the same look-ups as a GET: the values that could break one, only.
POSTED_PATH_VALUES = ("a NUL", "a huge number", "a 20-digit number", "5,000 characters")
STAFF_ONLY = re.compile(r"^/(manage|contact-centre|api)/")


def sweep_paths(sweep: Sweep, urlconf, method="get", routes_wanted=lambda route: True):
    values = PATH_VALUES if method == "get" else {
        label: PATH_VALUES[label] for label in POSTED_PATH_VALUES}
    for route in filter(routes_wanted, routes(urlconf)):
        for label, value in values.items():
            path = re.sub(r"<(?:str|int):\w+>", value, route)
            if re.search(r"<int:", route) and not value.isdigit():
                continue  # the int converter never lets it through: a plain 404
            sweep.judge(f"{method.upper()} {route} with {label}",
                        getattr(sweep.client, method)(path, HTTP_HOST=sweep.host))


def test_no_path_parameter_fails_on_hostile_values(essex, client, stripe_api, provider_admin):
    essex_demo(essex)
    admin = make_user("paths@essex.test", organisation=essex, role=Role.CLIENT_ADMIN)
    client.force_login(admin)
    client.raise_request_exception = False
    staff = Sweep(client, CLIENT_HOST)
    sweep_paths(staff, "config.urls_client")
    sweep_paths(staff, "config.urls_client", method="post")

    from django.test import Client

    anonymous = Client(raise_request_exception=False)
    public = Sweep(anonymous, CLIENT_HOST)
    sweep_paths(public, "config.urls_client",
                routes_wanted=lambda route: not STAFF_ONLY.match(route))

    platform = Client(raise_request_exception=False)
    sign_in_verified(platform, provider_admin)
    control = Sweep(platform, PLATFORM_HOST)
    sweep_paths(control, "config.urls_platform")
    sweep_paths(control, "config.urls_platform", method="post")
    problems = staff.problems + public.problems + control.problems
    assert not problems, "\n".join(problems)
    assert staff.sent > 100 and control.sent > 10


# --- the card endpoints the payment pages' script calls -----------------------------------------

CARD_BODIES = {
    "an unknown token": '{"token": "tok_unknown"}',
    "a 5,000-character token": json.dumps({"token": "tok_" + "x" * 5000}),
    "a number": '{"token": 7}',
    "a list": '["tok_unknown"]',
    "not JSON": "tok_unknown",
    "a NUL": '{"token": "tok_\\u0000"}',
    "a lone surrogate": '{"token": "tok_\\ud800"}',
    "nothing": "",
    "deeply nested": "[" * 100_000 + "]" * 100_000,
}


def test_card_endpoints_answer_hostile_tokens_with_a_clear_4xx(essex, client, stripe_api):
    from django.test import Client

    enable_card_payments(essex, allow_moto=True)
    offer, sessions = make_journey_data(essex)
    with schema_context(essex.schema_name):
        place_hold(offer.pk, sessions[0].pk, channel="online", actor="offender")
        booking = book(offer.pk, channel="online", actor="offender")
    proven_journey(client, offer)
    from booking.services.pay_links import pay_link_token

    with schema_context(essex.schema_name):
        link = pay_link_token(booking)
    agent = Client()
    agent.force_login(make_user("card-agent@essex.test", organisation=essex,
                                role=Role.CONTACT_CENTRE_AGENT))
    endpoints = [(client, f"/book/pay/{booking.reference}/card/"),
                 (Client(), f"/pay/{link}/card/"),
                 (agent, f"/contact-centre/payments/{booking.reference}/card/")]
    for who, url in endpoints:
        who.raise_request_exception = False
        for label, body in CARD_BODIES.items():
            response = who.post(url, body, content_type="application/json",
                                HTTP_HOST=CLIENT_HOST)
            assert 400 <= response.status_code < 500, (url, label, response.status_code)
            if "json" in response["Content-Type"]:
                assert response.json()["message"], (url, label)
            else:
                assert b"There is a problem with the information you sent" in response.content
    unknown = client.post(endpoints[0][1], CARD_BODIES["an unknown token"],
                          content_type="application/json", HTTP_HOST=CLIENT_HOST)
    assert unknown.status_code == 400
    assert "We could not use those card details" in unknown.json()["message"]
    with schema_context(essex.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "pending_payment"
