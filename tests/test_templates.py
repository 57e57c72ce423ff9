"""Nothing a template says to its authors reaches the page: Django's {# #} comment is one line
only, so a comment that runs onto a second line is printed for the person to read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_template_comment_runs_past_its_line():
    unclosed = []
    for template in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html"),
                     *ROOT.glob("*/templates/**/*.txt"), *ROOT.glob("platform/*/templates/**/*")]:
        if not template.is_file():
            continue
        for number, line in enumerate(template.read_text().splitlines(), 1):
            for opening in re.finditer(r"\{#", line):
                if "#}" not in line[opening.end():]:
                    unclosed.append(f"{template.relative_to(ROOT)}:{number}")
    assert unclosed == [], "use {% comment %} for a comment longer than one line"
