"""The people of bench/http_load.py's load test, as Locust users: http_load.py writes a plan
(JSON), runs Locust headless on it in a process of its own (gevent stays out of the process that
runs Django for the fixtures and the checks) and reads back what every request took.

    WAYMARK_LOAD_PLAN=plan.json WAYMARK_LOAD_RESULT=result.json \\
        locust -f bench/locustfile.py --headless --host http://127.0.0.1:PORT -u N -r N

Only loopback: a plan or --host naming anything but 127.0.0.1 is refused. The plan's "mode":

- "race": one Person per offer. All are released together (a barrier) to walk find -> where ->
  dates, then together again to post the same date (the hold); each records "held", "just
  filled" or what else it met, then stops.
- "journey": Persons take offers from the plan in turn and walk the whole paid journey (the card
  token from localstripe, as Stripe.js makes it), each offer a new person (fresh cookies), until
  the offers or the plan's seconds run out; StaffMembers sign in and walk their pages meanwhile.

Every request carries the client's Host, X-Forwarded-Proto: https (the TLS proxy) and, when it
changes something, Origin and the CSRF token, as a browser behind the proxy would send them, and
Connection: close (gthread's 2-second keep-alive would close a connection a person waiting at
the barrier still holds). Redirects are not followed: each request is timed as its own step.
"""

import json
import os
import re
import time
from collections import defaultdict
from http.cookies import SimpleCookie
from urllib.parse import urlparse

import gevent
from gevent.event import Event
from locust import FastHttpUser, events, task
from locust.exception import StopUser

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REQUEST_KEY_INPUT = re.compile(r'type="hidden" name="(request_key[^"]*)" value="([^"]+)"')
POSTCODE = "CM1 1QH"

