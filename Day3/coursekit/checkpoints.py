"""Checkpoints and --resume: a training run that was stopped continues where it stopped.

The Trainer does the hard part. Every `save_steps` it writes a checkpoint (weights, optimizer
and scheduler state, RNG states, the step and the callbacks' state), and
`trainer.train(resume_from_checkpoint=True)` continues from the newest one, skipping the
batches already seen, so that a resumed run ends where an uninterrupted one would. The kit
adds what a script needs around that:

- `add_flags(parser)`: --resume, and --interrupt-after (stop at a step, as a crash would);
- `record_run(args, settings)`: run_settings.json. --resume refuses a folder that holds a
  different run; a fresh run clears old checkpoints, so they are never resumed by mistake;
- `train(trainer, args, run)`: train, resuming where asked and a checkpoint exists;
  `seconds_trained(trainer)`: how long it trained, the time before an interruption included
  (each checkpoint keeps the seconds so far in training_seconds.json);
- `finished(args, run)` and `save_finished(args, run, result)`: a run that finished before the
  interruption is read back, not trained again (`finished_or_run` does both).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from coursekit import atomic, device
from coursekit.errors import Interrupted, UsageError

RUN_FILE = "run_settings.json"  # what an output folder's checkpoints belong to
RESULT_FILE = "result.json"  # a finished run's result, beside its checkpoints
CLOCK_FILE = "training_seconds.json"  # in each checkpoint: seconds trained up to it
__all__ = ["Interrupted", "add_flags", "record_run", "train", "seconds_trained", "finished",
           "save_finished", "finished_or_run"]


def add_flags(parser, interrupt: bool = True) -> None:
    """--resume, and (unless `interrupt` is False) --interrupt-after."""
    from coursekit import cli

    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run in --output-dir from its checkpoints")
    if interrupt:
        parser.add_argument("--interrupt-after", type=cli.positive_int, default=None,
                            help="stop training at this step, as a crash would (to try "
                                 "--resume)")


def folder(args, run: str) -> Path:
    """Where a run's checkpoints go: <output-dir>/checkpoints/<run>."""
    return args.output_dir / "checkpoints" / run


def record_run(args, settings: dict) -> dict:
    """Write (or, with --resume, check) the settings this output folder's checkpoints belong to.

    Call it after the flags are checked and before any training.
    """
    path = args.output_dir / RUN_FILE
    if args.resume:
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            raise UsageError(f"--resume: {args.output_dir} holds no run to resume "
                             f"(no readable {RUN_FILE})") from None
        changed = [f"{k} {saved.get(k)!r} -> {v!r}" for k, v in settings.items()
                   if saved.get(k) != v]
        if changed:
            raise UsageError(f"--resume: {args.output_dir} holds a different run "
                             f"({'; '.join(changed)}); repeat its flags or pick another "
                             f"--output-dir")
    else:  # a fresh run: old checkpoints here would be resumed by mistake later
        if path.exists():
            shutil.rmtree(args.output_dir / "checkpoints", ignore_errors=True)
        atomic.write_text(path, json.dumps(settings, indent=2) + "\n")
    return settings


def stop_at(step: int):
    """A Trainer callback that stops training at a step, as a crash or Ctrl-C would."""
    from transformers import TrainerCallback

    class StopAt(TrainerCallback):
        fired = False

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step >= step:
                self.fired = control.should_training_stop = True

    return StopAt()


def training_clock(seconds_before: float = 0.0):
    """A Trainer callback that counts training seconds and writes them into each checkpoint.

    A resumed run starts from the seconds its checkpoint holds, so the time it reports is the
    whole training's: the part before the interruption plus the part after it.
    """
    from transformers import TrainerCallback

    class TrainingClock(TrainerCallback):
        def __init__(self):
            self.before, self.started = seconds_before, time.perf_counter()

        def seconds(self) -> float:
            return self.before + time.perf_counter() - self.started

        def on_save(self, args, state, control, **kwargs):
            where = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if where.is_dir():  # the one it just wrote (atomic: only the main process writes)
                atomic.write_text(where / CLOCK_FILE, json.dumps({"seconds": self.seconds()}))

    return TrainingClock()


