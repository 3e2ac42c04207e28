"""The full profile, run on stand-ins with the real configs and fewer layers.

`full` names larger models (flan-t5-base, bert-large-NER, roberta-base-squad2, all-mpnet-base-v2,
SmolLM2-1.7B-Instruct, a 4-layer BERT student) and whole datasets; it is meant for a GPU, and a
1.7B model cannot train on 2 CPU cores. So the stand-ins keep each real config (hidden sizes,
heads, vocabularies, label maps, tied or untied output layers) but have standin_hub.FULL_LAYERS
layers (2). As for the class profile (standin_runs.py): build them, serve them on 127.0.0.1,
`prefetch --profile full` against them, close the server, then run every lesson script
`--profile full` offline from that cache, capped (steps, samples, batch, generated tokens),
with no fallback to tiny. What these runs prove: the full paths start, load every full model
and dataset from the cache, train, evaluate and write their results at the real widths. What
they cannot: real-size time and memory (run on a GPU: see the docstrings), or any quality.
"""

from __future__ import annotations

import pytest
import standin_runs
from coursekit import model_facts, profiles
from standin_hub import FULL_LAYERS

# script -> the flags that cap its work on 2 cores. Where `full` means whole datasets,
# --max-samples cuts them (not for datasets_library: 3,000 stand-in rows are quick). Where the
# full profile runs the class profile's models and code (3.1's encoder methods and 3.4's
# sampling strategies use distilbert-base in both; flan_t5's strategies differ only in what
# they train), one of them runs here: the class runs cover the others at real size.
FULL_RUNS = {
    "Day3/1_HuggingFace/hello_world_demo.py": [],
    "Day3/1_HuggingFace/huggingface_overview.py": ["--max-samples", "64"],
    "Day3/1_HuggingFace/datasets_library.py": ["--mmap-mb", "20"],  # whole splits
    "Day3/1_HuggingFace/model_inference.py": ["--max-new-tokens", "2"],
    "Day3/1_HuggingFace/huggingface_upload.py": ["--max-samples", "32", "--fine-tune-steps", "2"],
    "Day3/2_TrainingLLMs/llm_training_overview.py": ["--max-samples", "8", "--max-steps", "1"],
    "Day3/2_TrainingLLMs/flan_t5_finetuning.py": ["--max-steps", "1", "--max-samples", "1",
                                                  "--strategies", "lora", "--batch-size", "2",
                                                  "--max-new-tokens", "4"],
    # full's model is flan-t5-base built at real size (248 M: over a minute a step here); the
    # stand-in's config, read from the cache, keeps its shapes with FULL_LAYERS layers
    "Day3/2_TrainingLLMs/training_optimizations.py": ["--model", "google/flan-t5-base",
                                                      "--steps", "1", "--setups", "fp32",
                                                      "--batch-size", "2", "--seq-len", "32"],
    "Day3/3_FineTuning/finetune_strategies_overview.py": ["--max-steps", "1", "--max-samples",
                                                          "16", "--methods", "full,prefix"],
    "Day3/3_FineTuning/distilbert_finetuning.py": ["--max-steps", "1", "--max-samples", "32",
                                                   "--strategies", "proportional"],
}


@pytest.fixture(scope="module")
def full_cache(tmp_path_factory):
    """Build and serve the reduced-layer stand-ins, prefetch the full profile, stop the server.

    Deleted after this file's tests: the class and full stand-ins never sit on disk together.
    """
    with standin_runs.prefetched_cache("full", tmp_path_factory) as cache:
        yield cache


def full_run(script: str, full_cache, tmp_path_factory) -> standin_runs.Run:
    return standin_runs.profile_run(script, FULL_RUNS[script], full_cache, tmp_path_factory)


def results_of(script: str, full_cache, tmp_path_factory) -> dict:
    return standin_runs.results_of(full_run(script, full_cache, tmp_path_factory))


def built_parameters(full_cache, hub_id: str) -> int:
    """Parameters of the stand-in as built: the real config with FULL_LAYERS layers."""
    return full_cache["built"]["models"][hub_id]["parameters"]


def test_prefetch_fetched_every_full_model_and_dataset(full_cache):
    output = full_cache["prefetch"].stdout
    for repo_id in profiles.hub_models("full"):
        assert repo_id in output
    for spec in profiles.DATASETS.values():
        assert spec.hub_id in output
    assert "FAILED" not in output


