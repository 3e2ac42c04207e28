"""Test set-up: no network, temporary caches, and one tiny zoo shared by the whole session.

The variables are set when this file is imported, before any test imports transformers or
datasets, because those libraries read them at import time.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TMP = Path(tempfile.mkdtemp(prefix="day3-tests-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)

os.environ.update({
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HOME": str(_TMP / "hf-home"),
    "GRADIO_ANALYTICS_ENABLED": "False",
    "DAY3_PROFILE": "tiny",
    "MPLBACKEND": "Agg",
})
# Building the zoo takes about a minute; DAY3_TEST_ZOO_DIR lets a developer keep one between runs.
os.environ["DAY3_ZOO_DIR"] = os.environ.get("DAY3_TEST_ZOO_DIR", str(_TMP / "zoo"))
sys.path.insert(0, str(ROOT / "Day3"))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def zoo() -> dict[str, Path]:
    """Every tiny model, built once per test session: name -> folder."""
    from coursekit import tiny

    tiny.build_zoo()
    return {name: tiny.tiny_model_path(name) for name in tiny.BUILDERS}


@pytest.fixture(autouse=True)
def fresh_network_decision():
    """Each test starts as a new process would: no network decision made yet."""
    from coursekit import hub

    hub.reset_network_status()
    yield
    hub.reset_network_status()


@pytest.fixture(autouse=True)
def fresh_accelerate_state():
    """Each test starts as a new process would: no Accelerate state yet.

    Accelerate keeps one state per process (device, mixed precision). A script run in-process
    with --device cpu and another on the GPU in bf16 would otherwise clash ('AcceleratorState
    has already been initialized and cannot be changed'); each student's run is its own
    process.
    """
    yield
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
