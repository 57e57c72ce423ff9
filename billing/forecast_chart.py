"""Geometry for the forecast chart (an inline SVG drawn by billing/_forecast.html): the total's
p10–p90 band and each channel's p50 line. Channels differ by dash pattern and marker shape as
well as colour, and each line is labelled, so colour is never the only cue; every colour is
at least 3:1 against white (GOV.UK palette)."""

from django.utils import formats
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 140, 28, 44

# key, colour, dash pattern, marker
SERIES = (
    ("total", "#0b0c0c", "", "none"),  # black, 19.8:1
    ("online", "#1d70b8", "8 4", "circle"),  # blue, 5.2:1
    ("telephone", "#d4351c", "2 3", "square"),  # red, 4.5:1
    ("staff", "#00703c", "10 3 2 3", "triangle"),  # green, 5.9:1
)


def _labels():
    return {"total": _("All bookings"), "online": _("Online"),
            "telephone": _("Contact centre"), "staff": _("Staff")}


def _nice_step(top: float) -> int:
    """A round step giving about four gridlines up to `top`."""
    raw = max(top / 4, 1)
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def chart(months: list) -> dict | None:
    """Coordinates for `months` ([billing.forecast.ForecastMonth]), or None for none."""
    if not months:
        return None
    step = _nice_step(max(month.total.p90 for month in months))
    y_max = step * -(-max(month.total.p90 for month in months) // step) or step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index):
        return round(LEFT + plot_w * index / max(len(months) - 1, 1), 1)

    def y(value):
        return round(TOP + plot_h * (1 - value / y_max), 1)

    labels = _labels()
    series = []
    for key, colour, dash, marker in SERIES:
        values = [getattr(month, key).p50 for month in months]
        points = [(x(i), y(v)) for i, v in enumerate(values)]
        series.append({
            "key": key, "label": labels[key], "colour": colour, "dash": dash,
            "marker": marker, "points": " ".join(f"{px},{py}" for px, py in points),
            "markers": [{"cx": px, "cy": py, "x": round(px - 3.5, 1), "y": round(py - 3.5, 1),
                         "triangle": f"{px},{round(py - 4.5, 1)} {round(px - 4.5, 1)},"
                                     f"{round(py + 3.5, 1)} {round(px + 4.5, 1)},"
                                     f"{round(py + 3.5, 1)}"} for px, py in points],
            "end": points[-1]})
    # Spread the end labels so they never overprint each other.
    ends = sorted(series, key=lambda line: line["end"][1])
    last_y = -100.0
    for line in ends:
        line["label_y"] = max(line["end"][1] + 4, last_y + 16)
        line["sample_y"] = line["label_y"] - 4
        last_y = line["label_y"]
    upper = [(x(i), y(month.total.p90)) for i, month in enumerate(months)]
    lower = [(x(i), y(month.total.p10)) for i, month in enumerate(months)]
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
        "bottom": HEIGHT - BOTTOM, "sample_x1": WIDTH - RIGHT + 8,
        "sample_x2": WIDTH - RIGHT + 24, "label_x": WIDTH - RIGHT + 28,
        "band": " ".join(f"{px},{py}" for px, py in upper + lower[::-1]),
        "band_upper": " ".join(f"{px},{py}" for px, py in upper),
        "band_lower": " ".join(f"{px},{py}" for px, py in lower),
        "series": series,
        "y_ticks": [(y(value), value) for value in range(0, y_max + 1, step)],
        "x_ticks": [(x(i), formats.date_format(month.period, "M"),
                     month.period.year if i == 0 or month.period.month == 1 else "")
                    for i, month in enumerate(months)],
    }
