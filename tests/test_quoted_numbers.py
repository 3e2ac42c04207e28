"""Docs consistency (issue 13): every number the notes and slides quote comes from a tiny run.

QUOTES is the table: which doc quotes what, and where the number is in that run's results.json.
Each test checks that the doc still holds the quoted text (edit the doc and not the table, it
fails), then that the run's number, formatted as the doc writes it, equals the quote within the
entry's tolerance. Each command runs once per session. Quality numbers only: times vary.
The docs quote CPU runs (fp32), so the commands run with --device cpu also on a GPU machine,
where bf16 and other kernels give other digits. The digits also depend on the library versions
(the tiny zoo is trained on this machine, by these libraries): the numbers are compared only
where torch, transformers, peft and tokenizers are the versions in constraints.txt (what CI
installs today); elsewhere that part is skipped, with the versions named.
"""

from __future__ import annotations

import importlib.metadata
import json

import pytest
from helpers import ROOT, run_main

# name -> (script, flags); all tiny profile, seed 42 (the scripts' default)
RUNS = {
    "hello": ("Day3/1_HuggingFace/hello_world_demo.py", ()),
    "flan_t5": ("Day3/2_TrainingLLMs/flan_t5_finetuning.py", ()),
    "distilbert": ("Day3/3_FineTuning/distilbert_finetuning.py", ()),
    "final": ("Day3/4_WrapUpAndDemo/final_exercise.py", ("--solution",)),
    "journey": ("Day3/4_WrapUpAndDemo/journey_demo.py", ("--no-ui",)),
    **{f"flan_t5_seed{n}": ("Day3/2_TrainingLLMs/flan_t5_finetuning.py", ("--seed", str(n)))
       for n in (0, 1, 2)},  # slide 03's 3-seed table
}

PINNED = ("torch", "transformers", "peft", "tokenizers")  # what the tiny numbers depend on


def versions_differing_from_constraints() -> list[str]:
    """'name installed (pinned)' for each of PINNED that is not constraints.txt's version."""
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    installed = {n: importlib.metadata.version(n).split("+")[0] for n in PINNED}  # 2.13.0+cpu
    return [f"{n} {installed[n]} (pinned {pins.get(n)})" for n in PINNED
            if installed[n] != pins.get(n)]


NOTES = "Day3/LECTURE_NOTES.md"
SLIDES_02 = "Day3/Slides/02_HuggingFace_Intro.md"
SLIDES_03 = "Day3/Slides/03_Training_LLMs.md"
SLIDES_04 = "Day3/Slides/04_FineTuning_Strategies.md"
SLIDES_05 = "Day3/Slides/05_Course_Recap.md"
FLAN = "strategies.{}.after.{}"
DB_SINGLE = "single.{}.accuracy"

