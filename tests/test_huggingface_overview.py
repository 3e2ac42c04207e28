"""1.1-1.2 The ecosystem tour: each library's claim, checked on the numbers the script measured."""

from __future__ import annotations

import json

import pytest
from helpers import assert_usage_error, run_cli, run_main

SCRIPT = "Day3/1_HuggingFace/huggingface_overview.py"
LIBRARIES = ["Transformers", "Datasets", "Tokenizers", "Accelerate", "Evaluate"]


@pytest.fixture(scope="module")
def results(zoo, tmp_path_factory):
    out = tmp_path_factory.mktemp("overview")
    return run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(out)), out


def test_auto_classes_build_distilbert_and_count_its_parameters(results, zoo):
    from transformers import AutoModelForSequenceClassification

    tf = results[0]["transformers"]
    assert tf["classes"]["AutoConfig"] == "DistilBertConfig"
    assert tf["classes"]["AutoModelForSequenceClassification"] == \
        "DistilBertForSequenceClassification"
    assert tf["config"]["model_type"] == "distilbert"
    assert tf["config"]["id2label"] == {0: "NEGATIVE", 1: "POSITIVE"}
    model = AutoModelForSequenceClassification.from_pretrained(zoo["tiny-distilbert-sst2"])
    assert tf["parameters"] == sum(p.numel() for p in model.parameters())
    assert sum(tf["parameters_per_module"].values()) == tf["parameters"]
    assert tf["parameters_per_module"]["dropout"] == 0  # dropout has no weights


def test_random_weights_same_architecture_different_predictions(results):
    tf = results[0]["transformers"]
    random = tf["random"]
    assert random["random_parameters"] == tf["parameters"]  # the config fixes the shapes
    assert random["pretrained_logits"] != random["random_logits"]
    assert random["max_logit_difference"] > 1.0
    assert random["correct"]["pretrained"] == random["examples"] == 4
    assert random["mean_confidence"]["pretrained"] > 0.9
    assert random["mean_confidence"]["random"] < 0.6  # a coin flip, near 0.5


def test_dataset_is_typed_and_arrow_backed(results):
    ds = results[0]["datasets"]
    assert ds["num_rows"] == 200  # the --max-samples default
    assert ds["label_names"] == ["negative", "positive"]
    assert {"sentence", "label"} <= set(ds["columns"])
    assert ds["arrow"]["table_class"] == "InMemoryTable" and ds["arrow"]["nbytes"] > 0
    assert ds["arrow"]["cache_files"] == 0  # built in memory, not memory-mapped from disk
    assert ds["first_row"]["label"] in (0, 1)
    assert ds["slice_length"] == 3 and "sentence" in ds["slice_columns"]


def test_trained_bpe_round_trips_a_corpus_sentence(results):
    from coursekit import data

    trained = results[0]["tokenizers"]["trained"]
    assert trained["sentence"] in data.corpus_text()
    assert trained["decoded"] == trained["sentence"]
    assert len(trained["ids"]) == len(trained["tokens"])
    assert 256 < trained["vocab_size"] <= 2000  # 256 byte symbols, then the merges


def test_a_vocabulary_fits_the_text_it_was_trained_on(results):
    tok = results[0]["tokenizers"]
    corpus, _, unfamiliar, emoji = tok["sentences"]
    assert all(s["trained_round_trip"] for s in tok["sentences"])  # byte level: lossless
    assert corpus["trained_tokens"] <= corpus["pretrained_tokens"]
    if "MiniLM" in tok["pretrained_tokenizer"]:  # the real bert-base-uncased WordPiece (the
        # offline extra); without it the tiny zoo's tokenizer, trained on the course's own text
        assert unfamiliar["trained_tokens"] > 2 * unfamiliar["pretrained_tokens"]
        assert "[UNK]" in emoji["pretrained_pieces"]


def test_batched_and_one_by_one_encoding_are_both_timed(results):
    speed = results[0]["tokenizers"]["speed"]
    for name in ("trained", "pretrained"):
        run = speed[name]
        assert run["texts"] == run["encoded_one_by_one"] == run["encoded_batched"] == 200
        assert run["one_by_one_seconds"] > 0 and run["batched_seconds"] > 0
        # A timing claim is reported, not asserted: a busy CI machine can reverse it.
        assert run["speedup"] == pytest.approx(run["one_by_one_seconds"]
                                               / run["batched_seconds"])


def test_accelerate_trains_and_the_loss_falls(results):
    acc = results[0]["accelerate"]
    from coursekit import device

    expected = device.pick_device("auto")  # where the script ran: cuda (bf16) on a GPU machine
    assert acc["device"].split(":")[0] == expected.type
    assert acc["mixed_precision"] == ("bf16" if device.trainer_precision(expected) else "no")
    assert acc["num_processes"] == 1 and acc["examples"] == 200
    assert len(acc["losses"]) == acc["epochs"]
    assert acc["loss_first"] < 0.8  # starts near ln 2 = 0.69, a coin flip
    assert acc["loss_last"] < 0.5 * acc["loss_first"]


def test_evaluate_metric_equals_coursekit_accuracy_exactly(results):
    ev = results[0]["evaluate"]
    assert ev["metric_class"] == "CourseAccuracy"
    assert ev["examples"] == 200
    assert ev["evaluate_accuracy"] == ev["coursekit_accuracy"]
    assert ev["evaluate_accuracy"] > 0.9  # the tiny classifier on its own kind of data
    assert ev["hub_accuracy"] is None  # offline: the Hub's "accuracy" script is not fetched


def test_summary_names_the_five_libraries(results):
    res, out = results
    assert [row["library"] for row in res["summary"]] == LIBRARIES
    assert f"{res['transformers']['parameters']:,}" in res["summary"][0]["did"]
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(res))
    assert (out / "course_accuracy" / "course_accuracy.py").exists()


@pytest.mark.slow
def test_command_line_runs_end_to_end(zoo, tmp_path):
    result = run_cli(SCRIPT, "--profile", "tiny", "--max-samples", "64",
                     "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "The five core libraries, measured" in result.stdout
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["datasets"]["num_rows"] == 64 and saved["evaluate"]["examples"] == 64


@pytest.mark.parametrize("args, message", [
    (["--max-samples", "0"], "must be at least 1"),
    (["--model", "tiny-distilbert-ner"], "needs a 2-label"),
])
def test_bad_input_gets_one_line_and_exit_2(zoo, tmp_path, args, message):
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path / "out"), *args)
    assert_usage_error(result, message)
    assert not (tmp_path / "out" / "results.json").exists()
