#!/usr/bin/env python
"""Django's command-line utility for Waymark."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main():
    # `platform/` is a source root, not a package: it must never shadow the standard library's
    # `platform` module, so it goes on the path as a directory of packages.
    sys.path.insert(0, str(ROOT / "platform"))
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
