"""The README's demo: exits 0 only when every user and mailbox is what the rules say."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from plugin.demo import run_demo


def test_demo_ends_with_what_the_rules_say(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    here = os.getcwd()
    os.chdir(tmp_path)  # the demo keeps its database under ./var
    try:
        assert run_demo(port=0) == 0
    finally:
        os.chdir(here)
    out = capsys.readouterr().out
    assert "Every user and mailbox is what the rules say." in out
    assert "Otto Onprem" in out and "mailbox_not_in_exchange_online" in out
    assert "launch=" in out
    assert "Calendar feeds" in out and "asked again with its ETag: 304" in out
