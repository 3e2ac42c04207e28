"""1.3 The Datasets library: the lesson's claims, in-process and through its real command line."""

from __future__ import annotations

import json

import pytest
from helpers import assert_usage_error, run_cli, run_main

SCRIPT = "Day3/1_HuggingFace/datasets_library.py"


@pytest.fixture(scope="module")
def results(zoo, tmp_path_factory):
    out = tmp_path_factory.mktemp("datasets")
    return run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(out)), out


def test_public_dataset_has_sst2_columns_and_balanced_labels(results):
    explore = results[0]["explore"]
    assert list(explore["features"]) == ["idx", "sentence", "label"]
    assert "ClassLabel" in explore["features"]["label"]
    assert explore["splits"] == {"train": 400, "validation": 400}  # DEFAULT_SAMPLES["tiny"]
    for split, labels in explore["label_distribution"].items():
        assert list(labels) == ["negative", "positive"]
        assert sum(c["count"] for c in labels.values()) == explore["splits"][split]
        assert sum(c["percent"] for c in labels.values()) == pytest.approx(100, abs=0.2)


def test_csv_json_and_parquet_round_trips_give_identical_rows(results):
    trips = results[0]["round_trip"]
    assert set(trips) == {"csv", "json", "parquet"}
    assert all(t["identical"] and t["rows"] == 400 for t in trips.values())
    # Only Parquet keeps the features: CSV and JSON bring the ClassLabel back as plain integers
    assert trips["parquet"]["label_feature"].startswith("ClassLabel")
    assert trips["csv"]["label_feature"] == trips["json"]["label_feature"] == "int64"


def test_transformations_change_rows_and_columns_as_described(results):
    steps = {s["step"]: s for s in results[0]["transformations"]["steps"]}
    loaded, tokenized = steps["loaded"], steps["map(tokenize, batched)"]
    kept = steps["filter(>= 6 words)"]
    train, test = steps["train_test_split: train"], steps["train_test_split: test"]
    assert tokenized["rows"] == loaded["rows"] == 400
    assert {"input_ids", "attention_mask"} <= set(tokenized["columns"])
    assert 0 < kept["rows"] < loaded["rows"]  # short sentences were dropped
    assert train["rows"] + test["rows"] == kept["rows"]
    assert test["rows"] == pytest.approx(0.2 * kept["rows"], abs=1)
    assert steps["select(range(100))"]["rows"] == 100
    renamed = steps["rename_column(sentence)"]["columns"]
    assert "text" in renamed and "sentence" not in renamed
    transformed = results[0]["transformations"]
    assert transformed["label_feature_after_cast"] == "ClassLabel(NEGATIVE, POSITIVE)"
    assert transformed["first_row"]["input_ids"][0] == 2  # [CLS] of the tiny tokenizer


def test_streaming_reads_only_the_rows_it_needs(results):
    streaming = results[0]["efficiency"]["streaming"]
    assert streaming["type"] == "IterableDataset"
    assert streaming["rows_taken"] == 5
    assert streaming["rows_read"] < streaming["rows_in_file"] == 400
    assert streaming["rows_read"] <= 2 * streaming["rows_taken"]


def test_memory_mapped_load_adds_far_less_memory_than_the_data_size(results):
    build, mmap = results[0]["efficiency"]["build"], results[0]["efficiency"]["mmap"]
    assert mmap["data_mb"] >= 60  # --mmap-mb defaults to 64 in the tiny profile
    assert mmap["rows"] == build["rows"] == 16_000
    assert mmap["rss_added_mb"] < 0.25 * mmap["data_mb"]
    # The contrast: keep_in_memory=True copies the data into RAM
    assert mmap["in_memory_rss_added_mb"] > 0.5 * mmap["data_mb"]
    assert build["build_rss_added_mb"] < 0.5 * build["data_mb"]  # written in chunks


def test_fingerprint_changes_after_map_and_the_same_map_is_served_from_cache(results):
    cache = results[0]["efficiency"]["cache"]
    first, second = cache["runs"]
    assert cache["fingerprint_changed"] and first["fingerprint"] != cache["fingerprint_before"]
    assert first["fingerprint"] == second["fingerprint"]
    assert cache["same_cache_file"] and not cache["cache_file_rewritten"]
    assert cache["cache_files"] == [first["cache_file"]]
    assert cache["speedup"] > 3  # about 100x here: reading the file vs splitting 64 MB of text


def test_save_to_disk_round_trip_and_dataset_card(results):
    versioning = results[0]["versioning"]
    assert versioning["identical_after_reload"]
    card = versioning["card"]
    assert card["license"] == versioning["card_license_written"] == "mit"
    assert card["task_categories"] == ["text-classification"]
    assert card["size_categories"] == ["n<1K"] and card["language"] == ["en"]
    assert versioning["revision_sha"] is None  # tiny never asks the Hub


def test_results_json_is_what_main_returned(results):
    res, out = results
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(res))
    assert (out / "sst2_train_saved" / "README.md").read_text().startswith("---\n")


@pytest.mark.slow
def test_command_line_loads_your_own_file(zoo, tmp_path):
    own = tmp_path / "reviews.jsonl"
    own.write_text('{"text": "a superb hotel", "stars": 5}\n{"text": "noisy room", "stars": 1}\n')
    out = tmp_path / "out"
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(out), "--mmap-mb", "8",
                     "--data-file", str(own), "--text-column", "text")
    assert result.returncode == 0, result.stderr
    assert "Your file: reviews.jsonl" in result.stdout and "a superb hotel" in result.stdout
    saved = json.loads((out / "results.json").read_text())
    assert saved["data_file"]["rows"] == 2 and saved["data_file"]["columns"] == ["text", "stars"]


BAD_CSV = "sentence,label\ngood film,1\nbad film,0,extra\n"


@pytest.mark.parametrize("name, content, extra, message", [
    ("missing.csv", None, [], "missing.csv: no such file"),
    ("broken.csv", BAD_CSV, [], "Expected 2 fields in line 3, saw 3"),
    ("broken.jsonl", '{"sentence": "ok"}\n{"sentence": \n', [], "broken.jsonl: not a readable"),
    ("reviews.csv", "text,label\ngood,1\n", [], "has no column 'sentence'"),
    ("reviews.csv", "text,label\ngood,1\n", ["--text-column", "review"], "no column 'review'"),
    ("notes.txt", "hello\n", [], "unknown format '.txt'"),
    ("empty.csv", "sentence,label\n", [], "the file holds no rows"),
])
def test_bad_data_file_gets_one_line_and_exit_2(tmp_path, name, content, extra, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    out = tmp_path / "out"
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(out),
                     "--data-file", str(path), *extra)
    assert_usage_error(result, message)
    assert not out.exists()  # checked before anything was written


def test_malformed_json_lines_name_the_line(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"sentence": "ok"}\n{"sentence": "fine"}\n[1, 2]\n')
    result = run_cli(SCRIPT, "--profile", "tiny", "--data-file", str(path),
                     "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 2 and "line 3: not a JSON object" in result.stderr


def test_non_positive_sizes_are_refused(tmp_path):
    result = run_cli(SCRIPT, "--profile", "tiny", "--mmap-mb", "0",
                     "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 2 and "--mmap-mb: must be at least 1" in result.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def test_help_is_fast_to_print():
    result = run_cli(SCRIPT, "--help")
    assert result.returncode == 0 and "--data-file" in result.stdout
