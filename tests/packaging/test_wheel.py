"""The committed tree stands alone: copied with nothing beside it, built into a wheel, installed with the
``emulator`` extra into a fresh virtual environment, and ``outlook-sync demo`` run from another folder.

Uses the network only for PyPI (the build backend and the dependencies; pip's cache makes it quick).
Takes about a minute on a loaded 2-core machine, most of it installing the dependencies.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(900)


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=800)
    assert done.returncode == 0, f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _committed_tree(into: Path) -> Path:
    """``git archive HEAD`` unpacked into ``into/outlook-sync``: the committed files, nothing else."""
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, capture_output=True, timeout=120)
    assert archive.returncode == 0, archive.stderr.decode(errors="replace")
    tree = into / "outlook-sync"
    tree.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def test_a_wheel_built_from_the_committed_tree_runs_the_demo(tmp_path: Path) -> None:
    tree = _committed_tree(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outlook-sync"]  # nothing beside it
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OUTLOOK_SYNC_", "OUTLOOK_EMULATOR_", "PYTHON", "VIRTUAL_ENV"))}
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dist), str(tree)],
         cwd=tmp_path, env=env)
    [wheel] = list(dist.glob("outlook_calendar_lms-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=env)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[emulator]"], cwd=tmp_path,
         env=env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([str(venv / "bin" / "python"), "-c", "import emulator, plugin; print(emulator.__file__)"],
                 cwd=elsewhere, env=env)
    assert where.startswith(str(venv)), where  # the installed package, not the tree
    demo = subprocess.run([str(venv / "bin" / "outlook-sync"), "demo"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Every user and mailbox is what the rules say." in demo.stdout
    assert "Traceback" not in demo.stderr
