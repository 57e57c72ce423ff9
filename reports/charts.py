"""Server-drawn charts as plain geometry for the SVG templates (no JavaScript). The numbers are
always in the data table beside the chart; a chart tells series apart by pattern and by its
legend's words, never by colour alone, and every mark has 3:1 contrast against the page."""

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 40
# Fill patterns defined in reports/_chart_patterns.html, one per series.
PATTERNS = ("solid", "hatch", "dots")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    pattern: str
    value: int


@dataclass(frozen=True)
class Tick:
    position: float
    label: str
    sublabel: str = ""  # a second line under a category (the year, where it changes)


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    plot_right: int
    bars: tuple = ()
    points: tuple = ()  # (x, y, label) of a line chart
    x_ticks: tuple = ()
    y_ticks: tuple = ()
    legend: tuple = ()  # (pattern, label)

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _label in self.points)


def _nice_ceiling(value: float) -> int:
    """The smallest of 5, 10, 20, 50, 100, … at or above `value`: five whole-number steps."""
    if value <= 5:
        return 5
    step = 1
    while step * 10 < value:
        step *= 10
    for multiple in (1, 2, 5, 10):
        if step * multiple >= value:
            return step * multiple
    return step * 10


def _frame():
    return {"width": WIDTH, "height": HEIGHT, "plot_left": LEFT, "plot_bottom": HEIGHT - BOTTOM,
            "plot_right": WIDTH - RIGHT}


def _y(value: float, top_value: float) -> float:
    plot_height = HEIGHT - TOP - BOTTOM
    return HEIGHT - BOTTOM - plot_height * value / top_value


def grouped_bars(categories: list[tuple[str, str]], series: list[tuple[str, list[int]]],
                 *, top: int | None = None, unit: str = "") -> Chart:
    """One group of bars per category (a month: its label and sublabel), one bar per series (a
    channel). Counts, so the axis steps are whole numbers. A fixed `top` (100 for
    percentages, with unit "%") keeps a small share from filling the whole height."""
    top_value = top or _nice_ceiling(max([v for _label, values in series for v in values] or [0]))
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    bar_width = slot * 0.8 / max(len(series), 1)
    bars = []
    for series_index, (_label, values) in enumerate(series):
        for index, value in enumerate(values):
            y = _y(value, top_value)
            bars.append(Bar(x=LEFT + slot * index + slot * 0.1 + bar_width * series_index,
                            y=y, width=bar_width, height=HEIGHT - BOTTOM - y,
                            pattern=PATTERNS[series_index % len(PATTERNS)], value=value))
    return Chart(**_frame(), bars=tuple(bars),
                 x_ticks=_category_ticks(categories, slot),
                 y_ticks=tuple(Tick(_y(top_value * n // 5, top_value),
                                    f"{top_value * n // 5}{unit}") for n in range(6)),
                 legend=tuple((PATTERNS[i % len(PATTERNS)], label)
                              for i, (label, _values) in enumerate(series)))


def share_line(categories: list[tuple[str, str]], shares: list[float | None]) -> Chart:
    """A line of percentages (0–100 %) over the categories; a month with nothing is a gap."""
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    points = tuple((LEFT + slot * (index + 0.5), _y(share * 100, 100), f"{share:.0%}")
                   for index, share in enumerate(shares) if share is not None)
    return Chart(**_frame(), points=points, x_ticks=_category_ticks(categories, slot),
                 y_ticks=tuple(Tick(_y(value, 100), f"{value}%") for value in (0, 25, 50, 75, 100)))


def _category_ticks(categories: list[tuple[str, str]], slot: float) -> tuple:
    # Every label fits at 12 months; beyond that every other one is shown.
    every = 1 if len(categories) <= 12 else 2
    return tuple(Tick(LEFT + slot * (index + 0.5), label, sublabel)
                 for index, (label, sublabel) in enumerate(categories) if index % every == 0)
