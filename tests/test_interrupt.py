"""Ctrl-C in the middle of training: one line on stderr, exit status 130, no traceback.

A student who presses Ctrl-C must not get a screen of KeyboardInterrupt traceback; the script
that can continue (flan_t5_finetuning, --resume) says how.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import ROOT

RUNS = {  # script, flags, the line that shows training has started, the hint expected
    "flan_t5": ("Day3/2_TrainingLLMs/flan_t5_finetuning.py", ["--strategies", "full"],
                "2.5.5", "--resume"),
    "distilbert": ("Day3/3_FineTuning/distilbert_finetuning.py", ["--mode", "single"],
                   "3.3.3", "again"),
}


def ctrl_c_as_in_a_terminal() -> None:
    """In the child: SIGINT's default action, as a terminal gives it. A test run started in
    the background (`nohup ... &`) passes SIGINT on as *ignored*, and Python then never raises
    KeyboardInterrupt: the script ran to the end and exited 0 (seen in a clean-clone CI run)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_when(script: str, flags: list[str], started: str, output_dir) -> tuple:
    """Start the script, wait for `started` on stdout, send SIGINT (what Ctrl-C sends)."""
    process = subprocess.Popen([sys.executable, str(ROOT / script), "--profile", "tiny",
                                "--output-dir", str(output_dir), *flags], cwd=ROOT,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=ctrl_c_as_in_a_terminal)
    deadline = time.monotonic() + 240
    for line in process.stdout:  # the section heading printed just before training
        if started in line or time.monotonic() > deadline:
            break
    time.sleep(1.0)  # into the work
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return process.returncode, err


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RUNS))
def test_ctrl_c_gives_one_line_and_exit_130(name, zoo, tmp_path):
    script, flags, started, hint = RUNS[name]
    code, err = interrupt_when(script, flags, started, tmp_path / "out")
    said = [line for line in err.splitlines() if line.startswith("interrupted (Ctrl-C)")]
    assert code == 130, err[-2000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-2000:]
    assert len(said) == 1 and hint in said[0], err[-2000:]  # its own line, below any bar
