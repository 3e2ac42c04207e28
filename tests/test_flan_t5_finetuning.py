"""2.3 to 2.5 Fine-tuning Flan-T5: target gain, forgetting, and what mitigates it."""

from __future__ import annotations

import json

import pytest
from helpers import assert_usage_error, load_script, run_cli, run_main

SCRIPT = "Day3/2_TrainingLLMs/flan_t5_finetuning.py"


@pytest.fixture(scope="module")
def results(zoo, tmp_path_factory):
    out = tmp_path_factory.mktemp("flan-t5")
    return run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(out)), out


def test_the_base_model_knows_the_probes_but_not_the_target(results):
    before = results[0]["before"]
    assert before["target_rougeL"] < 0.4  # dialogue topics it never saw
    assert before["probe_avg"] >= 0.9 and min(before["probe"].values()) >= 0.8
    assert sorted(before["probe"]) == ["qa", "sentiment", "translation"]


def test_target_topics_are_new_and_their_slot_words_are_single_tokens(zoo):
    from coursekit import data
    from transformers import AutoTokenizer

    assert not set(data.TARGET_DIALOGUE_TOPICS) & set(data.DIALOGUE_TOPICS)
    rows = data.dialogues(40, seed=0, topics=list(data.TARGET_DIALOGUE_TOPICS))
    assert set(rows["topic"]) == set(data.TARGET_DIALOGUE_TOPICS)
    tokenizer = AutoTokenizer.from_pretrained(zoo["tiny-flan-t5"])
    for things, _, _ in data.TARGET_DIALOGUE_TOPICS.values():  # copyable into a summary
        assert all(len(tokenizer(w, add_special_tokens=False)["input_ids"]) == 1 for w in things)
    with pytest.raises(ValueError, match="unknown dialogue topic"):
        data.dialogues(1, topics=["weather"])


def test_each_test_dialogue_is_scored_once_against_its_three_summaries(results):
    sizes = results[0]["data"]
    assert sizes["test"] == 100 and sizes["test_references"] == 300  # tiny: DialogSum's layout


def test_the_class_path_takes_distinct_dialogues_from_the_dialogsum_test_split(monkeypatch):
    from types import SimpleNamespace

    from coursekit import data, hub

    script = load_script(SCRIPT)
    test = data.dialogues(500, seed=1, summaries_per_dialogue=3)  # 1,500 rows, as DialogSum's
    asked = {}

    def load_dataset_for(role, profile, split="train", n=None, seed=0):
        asked[split] = n
        return test if split == "test" else data.dialogues(n, seed=7)

    monkeypatch.setattr(hub, "load_dataset_for", load_dataset_for)
    recipe = script.RECIPES["class"]
    train_rows, test_rows = script.prepare_target_task(
        SimpleNamespace(profile="class", seed=42), recipe, tiny_data=False)
    assert asked == {"train": recipe["train_examples"], "test": None}  # the whole test split
    assert len(test_rows) == recipe["test_examples"] == 30  # 30 dialogues (test[:30]: 10)
    assert len({r["prompt"] for r in test_rows}) == 30
    assert all(len(r["references"]) == 3 for r in test_rows)
    assert not {r["prompt"] for r in train_rows} & {r["prompt"] for r in test_rows}


def test_fine_tuning_improves_the_target_task(results):
    res, _ = results
    assert list(res["strategies"]) == ["full", "replay", "low-lr", "lora"]
    for name, run in res["strategies"].items():
        assert run["after"]["target_rougeL"] > res["before"]["target_rougeL"] + 0.3, name
        assert run["steps"] == 80 and run["target_gain"] > 0.3
    assert res["strategies"]["full"]["after"]["target_rougeL"] > 0.8


def test_full_fine_tuning_forgets_the_probe_tasks(results):
    res, _ = results
    full = res["strategies"]["full"]
    assert full["after"]["probe_avg"] < res["before"]["probe_avg"] - 0.2
    assert full["probe_drop"] == pytest.approx(res["full_drop"])
    assert sum(drop > 0.1 for drop in full["forgetting"].values()) >= 2  # not one task only


def test_forgetting_examples_show_probes_that_full_fine_tuning_changed(results):
    res, _ = results
    examples = res["forgetting_examples"]
    assert set(examples) == set(res["before"]["probe"])  # one per probe task
    changed = [t for t, e in examples.items() if e["full"] != e["base model"]]
    assert len(changed) >= 2  # full fine-tuning forgot on at least two tasks (see above)
    right_then = [t for t in changed if examples[t]["base model"] == examples[t]["reference"]]
    assert right_then  # and at least one was right before
    assert "probe_answers" not in res["before"]  # every answer stays out of results.json


def test_recovered_share_needs_a_learned_target_and_small_drops_are_noise():
    script = load_script(SCRIPT)
    probes = {"qa": [{"target": "a"}] * 10, "sentiment": [{"target": "b"}] * 10}

    def evaluated(rouge, qa, sentiment, answers):
        return {"target_rougeL": rouge, "probe": {"qa": qa, "sentiment": sentiment},
                "probe_avg": (qa + sentiment) / 2, "samples": {},
                "probe_answers": {"qa": [answers] * 10, "sentiment": [answers] * 10}}

    before = evaluated(0.2, 1.0, 1.0, "a")
    runs = {"full": {"after": evaluated(0.8, 0.2, 0.4, "x"), "trainable_pct": 100.0},
            "idle": {"after": evaluated(0.25, 1.0, 0.95, "a"), "trainable_pct": 1.0}}
    out = script.measure_forgetting(before, runs, probes)
    assert runs["full"]["probe_drop"] == pytest.approx(0.7)
    assert runs["idle"]["recovered_pct"] is None  # gain 0.05 < half of full's 0.6
    assert out["probe_noise"] == pytest.approx(1 / 20)  # p = 1: one example's worth
    assert abs(runs["idle"]["probe_drop"]) < out["probe_noise"]  # 0.025: within noise