PLAN = json.loads(open(os.environ["WAYMARK_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
if urlparse(PLAN["stripe_base"]).hostname != "127.0.0.1":
    raise SystemExit(f"the load test runs against 127.0.0.1 only, not {PLAN['stripe_base']}")
PEOPLE = len(PLAN["offers"]) if PLAN["mode"] == "race" else PLAN["people"]
STAFF = PLAN.get("staff", [])

# Per role ("people", "staff"): each step's request times, the HTTP statuses, the errors met.
RESULT = {role: {"steps": defaultdict(list), "statuses": defaultdict(int), "errors": []}
          for role in ("people", "staff")}
RESULT.update(outcomes=defaultdict(int), journeys=[], confirmed=0, wall=0.0)
BEGAN = time.perf_counter()
OFFERS = iter(enumerate(PLAN["offers"]))
PEOPLE_DONE = [0]
ALL_PEOPLE_DONE = Event()


class Restart(Exception):
    """An answer the journey did not expect; the offer counts as not booked."""


class Barrier:
    """Everyone released together once all have arrived (greenlets: no lock needed)."""

    def __init__(self, parties: int):
        self.parties, self.arrived, self.open = parties, 0, Event()

    def wait(self, timeout: float) -> None:
        self.arrived += 1
        if self.arrived >= self.parties:
            self.open.set()
        self.open.wait(timeout)


START_LINE, HOLD_LINE = Barrier(PEOPLE), Barrier(PEOPLE)


class Visitor(FastHttpUser):
    abstract = True
    role = "people"
    connection_timeout = 60.0
    network_timeout = 60.0

    def on_start(self):
        # Cookies by hand: the jar would file them under 127.0.0.1, not the client's Host.
        self.client.client.cookiejar = None
        self.new_browser()

    def new_browser(self):
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def send(self, step: str, method: str, path: str, *, data=None, json_body=None):
        host = PLAN["host"]
        headers = {"Host": host, "X-Forwarded-Proto": "https", "Connection": "close",
                   "Referer": f"https://{host}{path}"}
        if method != "GET":
            headers["Origin"] = f"https://{host}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if json_body is not None:
            headers["X-CSRFToken"] = self.csrf
        if data is not None:
            data = {"csrfmiddlewaretoken": self.csrf, **data}
        start = time.perf_counter()
        with self.client.request(method, path, name=step, data=data, json=json_body,
                                 headers=headers, allow_redirects=False,
                                 catch_response=True) as response:
            elapsed = time.perf_counter() - start
            if response.status_code and response.status_code < 500:
                response.success()  # a 302 or the "just filled" 400 is an answer, not a fault
        self.keep_cookies(response.headers.get("Set-Cookie") if response.headers else None)
        RESULT[self.role]["steps"][step].append(elapsed)
        RESULT[self.role]["statuses"][str(response.status_code)] += 1
        if response.headers and "text/html" in (response.headers.get("Content-Type") or ""):
            found = CSRF_INPUT.search(response.text or "")
            if found:
                self.csrf = found.group(1)
        return response

    def keep_cookies(self, set_cookie) -> None:
        for header in [set_cookie] if isinstance(set_cookie, str) else set_cookie or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)  # deleted (signing out, a cleared session)
                else:
                    self.cookies[name] = morsel.value


def redirected(response, step: str, starts: str) -> str:
    location = response.headers.get("Location") or ""
    if response.status_code != 302 or not location.startswith(starts):
        raise Restart(f"{step}: {response.status_code} {location or (response.text or '')[:200]!r}")
    return location


def walk_to_dates(person: Visitor, offer: dict) -> None:
    year, month, day = offer["dob"].split("-")
    person.send("find", "GET", "/book/find/")
    redirected(person.send("find", "POST", "/book/find/", data={
        "reference": offer["reference"], "date_of_birth_0": str(int(day)),
        "date_of_birth_1": str(int(month)), "date_of_birth_2": year}), "find", "/book/where/")
    person.send("where", "GET", "/book/where/")
    redirected(person.send("where", "POST", "/book/where/",
                           data={"mode": "classroom", "postcode": POSTCODE}), "where",
               "/book/dates/")
    person.send("dates", "GET", "/book/dates/")


def paid_booking(person: Visitor, offer: dict, session_id: int) -> None:
    walk_to_dates(person, offer)
    redirected(person.send("dates", "POST", "/book/dates/", data={"session": str(session_id)}),
               "dates", "/book/details/")
    person.send("details", "GET", "/book/details/")
    redirected(person.send("details", "POST", "/book/details/", data={
        "email": f"{offer['reference'].lower()}@bench.example", "phone": "07700 900982",
        "language": "en"}), "details", "/book/check/")
    page = person.send("check", "GET", "/book/check/").text or ""
    key = REQUEST_KEY_INPUT.search(page)  # the check page's one-time key, as its form posts it
    pay_path = redirected(person.send("check", "POST", "/book/check/",
                                      data={key.group(1): key.group(2)} if key else {}),
                          "check", "/book/pay/")
    person.send("pay page", "GET", pay_path)
    start = time.perf_counter()
    token = person.client.post(PLAN["stripe_base"] + "/v1/tokens", name="card token", data={
        "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2030",
        "card[cvc]": "123", "key": "pk_test_bench_http"}).json()["id"]
    RESULT["people"]["steps"]["card token (localstripe, as Stripe.js)"].append(
        time.perf_counter() - start)
    response = person.send("card", "POST", pay_path + "card/", json_body={"token": token})
    answer = response.json() if response.status_code and response.status_code < 500 else {}
    if answer.get("status") != "succeeded":
        raise Restart(f"card: {response.status_code} {(response.text or '')[:200]!r}")
    done = answer["redirect"]
    if not done.startswith("/book/confirmation/"):  # not settled by the card request itself
        done = redirected(person.send("return", "GET", done), "return", "/book/confirmation/")
    if person.send("confirmation", "GET", done).status_code != 200:
        raise Restart("confirmation: not 200")


def one_person_done(environment) -> None:
    PEOPLE_DONE[0] += 1
    if PEOPLE_DONE[0] >= PEOPLE:
        RESULT["wall"] = time.perf_counter() - BEGAN
        ALL_PEOPLE_DONE.set()
        # The staff stop with the people; a moment for the last answers to be recorded.
        gevent.spawn_later(0.5, environment.runner.quit)


class Person(Visitor):
    fixed_count = PEOPLE

    @task
    def take_part(self):
        try:
            if PLAN["mode"] == "race":
                self.race()
            else:
                self.book_until_done()
        finally:
            one_person_done(self.environment)
        raise StopUser

    def race(self):
        _index, offer = next(OFFERS)
        START_LINE.wait(timeout=120)
        try:
            walk_to_dates(self, offer)
        except Exception as error:  # noqa: BLE001 - reported; the others are still released
            HOLD_LINE.wait(timeout=0)
            RESULT["outcomes"][f"error before the hold: {str(error)[:120]}"] += 1
            return
        HOLD_LINE.wait(timeout=300)
        response = self.send("hold", "POST", "/book/dates/",
                             data={"session": str(PLAN["session_id"])})
        if response.status_code == 302 and (response.headers.get("Location") or "").startswith(
                "/book/details/"):
            RESULT["outcomes"]["held"] += 1
        elif response.status_code == 400 and "just filled up" in (response.text or ""):
            RESULT["outcomes"]["just filled"] += 1
        else:
            RESULT["outcomes"][f"HTTP {response.status_code}"] += 1

    def book_until_done(self):
        deadline = BEGAN + PLAN["seconds"]
        for index, offer in OFFERS:
            if time.perf_counter() >= deadline:
                return
            self.new_browser()
            start = time.perf_counter()
            try:
                paid_booking(self, offer, PLAN["session_ids"][index // PLAN["per_date"]])
            except Exception as error:  # noqa: BLE001 - counted, the run goes on
                RESULT["people"]["errors"].append(f"{offer['reference']}: {str(error)[:160]}")
                continue
            RESULT["confirmed"] += 1
            RESULT["journeys"].append(time.perf_counter() - start)


class StaffMember(Visitor):
    fixed_count = len(STAFF)
    role = "staff"
    _numbers = iter(range(10**6))

    @task
    def work(self):
        email, pages = STAFF[next(self._numbers) % len(STAFF)]
        self.send("sign-in", "GET", "/accounts/sign-in/")
        response = self.send("sign-in", "POST", "/accounts/sign-in/",
                             data={"email": email, "password": PLAN["staff_password"]})
        if response.status_code != 302 or "sign-in" in (response.headers.get("Location") or ""):
            RESULT["staff"]["errors"].append(f"sign-in as {email}: {response.status_code}")
            raise StopUser
        while not ALL_PEOPLE_DONE.is_set():
            for step, path in pages:
                response = self.send(step, "GET", path)
                if response.status_code != 200:
                    RESULT["staff"]["errors"].append(f"{step}: {response.status_code} "
                                                     f"{response.headers.get('Location') or ''}")
                if ALL_PEOPLE_DONE.is_set():
                    break
        raise StopUser


@events.init.add_listener
def refuse_other_hosts(environment, **_kwargs):
    if urlparse(environment.host or "").hostname != "127.0.0.1":
        raise SystemExit(f"the load test runs against 127.0.0.1 only, not {environment.host}")


@events.quitting.add_listener
def write_result(environment, **_kwargs):
    RESULT["wall"] = RESULT["wall"] or time.perf_counter() - BEGAN
    with open(os.environ["WAYMARK_LOAD_RESULT"], "w", encoding="utf-8") as out:
        json.dump(RESULT, out)
