"""Lesson scripts run offline from a cache that `prefetch` filled from the stand-in Hub.

Shared by test_class_profile.py and test_full_profile.py. For a profile: build the stand-in
repositories (standin_hub.py; `full` keeps the real configs with fewer layers), serve them on
127.0.0.1, run `python -m coursekit prefetch --profile PROFILE` against them (the real download
code), and stop the server. Each script then runs as an instructor would run it: HF_ENDPOINT
still names the closed port and HF_HUB_OFFLINE is unset, so the script must decide it is
offline within seconds and load everything from that cache, with no fallback to tiny.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import standin_hub
from coursekit import profiles
from helpers import ROOT, run_cli

OFFLINE_NOW = {"HF_HUB_OFFLINE": "", "HF_DATASETS_OFFLINE": "", "TRANSFORMERS_OFFLINE": ""}


def standin_root(tmp_path_factory) -> Path:
    """Where the stand-in repositories live: $DAY3_TEST_STANDIN_DIR keeps them between runs."""
    kept = os.environ.get("DAY3_TEST_STANDIN_DIR")
    return Path(kept) if kept else tmp_path_factory.mktemp("standin-hub")


@contextlib.contextmanager
def prefetched_cache(profile: str, tmp_path_factory):
    """Build and serve the profile's stand-in Hub, prefetch the profile from it, stop it.

    Yields the cache; on exit deletes what it wrote (GBs at real size: the class stand-ins,
    the server's copy and the prefetched cache are 1.8 GB each) and the runs' outputs, so that
    the class and full profiles never sit on disk together. $DAY3_TEST_STANDIN_DIR is kept.
    """
    written: list[Path] = []
    try:
        yield _prefetch(profile, tmp_path_factory, written)
    finally:
        for key in [key for key in _runs if key[0] == profile]:
            written.append(_runs.pop(key).folder)
        for folder in written:
            shutil.rmtree(folder, ignore_errors=True)


def _prefetch(profile: str, tmp_path_factory, written: list[Path]) -> dict:
    root = standin_root(tmp_path_factory)
    if not os.environ.get("DAY3_TEST_STANDIN_DIR"):
        written.append(root)
    start = time.perf_counter()
    built = standin_hub.build(root, profile)
    build_seconds = time.perf_counter() - start
    home = tmp_path_factory.mktemp(f"{profile}-hf-home")
    server_dir = tmp_path_factory.mktemp("olah")
    written += [home, server_dir]
    env = dict(os.environ, **OFFLINE_NOW, HF_HOME=str(home))
    with standin_hub.serving(root / profile, server_dir) as endpoint:
        start = time.perf_counter()
        prefetch = subprocess.run([sys.executable, "-m", "coursekit", "prefetch", "--profile",
                                   profile], cwd=ROOT / "Day3", env=dict(env, HF_ENDPOINT=endpoint),
                                  capture_output=True, text=True, timeout=900)
        seconds = time.perf_counter() - start
    assert prefetch.returncode == 0, prefetch.stdout[-3000:] + prefetch.stderr[-3000:]
    return {"profile": profile, "env": {**OFFLINE_NOW, "HF_HOME": str(home),
                                        "HF_ENDPOINT": endpoint},
            "built": built, "build_seconds": build_seconds, "prefetch": prefetch,
            "prefetch_seconds": seconds}


@dataclass
class Run:
    """One script's run from the cache: the process, its results.json, what it resolved."""

    process: subprocess.CompletedProcess
    results: dict | None
    resolved: list[list[str]]  # [kind, id, source] per model or dataset it asked for
    seconds: float
    folder: Path  # its output, deleted with the profile's cache


_runs: dict[tuple[str, str], Run] = {}


def profile_run(script: str, flags: list[str], cache: dict, tmp_path_factory) -> Run:
    """Run `script --profile <cache's profile> flags...` once per session, offline."""
    key = (cache["profile"], script)
    if key not in _runs:
        out = tmp_path_factory.mktemp(f"{Path(script).stem}-{cache['profile']}")
        log = out / "resolved.tsv"
        start = time.perf_counter()
        result = run_cli(script, "--profile", cache["profile"], "--output-dir", str(out / "run"),
                         *flags, timeout=900, env=dict(cache["env"], DAY3_RESOLVE_LOG=str(log)))
        seconds = time.perf_counter() - start
        results_file = out / "run" / "results.json"
        results = json.loads(results_file.read_text()) if results_file.exists() else None
        resolved = [line.split("\t") for line in log.read_text().splitlines()] \
            if log.exists() else []
        _runs[key] = Run(result, results, resolved, seconds, out)
    return _runs[key]


def check_ran_from_the_cache(run: Run, profile: str) -> None:
    """Exit 0, results.json written, no tiny fallback, only prefetched ids, all from the cache."""
    result = run.process
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert run.results is not None, "no results.json"
    assert "offline fallback" not in result.stdout  # that would mean tiny models or data
    assert "Traceback" not in result.stderr
    warned = [line for line in result.stderr.splitlines() if "Warning:" in line]
    assert not warned, warned  # the libraries stay quiet (coursekit.quiet), at real size too
    prefetched = set(profiles.hub_models(profile)) | {
        spec.hub_id for spec in profiles.DATASETS.values()}
    for kind, wanted, source in run.resolved:
        assert source in ("cache", "package"), (kind, wanted, source)
        assert wanted in prefetched, f"{wanted} is used but prefetch does not download it"


def results_of(run: Run) -> dict:
    """The results.json of a run (the run itself is checked by check_ran_from_the_cache)."""
    assert run.process.returncode == 0 and run.results, run.process.stderr[-3000:]
    return run.results