def test_replay_recovers_at_least_half_of_the_drop(results):
    res, _ = results
    replay = res["strategies"]["replay"]
    assert replay["replay_examples"] == round(0.2 * res["data"]["train"])
    assert replay["train_examples"] == res["data"]["train"]  # same size, a share replayed
    assert replay["recovered_pct"] >= 50
    assert replay["probe_drop"] <= res["full_drop"] / 2


def test_a_lower_learning_rate_forgets_less(results):
    res, _ = results
    low = res["strategies"]["low-lr"]
    assert low["learning_rate"] == pytest.approx(0.2 * res["strategies"]["full"]["learning_rate"])
    assert low["probe_drop"] < res["full_drop"] / 2


def test_lora_trains_under_5_percent_and_forgets_less(results):
    res, _ = results
    lora, full = res["strategies"]["lora"], res["strategies"]["full"]
    assert lora["trainable_pct"] < 5 and full["trainable_pct"] == 100
    assert lora["trainable_params"] < 0.05 * lora["total_params"]
    assert lora["probe_drop"] < full["probe_drop"]
    sizes = {r["model"]: r["trainable_pct"] for r in res["lora_real_sizes"]}
    assert sizes["google/flan-t5-small"] < 1 and sizes["google/flan-t5-base"] < 1
    totals = {r["model"]: r["total_params"] - r["trainable_params"] for r in res["lora_real_sizes"]}
    assert totals["google/flan-t5-small"] == 76_961_152  # the published model's size


def test_padded_labels_are_minus_100(results):
    masking = results[0]["label_masking"]
    short, long = masking["labels"]
    assert masking["masked"] > 0 and len(short) == len(long)
    first_pad = short.index(-100)
    assert set(short[first_pad:]) == {-100} and -100 not in long  # padding only at the end


def test_results_json_plot_and_run_settings_are_written(results):
    res, out = results
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(res))
    assert (out / res["plot"]).stat().st_size > 10_000
    settings = json.loads((out / "run_settings.json").read_text())
    assert settings["seed"] == 42 and settings["replay_fraction"] == 0.2


def test_resume_after_an_interruption_ends_like_an_uninterrupted_run(results, tmp_path):
    uninterrupted = results[0]["strategies"]["full"]
    common = ["--profile", "tiny", "--output-dir", str(tmp_path), "--strategies", "full"]
    stopped = run_cli(SCRIPT, *common, "--interrupt-after", "30")  # a real process stops
    assert stopped.returncode == 75, stopped.stderr  # not finished: EX_TEMPFAIL
    assert "interrupted at step 30 of 80" in stopped.stdout
    assert not (tmp_path / "results.json").exists()
    saved = [p.name for p in (tmp_path / "checkpoints" / "full").glob("checkpoint-*")]
    assert saved == ["checkpoint-20"]  # the steps after the last checkpoint are lost
    resumed = run_main(SCRIPT, *common, "--resume")["strategies"]["full"]
    assert resumed["resumed"] and resumed["steps"] == 80
    assert resumed["final_loss"] == pytest.approx(uninterrupted["final_loss"], abs=1e-6)
    assert resumed["after"]["target_rougeL"] == pytest.approx(
        uninterrupted["after"]["target_rougeL"], abs=1e-6)
    assert resumed["after"]["probe"] == uninterrupted["after"]["probe"]
    assert json.loads((tmp_path / "results.json").read_text())["strategies"]["full"]["resumed"]


def test_resume_refuses_an_output_dir_holding_another_run(zoo, tmp_path):
    other = {"profile": "tiny", "model": "tiny-flan-t5", "seed": 7, "strategies": ["full"]}
    (tmp_path / "run_settings.json").write_text(json.dumps(other))
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path), "--resume")
    assert_usage_error(result, "holds a different run")
    assert "seed 7 -> 42" in result.stderr
    assert json.loads((tmp_path / "run_settings.json").read_text()) == other  # untouched


@pytest.mark.parametrize("args, message", [
    (["--model", "nobody/no-such-model"], "not in the local cache"),
    (["--model", "tiny-distilbert"], "not an encoder-decoder"),
    (["--max-steps", "0"], "must be at least 1"),
    (["--learning-rate", "0"], "must be above 0"),
    (["--learning-rate=-0.001"], "must be above 0"),
    (["--replay-fraction", "1.5"], "between 0 and 1"),
    (["--replay-fraction=-0.1"], "between 0 and 1"),
    (["--strategies", "full,magic"], "unknown strategy magic"),
    (["--resume"], "no run to resume"),
])
def test_bad_input_gets_one_line_and_exit_2(zoo, tmp_path, args, message):
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path / "out"), *args)
    assert_usage_error(result, message)
    assert not (tmp_path / "out" / "results.json").exists()
    assert not (tmp_path / "out" / "run_settings.json").exists()


def test_help_is_fast_to_print():
    result = run_cli(SCRIPT, "--help")
    assert result.returncode == 0 and "--replay-fraction" in result.stdout
