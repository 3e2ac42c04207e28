"""Bad input, every script: exit status 2, one line on stderr naming the flag or file, no
traceback, and nothing left behind (DESIGN.md, "Errors, faults, safety"; issue 12 item 1).

One table, CASES: (script, argv, environment, what the line must name). The flags are refused
before any model loads, or just after the run's start (an unknown --model, a missing
--train-file): then the output folder `cli.start` created must be gone again. Placeholders in
argv: {out} a new output folder, {existing} one holding a previous run's results, {file} a
regular file, {empty} an empty folder, {data:NAME} a data file from DATA_FILES, {model:NAME}
a model folder from MODEL_FOLDERS.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, load_script

H = "Day3/1_HuggingFace/hello_world_demo.py"
D = "Day3/1_HuggingFace/datasets_library.py"
O = "Day3/1_HuggingFace/huggingface_overview.py"  # noqa: E741  (the letter O, not zero)
M = "Day3/1_HuggingFace/model_inference.py"
U = "Day3/1_HuggingFace/huggingface_upload.py"
F = "Day3/2_TrainingLLMs/flan_t5_finetuning.py"
L = "Day3/2_TrainingLLMs/llm_training_overview.py"
T = "Day3/2_TrainingLLMs/training_optimizations.py"
B = "Day3/3_FineTuning/distilbert_finetuning.py"
S = "Day3/3_FineTuning/finetune_strategies_overview.py"
C = "Day3/4_WrapUpAndDemo/course_summary.py"
J = "Day3/4_WrapUpAndDemo/journey_demo.py"
X = "Day3/4_WrapUpAndDemo/final_exercise.py"
K = "coursekit"  # python -m coursekit
BOGUS = {"DAY3_PROFILE": "bogus"}
DATA_FILES = {
    "empty.csv": b"",
    "no-text.csv": b"review,label\nnice,1\nbad,0\n",
    "broken.jsonl": b'{"sentence": "fine", "label": 1}\n{"sentence": \n',
    "notes.txt": b"sentence,label\nfine,1\n",
    "latin1.csv": "sentence,label\ncaf\u00e9 cr\u00e8me,1\n".encode("latin-1"),
}
DISTILBERT = b'{"model_type": "distilbert", "vocab_size": 100}'
MODEL_FOLDERS = {  # never loaded: refused before any library reads them
    "no-weights": {"config.json": DISTILBERT},
    "bad-config": {"config.json": b'{"model_type": "distil', "model.safetensors": b"x"},
    "list-config": {"config.json": b"[1, 2]", "model.safetensors": b"x"},
    "pickle-only": {"config.json": DISTILBERT, "pytorch_model.bin": b"\x80\x04cos\nsystem\n"},
}

CASES = [  # script, argv, environment, text the one line must contain
    # numbers: zero, negative, NaN, inf, huge
    (H, ["--seed", "-1"], {}, "--seed"),
    (H, ["--seed", str(2**32)], {}, "--seed"),
    (H, ["--seed", "many"], {}, "--seed"),
    (T, ["--seed", "-5"], {}, "--seed"),
    (T, ["--seed", "99999999999"], {}, "--seed"),
    (X, ["--seed", "-7"], {}, "--seed"),
    (F, ["--learning-rate", "inf"], {}, "--learning-rate"),
    (F, ["--learning-rate", "nan"], {}, "--learning-rate"),
    (F, ["--learning-rate", "-1e-3"], {}, "--learning-rate"),
    (F, ["--replay-fraction", "nan"], {}, "--replay-fraction"),
    (F, ["--replay-fraction", "1.5"], {}, "--replay-fraction"),
    (F, ["--max-steps", "0"], {}, "--max-steps"),
    (L, ["--tokens", "inf"], {}, "--tokens"),
    (L, ["--tokens", "nan"], {}, "--tokens"),
    (L, ["--tokens", "1e300"], {}, "--tokens"),
    (L, ["--utilization", "-inf"], {}, "--utilization"),
    (L, ["--budget-usd", "0"], {}, "--budget-usd"),
    (L, ["--num-gpus", "0"], {}, "--num-gpus"),
    (T, ["--peak-tflops", "inf"], {}, "--peak-tflops"),
    (T, ["--peak-tflops", "nan"], {}, "--peak-tflops"),
    (T, ["--steps", "-2"], {}, "--steps"),
    (B, ["--learning-rate", "nan"], {}, "--learning-rate"),
    (B, ["--num-labels", "0"], {}, "--num-labels"),
    (B, ["--num-labels", "1"], {}, "--num-labels"),
    (B, ["--mode", "single", "--strategies", "temperature"], {}, "--strategies"),
    # found by the sweep: a wrong architecture, absurd sizes (MemoryError before)
    (B, ["--model", "tiny-flan-t5"], {}, "this lesson fine-tunes an encoder"),
    (B, ["--model", "tiny-chat-lm"], {}, "this lesson fine-tunes an encoder"),
    (B, ["--max-samples", "100000000"], {}, "rows asked for (--max-samples)"),
    (O, ["--max-samples", "100000000"], {}, "100,000,000 sentiment rows asked for"),
    (T, ["--seq-len", "1"], {}, "--seq-len"),
    (M, ["--task", "ner", "--model", "dslim/bert-base-NER"], {}, "--model"),
    (X, ["--learning-rate", "inf"], {}, "--learning-rate"),
    (X, ["--lora-rank", "0"], {}, "--lora-rank"),
    (S, ["--lora-rank", "0"], {}, "--lora-rank"),
    (S, ["--max-samples", "0"], {}, "--max-samples"),
    (D, ["--max-samples", "-3"], {}, "--max-samples"),
    (D, ["--max-samples", "1"], {}, "--max-samples"),  # train_test_split: an empty split
    (D, ["--max-samples", "9", "--output-dir", "{existing}"], {}, "--max-samples"),
    (D, ["--mmap-mb", "0"], {}, "--mmap-mb"),
    (O, ["--max-samples", "0"], {}, "--max-samples"),
    (M, ["--max-new-tokens", "0"], {}, "--max-new-tokens"),
    (J, ["--port", "0"], {}, "--port"),
    (J, ["--port", "80"], {}, "--port"),
    (J, ["--port", "70000"], {}, "--port"),
    (J, ["--port", "nan"], {}, "--port"),
    (J, ["--max-steps", "-1"], {}, "--max-steps"),
    (C, ["--requests", "0"], {}, "--requests"),
    (U, ["--fine-tune-steps", "-1"], {}, "--fine-tune-steps"),
    # names and choices
    (F, ["--strategies", "bogus"], {}, "--strategies"),
    (S, ["--methods", "dora"], {}, "--methods"),
    (S, ["--lora-targets", " , "], {}, "--lora-targets"),
    (T, ["--setups", "fp64"], {}, "fp64"),
    (M, ["--task", "poetry"], {}, "--task"),
    (B, ["--mode", "both"], {}, "--mode"),
    (H, ["--device", "tpu"], {}, "--device"),
    (H, ["--profile", "huge"], {}, "--profile"),
    (U, ["--license", "mine"], {}, "--license"),
    (U, ["--repo-id", "a/b/c"], {}, "--repo-id"),
    # empty strings: '' would mean the current folder, or no model
    (H, ["--output-dir", ""], {}, "--output-dir"),
    (D, ["--output-dir", ""], {}, "--output-dir"),
    (B, ["--output-dir", " "], {}, "--output-dir"),
    (H, ["--model", ""], {}, "--model"),
    (F, ["--model", ""], {}, "--model"),
    (T, ["--model", ""], {}, "--model"),
    (M, ["--model", ""], {}, "--model"),
    # text
    (H, ["--text", ""], {}, "--text"),
    (H, ["--text", "   "], {}, "--text"),
    (H, ["--text", "x" * 2001], {}, "--text"),
    (H, ["--text", "caf\udce9"], {}, "--text"),  # the byte 0xe9 (Latin-1), as Python reads it
    # the output folder: a regular file, or below one
    (H, ["--output-dir", "{file}"], {}, "a-file"),
    (F, ["--output-dir", "{file}"], {}, "a-file"),
    (U, ["--output-dir", "{file}"], {}, "a-file"),
    (J, ["--output-dir", "{file}", "--no-ui"], {}, "a-file"),
    (L, ["--output-dir", "{file}/results"], {}, "a-file"),
    *[(script, ["--output-dir", "/proc/day3-out"], {}, "/proc/day3-out") for script in (H, T)
      if Path("/proc/self").is_dir()],  # Linux: nobody, root included, makes a folder there
    # model folders and ids, refused after the start: the new output folder must go again
    (H, ["--model", "{empty}"], {}, "empty-folder"),
    (H, ["--model", "{empty}", "--output-dir", "{out}/a/b"], {}, "empty-folder"),
    (F, ["--model", "{empty}"], {}, "empty-folder"),
    (S, ["--model", "{file}"], {}, "a-file"),
    (H, ["--model", "no-such-owner/no-such-model"], {}, "no-such-owner/no-such-model"),
    (H, ["--model", "{model:no-weights}"], {}, "no-weights' has no .safetensors"),
    (H, ["--model", "{model:pickle-only}"], {}, "only pytorch_model.bin: pickle"),
    (S, ["--model", "{model:pickle-only}"], {}, "only pytorch_model.bin: pickle"),
    (H, ["--model", "{model:bad-config}"], {}, "bad-config/config.json"),
    (B, ["--model", "{model:bad-config}"], {}, "bad-config/config.json"),
    (F, ["--model", "{model:list-config}"], {}, "list-config/config.json"),
    (F, ["--model", "no-such-owner/no-such-model", "--output-dir", "{existing}"], {},
     "no-such-owner/no-such-model"),
    # data files
    (D, ["--data-file", "{data:missing.csv}"], {}, "missing.csv"),
    (D, ["--data-file", "{data:empty.csv}"], {}, "empty.csv"),
    (D, ["--data-file", "{data:no-text.csv}"], {}, "no-text.csv"),
    (D, ["--data-file", "{data:broken.jsonl}"], {}, "broken.jsonl"),
    (D, ["--data-file", "{data:notes.txt}"], {}, "notes.txt"),
    (B, ["--train-file", "{data:missing.csv}"], {}, "missing.csv"),
    (B, ["--train-file", "{data:notes.txt}"], {}, "notes.txt"),
    # environment: a bogus $DAY3_PROFILE
    (H, [], BOGUS, "DAY3_PROFILE"),
    (D, [], BOGUS, "DAY3_PROFILE"),
    (T, [], BOGUS, "DAY3_PROFILE"),
    (B, [], BOGUS, "DAY3_PROFILE"),
    (J, ["--no-ui"], BOGUS, "DAY3_PROFILE"),
    (K, ["prefetch"], BOGUS, "DAY3_PROFILE"),
    (K, ["prefetch", "--profile", "huge"], {}, "--profile"),
    (K, ["upgrade"], {}, "upgrade"),
]
# A few through the real command line, as a user types them (the rest run in-process).
SUBPROCESS_CASES = [
    (H, ["--seed", "-1"], {}, "--seed"),
    (T, ["--peak-tflops", "inf"], {}, "--peak-tflops"),
    (F, ["--output-dir", ""], {}, "--output-dir"),
    (H, ["--text", "caf\udce9"], {}, "--text"),  # os.fsencode: the raw byte 0xe9 on the line
    (K, ["prefetch"], BOGUS, "DAY3_PROFILE"),
]


def _case_id(case) -> str:
    script, argv, env, _ = case
    name = "coursekit" if script == K else script.rsplit("/", 1)[1].removesuffix(".py")
    words = [f"{k}={v}" for k, v in env.items()] + [a if len(a) < 20 else f"<{len(a)} chars>"
                                                    for a in argv]
    return f"{name} " + " ".join(w.replace("{", "").replace("}", "") for w in words)


@pytest.fixture
def places(tmp_path, monkeypatch):
    """A working folder to watch (the current folder, with the output folders in it), and
    inputs outside it: a regular file, an empty folder and the DATA_FILES."""
    work, inputs = tmp_path / "work", tmp_path / "inputs"
    (work / "existing").mkdir(parents=True)
    (work / "existing" / "results.json").write_text("{}")  # a previous run's: it stays
    (inputs / "empty-folder").mkdir(parents=True)
    (inputs / "a-file").write_text("not a folder")
    for name, content in DATA_FILES.items():
        (inputs / name).write_bytes(content)
    for name, files in MODEL_FOLDERS.items():
        (inputs / name).mkdir()
        for file, content in files.items():
            (inputs / name / file).write_bytes(content)
    monkeypatch.chdir(work)
    return {"{out}": str(work / "out"), "{existing}": str(work / "existing"),
            "{file}": str(inputs / "a-file"), "{empty}": str(inputs / "empty-folder"),
            "inputs": inputs, "work": work}


def _fill(argv: list[str], places: dict) -> list[str]:
    filled = []
    for arg in argv:
        arg = re.sub(r"\{(?:data|model):([^}]+)\}", lambda m: str(places["inputs"] / m[1]), arg)
        for key in ("{out}", "{existing}", "{file}", "{empty}"):
            arg = arg.replace(key, places[key])
        filled.append(arg)
    if "--output-dir" not in filled and filled[:1] != ["prefetch"] and filled != ["upgrade"]:
        filled += ["--output-dir", places["{out}"]]
    return filled


def _snapshot(folder) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _run_in_process(script: str, argv: list[str]) -> int:
    """main(argv) as the command line would run it; the exit status."""
    if script == K:
        from coursekit.__main__ import main
    else:
        main = load_script(script).main
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def _assert_one_line_refusal(code, stderr: str, needle: str) -> None:
    lines = stderr.strip().splitlines()
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    assert needle in lines[0], lines[0]


@pytest.mark.parametrize("case", CASES, ids=map(_case_id, CASES))
def test_bad_input_is_refused_in_one_line(case, zoo, places, monkeypatch, capsys):
    # zoo: built before (its build draws progress bars on stderr, which is not the refusal)
    script, argv, env, needle = case
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = _snapshot(places["work"])
    code = _run_in_process(script, _fill(argv, places))
    _assert_one_line_refusal(code, capsys.readouterr().err, needle)
    assert _snapshot(places["work"]) == before  # no output folder, no stray file


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=map(_case_id, SUBPROCESS_CASES))
def test_bad_input_on_the_real_command_line(case, zoo, places):
    script, argv, env, needle = case
    command = [sys.executable, "-m", K] if script == K else [sys.executable, str(ROOT / script)]
    before = _snapshot(places["work"])
    done = subprocess.run(command + _fill(argv, places), cwd=places["work"],
                          env=dict(os.environ, PYTHONPATH=str(ROOT / "Day3"), **env),
                          capture_output=True, text=True, timeout=120)
    _assert_one_line_refusal(done.returncode, done.stderr, needle)
    assert _snapshot(places["work"]) == before


def test_the_matrix_is_large_and_covers_every_script():
    scripts = {case[0] for case in CASES}
    assert len(CASES) + len(SUBPROCESS_CASES) >= 60
    assert scripts == {H, D, O, M, U, F, L, T, B, S, C, J, X, K}


@pytest.mark.parametrize("error", [
    MemoryError(),
    RuntimeError("[enforce fail at alloc_cpu.cpp:118] DefaultCPUAllocator: can't allocate "
                 "memory: you tried to allocate 412316860416 bytes"),
    RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB"),
])
def test_running_out_of_memory_is_one_line_saying_what_to_shrink(error, capsys):
    """A batch size or LoRA rank too large for the machine: one line, exit 2, what to lower."""
    from coursekit import cli

    with pytest.raises(SystemExit) as stop, cli.user_errors():
        raise error
    lines = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(lines) == 1
    assert "out of memory" in lines[0] and "--batch-size" in lines[0]


def test_other_runtime_errors_are_not_taken_for_memory():
    from coursekit import cli

    with pytest.raises(RuntimeError, match="shape mismatch"), cli.user_errors():
        raise RuntimeError("shape mismatch")
