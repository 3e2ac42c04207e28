"""The kit's table of real Hub models: built at real size on the meta device, counted, read."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import pytest
from coursekit import model_facts, profiles
from helpers import ROOT, load_script

SCRIPTS = {  # the scripts that once kept their own copies of these facts
    "flan_t5": "Day3/2_TrainingLLMs/flan_t5_finetuning.py",
    "overview": "Day3/2_TrainingLLMs/llm_training_overview.py",
    "optimizations": "Day3/2_TrainingLLMs/training_optimizations.py",
    "strategies": "Day3/3_FineTuning/finetune_strategies_overview.py",
}
CLASS_AND_FULL = sorted(set(profiles.hub_models("class")) | set(profiles.hub_models("full")))


@pytest.fixture(scope="module")
def lessons():
    return {key: load_script(path) for key, path in SCRIPTS.items()}


def test_every_model_the_day_names_is_in_the_table(lessons):
    named = {*CLASS_AND_FULL, *lessons["overview"].BUILTIN.values(),  # (students: a role)
             *lessons["optimizations"].REAL_MODELS.values(), *lessons["flan_t5"].REAL_SIZES,
             *lessons["strategies"].WEIGHT_MEMORY_ROWS.values()}
    assert named <= set(model_facts.MODEL_FACTS), named - set(model_facts.MODEL_FACTS)


@pytest.mark.parametrize("hub_id", list(model_facts.MODEL_FACTS))
def test_built_at_real_size_the_model_has_its_published_parameter_count(hub_id):
    facts = model_facts.MODEL_FACTS[hub_id]
    model = model_facts.build_on_meta(hub_id)
    counted = model_facts.count_parameters(model)
    assert type(model).__name__ == facts.architecture
    assert all(p.device.type == "meta" for p in model.parameters())  # no memory was used
    if facts.rounded:  # the model page shows 3 or 4 significant figures
        assert counted == pytest.approx(facts.parameters, rel=0.01), counted
    else:
        assert counted == facts.parameters
    assert hub_id in facts.source


def test_flan_t5_small_heads_do_not_fill_d_model_and_its_lm_head_is_its_own():
    model = model_facts.build_on_meta("google/flan-t5-small")
    config = model.config
    assert config.num_heads * config.d_kv == 384 != config.d_model == 512
    attention = model.encoder.block[0].layer[0].SelfAttention
    assert tuple(attention.q.weight.shape) == (384, 512)
    assert tuple(attention.o.weight.shape) == (512, 384)
    assert len(model.encoder.block) == len(model.decoder.block) == 8
    assert model.lm_head.weight is not model.shared.weight  # untied, as the checkpoint is
    assert "lm_head.weight" not in getattr(model, "all_tied_weights_keys", {})
    assert model_facts.count_parameters(model) - 60_511_616 == 32128 * 512  # the head's share
    assert config.feed_forward_proj == "gated-gelu" and config.decoder_start_token_id == 0


def test_transformers_ties_flan_t5_when_building_from_its_config():
    """Why untie_output_layer exists: if transformers stops tying, it has nothing to do."""
    import torch
    from transformers import T5ForConditionalGeneration

    config = model_facts.config_for("google/flan-t5-small")
    assert model_facts.keeps_own_output_layer(config)
    with torch.device("meta"):
        model = T5ForConditionalGeneration(config)
    tied = model.lm_head.weight is model.shared.weight
    assert model_facts.count_parameters(model) == (60_511_616 if tied else 76_961_152)
    model_facts.untie_output_layer(model)
    assert model_facts.count_parameters(model) == 76_961_152


def test_an_untied_t5_saves_and_reloads_its_own_head(tmp_path):
    import torch
    from transformers import AutoModelForSeq2SeqLM, T5Config, T5ForConditionalGeneration

    config = T5Config(vocab_size=64, d_model=16, d_ff=32, d_kv=8, num_heads=2, num_layers=1,
                      feed_forward_proj="gated-gelu", tie_word_embeddings=False,
                      decoder_start_token_id=0)
    torch.manual_seed(0)
    model = model_facts.untie_output_layer(T5ForConditionalGeneration(config))
    model.save_pretrained(tmp_path)
    loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert torch.equal(loaded.lm_head.weight, model.lm_head.weight)
    assert not torch.equal(loaded.lm_head.weight, loaded.shared.weight)


def test_smollm2_shares_keys_and_values_across_heads_and_ties_its_embeddings():
    model = model_facts.build_on_meta("HuggingFaceTB/SmolLM2-135M-Instruct")
    attention = model.model.layers[0].self_attn
    assert model.config.num_key_value_heads == 3 and model.config.num_attention_heads == 9
    assert tuple(attention.q_proj.weight.shape) == (9 * 64, 576)
    assert tuple(attention.k_proj.weight.shape) == (3 * 64, 576)  # a third of the queries'
    assert model.lm_head.weight is model.model.embed_tokens.weight
    every_use = sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False))
    assert every_use - model_facts.count_parameters(model) == 49152 * 576  # counted once
    assert model_facts.MODEL_FACTS["HuggingFaceTB/SmolLM2-135M-Instruct"].dtype == "bfloat16"


def test_llama_2_70b_uses_grouped_query_attention_and_7b_does_not():
    big = model_facts.build_on_meta("meta-llama/Llama-2-70b-hf").model.layers[0].self_attn
    small = model_facts.build_on_meta("meta-llama/Llama-2-7b-hf").model.layers[0].self_attn
    assert tuple(big.k_proj.weight.shape) == (8 * 128, 8192)
    assert tuple(small.k_proj.weight.shape) == tuple(small.q_proj.weight.shape)


def test_label_maps_are_the_checkpoints_in_their_order():
    order = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    for hub_id in ("dslim/bert-base-NER", "dslim/bert-large-NER"):
        config = model_facts.config_for(hub_id)
        assert [config.id2label[i] for i in range(config.num_labels)] == order, hub_id
        assert config.label2id["B-PER"] == 3 and config.label2id["I-LOC"] == 8
        assert model_facts.build_on_meta(hub_id).classifier.out_features == 9
    sst2 = model_facts.config_for("distilbert/distilbert-base-uncased-finetuned-sst-2-english")
    assert sst2.id2label == {0: "NEGATIVE", 1: "POSITIVE"}
    assert sst2.label2id == {"NEGATIVE": 0, "POSITIVE": 1}


def test_cased_checkpoints_have_the_cased_vocabulary():
    vocab = {hub_id: model_facts.config_for(hub_id).vocab_size for hub_id in (
        "dslim/bert-base-NER", "distilbert/distilbert-base-cased-distilled-squad",
        "distilbert/distilbert-base-uncased", "sentence-transformers/all-MiniLM-L6-v2")}
    assert list(vocab.values()) == [28996, 28996, 30522, 30522]
    assert model_facts.config_for("distilbert/distilbert-base-cased-distilled-squad") \
        .sinusoidal_pos_embds is True


def test_overrides_and_unknown_ids():
    config = model_facts.config_for("distilbert/distilbert-base-uncased", num_labels=3)
    assert config.num_labels == 3 and config.architectures == ["DistilBertForMaskedLM"]
    with pytest.raises(KeyError, match="no model facts for 'google/nope'"):
        model_facts.facts_for("google/nope")


def test_importing_the_table_imports_neither_torch_nor_transformers():
    code = ("import sys; sys.path.insert(0, 'Day3'); from coursekit import model_facts; "
            "print(len(model_facts.MODEL_FACTS), 'torch' in sys.modules, "
            "'transformers' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.split() == [str(len(model_facts.MODEL_FACTS)), "False", "False"]


# ---------------------------------------------------------------- the scripts read the table
# Numbers that only a copy of the table would spell out: published counts and real sizes.
COPIED = re.compile(r"\b(76_?961_?152|247_?577_?856|6_?738_?415_?616|32_?128|2_?816|10_?240"
                    r"|11_?008|13_?824|28_?672|30_?522|28_?996|49_?152)\b")


@pytest.mark.parametrize("key", list(SCRIPTS))
def test_the_scripts_keep_no_copy_of_the_facts(key):
    source = (ROOT / SCRIPTS[key]).read_text()
    assert "from coursekit import" in source and "model_facts" in source
    assert not COPIED.findall(source), COPIED.findall(source)
    for name in ("REAL_T5", "FLAN_T5", "LLAMA_2", "T5_SIZES", "DistilBertConfig(num_labels"):
        assert name not in source, name


def changed(monkeypatch, hub_id: str, **config) -> None:
    """Change one entry of the table for this test only."""
    facts = model_facts.MODEL_FACTS[hub_id]
    monkeypatch.setitem(model_facts.MODEL_FACTS, hub_id, dataclasses.replace(
        facts, config={**facts.config, **config}))


def test_the_estimator_sizes_from_the_table(lessons, monkeypatch):
    before = lessons["overview"].read_model_shape("flan-t5-small", "tiny")
    changed(monkeypatch, "google/flan-t5-small", d_ff=2048)
    after = lessons["overview"].read_model_shape("google/flan-t5-small", "tiny")
    assert (before["ffn"], after["ffn"]) == (1024, 2048)
    assert after["params"] - before["params"] == 16 * 3 * 512 * 1024  # wi_0, wi_1, wo x 16
    ner = lessons["overview"].read_model_shape("dslim/bert-base-NER", "tiny")  # offline too
    assert ner["vocab"] == 0 and ner["source"] == "built-in config of dslim/bert-base-NER"
    assert ner["params"] == pytest.approx(107_700_000, rel=0.01)  # an encoder, not a causal LM


def test_lora_shares_and_weight_memory_follow_the_table(lessons, monkeypatch):
    changed(monkeypatch, "google/flan-t5-small", num_layers=4, num_decoder_layers=4)
    small = lessons["flan_t5"].count_lora_at_real_sizes()[0]
    assert small["trainable_params"] == 344_064 // 2  # r 4 on q, k, v, o: half the blocks
    monkeypatch.setitem(model_facts.MODEL_FACTS, "meta-llama/Llama-2-7b-hf", dataclasses.replace(
        model_facts.MODEL_FACTS["meta-llama/Llama-2-7b-hf"], parameters=8 * 2**30))
    rows = {r["model"]: r for r in lessons["strategies"].show_weight_memory(1)}
    assert rows["a 7B model (Llama-2-7B)"]["fp32"] == 32.0  # 8 Gi parameters x 4 bytes


def test_real_size_counts_and_built_in_configs_follow_the_table(lessons, monkeypatch):
    changed(monkeypatch, "distilbert/distilbert-base-uncased", n_layers=3)
    assert lessons["strategies"].count_at_real_size("full")["total"] < 50_000_000
    changed(monkeypatch, "google/flan-t5-base", d_ff=1024)
    config, source = lessons["optimizations"].load_config("flan-t5-base")
    assert (config.d_ff, source) == (1024, "built-in")
