"""python -m coursekit doctor / prefetch."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from conftest import ROOT
from coursekit.__main__ import main
from helpers import assert_usage_error


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


def test_prefetch_against_a_closed_port_exits_2_with_one_line_within_seconds(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "", "HF_DATASETS_OFFLINE": "",
           "TRANSFORMERS_OFFLINE": "", "HF_ENDPOINT": f"http://127.0.0.1:{closed_port()}"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "coursekit", "prefetch", "--profile", "class"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert_usage_error(result, "cannot be reached")
    assert "Connection refused" in result.stderr
    # Most of this is Python's start-up and imports; the probe itself gets 2 seconds.
    assert time.perf_counter() - start < 30


def test_prefetch_goes_on_after_a_failure_and_exits_1(monkeypatch, capsys):
    from coursekit import __main__ as kit
    from coursekit import hub, profiles

    fetched = []

    def fake_fetch(what):
        name = getattr(what, "hub_id", what)
        fetched.append(name)
        if name == "google/flan-t5-small":
            raise OSError("disk full")
        return 1.0

    monkeypatch.setattr(hub, "network_status", lambda: hub.NetworkStatus(True, "test", 0.0))
    monkeypatch.setattr(kit, "fetch_model", fake_fetch)
    monkeypatch.setattr(kit, "fetch_dataset", fake_fetch)
    assert main(["prefetch", "--profile", "class"]) == 1
    everything = profiles.hub_models("class") + [s.hub_id for s in profiles.DATASETS.values()]
    assert fetched == everything  # the failure stopped nothing after it
    out, err = capsys.readouterr()
    assert "FAILED (OSError)" in out and f"{len(everything) - 1} of {len(everything)}" in out
    assert err.strip() == "error: google/flan-t5-small: disk full"


def closed_port() -> int:
    """A local port that refuses connections."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_doctor_checks_the_bounds_pyproject_declares():
    """`python -m coursekit doctor` and pyproject.toml name the same lowest versions."""
    import re

    from coursekit.__main__ import REQUIRED
    from helpers import ROOT

    text = (ROOT / "pyproject.toml").read_text()  # (tomllib is Python 3.11+; the course: 3.10)
    declared = dict(re.findall(r'^\s*"([A-Za-z0-9_.-]+)>=([0-9.]+)', text, flags=re.MULTILINE))
    assert {k: declared.get(k) for k in REQUIRED} == REQUIRED
