"""Brand colours: the white header text on them reaches 4.5:1, and the header link's focus (GOV.UK
yellow with dark text) stands out from them by 3:1 — for every colour the branding page accepts.
The old focus (dark text on the brand colour) fell to 1.8:1 on Essex's purple."""

import itertools

import pytest
from django.core.exceptions import ValidationError

from tenants.branding import (
    FOCUS_COLOUR,
    contrast,
    contrast_with_white,
    focus_contrast,
    validate_brand_colour,
)

DEMO_COLOURS = {"Essex": "#6a1b5d", "South Wales": "#00703c", "default": "#1d70b8"}
FOCUS_TEXT = "#0b0c0c"


@pytest.mark.parametrize("colour", DEMO_COLOURS.values(), ids=DEMO_COLOURS.keys())
def test_the_demo_colours_carry_white_text_and_a_visible_focus(colour):
    validate_brand_colour(colour)
    assert contrast_with_white(colour) >= 4.5
    assert focus_contrast(colour) >= 3
    # The focused link's dark text and underline on the yellow box.
    assert contrast(FOCUS_COLOUR, FOCUS_TEXT) >= 4.5


def test_essex_purple_is_why_the_focus_changed():
    assert round(contrast(DEMO_COLOURS["Essex"], FOCUS_TEXT), 1) == 1.8
    assert round(focus_contrast(DEMO_COLOURS["Essex"]), 1) == 8.1


def test_every_accepted_colour_keeps_the_focus_at_3_to_1():
    steps = range(0, 256, 15)
    accepted = 0
    for red, green, blue in itertools.product(steps, repeat=3):
        colour = f"#{red:02x}{green:02x}{blue:02x}"
        try:
            validate_brand_colour(colour)
        except ValidationError:
            assert contrast_with_white(colour) < 4.5 or focus_contrast(colour) < 3
            continue
        accepted += 1
        assert focus_contrast(colour) >= 3, colour
    assert accepted > 1000


def test_a_pale_colour_is_refused_naming_the_field_and_the_contrast():
    with pytest.raises(ValidationError) as refused:
        validate_brand_colour("#f499be")
    assert refused.value.code == "colour_contrast"
    assert refused.value.messages == [
        "The brand colour #f499be is too light for white text in the header (contrast 2.0:1, "
        "at least 4.5:1 needed). Choose a darker colour."]


def test_a_colour_just_short_of_the_line_never_reads_as_meeting_it():
    # #767676 on white is 4.54:1 (accepted); #777777 is 4.48:1, shown as 4.4:1, not 4.5:1.
    validate_brand_colour("#767676")
    with pytest.raises(ValidationError) as refused:
        validate_brand_colour("#777777")
    assert "(contrast 4.4:1," in refused.value.messages[0]


def test_onboarding_refuses_a_pale_colour_on_the_brand_colour_field(db):
    from tenants.services import NewClient, onboard_client

    with pytest.raises(ValidationError) as refused:
        onboard_client(NewClient(name="Pale County Council", slug="pale", kind="county_council",
                                 admin_email="lead@pale.test", primary_colour="#f499be"),
                       acting_user="tests")
    assert refused.value.message_dict["primary_colour"] == [
        "The brand colour #f499be is too light for white text in the header (contrast 2.0:1, "
        "at least 4.5:1 needed). Choose a darker colour."]
