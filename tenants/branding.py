"""Rules for a client's branding: colours must carry white header text legibly (WCAG AA), and
the header link's focus (GOV.UK's yellow, assets/scss/waymark.scss) must stand out from them
by 3:1 (WCAG 2.2 non-text contrast)."""

import math
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MINIMUM_CONTRAST_WITH_WHITE = 4.5
FOCUS_COLOUR = "#ffdd00"  # GOV.UK Frontend's $govuk-focus-colour
MINIMUM_FOCUS_CONTRAST = 3.0


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker_ = sorted((relative_luminance(first), relative_luminance(second)),
                              reverse=True)
    return (lighter + 0.05) / (darker_ + 0.05)


def contrast_with_white(colour: str) -> float:
    return contrast(colour, "#ffffff")


def focus_contrast(colour: str) -> float:
    """How far the header link's focus box stands out from the header in `colour`."""
    return contrast(colour, FOCUS_COLOUR)


def darker(colour: str, factor: float = 0.6) -> str:
    channels = [int(int(colour[i : i + 2], 16) * factor) for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def validate_brand_colour(value: str) -> None:
    if not HEX_COLOUR.match(value or ""):
        raise ValidationError(
            _("Enter the colour as a hex code like #1d70b8."), code="colour_format"
        )
    ratio = contrast_with_white(value)
    if ratio < MINIMUM_CONTRAST_WITH_WHITE:
        raise ValidationError(
            _("The brand colour %(colour)s is too light for white text in the header "
              "(contrast %(ratio).1f:1, at least 4.5:1 needed). Choose a darker colour."),
            code="colour_contrast",
            # Rounded down, so a refused colour never reads as "4.5:1".
            params={"colour": value, "ratio": math.floor(ratio * 10) / 10},
        )
    # Implied by 4.5:1 with white for this focus colour; checked so a new one cannot slip by.
    ratio = focus_contrast(value)
    if ratio < MINIMUM_FOCUS_CONTRAST:
        raise ValidationError(
            _("The brand colour %(colour)s is too close to the yellow that shows which link is "
              "selected (contrast %(ratio).1f:1, at least 3:1 needed). Choose a darker "
              "colour."),
            code="colour_focus_contrast",
            params={"colour": value, "ratio": math.floor(ratio * 10) / 10},
        )
