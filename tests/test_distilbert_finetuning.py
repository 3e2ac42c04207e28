"""3.3 to 3.5 DistilBERT: single-task best practice, multi-task sampling, single vs multi."""

from __future__ import annotations

import json

import pytest
from helpers import assert_usage_error, load_script, run_cli, run_main

SCRIPT = "Day3/3_FineTuning/distilbert_finetuning.py"


@pytest.fixture(scope="module")
def results(zoo, tmp_path_factory):
    out = tmp_path_factory.mktemp("distilbert")
    return run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(out)), out


def test_single_task_models_learn_both_tasks(results):
    single = results[0]["single"]
    assert single["sentiment"]["accuracy"] > 0.9 and single["sentiment"]["macro_f1"] > 0.9
    assert single["topics"]["accuracy"] > 0.9  # four classes: chance is 0.25
    matrix = single["sentiment"]["confusion"]
    assert len(matrix) == 2 and sum(map(sum, matrix)) > 50
    assert sum(matrix[i][i] for i in range(2)) / sum(map(sum, matrix)) == pytest.approx(
        single["sentiment"]["accuracy"], abs=1e-3)
    for run in single.values():  # early stopping keeps the best checkpoint it saw
        assert run["best_step"] is not None and run["best_step"] <= run["steps"] <= 150


def test_data_preparation_checks_lengths_and_padding(results):
    res = results[0]
    lengths = res["lengths"]
    assert lengths["max_length"] >= lengths["p99"] and lengths["max_length"] % 8 == 0
    assert res["padding"]["padding_side"] == "right" and res["padding"]["padded_tokens"] > 0
    assert res["padding"]["with_mask"] < 1e-4  # the mask makes padding invisible...
    assert res["padding"]["without_mask"] > 0.05  # ...and without it the output changes


def test_leaked_rows_are_removed_from_validation_and_test(zoo):
    from datasets import Dataset

    script = load_script(SCRIPT)
    task = {"train": Dataset.from_dict({"text": ["a", "b", "c"], "label": [0, 1, 0]}),
            "validation": Dataset.from_dict({"text": ["a", "d"], "label": [0, 1]}),
            "test": Dataset.from_dict({"text": ["b", "c", "e"], "label": [1, 0, 1]})}
    assert script.remove_leakage(task) == {"validation": 1, "test": 2}
    assert list(task["validation"]["text"]) == ["d"] and list(task["test"]["text"]) == ["e"]


def test_the_full_profile_loads_whole_splits_and_divides_nothing(zoo, monkeypatch):
    """full = whole datasets: DEFAULT_SAMPLES["full"] is None, which once crashed at n / ..."""
    from types import SimpleNamespace

    from coursekit import data, hub, profiles
    from transformers import AutoTokenizer

    script = load_script(SCRIPT)
    assert profiles.DEFAULT_SAMPLES["full"] is None
    assert script.rows_to_load(None) == {"task": None, "heldout": None}
    assert script.rows_to_load(400) == {"task": 600, "heldout": 100}  # tiny: as before
    assert script.rows_to_load(2000) == {"task": 3000, "heldout": 500}  # class: as before
    asked = []

    def whole_split(role, profile, split="train", n=None, seed=0):  # a 90-row "whole split"
        asked.append((role, split, n))
        return getattr(data, profiles.DATASETS[role].synthetic)(n or 90, seed=seed)

    monkeypatch.setattr(hub, "load_dataset_for", whole_split)
    args = SimpleNamespace(profile="full", max_samples=None, mode="compare", seed=0,
                           train_file=None, num_labels=2)
    setup = {"path": zoo["tiny-distilbert"], "tiny_data": False,
             "tokenizer": AutoTokenizer.from_pretrained(zoo["tiny-distilbert"])}
    prepared = script.prepare_data(args, setup)
    assert asked == [("sentiment", "train", None), ("topics", "train", None),
                     ("sentiment-heldout", "test", None)]  # every split whole
    sentiment = prepared["tasks"]["sentiment"]
    assert len(sentiment["train"]) == 60  # two thirds of the 90 rows: none dropped
    assert len(sentiment["validation"]) + len(sentiment["test"]) \
        + prepared["leakage"]["sentiment"]["validation"] \
        + prepared["leakage"]["sentiment"]["test"] == 30
    assert len(prepared["heldout"]) == 90


