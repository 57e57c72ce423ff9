"""The Welsh catalogue: complete, compiled, with the same placeholders as the English (a Welsh
string that drops or renames one fails at run time, on a Welsh page only), and covering every
string in the code."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "cy" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]|%[sd]|\{\w+\}")


def catalogue():
    return polib.pofile(str(PO))


def test_every_string_has_welsh():
    po = catalogue()
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


def test_welsh_keeps_every_placeholder():
    wrong = []
    for entry in catalogue().translated_entries():
        pairs = ([(entry.msgid, entry.msgstr)] if not entry.msgid_plural else
                 [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()])
        for english, welsh in pairs:
            if sorted(PLACEHOLDER.findall(english)) != sorted(PLACEHOLDER.findall(welsh)):
                wrong.append((english, welsh))
    assert wrong == []


def test_the_compiled_catalogue_is_up_to_date():
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in polib.mofile(str(MO))
                if e.msgid}
    source = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
              for e in catalogue().translated_entries()}
    assert compiled == source, "run `make messages` to compile locale/cy"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext")
def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    """makemessages on a copy of the sources: no new msgid may be missing from the catalogue."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(".venv", "node_modules", ".data", ".git", "static",
                                    "__pycache__", "*.mo")
    shutil.copytree(ROOT, copy, ignore=ignore)
    subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "cy", "--no-obsolete",
                    "--no-location"],
                   cwd=copy, check=True, capture_output=True, timeout=300,
                   env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{copy / 'platform'}:{copy}",
                        "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1",
                        "DATABASE_URL": "postgres://unused@127.0.0.1:1/unused"})
    found = {(e.msgctxt, e.msgid) for e in polib.pofile(str(copy / PO.relative_to(ROOT)))}
    known = {(e.msgctxt, e.msgid) for e in catalogue()}
    assert found - known == set(), "run `make messages` and translate the new strings"
