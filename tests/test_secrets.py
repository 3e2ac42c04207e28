"""Secrets (issue 12 item 5): a Hub token in the environment or in the login file never shows up
in what a script prints or writes (DESIGN.md: "a Hub token only from the environment or the Hub
login, never printed or written to a results file").

Every lesson script, and `python -m coursekit`, runs once as a subprocess on the tiny profile,
capped in steps and examples, with a fake token planted twice: HF_TOKEN in the environment, and
a different one in the login file of a fresh HF_HOME (`$HF_HOME/token`, also named by
HF_TOKEN_PATH, where `hf auth login` writes it and huggingface_hub's get_token() reads it).
Neither token, nor its last 8 characters, may appear in stdout, stderr, or any file the run
leaves: its --output-dir, its working folder and its HF_HOME (the planted login file aside),
all read as bytes. The upload lesson's dry run must still find the token and say where it came
from, without its value. HF_HUB_OFFLINE=1 stays set (conftest): nothing reaches the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import ROOT

ENV_TOKEN = "hf_PLANTEDsecretTOKEN0123456789abcdef"  # HF_TOKEN
FILE_TOKEN = "hf_PLANTEDloginFILEtokenQwErTyUiOpZx"  # $HF_HOME/token, as `hf auth login` writes
NEEDLES = {f"{name} {part}": value.encode()
           for name, token in (("HF_TOKEN", ENV_TOKEN), ("login-file token", FILE_TOKEN))
           for part, value in (("value", token), ("last 8 characters", token[-8:]))}

U = "Day3/1_HuggingFace/huggingface_upload.py"
RUNS = {  # name -> (command after `python`, flags that keep the tiny run short but writing)
    "hello_world_demo": (["Day3/1_HuggingFace/hello_world_demo.py"], []),
    "huggingface_overview": (["Day3/1_HuggingFace/huggingface_overview.py"],
                             ["--max-samples", "32"]),
    "datasets_library": (["Day3/1_HuggingFace/datasets_library.py"],
                         ["--mmap-mb", "2", "--max-samples", "32"]),
    "model_inference": (["Day3/1_HuggingFace/model_inference.py"], ["--max-new-tokens", "4"]),
    "huggingface_upload": ([U], ["--fine-tune-steps", "2", "--max-samples", "16"]),
    "huggingface_upload (login file only)": ([U], ["--fine-tune-steps", "0",
                                                   "--max-samples", "16"]),
    "llm_training_overview": (["Day3/2_TrainingLLMs/llm_training_overview.py"],
                              ["--max-steps", "1", "--max-samples", "16"]),
    "flan_t5_finetuning": (["Day3/2_TrainingLLMs/flan_t5_finetuning.py"],
                           ["--strategies", "full,lora", "--max-steps", "2", "--max-samples", "4"]),
    "training_optimizations": (["Day3/2_TrainingLLMs/training_optimizations.py"],
                               ["--setups", "bf16", "--steps", "1"]),
    "finetune_strategies_overview": (["Day3/3_FineTuning/finetune_strategies_overview.py"],
                                     ["--methods", "full,lora", "--max-steps", "2",
                                      "--max-samples", "16", "--skip-transfer"]),
    "distilbert_finetuning": (["Day3/3_FineTuning/distilbert_finetuning.py"],
                              ["--max-steps", "3", "--max-samples", "32"]),
    "course_summary": (["Day3/4_WrapUpAndDemo/course_summary.py"],
                       ["--parts", "report,journey,dpo,closing", "--dpo-steps", "2",
                        "--outputs", "{cwd}/outputs"]),  # 5.3 deploy only times a model
    "journey_demo": (["Day3/4_WrapUpAndDemo/journey_demo.py"],
                     ["--no-ui", "--max-steps", "3", "--max-samples", "16"]),
    "final_exercise": (["Day3/4_WrapUpAndDemo/final_exercise.py"],
                       ["--solution", "--max-steps", "3", "--max-samples", "32"]),
    "coursekit doctor": (["-m", "coursekit", "doctor"], None),  # None: no --profile/--output-dir
    "coursekit prefetch tiny": (["-m", "coursekit", "prefetch", "--profile", "tiny"], None),
}


def run(name: str, root: Path) -> tuple[subprocess.CompletedProcess, Path, Path]:
    """One run with both tokens planted, in its own folder: (result, run folder, HF_HOME)."""
    home, folder = root / "hf-home", root / "run"
    home.mkdir()
    (folder / "cwd").mkdir(parents=True)
    (home / "token").write_text(FILE_TOKEN)  # what `hf auth login` leaves behind
    env = dict(os.environ, HF_HOME=str(home), HF_TOKEN_PATH=str(home / "token"),
               HF_TOKEN=ENV_TOKEN)
    env.pop("HUGGING_FACE_HUB_TOKEN", None)
    if name.endswith("(login file only)"):
        env.pop("HF_TOKEN")
    command, flags = RUNS[name]
    if flags is not None:
        flags = ["--profile", "tiny", "--output-dir", str(folder / "out"),
                 *[flag.replace("{cwd}", str(folder / "cwd")) for flag in flags]]
    command = [str(ROOT / part) if part.endswith(".py") else part for part in command]
    result = subprocess.run([sys.executable, *command, *(flags or [])], cwd=folder / "cwd",
                            env=env, capture_output=True, timeout=600)
    return result, folder, home


@pytest.fixture(scope="module")
def runs(zoo, request, tmp_path_factory) -> dict:
    """The selected runs, two at a time (each script trains on one thread): name -> run()."""
    wanted = [item.callspec.params["name"] for item in request.session.items
              if item.module is request.module and hasattr(item, "callspec")]
    names = list(dict.fromkeys(wanted))
    roots = [tmp_path_factory.mktemp("secrets") for _ in names]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(names, pool.map(run, names, roots)))


def leaks(name: str, data: bytes) -> list[str]:
    return [f"{needle} in {name}" for needle, value in NEEDLES.items() if value in data]


@pytest.mark.parametrize("name", list(RUNS))
def test_no_token_in_output_or_files(runs, name):
    result, folder, home = runs[name]
    output = result.stdout + result.stderr
    assert result.returncode == 0, output.decode(errors="replace")[-4000:]
    files = [path for path in (*folder.rglob("*"), *home.rglob("*"))
             if path.is_file() and not path.is_symlink() and path != home / "token"]
    if RUNS[name][1] is not None:  # the lesson wrote its results, so there was something to scan
        assert (folder / "out" / "results.json").is_file()
    found = leaks("stdout", result.stdout) + leaks("stderr", result.stderr)
    for path in files:
        found += leaks(str(path.relative_to(folder.parent)), path.read_bytes())
    assert not found, f"{name}: {len(files)} files scanned; leaked: {found}"


@pytest.mark.parametrize("name, source", [("huggingface_upload", "HF_TOKEN"),
                                          ("huggingface_upload (login file only)",
                                           "hf auth login")])
def test_the_upload_dry_run_finds_the_token_and_says_where_from(runs, name, source):
    import json

    result, folder, _ = runs[name]
    out = result.stdout.decode()
    results = json.loads((folder / "out" / "results.json").read_text())
    assert results["dry_run"] is True and results["token_found"] is True
    assert f"found ({source})" in out, out[-3000:]


def test_the_scan_would_see_a_leak():
    """The needles match a token pasted whole, or only its tail (as in 'hf_...89abcdef')."""
    assert leaks("x", f"token = {ENV_TOKEN}\n".encode()) == ["HF_TOKEN value in x",
                                                             "HF_TOKEN last 8 characters in x"]
    assert leaks("x", f"hf_...{FILE_TOKEN[-8:]}".encode()) == [
        "login-file token last 8 characters in x"]
    assert leaks("x", b"no secret here") == []
