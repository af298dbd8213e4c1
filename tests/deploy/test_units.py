"""The systemd units shipped in docs/deploy are accepted by ``systemd-analyze verify``.

The units name ``/opt/outlook-sync/venv/bin/outlook-sync``, the path docs/DEPLOY.md installs to;
``verify`` checks that the command exists, so the copies verified here name this environment's
``outlook-sync`` instead (the only change). ``bin/setup`` installs systemd's tools when missing.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = sorted((Path(__file__).resolve().parents[2] / "docs" / "deploy").glob("*.service"))
INSTALLED = "/opt/outlook-sync/venv/bin/outlook-sync"


def test_both_units_are_shipped() -> None:
    assert [u.name for u in UNITS] == ["outlook-sync-worker.service", "outlook-sync.service"]


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_accepts_the_unit(unit: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: bin/setup installs it (Debian package systemd)"
    command = Path(sys.executable).with_name("outlook-sync")
    assert command.is_file(), command
    text = unit.read_text(encoding="utf-8")
    assert INSTALLED in text
    copy = tmp_path / unit.name
    copy.write_text(text.replace(INSTALLED, str(command)), encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0 and not done.stderr.strip(), done.stdout + done.stderr


def test_a_broken_unit_is_refused(tmp_path: Path) -> None:
    """The check above can fail: a unit with an unknown setting is refused."""
    analyze = shutil.which("systemd-analyze")
    assert analyze
    broken = tmp_path / "broken.service"
    broken.write_text(f"[Service]\nExecStart={sys.executable}\nRestartt=always\n", encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert "Restartt" in done.stderr


@pytest.mark.parametrize("document", ["README.md", "CHANGELOG.md", "docs/DEPLOY.md"])
def test_the_documents_link_only_to_files_that_exist(document: str) -> None:
    root = Path(__file__).resolve().parents[2]
    path = root / document
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8"))
    local = [link for link in links if not link.startswith(("http://", "https://", "mailto:"))]
    assert local or document == "CHANGELOG.md"
    missing = [link for link in local if not (path.parent / link).exists()]
    assert not missing, missing
