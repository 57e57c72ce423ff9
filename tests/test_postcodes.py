"""integrations/postcodes.py: normalising, placing and measuring between UK postcodes, from the
bundled ONS centroids. Pure unit tests: no database."""

import copy
import csv
import pickle
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from integrations import postcodes
from integrations.postcodes import InvalidPostcode, Place, UnknownPostcode

DATA = Path(postcodes.__file__).parent / "data"


def _rows(name: str) -> dict[str, tuple[float, float]]:
    with (DATA / name).open(newline="", encoding="utf-8") as f:
        return {r["area"]: (float(r["latitude"]), float(r["longitude"])) for r in csv.DictReader(f)}


SECTORS = _rows("uk-postcode-sectors.csv")
DISTRICTS = _rows("uk-postcode-districts.csv")


def _district_with_missing_sector() -> tuple[str, str]:
    """A real district and an inward digit whose sector is not in the data."""
    for district in sorted(DISTRICTS):
        if not postcodes._OUTWARD_RE.fullmatch(district):
            continue  # e.g. terminated NPT, not postcode shaped
        for digit in "0123456789":
            if f"{district} {digit}" not in SECTORS:
                return district, digit
    raise AssertionError("every district has all ten sectors")


def _unknown_district() -> str:
    """A postcode-shaped Chelmsford district that is not in the data (CM99 is: it is a
    non-geographic district with its own centroid)."""
    return next(f"CM{n}" for n in range(10, 100) if f"CM{n}" not in DISTRICTS)


UNKNOWN = _unknown_district()


@pytest.mark.parametrize("raw, expected", [
    ("cm11qh", "CM1 1QH"),
    (" SW1A  1aa ", "SW1A 1AA"),
    ("CM1 1QH", "CM1 1QH"),
    ("m1 1ae", "M1 1AE"),
    ("B338TH", "B33 8TH"),
    ("cr2 6xh", "CR2 6XH"),
    ("dn551pt", "DN55 1PT"),
    ("W1A 0AX", "W1A 0AX"),
    ("ec1a1bb", "EC1A 1BB"),
    ("gir0aa", "GIR 0AA"),
    ("\tcf10\u00a01ep\n", "CF10 1EP"),
])
def test_normalise(raw, expected):
    assert postcodes.normalise(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "   ", "CM1", "CF10", "CM1 1Q", "CM1 1QHX", "1CM 1QH", "CM1 QQH", "CMM1 1QH",
    "CM123 1QH", "AI1 1AA", "CM1-1QH", "CM1 1Q!", "hello", "12345", "CM1 1QH CM1 1QH",
])
def test_normalise_rejects_what_is_not_postcode_shaped(raw):
    with pytest.raises(InvalidPostcode) as caught:
        postcodes.normalise(raw)
    assert caught.value.code == "invalid_postcode"
    assert isinstance(caught.value, ValidationError)
    assert caught.value.messages == ["Enter a real postcode, like CM1 1QH"]


def test_normalise_rejects_non_strings():
    with pytest.raises(InvalidPostcode):
        postcodes.normalise(None)


def test_locate_places_a_postcode_at_its_sector():
    assert "CF10 1" in SECTORS  # real: central Cardiff
    place = postcodes.locate("cf10 1ep")
    assert place == Place("CF10 1EP", *SECTORS["CF10 1"], precision="sector")
    assert place.precision == "sector"
    assert 51.4 < place.latitude < 51.6 and -3.3 < place.longitude < -3.1


def test_locate_falls_back_to_the_district_when_the_sector_is_missing():
    district, digit = _district_with_missing_sector()
    postcode = f"{district} {digit}AA"
    place = postcodes.locate(postcode.lower().replace(" ", ""))
    assert place == Place(postcode, *DISTRICTS[district], precision="district")


def test_place_is_frozen():
    place = postcodes.locate("CF10 1EP")
    with pytest.raises(AttributeError):
        place.latitude = 0.0