@pytest.mark.parametrize("script", list(FULL_RUNS))
def test_full_run_uses_the_prefetched_cache(script, full_cache, tmp_path_factory):
    standin_runs.check_ran_from_the_cache(full_run(script, full_cache, tmp_path_factory), "full")


# What reaches each script is the full model at its real width, with the layers as built.
def test_model_inference_loads_every_full_model(full_cache, tmp_path_factory):
    inference = results_of("Day3/1_HuggingFace/model_inference.py", full_cache,
                           tmp_path_factory)
    loaded = {role: model["name"] for role, model in inference["models"].items()}
    assert loaded == {role: profiles.model_id(role, "full") for role in loaded}
    assert {"ner", "extractive-qa", "chat", "embedding"} <= set(loaded)
    assert {model["source"] for model in inference["models"].values()} == {"cache"}
    mpnet = model_facts.facts_for("sentence-transformers/all-mpnet-base-v2")
    assert inference["embeddings"]["dimension"] == mpnet.config["hidden_size"] == 768
    conll = {"PER", "ORG", "LOC", "MISC"}  # dslim/bert-large-NER's label map, grouped
    assert {e["type"] for row in inference["ner"]["rows"] for e in row["output"]} <= conll


def test_flan_t5_fine_tunes_flan_t5_base_at_its_real_width(full_cache, tmp_path_factory):
    flan = results_of("Day3/2_TrainingLLMs/flan_t5_finetuning.py", full_cache, tmp_path_factory)
    base = "google/flan-t5-base"
    assert flan["model"] == {"name": base, "source": "cache",
                             "parameters": built_parameters(full_cache, base)}
    # LoRA r 4 on q, k, v, o of every attention block: FULL_LAYERS self-attention blocks in the
    # encoder, FULL_LAYERS self- and cross-attention blocks in the decoder, d_model 768 in and out
    d_model = model_facts.facts_for(base).config["d_model"]
    assert flan["strategies"]["lora"]["trainable_params"] == 3 * FULL_LAYERS * 4 * 4 * 2 * d_model
    assert flan["training"]["effective_batch"] == 2 * 2  # --batch-size 2, full's accumulation 2
    assert flan["data"]["test_references"] == 3 * flan["data"]["test"]


def test_training_optimizations_reads_the_cached_flan_t5_base_config(full_cache,
                                                                     tmp_path_factory):
    settings = results_of("Day3/2_TrainingLLMs/training_optimizations.py", full_cache,
                          tmp_path_factory)["settings"]
    assert (settings["source"], settings["task"]) == ("cache", "seq2seq")
    assert settings["model_class"] == "T5ForConditionalGeneration"
    assert settings["parameters"] == built_parameters(full_cache, "google/flan-t5-base")


def test_strategies_overview_uses_the_full_prefix_model_and_student(full_cache,
                                                                    tmp_path_factory):
    overview = results_of("Day3/3_FineTuning/finetune_strategies_overview.py", full_cache,
                          tmp_path_factory)
    assert overview["methods"]["prefix"]["model"] == "google/flan-t5-base"
    assert overview["methods"]["prefix"]["reload_max_diff"] < 1e-5  # 12 heads x 64 = 768
    distillation = overview["transfer"]["distillation"]
    student = "google/bert_uncased_L-4_H-256_A-4"
    assert distillation["student"] == student
    head = 256 * 2 + 2  # hidden 256 -> 2 classes
    assert distillation["hard labels"]["parameters"] == built_parameters(full_cache, student) + head


def test_distilbert_and_the_language_model_lessons_run_the_full_recipes(full_cache,
                                                                        tmp_path_factory):
    run = results_of("Day3/3_FineTuning/distilbert_finetuning.py", full_cache, tmp_path_factory)
    assert (run["model"], run["source"]) == ("distilbert/distilbert-base-uncased", "cache")
    assert run["training"]["learning_rate"] == 3e-5  # the full profile's rate
    overview = results_of("Day3/2_TrainingLLMs/llm_training_overview.py", full_cache,
                          tmp_path_factory)
    assert overview["prompting"]["model"] == "google/flan-t5-base"
    assert overview["memory"]["params"]["flan-t5-base"] == 247_577_856  # model_facts' count