def _seconds_in(checkpoint: str | None) -> float:
    """The training seconds a checkpoint holds (0 for a fresh start, or if it has none)."""
    if checkpoint is None:
        return 0.0
    try:
        return float(json.loads((Path(checkpoint) / CLOCK_FILE).read_text())["seconds"])
    except (OSError, ValueError, KeyError):
        return 0.0


def _readable_state(path: Path) -> bool:
    try:
        return "global_step" in json.loads(path.read_text())
    except (OSError, ValueError):
        return False


def newest(folder: Path) -> Path | None:
    """The newest whole checkpoint in a run's folder, or None.

    The Trainer writes trainer_state.json last: a checkpoint without it (or with half of it)
    was cut short by a crash while saving, and resuming from it would fail. It is removed; the
    one before it is whole.
    """
    saved = sorted(Path(folder).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    whole = [p for p in saved if _readable_state(p / "trainer_state.json")]
    for broken in set(saved) - set(whole):
        shutil.rmtree(broken, ignore_errors=True)
    return whole[-1] if whole else None


def resume_from(args, folder: Path, run: str) -> str | None:
    """What to pass to trainer.train(resume_from_checkpoint=...): with --resume, the newest
    whole checkpoint (said on screen); else None, a fresh start."""
    checkpoint = newest(folder) if args.resume else None
    if checkpoint:
        from coursekit import report

        report.note(f"{run}: resuming from {checkpoint.name}")
    return str(checkpoint) if checkpoint else None


def train(trainer, args, run: str) -> bool:
    """trainer.train(), resuming from the newest checkpoint if --resume and one exists.

    Returns whether it resumed. A run stopped by --interrupt-after raises `Interrupted`, which
    `cli.user_errors` turns into one line saying how to continue, and exit status 75.
    """
    checkpoint = resume_from(args, Path(trainer.args.output_dir), run)
    # --interrupt-after stops a fresh run only: the same flags plus --resume run to the end
    stopper = (stop_at(args.interrupt_after) if getattr(args, "interrupt_after", None)
               and checkpoint is None else None)
    if stopper:
        trainer.add_callback(stopper)
    trainer.add_callback(training_clock(_seconds_in(checkpoint)))
    trainer.train(resume_from_checkpoint=checkpoint)
    device.plain_forward(trainer.model)  # after bf16 training: fp32 forward passes again
    if stopper and stopper.fired and trainer.state.global_step < trainer.state.max_steps:
        raise Interrupted(run, trainer.state.global_step, trainer.state.max_steps)
    return checkpoint is not None


def seconds_trained(trainer) -> float:
    """After `train`: the seconds this run trained, those before an interruption included."""
    clocks = [c for c in trainer.callback_handler.callbacks if type(c).__name__ == "TrainingClock"]
    return round(clocks[-1].seconds(), 2)


def finished(args, run: str) -> dict | None:
    """With --resume, the result a run saved when it finished; else None (train it)."""
    if not args.resume:
        return None
    try:
        return json.loads((folder(args, run) / RESULT_FILE).read_text())
    except (OSError, ValueError):
        return None


def save_finished(args, run: str, result: dict) -> None:
    """Keep a finished run's result beside its checkpoints, for a later --resume."""
    where = folder(args, run)
    where.mkdir(parents=True, exist_ok=True)
    atomic.write_text(where / RESULT_FILE, json.dumps(result, indent=2, default=str) + "\n")
    for checkpoint in where.glob("checkpoint-*"):  # no longer needed: free the disk
        shutil.rmtree(checkpoint, ignore_errors=True)


def finished_or_run(args, run: str, fine_tune, *inputs) -> dict:
    """fine_tune(args, *inputs), keeping its result for --resume; with --resume, a run that
    finished before the interruption is read back instead of trained again."""
    from coursekit import report

    result = finished(args, run)
    if result:
        report.note(f"{run}: finished before the interruption; results read back")
        return result
    result = fine_tune(args, *inputs)
    save_finished(args, run, result)
    return result
