"""What a student sees: each lesson's tiny run prints the lesson, not the libraries' noise, and
its sections in ascending order.

Every script runs once, as a user would run it (capped in steps and examples), and its stdout
and stderr are read together. Noise is what the libraries print on their own: the Trainer's
`{'loss': ...}` dicts, datasets' and transformers' progress bars, LOAD REPORTs, peft's
trainable-parameters line. A script's own progress bar on training may stay.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from helpers import run_cli

RUNS = {  # script -> flags that keep the tiny run short; every section still prints
    "Day3/1_HuggingFace/huggingface_overview.py": ["--max-samples", "64"],
    "Day3/1_HuggingFace/datasets_library.py": ["--mmap-mb", "8", "--max-samples", "64"],
    "Day3/1_HuggingFace/model_inference.py": ["--max-new-tokens", "8"],
    "Day3/1_HuggingFace/huggingface_upload.py": ["--fine-tune-steps", "5", "--max-samples", "32"],
    "Day3/1_HuggingFace/hello_world_demo.py": [],
    "Day3/2_TrainingLLMs/llm_training_overview.py": ["--max-steps", "1", "--max-samples", "20"],
    "Day3/2_TrainingLLMs/flan_t5_finetuning.py": ["--strategies", "full,lora", "--max-steps", "4",
                                                  "--max-samples", "4"],
    "Day3/2_TrainingLLMs/training_optimizations.py": ["--setups", "bf16", "--steps", "1"],
    "Day3/3_FineTuning/finetune_strategies_overview.py": ["--methods", "full,lora,prefix",
                                                          "--max-steps", "4",
                                                          "--max-samples", "32"],
    "Day3/3_FineTuning/distilbert_finetuning.py": ["--max-steps", "6", "--max-samples", "64"],
    "Day3/4_WrapUpAndDemo/journey_demo.py": ["--no-ui", "--max-steps", "5",
                                            "--max-samples", "32"],
    "Day3/4_WrapUpAndDemo/final_exercise.py": ["--solution", "--max-steps", "5",
                                              "--max-samples", "64"],
}

NOISE = {  # what the libraries print unasked -> a pattern that finds it in the output
    "a Trainer log dict": r"\{'(?:loss|eval_loss|train_runtime|grad_norm|epoch)': ",
    "a datasets Map/Filter bar": r"\b(?:Map|Filter)(?: \(num_proc=\d+\))?:\s+\d+%",
    "a datasets 'Generating split' bar": r"Generating \w+ split",
    "a datasets 'Saving the dataset' bar": r"Saving the dataset \(",
    "a transformers 'Loading weights' bar": r"Loading weights:",
    "a transformers 'Writing model shards' bar": r"Writing model shards:",
    "a transformers LOAD REPORT": r"LOAD REPORT",
    "peft's trainable-parameters line": r"trainable params: [\d,]+ \|\|",
    "a validation bar nested in the training bar (cursor-up codes)": r"\x1b\[A",
}
# report.section prints "2.5.1 Set up Flan-T5 ───...": the number starts the line
HEADING = re.compile(r"^(\d+(?:\.\d+)+) \S.*─{3,}\s*$", re.MULTILINE)


@pytest.fixture(scope="module")
def outputs(zoo, request, tmp_path_factory) -> dict[str, str]:
    """The selected scripts' tiny runs, two at a time (each uses one thread): script -> output.

    All twelve: 3.1 min on 2 CPU cores at load 3 to 5, 5.4 min at load 4.7 (other test runs
    beside it); a -k selection runs only the scripts it selects.
    """
    def run(script: str) -> str:
        out = tmp_path_factory.mktemp("quiet") / "out"
        result = run_cli(script, "--profile", "tiny", "--output-dir", str(out), *RUNS[script])
        assert result.returncode == 0, f"{script}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        return result.stdout + result.stderr

    wanted = [item.callspec.params["script"] for item in request.session.items
              if item.module is request.module and hasattr(item, "callspec")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        scripts = list(dict.fromkeys(wanted))
        return dict(zip(scripts, pool.map(run, scripts)))


def section_order_problem(numbers: list[str]) -> str | None:
    """Where the section numbers stop ascending, or None if they never do.

    A section's own number may close it ("1.2 Summary" after 1.2.1 to 1.2.5): a strict prefix
    of the last number printed counts as a summary of that section, not a step back.
    """
    highest: tuple[int, ...] = ()
    for number in numbers:
        parts = tuple(int(p) for p in number.split("."))
        if parts > highest:
            highest = parts
        elif not (len(parts) < len(highest) and highest[:len(parts)] == parts):
            return f"{number} after {'.'.join(map(str, highest))} (all: {', '.join(numbers)})"
    return None


def test_section_order_rule():
    assert section_order_problem(["1.2.1", "1.2.5", "1.2", "1.3"]) is None
    assert section_order_problem(["3.3", "3.3.1", "3.4", "3.5"]) is None
    assert section_order_problem(["2.5.3", "2.4", "2.5.4"]).startswith("2.4 after 2.5.3")
    assert section_order_problem(["3.5.1", "3.3.1"]).startswith("3.3.1 after 3.5.1")
    assert section_order_problem(["1.4.3", "1.4.3"]).startswith("1.4.3 after 1.4.3")


@pytest.mark.slow
@pytest.mark.parametrize("script", list(RUNS))
def test_no_library_noise(outputs, script):
    found = {what: re.search(pattern, outputs[script]) for what, pattern in NOISE.items()}
    shown = {what: outputs[script][max(0, m.start() - 80):m.end() + 80]
             for what, m in found.items() if m}
    assert not shown, f"{script} prints library noise: {shown}"


@pytest.mark.slow
@pytest.mark.parametrize("script", list(RUNS))
def test_sections_ascend(outputs, script):
    numbers = HEADING.findall(outputs[script])
    assert len(numbers) >= 3, f"{script}: too few section headings found: {numbers}"
    assert section_order_problem(numbers) is None, \
        f"{script}: {section_order_problem(numbers)}"


def test_verbose_flag_brings_the_library_output_back(tmp_path, capsys):
    from coursekit import cli
    from transformers.utils import logging

    for flags, level in (["--verbose"], logging.WARNING), ([], logging.ERROR):
        args = cli.make_parser("doc", script="demo.py").parse_args(
            ["--profile", "tiny", "--output-dir", str(tmp_path), *flags])
        cli.start(args, "demo")
        assert logging.get_verbosity() == level and logging.is_progress_bar_enabled() == (
            level == logging.WARNING)


def test_quiet_switches_are_restored_by_verbose(capsys):
    from coursekit import quiet
    from datasets.utils.tqdm import are_progress_bars_disabled
    from transformers import PrinterCallback
    from transformers.utils import logging

    def printed_log() -> str:
        PrinterCallback().on_log(None, SimpleNamespace(is_local_process_zero=True), None,
                                 logs={"loss": 0.5})
        return capsys.readouterr().out

    quiet.library_output(verbose=True)
    assert logging.get_verbosity() == logging.WARNING and logging.is_progress_bar_enabled()
    assert not are_progress_bars_disabled() and "'loss'" in printed_log()
    quiet.library_output(verbose=False)  # what every run does unless --verbose
    assert logging.get_verbosity() == logging.ERROR and not logging.is_progress_bar_enabled()
    assert are_progress_bars_disabled() and printed_log() == ""
    with quiet.datasets_progress_bars(show=True):  # one long step shows its bar
        assert not are_progress_bars_disabled()
    assert are_progress_bars_disabled()


def test_evaluation_lines_print_one_line_per_evaluation(capsys):
    from coursekit import quiet

    state = SimpleNamespace(is_world_process_zero=True, global_step=25, max_steps=150)
    quiet.evaluation_lines("sentiment").on_evaluate(None, state, None, metrics={
        "eval_loss": 0.7012, "eval_accuracy": 0.563, "eval_runtime": 1.07,
        "eval_samples_per_second": 79.9, "epoch": 0.5})
    assert capsys.readouterr().out == \
        "sentiment: step 25 of 150, validation loss 0.701, accuracy 0.563\n"


def test_validation_inside_training_draws_no_second_bar(capsys):
    from coursekit import quiet
    from transformers.trainer_callback import ProgressCallback

    state = SimpleNamespace(is_world_process_zero=True)
    batches = [0] * 6  # an eval dataloader of 6 batches
    quiet.library_output(verbose=False)
    inside, outside = ProgressCallback(), ProgressCallback()
    inside.training_bar = object()  # training is running
    for callback in (inside, outside):
        callback.on_prediction_step(None, state, None, eval_dataloader=batches)
    assert inside.prediction_bar is None  # evaluation_lines prints one line instead
    assert outside.prediction_bar is not None  # trainer.evaluate() after training: a bar
    outside.prediction_bar.close()
    quiet.library_output(verbose=True)  # --verbose: the Trainer's own behaviour again
    inside.on_prediction_step(None, state, None, eval_dataloader=batches)
    assert inside.prediction_bar is not None
    inside.prediction_bar.close()
    quiet.library_output(verbose=False)