def test_sampling_strategies_give_the_expected_task_mix(results):
    multi = results[0]["multi"]
    assert list(multi) == ["proportional", "temperature", "round-robin"]
    for strategy, run in multi.items():
        batches = sum(run["task_mix"].values())
        assert batches == run["steps"] == 300
        share = run["task_mix"]["topics"] / batches
        assert share == pytest.approx(run["expected_mix"]["topics"], abs=0.06), strategy
    assert multi["round-robin"]["task_mix"] == {"sentiment": 150, "topics": 150}
    assert multi["proportional"]["expected_mix"]["topics"] == pytest.approx(40 / 440)
    assert multi["temperature"]["expected_mix"]["topics"] == pytest.approx(
        40 ** 0.5 / (40 ** 0.5 + 400 ** 0.5))
    topics = [multi[s]["task_mix"]["topics"] for s in multi]
    assert topics[0] < topics[1] < topics[2]  # proportional starves the small task most


def test_the_small_task_learns_sooner_when_it_is_sampled_more(results):
    multi = results[0]["multi"]
    never = 10**9
    reached = {s: multi[s]["steps_to_90"]["topics"] or never for s in multi}
    assert reached["round-robin"] <= reached["proportional"]
    # The mean of the validation curve: measured 0.82-0.87 (round-robin) against 0.49-0.76
    # (proportional) over seeds 0, 1, 2 and 42.
    curve = {s: multi[s]["mean_curve"]["topics"] for s in multi}
    assert curve["round-robin"] > curve["proportional"] + 0.03
    assert len(multi["round-robin"]["history"]) == 300 // 25 + 1


def test_one_multitask_model_serves_both_tasks_with_fewer_parameters(results):
    res = results[0]
    single, multi = res["single"], res["multi"]
    for run in multi.values():
        assert run["sentiment"]["accuracy"] > 0.9 and run["topics"]["accuracy"] > 0.9
        assert run["parameters"] < single["sentiment"]["parameters"] + \
            single["topics"]["parameters"]
    assert res["comparison"]["parameters_saved"] > 0.4  # the encoder is most of the model
    assert set(res["comparison"]["transfer"]) == set(multi)


def test_the_tiny_encoder_does_not_generalize_to_unseen_vocabulary(results):
    res = results[0]
    # Hotel reviews share no opinion word with training: the tiny encoder is near chance there.
    assert res["single"]["sentiment"]["heldout"] < res["single"]["sentiment"]["accuracy"] - 0.2
    for run in res["multi"].values():
        assert run["heldout"] < run["sentiment"]["accuracy"] - 0.2


def test_outputs_are_written(results):
    res, out = results
    assert json.loads((out / "results.json").read_text())["mode"] == "compare"
    for name in ("confusion_sentiment", "task_curves", "single_vs_multi"):
        assert (out / f"{name}.png").stat().st_size > 10_000


def test_own_training_file_runs_single_mode_from_the_command_line(zoo, tmp_path):
    from coursekit import data

    reviews = data.sentiment_reviews(300, seed=3).rename_column("sentence", "text")
    reviews.select_columns(["text", "label"]).to_csv(str(tmp_path / "reviews.csv"), index=False)
    out = tmp_path / "out"
    result = run_cli(SCRIPT, "--profile", "tiny", "--mode", "single", "--max-steps", "100",
                     "--train-file", str(tmp_path / "reviews.csv"), "--output-dir", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    saved = json.loads((out / "results.json").read_text())
    assert list(saved["single"]) == ["sentiment"] and "multi" not in saved
    assert saved["single"]["sentiment"]["accuracy"] > 0.8
    assert "3.3.3 Single-task fine-tuning" in result.stdout


def test_unknown_mode_is_one_line_and_exit_2(tmp_path):
    result = run_cli(SCRIPT, "--profile", "tiny", "--mode", "triple",
                     "--output-dir", str(tmp_path))
    assert_usage_error(result, "argument --mode: invalid choice: 'triple'")
    assert not (tmp_path / "results.json").exists()


@pytest.mark.parametrize("rows,message", [
    ("text,label\ngood film,0\nbad film,5\n", "values [5] that do not fit num_labels=2"),
    ("text,label\n", "the training split is empty"),
    ("review,stars\ngood,1\n", "has no ['label', 'text'] column(s)"),
])
def test_bad_training_files_are_one_line_and_exit_2(tmp_path, capsys, rows, message):
    path = tmp_path / "mine.csv"
    path.write_text(rows)
    with pytest.raises(SystemExit) as stop:
        run_main(SCRIPT, "--profile", "tiny", "--mode", "single", "--train-file", str(path),
                 "--output-dir", str(tmp_path / "out"))
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out" / "results.json").exists()


def test_unknown_sampling_strategy_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        run_main(SCRIPT, "--profile", "tiny", "--strategies", "proportional,random")
    assert stop.value.code == 2
    assert "unknown strategy random; choose from proportional, temperature, round-robin" in \
        capsys.readouterr().err
