"""1.6 Hello World: the demo's claims, in-process and through its real command line."""

from __future__ import annotations

import json

import pytest
from coursekit import hub
from helpers import assert_usage_error, run_cli, run_main

SCRIPT = "Day3/1_HuggingFace/hello_world_demo.py"


@pytest.fixture(scope="module")
def results(zoo, tmp_path_factory):
    out = tmp_path_factory.mktemp("hello")
    return run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(out)), out


def test_sentiment_predictions_make_sense(results):
    res, _ = results
    labels = [p["label"] for p in res["predictions"]]
    assert labels == ["POSITIVE", "NEGATIVE", "POSITIVE", "NEGATIVE"]
    assert all(p["score"] > 0.9 for p in res["predictions"])
    assert res["model"]["source"] == "tiny" and res["model"]["head_trained"]


def test_by_hand_interpretation_matches_the_pipeline(results):
    by_hand = results[0]["by_hand"]
    assert by_hand["matches_pipeline"]
    assert sum(by_hand["probabilities"]) == pytest.approx(1.0, abs=1e-5)
    assert by_hand["tokens"][0] == "[CLS]" and by_hand["tokens"][-1] == "[SEP]"
    assert by_hand["label"] == "POSITIVE"


def test_instruction_model_translates_classifies_and_answers(results):
    outputs = [g["output"] for g in results[0]["generations"]]
    assert outputs == ["le chat dort maintenant", "positive", "paris"]


def test_batching_gives_the_same_logits_and_truncation_caps_length(results):
    practices = results[0]["best_practices"]
    assert practices["batched_equals_single"]
    assert practices["truncated_tokens"] == 128  # the tiny tokenizer's model_max_length


def test_results_json_is_what_main_returned(results):
    res, out = results
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(res))


def test_custom_text_is_classified(zoo, tmp_path):
    res = run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path),
                   "--text", "the hotel was superb", "--text", "a boring , dull film .")
    assert [p["text"] for p in res["predictions"]][1] == "a boring , dull film ."
    assert res["predictions"][1]["label"] == "NEGATIVE"


@pytest.mark.slow
def test_command_line_runs_end_to_end(zoo, tmp_path):
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "POSITIVE" in result.stdout and "le chat dort maintenant" in result.stdout
    assert (tmp_path / "results.json").exists()


@pytest.mark.slow
def test_class_profile_with_dead_network_falls_back_without_waiting(zoo, tmp_path):
    env = {"HF_HUB_OFFLINE": "", "HF_DATASETS_OFFLINE": "", "TRANSFORMERS_OFFLINE": "",
           "DAY3_PROFILE": "class", "HF_ENDPOINT": "https://hub.invalid"}
    result = run_cli(SCRIPT, "--output-dir", str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr
    assert "OFFLINE: the Hugging Face Hub cannot be reached" in result.stdout
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["setup"]["online"] is False
    assert saved["predictions"][0]["label"] == "POSITIVE"
    # A Hub call without offline mode takes 23 to 47 s to fail. The decision is bounded by the
    # probe's timeout, and afterwards nothing asks the Hub: the models came from the tiny zoo.
    assert saved["setup"]["network_seconds"] < hub.PROBE_TIMEOUT_S + 1.0
    assert saved["model"]["source"] == "tiny"


@pytest.mark.parametrize("args, message", [
    (["--profile", "huge"], "invalid choice: 'huge'"),
    (["--device", "cuda"], "no CUDA GPU"),
    (["--model", "./no/such/model"], "no model folder"),
    (["--model", "nobody/no-such-model"], "not in the local cache"),
    (["--text", "   "], "--text is empty"),
    (["--text", "x" * 3000], "the limit is 2,000"),
])
def test_bad_input_gets_one_line_and_exit_2(zoo, tmp_path, args, message):
    if args == ["--device", "cuda"]:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU")
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path / "out"), *args)
    assert_usage_error(result, message)
    assert not (tmp_path / "out" / "results.json").exists()


def test_unwritable_output_dir_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(blocker / "out"))
    assert result.returncode == 2 and "cannot write to output folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_is_fast_to_print():
    result = run_cli(SCRIPT, "--help")
    assert result.returncode == 0 and "--profile {tiny,class,full}" in result.stdout
