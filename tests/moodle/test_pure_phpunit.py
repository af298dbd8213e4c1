"""The test command leaves the tree as it found it: PHPUnit on the plugin's pure classes writes no file
(it used to rewrite the tracked ``hosts/moodle/tests/.phpunit.result.cache``)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "hosts" / "moodle" / "tests" / "phpunit.xml"


def test_phpunit_on_the_pure_classes_passes_and_writes_nothing(tmp_path: Path) -> None:
    phpunit = shutil.which("phpunit")
    if phpunit is None:
        pytest.fail("phpunit is not installed: bin/setup installs Debian's phpunit for these tests")
    before = sorted((ROOT / "hosts").rglob("*"))
    done = subprocess.run([phpunit, "-c", str(CONFIG)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK (" in done.stdout
    assert sorted((ROOT / "hosts").rglob("*")) == before
    assert list(tmp_path.iterdir()) == []  # nor where it was started