def test_locate_unknown_postcode():
    with pytest.raises(UnknownPostcode) as caught:
        postcodes.locate(f"{UNKNOWN.lower()}9zz")
    error = caught.value
    assert isinstance(error, ValidationError)
    assert error.code == "unknown_postcode"
    assert error.postcode == f"{UNKNOWN} 9ZZ"
    assert error.messages == [f"We cannot find the postcode {UNKNOWN} 9ZZ. Check it and try again."]


def test_gir_0aa_is_postcode_shaped_but_not_placed():
    with pytest.raises(UnknownPostcode):
        postcodes.locate("GIR 0AA")


def test_locate_malformed():
    with pytest.raises(InvalidPostcode) as caught:
        postcodes.locate("not a postcode")
    assert caught.value.code == "invalid_postcode"


@pytest.mark.parametrize("raw", ["CF10", "cf10", " cf 10 "])
def test_locate_area_outward_code(raw):
    place = postcodes.locate_area(raw)
    assert place == Place("CF10", *DISTRICTS["CF10"], precision="district")


def test_locate_area_full_postcode_is_placed_as_by_locate():
    assert postcodes.locate_area("cf101ep") == postcodes.locate("CF10 1EP")


def test_locate_area_errors():
    with pytest.raises(UnknownPostcode) as caught:
        postcodes.locate_area(UNKNOWN.lower())
    assert caught.value.code == "unknown_postcode"
    assert caught.value.messages == [
        f"We cannot find the postcode {UNKNOWN}. Check it and try again."]
    for raw in ["", "CF", "CF10 1", "CF10 1E", "hello"]:
        with pytest.raises(InvalidPostcode) as caught:
            postcodes.locate_area(raw)
        assert caught.value.code == "invalid_postcode"


def test_every_listed_district_and_sector_is_reachable():
    """Each postcode-shaped district in the data is placed at its own centroid."""
    for district, centroid in DISTRICTS.items():
        if postcodes._OUTWARD_RE.fullmatch(district):
            place = postcodes.locate_area(district)
            assert (place.latitude, place.longitude) == centroid
    for sector, centroid in SECTORS.items():
        if postcodes._OUTWARD_RE.fullmatch(sector.split()[0]):
            place = postcodes.locate(f"{sector}AA")
            assert (place.precision, place.latitude, place.longitude) == ("sector", *centroid)


def test_distance_london_to_cardiff():
    assert postcodes.distance_km(51.5074, -0.1278, 51.4816, -3.1791) == pytest.approx(212, abs=3)


def test_distance_basics():
    assert postcodes.distance_km(51.5, -0.1, 51.5, -0.1) == 0.0
    there = postcodes.distance_km(51.5074, -0.1278, 51.4816, -3.1791)
    back = postcodes.distance_km(51.4816, -3.1791, 51.5074, -0.1278)
    assert there == pytest.approx(back)
    # A degree of latitude along a meridian: 2πR/360.
    assert postcodes.distance_km(50, 0, 51, 0) == pytest.approx(111.195, abs=0.01)
    # Antipodes: half the circumference, without a math domain error.
    assert postcodes.distance_km(0, 0, 0, 180) == pytest.approx(6371.0088 * 3.141592653589793)


def test_distance_between_located_places():
    cardiff = postcodes.locate_area("CF10")
    chelmsford = postcodes.locate("CM1 1QH")
    km = postcodes.distance_km(cardiff.latitude, cardiff.longitude,
                               chelmsford.latitude, chelmsford.longitude)
    assert 240 < km < 260


def test_errors_survive_copy_and_pickle():
    error = UnknownPostcode(params={"postcode": "CM99 9ZZ"})
    for clone in (copy.deepcopy(error), pickle.loads(pickle.dumps(error))):
        assert type(clone) is UnknownPostcode
        assert clone.code == "unknown_postcode"
        assert clone.messages == error.messages


def test_messages_are_lazy_translations():
    """Rendered in the active language when shown, not when the module was imported."""
    message = InvalidPostcode().message
    assert type(message).__name__ == "__proxy__"
    with translation.override("cy"):
        assert str(message)  # whatever the Welsh catalogue holds, it renders
