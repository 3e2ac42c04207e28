"""A run killed mid-training (SIGKILL: no handler, no clean-up) resumes with --resume and ends
where an uninterrupted run ends.

Each script runs three times on the tiny profile: uninterrupted (in-process), killed by
SIGKILL as soon as a whole checkpoint exists past the first third of its steps (a real
process), then resumed (in-process, same flags plus --resume). The Trainer's checkpoint holds
the weights, optimizer, scheduler, RNG states and step, and the kit resumes from the newest
whole one, so the resumed numbers match. Measured on CPU: the resumed results.json equalled the
uninterrupted one to the last digit for distilbert (multi-task history included), the journey
demo and the final exercise (whose part 4, the student's, resumes: the checker asks for it);
1e-6 leaves room for the order of floating-point sums."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT, run_main

TOLERANCE = 1e-6

RUNS = {  # script, quick flags, the checkpoints folder of the run to kill, its steps
    "distilbert": ("Day3/3_FineTuning/distilbert_finetuning.py",
                   ["--mode", "multi", "--strategies", "round-robin", "--max-steps", "60"],
                   "multi-round-robin", 120),
    "journey": ("Day3/4_WrapUpAndDemo/journey_demo.py", ["--no-ui", "--max-steps", "80"],
                "lora", 80),
    "final_exercise": ("Day3/4_WrapUpAndDemo/final_exercise.py",
                       ["--solution", "--max-steps", "400"], "lora", 400),
}


def kill_after_a_checkpoint(script: str, flags: list[str], output_dir: Path, run: str,
                            steps: int) -> int:
    """Start the script; SIGKILL it once a whole checkpoint past a third of the steps exists.

    Returns the step of that checkpoint.
    """
    process = subprocess.Popen([sys.executable, str(ROOT / script), "--profile", "tiny",
                                "--output-dir", str(output_dir), *flags], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folder = output_dir / "checkpoints" / run
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and process.poll() is None:
            whole = [int(p.parent.name.split("-")[-1])
                     for p in folder.glob("checkpoint-*/trainer_state.json")]
            if whole and max(whole) >= steps // 3:
                process.send_signal(signal.SIGKILL)  # no handler runs: as a power cut
                process.wait(30)
                return max(whole)
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
    pytest.fail(f"{script} finished or stalled before a checkpoint at step {steps // 3}")


def assert_same(resumed, uninterrupted, where: str = "") -> None:
    """Every number equal within TOLERANCE, except times, dates and the resumed flag."""
    if isinstance(uninterrupted, dict):
        for key, value in uninterrupted.items():
            if key in ("run_info", "seconds", "resumed", "folders", "plot") or "second" in key:
                continue
            assert key in resumed, f"{where}/{key} missing after --resume"
            assert_same(resumed[key], value, f"{where}/{key}")
    elif isinstance(uninterrupted, list) and not isinstance(uninterrupted, str):
        assert len(resumed) == len(uninterrupted), where
        for i, (a, b) in enumerate(zip(resumed, uninterrupted)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(uninterrupted, float):
        assert resumed == pytest.approx(uninterrupted, abs=TOLERANCE), where
    elif not (isinstance(uninterrupted, str) and uninterrupted.endswith(" s")):
        assert resumed == uninterrupted, where


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RUNS))
def test_a_killed_run_resumes_and_ends_like_an_uninterrupted_one(name, zoo, tmp_path):
    script, flags, run, steps = RUNS[name]
    common = ["--profile", "tiny", *flags]
    uninterrupted = run_main(script, *common, "--output-dir", str(tmp_path / "whole"))
    killed = tmp_path / "killed"
    step = kill_after_a_checkpoint(script, flags, killed, run, steps)
    assert step < steps and not (killed / "results.json").exists()
    resumed = run_main(script, *common, "--output-dir", str(killed), "--resume")
    assert_same(resumed, uninterrupted)
    on_disk = json.loads((killed / "results.json").read_text())
    assert on_disk == json.loads(json.dumps(resumed, default=str))


def test_a_checkpoint_cut_short_while_saving_is_skipped(zoo, tmp_path):
    """A crash in the middle of a save leaves a checkpoint without trainer_state.json."""
    script, flags, run, steps = RUNS["journey"]
    common = ["--profile", "tiny", *flags, "--output-dir", str(tmp_path)]
    stopped = subprocess.run([sys.executable, str(ROOT / script), *common,
                              "--interrupt-after", "50"], cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert stopped.returncode == 75, stopped.stderr[-2000:]  # not finished: EX_TEMPFAIL
    assert "interrupted at step 50 of 80" in stopped.stdout
    folder = tmp_path / "checkpoints" / run
    assert [p.name for p in folder.glob("checkpoint-*")] == ["checkpoint-40"]
    clock = folder / "checkpoint-40" / "training_seconds.json"  # the seconds up to step 40
    assert 0 < json.loads(clock.read_text())["seconds"] < 300
    clock.write_text('{"seconds": 1000.0}')  # as if the first 40 steps had taken 1,000 s
    broken = folder / "checkpoint-60"  # what a kill during the next save would leave
    broken.mkdir()
    (broken / "adapter_model.safetensors").write_bytes(b"\0" * 100)
    (broken / "trainer_state.json").write_text('{"best_metric": null, "best_mod')  # half
    # the same flags plus --resume, as the message says: --interrupt-after does not stop it again
    resumed = run_main(script, *common, "--interrupt-after", "50", "--resume")
    assert resumed["training"]["resumed"] and not broken.exists()
    assert resumed["training"]["steps"] == steps
    assert 1000 < resumed["training"]["seconds"] < 1300  # both parts: before and after resume


def test_resume_with_nothing_to_resume_is_refused(zoo, tmp_path):
    script, flags, _, _ = RUNS["distilbert"]
    result = subprocess.run([sys.executable, str(ROOT / script), "--profile", "tiny", *flags,
                             "--output-dir", str(tmp_path / "empty"), "--resume"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ))
    assert result.returncode == 2 and "no run to resume" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
