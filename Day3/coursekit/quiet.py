"""Quiet libraries: the lesson prints its own tables; the libraries stay silent unless --verbose.

Left alone, a run is interleaved with transformers' "Loading weights" and "Writing model shards"
bars and LOAD REPORTs, datasets' "Map" and "Generating split" bars, and the Trainer's
`{'loss': ...}` dicts. `cli.start` calls `library_output(args.verbose)` once per run: the
libraries log errors only, their bars are off, and the Trainer's printer and progress-bar
callbacks print no log dicts (their `on_log` is swapped for a no-op; --verbose swaps it back).
The Trainer's progress bar stays where a script asks for it (`disable_tqdm=False`); the log
dicts still reach `trainer.state.log_history`, from which the scripts print tables, and
`evaluation_lines` prints one line per evaluation instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import warnings

_TRAINER_ON_LOG: dict = {}  # the Trainer callbacks' own methods that we swap, kept to restore


def _no_log_dict(self, args, state, control, logs=None, **kwargs):
    """What the Trainer's printer and progress bar do with a log dict here: nothing."""


def _no_bar_inside_training(self, args, state, control, **kwargs):
    """Validation during training draws no second bar under the training bar (its cursor-up
    codes litter a log file, and `evaluation_lines` prints one line per evaluation instead);
    an evaluation or prediction outside training keeps its bar."""
    if self.training_bar is None:
        _TRAINER_ON_LOG["prediction_step"](self, args, state, control, **kwargs)


def library_output(verbose: bool = False) -> None:
    """Silence transformers, huggingface_hub, datasets, trl and the Trainer; verbose: restore."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from transformers.utils import logging as transformers_logging  # also huggingface_hub's bars

    if verbose:  # the libraries' defaults
        transformers_logging.set_verbosity_warning()
        transformers_logging.enable_progress_bar()
    else:
        transformers_logging.set_verbosity_error()  # LOAD REPORTs are warnings
        transformers_logging.disable_progress_bar()
        # peft asks transformers 5 for `is_gradient_checkpointing`, which warns on every call
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*",
                                category=FutureWarning)
        # Offline (HF_HUB_OFFLINE=1, the class's prefetched cache), peft cannot ask the Hub
        # whether a base model's vocabulary changed and warns at every adapter save; no
        # lesson resizes the embeddings, so its fallback ("not modified") is right here
        warnings.filterwarnings("ignore", message="Could not find a config file in .* will "
                                "assume that the vocabulary was not modified", category=UserWarning)
    # trl (course_summary's DPO) logs through the standard logging module, as "trl.*"
    logging.getLogger("trl").setLevel(logging.NOTSET if verbose else logging.ERROR)
    for callback in (PrinterCallback, ProgressCallback):  # they print each log dict
        _TRAINER_ON_LOG.setdefault(callback, callback.on_log)
        callback.on_log = _TRAINER_ON_LOG[callback] if verbose else _no_log_dict
    _TRAINER_ON_LOG.setdefault("prediction_step", ProgressCallback.on_prediction_step)
    ProgressCallback.on_prediction_step = (_TRAINER_ON_LOG["prediction_step"] if verbose
                                           else _no_bar_inside_training)
    if importlib.util.find_spec("datasets") is not None:  # datasets has its own switches
        from datasets.utils import logging as datasets_logging
        from datasets.utils.tqdm import disable_progress_bars, enable_progress_bars

        if verbose:
            datasets_logging.set_verbosity_warning()
            enable_progress_bars()
        else:
            datasets_logging.set_verbosity_error()
            disable_progress_bars()


def evaluation_lines(run: str = ""):
    """A Trainer callback that prints one line per evaluation, in place of its log dict."""
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class EvaluationLines(TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            shown = [f"{key.removeprefix('eval_')} {value:.3f}"
                     for key, value in (metrics or {}).items() if key.startswith("eval_")
                     and isinstance(value, float) and not key.endswith(("time", "second"))]
            if state.is_world_process_zero:  # tqdm.write keeps a progress bar whole
                tqdm.write(f"{run + ': ' if run else ''}step {state.global_step} of "
                           f"{state.max_steps}, validation " + ", ".join(shown))

    return EvaluationLines()


@contextlib.contextmanager
def datasets_progress_bars(show: bool = True):
    """datasets' own bars for one long step when `show`, then back as they were."""
    from datasets.utils.tqdm import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    were_off = are_progress_bars_disabled()
    if show:
        enable_progress_bars()
    try:
        yield
    finally:
        disable_progress_bars() if were_off else enable_progress_bars()
