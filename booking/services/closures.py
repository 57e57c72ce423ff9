"""Days no course date is scheduled: the bank holidays of the client's nation (England and Wales,
Scotland or Northern Ireland, substitute days included) and the client's own closures.

Bank holidays come from the maintained `holidays` package, never from a list kept by hand; only
their names are translated here, as the package has no Welsh list for the UK.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
from django.db import connection, transaction
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from audit.services import record
from booking.models import Closure
from tenants.models import ClientOrganisation

from .editing import field_errors

Nation = ClientOrganisation.Nation
SUBDIVISIONS = {Nation.ENGLAND_WALES: "ENG", Nation.SCOTLAND: "SCT",
                Nation.NORTHERN_IRELAND: "NIR"}

# The package's English names, as people in Wales read them (the GOV.UK Welsh list).
HOLIDAY_NAMES = {
    "New Year's Day": _("New Year's Day"),
    "Good Friday": _("Good Friday"),
    "Easter Monday": _("Easter Monday"),
    "May Day": _("Early May bank holiday"),
    "Spring Bank Holiday": _("Spring bank holiday"),
    "Late Summer Bank Holiday": _("Summer bank holiday"),
    "Summer Bank Holiday": _("Summer bank holiday"),
    "Christmas Day": _("Christmas Day"),
    "Boxing Day": _("Boxing Day"),
    "New Year Holiday": _("2nd January"),
    "Saint Andrew's Day": _("St Andrew's Day"),
    "Saint Patrick's Day": _("St Patrick's Day"),
    "Battle of the Boyne": _("Battle of the Boyne (Orangemen's Day)"),
}
OBSERVED = " (observed)"


@lru_cache(maxsize=64)
def _bank_holidays(nation: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("GB", subdiv=SUBDIVISIONS[nation], years=year,
                                          language="en_GB"))


def holiday_name(name: str) -> str:
    """The package's English name in the active language; a substitute day says so."""
    if name.endswith(OBSERVED):
        return str(_("%(holiday)s (substitute day)")
                   % {"holiday": holiday_name(name.removesuffix(OBSERVED))})
    return str(HOLIDAY_NAMES.get(name, name))


def client_nation(organisation=None) -> str:
    """The nation whose bank holidays apply: the organisation's, or the current schema's."""
    if organisation is not None:
        return organisation.nation
    nation = (ClientOrganisation.objects.filter(schema_name=connection.schema_name)
              .values_list("nation", flat=True).first())
    return nation or Nation.ENGLAND_WALES


@dataclass(frozen=True)
class ClosedDay:
    day: date
    # The package's English name of the bank holiday, or "" for one of the client's closures.
    holiday: str = ""
    nation: str = Nation.ENGLAND_WALES
    closure: Closure | None = None

    def name(self) -> str:
        return self.closure.reason if self.closure is not None else holiday_name(self.holiday)

    def why(self) -> str:
        """Why nothing is scheduled that day, in the active language."""
        when = formats.date_format(self.day, "j F Y")
        if self.closure is not None:
            return str(_("%(date)s is a day you are closed: %(reason)s.")
                       % {"date": when, "reason": self.closure.reason})
        return str(_("%(date)s is %(holiday)s, a bank holiday in %(nation)s.")
                   % {"date": when, "holiday": holiday_name(self.holiday),
                      "nation": Nation(self.nation).label})

    def audit(self) -> dict:
        return {"date": self.day.isoformat(), "bank_holiday": self.holiday,
                "closure": self.closure.reason if self.closure else ""}


def closed_days(first: date, last: date, *, nation: str) -> dict[date, ClosedDay]:
    """Every closed day from `first` to `last` inclusive; a bank holiday wins over a closure."""
    days: dict[date, ClosedDay] = {}
    for closure in Closure.objects.filter(first_day__lte=last, last_day__gte=first):
        day = max(closure.first_day, first)
        while day <= min(closure.last_day, last):
            days.setdefault(day, ClosedDay(day, nation=nation, closure=closure))
            day += timedelta(days=1)
    for year in range(first.year, last.year + 1):
        for day, name in _bank_holidays(nation, year).items():
            if first <= day <= last:
                days[day] = ClosedDay(day, holiday=name, nation=nation)
    return days


def _snapshot(closure: Closure) -> dict:
    return {"first_day": closure.first_day.isoformat(), "last_day": closure.last_day.isoformat(),
            "reason": closure.reason}


def add_closure(first_day: date, last_day: date, reason: str, *, actor, organisation=None,
                ip_address=None) -> Closure:
    """Days the client is closed. Dates already scheduled in them stay (cancel them one by one,
    which tells the people booked); new dates are refused there."""
    reason = (reason or "").strip()
    if not reason:
        raise field_errors(reason=_("Enter why you are closed."))
    if last_day < first_day:
        raise field_errors(last_day=_("The last day must be on or after the first day."))
    with transaction.atomic(durable=True):
        closure = Closure(first_day=first_day, last_day=last_day, reason=reason)
        closure.full_clean()
        closure.save()
        record(actor=actor, action="closure.added", obj=closure, organisation=organisation,
               after=_snapshot(closure), ip_address=ip_address)
        return closure


def remove_closure(closure_id, *, actor, organisation=None, ip_address=None) -> None:
    """One already removed (a second click) changes nothing."""
    with transaction.atomic(durable=True):
        closure = Closure.objects.select_for_update().filter(pk=closure_id).first()
        if closure is None:
            return
        record(actor=actor, action="closure.removed", obj=closure, organisation=organisation,
               before=_snapshot(closure), ip_address=ip_address)
        closure.delete()