# (doc, text quoted in the doc, the number in it, run, key path in results.json, format, tolerance)
QUOTES = [
    # 2.5 forgetting over 3 seeds (slide 03)
    (SLIDES_03, "| 0 | full | 0.297 → 0.875 |", "0.875", "flan_t5_seed0",
     "strategies.full.after.target_rougeL", "{:.3f}", 0),
    (SLIDES_03, "| 0 | full | 0.297 → 0.875 | 0.987 → 0.520 | 0.467 |", "0.467",
     "flan_t5_seed0", "strategies.full.probe_drop", "{:.3f}", 0),
    (SLIDES_03, "| 0 | replay (20%) | → 0.878 | → 0.920 | 0.067 | 86% |", "86",
     "flan_t5_seed0", "strategies.replay.recovered_pct", "{:.0f}", 0),
    (SLIDES_03, "| 0 | LoRA (3.0% trained) | → 0.768 |", "0.768", "flan_t5_seed0",
     "strategies.lora.after.target_rougeL", "{:.3f}", 0),
    (SLIDES_03, "| 1 | full | 0.286 → 0.874 | 0.993 → 0.473 | 0.520 |", "0.520",
     "flan_t5_seed1", "strategies.full.probe_drop", "{:.3f}", 0),
    (SLIDES_03, "0.093 / 0.027 / 0.167 | 82 / 95 / 68% |", "82", "flan_t5_seed1",
     "strategies.replay.recovered_pct", "{:.0f}", 0),
    (SLIDES_03, "| 2 | full | 0.302 → 0.866 | 1.000 → 0.627 | 0.373 |", "0.373",
     "flan_t5_seed2", "strategies.full.probe_drop", "{:.3f}", 0),
    (SLIDES_03, "0.087 / 0.013 / 0.100 | 77 / 96 / 73% |", "77", "flan_t5_seed2",
     "strategies.replay.recovered_pct", "{:.0f}", 0),
    # 1.6 hello world
    (NOTES, "sentiment model has 108,738 parameters", "108,738", "hello",
     "model.parameters", "{:,}", 0),
    (NOTES, "logits (-6.50 and 6.06)", "-6.50", "hello", "by_hand.logits.0", "{:.2f}", 0),
    (NOTES, "logits (-6.50 and 6.06)", "6.06", "hello", "by_hand.logits.1", "{:.2f}", 0),
    (SLIDES_02, "| NEGATIVE | -6.50 | 0.000003 |", "0.000003", "hello",
     "by_hand.probabilities.0", "{:.6f}", 0),
    (SLIDES_02, "| POSITIVE | 6.06 | 0.999997 |", "0.999997", "hello",
     "by_hand.probabilities.1", "{:.6f}", 0),
    # 2.5 flan-t5 forgetting, seed 42
    (NOTES, "| base model | 0.289 | 0.973 |", "0.289", "flan_t5", "before.target_rougeL",
     "{:.3f}", 0),
    (NOTES, "| base model | 0.289 | 0.973 |", "0.973", "flan_t5", "before.probe_avg",
     "{:.3f}", 0),
    (NOTES, "| full | 0.883 | 0.513 | 0.460 |", "0.883", "flan_t5",
     FLAN.format("full", "target_rougeL"), "{:.3f}", 0),
    (NOTES, "| full | 0.883 | 0.513 | 0.460 |", "0.513", "flan_t5",
     FLAN.format("full", "probe_avg"), "{:.3f}", 0),
    (NOTES, "| full | 0.883 | 0.513 | 0.460 |", "0.460", "flan_t5",
     "strategies.full.probe_drop", "{:.3f}", 0),
    (NOTES, "| replay 20% | 0.863 | 0.993 | -0.020 (noise) | 104% |", "0.993", "flan_t5",
     FLAN.format("replay", "probe_avg"), "{:.3f}", 0),
    (NOTES, "| replay 20% | 0.863 | 0.993 | -0.020 (noise) | 104% |", "104", "flan_t5",
     "strategies.replay.recovered_pct", "{:.0f}", 0),
    (NOTES, "| learning rate x 0.2 | 0.853 | 0.953 | 0.020 (noise) | 96% |", "0.853",
     "flan_t5", FLAN.format("low-lr", "target_rougeL"), "{:.3f}", 0),
    (NOTES, "| LoRA (3.0% trained) | 0.794 | 0.907 | 0.067 | 86% |", "0.794", "flan_t5",
     FLAN.format("lora", "target_rougeL"), "{:.3f}", 0),
    (NOTES, "| LoRA (3.0% trained) | 0.794 | 0.907 | 0.067 | 86% |", "0.067", "flan_t5",
     "strategies.lora.probe_drop", "{:.3f}", 0),
    (NOTES, "| LoRA (3.0% trained) | 0.794 | 0.907 | 0.067 | 86% |", "86", "flan_t5",
     "strategies.lora.recovered_pct", "{:.0f}", 0),
    (NOTES, "a drop under 0.037", "0.037", "flan_t5", "probe_noise", "{:.3f}", 0),
    (SLIDES_03, "LoRA trains 3% of the tiny model", "3", "flan_t5",
     "strategies.lora.trainable_pct", "{:.0f}", 0),
    # 3.5 distilbert compare, seed 42
    (NOTES, "| two single-task models | 0.989 | 0.918 | 0.470 | 217,606 |", "0.989",
     "distilbert", DB_SINGLE.format("sentiment"), "{:.3f}", 0),
    (SLIDES_04, "| two single-task models | 0.989 | 0.918 | 0.470 | 217,606 |", "0.918",
     "distilbert", DB_SINGLE.format("topics"), "{:.3f}", 0),
    (NOTES, "| two single-task models | 0.989 | 0.918 | 0.470 | 217,606 |", "0.470",
     "distilbert", "single.sentiment.heldout", "{:.3f}", 0),
    (NOTES, "| multi-task, temperature | 1.000 | 0.969 | 0.440 | 113,158 |", "0.969",
     "distilbert", "multi.temperature.topics.accuracy", "{:.3f}", 0),
    (SLIDES_04, "| multi-task, round-robin | 1.000 | 1.000 | 0.420 | 113,158 |", "0.420",
     "distilbert", "multi.round-robin.heldout", "{:.3f}", 0),
    (SLIDES_04, "| multi-task, round-robin | 1.000 | 1.000 | 0.420 | 113,158 |", "113,158",
     "distilbert", "multi.round-robin.parameters", "{:,}", 0),
    (SLIDES_04, "| temperature (T=2) | p ∝ √n | 73 (24%) | step 150 | 0.77 / 0.90 |", "0.77",
     "distilbert", "multi.temperature.mean_curve.topics", "{:.2f}", 0),
    # 4.1 the final exercise's solution, seed 42
    (NOTES, "| baseline: the SST-2 model as is | 0.515 | 0.475 |", "0.515", "final",
     "baseline.accuracy", "{:.3f}", 0),
    (NOTES, "| baseline: the SST-2 model as is | 0.515 | 0.475 |", "0.475", "final",
     "baseline.macro_f1", "{:.3f}", 0),
    (SLIDES_05, "| + LoRA on the new domain, 60 steps | 1.000 | 1.000 | 8,386 (7.2%) |", "1.000",
     "final", "adapted.accuracy", "{:.3f}", 0),
    (SLIDES_05, "The gain (+0.485)", "0.485", "final", "comparison.accuracy_gain", "{:.3f}", 0),
    (SLIDES_05, "(1/√200 = 0.071)", "0.071", "final", "comparison.margin", "{:.3f}", 0),
    # 4.2 the journey demo, seed 42
    (NOTES, "| base (new head) | 0.500 | 0.333 | 0 |", "0.500", "journey",
     "scores.base (new head).accuracy", "{:.3f}", 0),
    (NOTES, "| Flan-T5 zero-shot | 0.960 | 0.960 | 0 |", "0.960", "journey",
     "scores.Flan-T5 zero-shot.accuracy", "{:.3f}", 0),
    (NOTES, "| Flan-T5 zero-shot | 0.960 | 0.960 | 0 |", "0.960", "journey",
     "scores.Flan-T5 zero-shot.macro_f1", "{:.3f}", 0),
    (NOTES, "| LoRA fine-tuned | 0.770 | 0.770 | 8,386", "0.770", "journey",
     "scores.LoRA fine-tuned.macro_f1", "{:.3f}", 0),
    (SLIDES_05, "| Flan-T5 zero-shot | 0.960 | 0 |", "0.960", "journey",
     "scores.Flan-T5 zero-shot.accuracy", "{:.3f}", 0),
    (SLIDES_05, "| LoRA fine-tuned | 0.770 (seeds", "0.770", "journey",
     "scores.LoRA fine-tuned.accuracy", "{:.3f}", 0),
    (SLIDES_05, "| LoRA fine-tuned | 0.770 (seeds 0, 1: 0.730, 0.715) | 8,386 |", "8,386",
     "journey", "training.trainable", "{:,}", 0),
]


