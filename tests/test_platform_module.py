"""`platform/` is a source root, never a package: the standard library's module must win."""

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_platform_is_the_standard_library_under_pytest():
    import platform

    assert Path(platform.__file__).parent == Path(sysconfig.get_paths()["stdlib"])
    assert platform.python_version() == ".".join(map(str, sys.version_info[:3]))


def test_platform_is_the_standard_library_inside_django():
    code = (
        "import platform, sysconfig, django.conf; "
        "django.conf.settings.INSTALLED_APPS; "
        "print(platform.__file__); print(platform.python_version()); "
        "print(sysconfig.get_paths()['stdlib'])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    module_file, version, stdlib = result.stdout.split()[-3:]
    assert Path(module_file).parent == Path(stdlib)
    assert version == ".".join(map(str, sys.version_info[:3]))


def test_there_is_no_platform_package_file():
    assert not (ROOT / "platform" / "__init__.py").exists()
