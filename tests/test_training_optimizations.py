"""2.2 Training optimizations: what each setup claims, measured on tiny models on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import assert_usage_error, load_script, run_cli, run_main

SCRIPT = "Day3/2_TrainingLLMs/training_optimizations.py"
# Accumulation adds the same per-sample gradients in another order: float32 rounding (about
# 1e-7 relative per operation) carried through a few AdamW updates. We measure 0 to 1e-6; a
# real difference in the arithmetic is far larger (bf16: 3e-5, Adafactor: 7e-3 on the same run).
ACCUMULATION_TOLERANCE = 1e-4
# Checkpointing recomputes the very same forward (dropout is off, CPU kernels are
# deterministic), so the loss must match to float32 noise.
CHECKPOINTING_TOLERANCE = 1e-5


def by_setup(results: dict) -> dict[str, dict]:
    return {row["setup"]: row for row in results["setups"]}


# These runs are the lesson on a CPU (what it skips there and why, memory from the profiler, no
# MFU): on a GPU machine too they run with --device cpu. The GPU path is the benchmark's.
@pytest.fixture(scope="module")
def distilbert(tmp_path_factory):
    out = tmp_path_factory.mktemp("optimizations")
    return run_main(SCRIPT, "--profile", "tiny", "--device", "cpu", "--output-dir", str(out)), out


@pytest.fixture(scope="module")
def t5(tmp_path_factory):
    out = tmp_path_factory.mktemp("optimizations-t5")
    return run_main(SCRIPT, "--profile", "tiny", "--device", "cpu", "--model", "tiny-t5",
                    "--setups", "bf16,grad-accum,grad-ckpt,adafactor", "--output-dir", str(out))


def test_every_setup_that_ran_has_throughput_memory_and_loss(distilbert, t5):
    for results in (distilbert[0], t5):
        ran = [r for r in results["setups"] if r["status"] == "ran"]
        assert {r["setup"] for r in ran} >= {"fp32", "bf16", "grad-accum", "grad-ckpt",
                                              "adafactor"}
        for row in ran:
            assert row["samples_per_s"] > 0 and row["step_ms"] > 0, row
            assert row["peak_mib"] > row["static_mib"] > 0, row
            assert row["activation_mib"] > 0, row
            assert row["loss_after"] < results["loss_before"], row  # it trained


def test_setups_that_cannot_run_on_a_cpu_say_why(distilbert):
    rows = by_setup(distilbert[0])
    assert list(rows) == [s.name for s in load_script(SCRIPT).SETUPS]  # all, in order
    assert "needs CUDA" in rows["fp16"]["reason"]
    assert "NVIDIA GPUs" in rows["tf32"]["reason"]
    assert "bitsandbytes" in rows["adamw-8bit"]["reason"]
    for name in ("compile", "combined"):
        assert "name it in --setups" in rows[name]["reason"]
    for row in rows.values():
        assert (row["status"] == "skipped") == bool(row["reason"]), row
        assert row["status"] == "ran" or "samples_per_s" not in row


def test_accumulation_gives_the_loss_of_the_whole_batch_with_less_memory(distilbert, t5):
    for results in (distilbert[0], t5):
        rows = by_setup(results)
        assert results["settings"]["micro_batches"] == 4
        gap = abs(rows["grad-accum"]["loss_after"] - rows["fp32"]["loss_after"])
        assert gap <= ACCUMULATION_TOLERANCE
        assert rows["grad-accum"]["activation_mib"] < 0.7 * rows["fp32"]["activation_mib"]


def test_checkpointing_gives_the_same_loss_with_fewer_activations(distilbert, t5):
    for results in (distilbert[0], t5):
        rows = by_setup(results)
        gap = abs(rows["grad-ckpt"]["loss_after"] - rows["fp32"]["loss_after"])
        assert gap <= CHECKPOINTING_TOLERANCE
        assert rows["grad-ckpt"]["activation_mib"] <= rows["fp32"]["activation_mib"]
        assert results["goals"]["ckpt_activation_cut"] > 0.3


def test_bf16_and_adafactor_change_the_arithmetic(distilbert):
    rows = by_setup(distilbert[0])
    assert 0 < rows["bf16"]["loss_gap"] < 1e-2  # rounding to 8 bits of mantissa shows, a little
    assert rows["adafactor"]["loss_gap"] > 10 * ACCUMULATION_TOLERANCE  # another optimizer
    # Adafactor keeps factored second moments instead of AdamW's two full-size states.
    assert rows["adafactor"]["static_mib"] < rows["fp32"]["static_mib"]


def test_eager_attention_stores_the_attention_matrix(distilbert):
    rows = by_setup(distilbert[0])
    assert distilbert[0]["settings"]["default_attention"] == "sdpa"
    assert rows["eager-attn"]["attention"] == "eager"
    assert rows["eager-attn"]["activation_mib"] > rows["fp32"]["activation_mib"]
    assert rows["eager-attn"]["loss_gap"] <= CHECKPOINTING_TOLERANCE  # same maths


def test_flops_follow_the_6nd_rule(distilbert, t5):
    # tiny-distilbert: 2 layers x (4 x 64x64 attention + 2 x 64x128 feed-forward) + 64x64 + 64x2
    # head = 69,760 weights that multiply each of 8 x 32 tokens; embeddings are look-ups.
    assert distilbert[0]["settings"]["flops"] == 6 * 69_760 * 8 * 32
    settings = t5["settings"]
    assert settings["task"] == "seq2seq" and settings["flops"] > 0
    assert distilbert[0]["goals"]["best_mfu"] is None  # MFU needs a GPU's peak


def test_chart_and_results_json(distilbert):
    results, out = distilbert
    assert Path(results["chart"]).exists() and Path(results["chart"]).stat().st_size > 10_000
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(results))


def test_a_failing_compile_is_reported_not_raised(tmp_path, monkeypatch):
    import torch

    def broken_compile(model, **kwargs):
        raise RuntimeError("no C++ compiler")

    monkeypatch.setattr(torch, "compile", broken_compile)
    results = run_main(SCRIPT, "--profile", "tiny", "--setups", "compile", "--steps", "1",
                       "--output-dir", str(tmp_path))
    assert by_setup(results)["compile"]["reason"] == "torch.compile failed: RuntimeError"


def test_setups_do_not_leak_into_each_other(tmp_path, monkeypatch):
    import torch

    # compile runs after eager-attn; a stand-in compile (the model itself) keeps this fast.
    monkeypatch.setattr(torch, "compile", lambda model, **kwargs: model)
    results = run_main(SCRIPT, "--profile", "tiny", "--setups", "eager-attn,compile",
                       "--steps", "1", "--output-dir", str(tmp_path))
    rows = by_setup(results)
    assert rows["eager-attn"]["attention"] == "eager"
    assert rows["compile"]["attention"] == "sdpa"  # back to the default, as for fp32
    assert rows["compile"]["activation_mib"] == rows["fp32"]["activation_mib"]
    assert rows["compile"]["loss_after"] == rows["fp32"]["loss_after"]


@pytest.mark.slow
def test_command_line_runs_end_to_end(tmp_path):
    result = run_cli(SCRIPT, "--profile", "tiny", "--model", "tiny-t5", "--setups",
                     "grad-ckpt", "--steps", "2", "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "grad-ckpt" in result.stdout and "Goals" in result.stdout
    assert "profiler_start" not in result.stderr  # the profiler's chatter is kept quiet
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [r["setup"] for r in saved["setups"]] == ["fp32", "grad-ckpt"]


@pytest.mark.parametrize("args, message", [
    (["--model", "nobody/no-such-model"], "no config for model 'nobody/no-such-model'"),
    (["--model", "not a model!"], "unknown model 'not a model!'"),
    (["--steps", "0"], "must be at least 1"),
    (["--batch-size", "-4"], "must be at least 1"),
    (["--seq-len", "0"], "must be at least 1"),
    (["--seq-len", "500"], "longer than this model's 128 positions"),
    (["--setups", "fp32,warp-drive"], "unknown setup 'warp-drive'"),
    (["--peak-tflops", "0"], "argument --peak-tflops: must be above 0"),
])
def test_bad_input_gets_one_line_and_exit_2(tmp_path, args, message):
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path / "out"), *args)
    assert_usage_error(result, message)
    assert not (tmp_path / "out" / "results.json").exists()


def test_help_lists_the_setups_flag():
    result = run_cli(SCRIPT, "--help")
    assert result.returncode == 0 and "--setups" in result.stdout


def test_emulated_bf16_on_a_big_model_is_skipped_unless_asked(monkeypatch):
    import torch
    from coursekit import device

    script = load_script(SCRIPT)
    monkeypatch.setattr(device, "cpu_has_bf16", lambda: False)
    bf16 = next(s for s in script.SETUPS if s.name == "bf16")
    run = {"device": torch.device("cpu"), "parameters": 66_955_010, "asked": set(),
           "micro_batches": 2, "supports_checkpointing": True, "default_attention": "sdpa",
           "batch_size": 8, "model_class": "DistilBertForSequenceClassification"}
    assert "no bf16 units" in script.skip_reason(bf16, run)
    assert script.skip_reason(bf16, dict(run, asked={"bf16"})) is None  # --setups bf16
    assert script.skip_reason(bf16, dict(run, parameters=200_000)) is None  # tiny: quick
    monkeypatch.setattr(device, "cpu_has_bf16", lambda: True)
    assert script.skip_reason(bf16, run) is None