@pytest.fixture(scope="module")
def results(zoo, tmp_path_factory):
    """Each command of RUNS at most once, on demand: name -> its results.json."""
    done: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in done:
            script, flags = RUNS[name]
            out = tmp_path_factory.mktemp(name)
            run_main(script, "--profile", "tiny", "--device", "cpu", *flags,
                     "--output-dir", str(out))
            done[name] = json.loads((out / "results.json").read_text())
        return done[name]
    return get


def lookup(res: dict, path: str):
    """Follow a dotted key path; list indices are numbers ('by_hand.logits.0')."""
    for key in path.split("."):
        res = res[int(key)] if isinstance(res, list) else res[key]
    return res


def as_number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.mark.parametrize("doc, quote, number, run, key, fmt, tol", QUOTES,
                         ids=[f"{q[0].split('/')[-1]}:{q[3]}:{q[4]}" for q in QUOTES])
def test_quoted_number_matches_the_run(results, doc, quote, number, run, key, fmt, tol):
    assert number in quote, (quote, number)
    text = (ROOT / doc).read_text()
    assert quote in text, f"{doc} no longer quotes {quote!r}: update QUOTES with the doc"
    if versions_differing_from_constraints():
        pytest.skip("the quotes hold for constraints.txt's versions; installed: "
                    + ", ".join(versions_differing_from_constraints()))
    produced = fmt.format(lookup(results(run), key))
    script, flags = RUNS[run]
    where = f"{doc} quotes {number} in {quote!r}; `{script} --profile tiny {' '.join(flags)}`"
    assert abs(as_number(produced) - as_number(number)) <= tol, f"{where} gives {produced}"


def test_every_run_is_quoted_and_every_quote_names_a_run():
    assert {q[3] for q in QUOTES} == set(RUNS)
    assert len(QUOTES) >= 15
