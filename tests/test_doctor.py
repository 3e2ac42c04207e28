"""python -m coursekit doctor / prefetch."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT
from coursekit.__main__ import main


def test_doctor_reports_ok_lines_for_a_working_install(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for what in ("python", "torch", "transformers", "datasets", "device", "network (Hub)"):
        assert any(line.startswith("OK") or line.startswith("INFO")
                   for line in out.splitlines() if what in line), what
    assert "FAIL" not in out
    assert "offline: HF_HUB_OFFLINE=1 is set" in out


def test_prefetch_offline_says_so_and_exits_2(capsys):
    assert main(["prefetch", "--profile", "class"]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "--profile tiny" in err


def test_prefetch_tiny_builds_the_zoo(zoo, capsys):
    assert main(["prefetch", "--profile", "tiny"]) == 0
    assert "tiny-flan-t5" in capsys.readouterr().out


def test_module_entry_point_runs_as_a_command():
    result = subprocess.run([sys.executable, "-m", "coursekit", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "doctor" in result.stdout
