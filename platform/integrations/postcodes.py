"""Placing UK postcodes without any network look-up.

A full postcode is placed at the centroid of its sector (``CM1 1QH`` → ``CM1 1``), or of its
district (``CM1``) when the sector is not listed; an outward code alone (``CF10``) is placed at
its district, for "courses near" searches. The centroids come from the ONS postcode lookup
(``integrations/data/``, see its README for the attribution) and are read once per process, on
first use.

Errors are ``ValidationError`` subclasses with translatable messages, so a form can show them
as they are: ``InvalidPostcode`` (code ``invalid_postcode``) for text that is not shaped like a
postcode, ``UnknownPostcode`` (code ``unknown_postcode``) for one that is but is not in the data.
"""

from __future__ import annotations

import csv
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DATA_DIR = Path(__file__).parent / "data"
SECTORS_CSV = DATA_DIR / "uk-postcode-sectors.csv"
DISTRICTS_CSV = DATA_DIR / "uk-postcode-districts.csv"

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)

# The UK government data standard (BS 7666) postcode shape, applied to the upper-cased text with
# all whitespace removed: outward code A9, A99, AA9, AA99, A9A or AA9A (second letter never I or
# Z), then an inward code 9AA; plus the one non-standard civilian postcode, GIR 0AA. It checks
# the shape only: whether the postcode exists is for the data to say.
_OUTWARD = r"[A-Z](?:[0-9][0-9]?|[A-HJ-Y][0-9][0-9]?|[0-9][A-Z]|[A-HJ-Y][0-9][A-Z])"
_POSTCODE_RE = re.compile(rf"(?:GIR0AA|{_OUTWARD}[0-9][A-Z]{{2}})")
_OUTWARD_RE = re.compile(_OUTWARD)

Precision = Literal["sector", "district"]


class PostcodeError(ValidationError):
    """Base of the postcode errors: a ValidationError with a default message and code."""

    default_message = _("Enter a real postcode, like CM1 1QH")
    default_code = "invalid_postcode"

    def __init__(self, message=None, code=None, params=None):
        super().__init__(message if message is not None else self.default_message,
                         code=code or self.default_code, params=params)


class InvalidPostcode(PostcodeError):
    """The text is not shaped like a UK postcode."""

    default_message = _("Enter a real postcode, like CM1 1QH")
    default_code = "invalid_postcode"


class UnknownPostcode(PostcodeError):
    """Shaped like a postcode, but neither its sector nor its district is known.
    Raise as ``UnknownPostcode(params={"postcode": ...})``."""

    default_message = _("We cannot find the postcode %(postcode)s. Check it and try again.")
    default_code = "unknown_postcode"

    @property
    def postcode(self) -> str:
        return (getattr(self, "params", None) or {}).get("postcode", "")


INVALID_AREA_MESSAGE = _("Enter a real postcode, or the first part of one, like CM1 1QH or CM1")


@dataclass(frozen=True)
class Place:
    """Where a postcode (or an outward code alone) is, and how closely: the centroid of its
    sector or of its district (WGS84 degrees)."""

    postcode: str
    latitude: float
    longitude: float
    precision: Precision


def _compact(raw: str) -> str:
    """Upper case with every space (of any kind) removed."""
    if not isinstance(raw, str):
        raise InvalidPostcode()
    return "".join(raw.split()).upper()


def normalise(raw: str) -> str:
    """The postcode in upper case with a single space before the inward code ("cm11qh" →
    "CM1 1QH"); InvalidPostcode if it is not shaped like a full UK postcode."""
    compact = _compact(raw)
    if not _POSTCODE_RE.fullmatch(compact):
        raise InvalidPostcode()
    return f"{compact[:-3]} {compact[-3:]}"


def locate(raw: str) -> Place:
    """Place a full postcode at its sector, else its district. InvalidPostcode if it is not
    shaped like a postcode, UnknownPostcode if it is not in the data."""
    postcode = normalise(raw)
    outward, inward = postcode.split(" ")
    centroid = _sectors().get(f"{outward} {inward[0]}")
    if centroid is not None:
        return Place(postcode, *centroid, precision="sector")
    centroid = _districts().get(outward)
    if centroid is not None:
        return Place(postcode, *centroid, precision="district")
    raise UnknownPostcode(params={"postcode": postcode})


def locate_area(raw: str) -> Place:
    """Place a full postcode (as locate) or an outward code alone ("CF10", "cf10"), at its
    district; the Place's postcode is the normalised text given. For "courses near" searches."""
    compact = _compact(raw)
    if _OUTWARD_RE.fullmatch(compact):
        centroid = _districts().get(compact)
        if centroid is None:
            raise UnknownPostcode(params={"postcode": compact})
        return Place(compact, *centroid, precision="district")
    try:
        return locate(raw)
    except InvalidPostcode:
        raise InvalidPostcode(INVALID_AREA_MESSAGE) from None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in kilometres between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _load(path: Path) -> dict[str, tuple[float, float]]:
    with path.open(newline="", encoding="utf-8") as f:
        return {row["area"]: (float(row["latitude"]), float(row["longitude"]))
                for row in csv.DictReader(f)}


@functools.cache
def _sectors() -> dict[str, tuple[float, float]]:
    """Sector ("CM1 1") → (latitude, longitude); read once per process."""
    return _load(SECTORS_CSV)


@functools.cache
def _districts() -> dict[str, tuple[float, float]]:
    """District ("CM1") → (latitude, longitude); read once per process."""
    return _load(DISTRICTS_CSV)
