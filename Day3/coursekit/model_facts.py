"""Model facts: the public config.json values and parameter counts of the day's real Hub models.

One table, so that every script that sizes a real model (the memory estimator, LoRA's share,
weight memory, training optimizations) builds the same architecture and needs no download.
Each entry holds what decides the model's shapes: the config.json values (layers, heads, head
size, hidden and feed-forward sizes, vocabulary, positions, key-value heads, tied embeddings,
activation, labels, special token ids), the class whose weights the checkpoint stores, the
dtype they are stored in, and the parameter total the Hub computes from the safetensors files
(the "Model size" on the model page). `build_on_meta` builds the architecture with shapes but
no memory; tests/test_model_facts.py builds every entry and checks its count against the table.

Sources: config.json and safetensors metadata of each model on huggingface.co, checked against
copies of those files kept in public repositories (fine-tunes keep their base model's config).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFacts:
    """One Hub checkpoint: its config.json values, stored class, dtype and parameter total."""

    hub_id: str
    model_type: str  # config.json "model_type": which transformers config class reads it
    architecture: str  # the class whose weights the checkpoint stores (config "architectures")
    config: dict  # the config.json values that decide shapes, labels and special token ids
    dtype: str  # the torch dtype the weights are stored in
    parameters: int  # the Hub's safetensors total: each stored tensor once
    rounded: bool = False  # True: the model page's rounded figure, not the exact total
    note: str = ""  # what is unusual about this entry

    @property
    def source(self) -> str:
        """Where the numbers come from."""
        if self.rounded:
            return f"config.json of {self.hub_id} on the Hub; parameters: its model page, rounded"
        return f"config.json and safetensors metadata of {self.hub_id} on the Hub"


# ---------------------------------------------------------------- the families' shared values
# Flan-T5 is T5 v1.1: gated-GELU feed-forward, an output layer (lm_head) of its own, untied
# from the input embeddings, and heads x d_kv that need not equal d_model.
FLAN_T5 = dict(d_kv=64, vocab_size=32128, feed_forward_proj="gated-gelu",
               tie_word_embeddings=False, relative_attention_num_buckets=32,
               relative_attention_max_distance=128, layer_norm_epsilon=1e-6,
               pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
DISTILBERT = dict(dim=768, hidden_dim=3072, n_layers=6, n_heads=12, vocab_size=30522,
                  max_position_embeddings=512, activation="gelu", sinusoidal_pos_embds=False,
                  pad_token_id=0)
BERT = dict(hidden_act="gelu", type_vocab_size=2, max_position_embeddings=512,
            layer_norm_eps=1e-12, pad_token_id=0, vocab_size=30522)  # uncased vocabulary
LLAMA_2 = dict(vocab_size=32000, max_position_embeddings=4096, hidden_act="silu",
               rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
SMOLLM2 = dict(vocab_size=49152, max_position_embeddings=8192, hidden_act="silu", head_dim=64,
               rms_norm_eps=1e-5, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
               pad_token_id=2)
CONLL_TAGS = {i: tag for i, tag in enumerate(  # dslim's NER checkpoints, in their own order
    ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"])}


def flan_t5(size: str, d_model: int, d_ff: int, heads: int, layers: int, parameters: int,
            **extra) -> ModelFacts:
    """A google/flan-t5-* entry: the encoder and the decoder have `layers` blocks each."""
    config = dict(FLAN_T5, d_model=d_model, d_ff=d_ff, num_heads=heads, num_layers=layers,
                  num_decoder_layers=layers, **extra)
    return ModelFacts(f"google/flan-t5-{size}", "t5", "T5ForConditionalGeneration", config,
                      "float32", parameters)


def llama_2(size: str, hidden: int, ffn: int, layers: int, heads: int, kv_heads: int,
            parameters: int) -> ModelFacts:
    """A meta-llama/Llama-2-*-hf entry (gated repository: the numbers are public anyway)."""
    config = dict(LLAMA_2, hidden_size=hidden, intermediate_size=ffn, num_hidden_layers=layers,
                  num_attention_heads=heads, num_key_value_heads=kv_heads)
    return ModelFacts(f"meta-llama/Llama-2-{size}-hf", "llama", "LlamaForCausalLM", config,
                      "float16", parameters)


ENTRIES = [
    # n_positions: the length T5 was trained on; its relative positions allow longer inputs.
    flan_t5("small", 512, 1024, 6, 8, 76_961_152, n_positions=512),  # 6 x 64 = 384 != 512
    flan_t5("base", 768, 2048, 12, 12, 247_577_856, n_positions=512),
    flan_t5("large", 1024, 2816, 16, 24, 783_150_080, n_positions=512),
    flan_t5("xl", 2048, 5120, 32, 24, 2_849_757_184, n_positions=512),
    flan_t5("xxl", 4096, 10240, 64, 24, 11_135_332_352),  # its config.json has no n_positions
    ModelFacts("distilbert/distilbert-base-uncased", "distilbert", "DistilBertForMaskedLM",
               dict(DISTILBERT, tie_word_embeddings=True),  # config.json: "tie_weights_"
               "float32", 66_985_530),
    ModelFacts("distilbert/distilbert-base-uncased-finetuned-sst-2-english", "distilbert",
               "DistilBertForSequenceClassification",
               dict(DISTILBERT, id2label={0: "NEGATIVE", 1: "POSITIVE"},
                    finetuning_task="sst-2", seq_classif_dropout=0.2),
               "float32", 66_955_010),
    ModelFacts("distilbert/distilbert-base-cased-distilled-squad", "distilbert",
               "DistilBertForQuestionAnswering",
               dict(DISTILBERT, vocab_size=28996, sinusoidal_pos_embds=True),  # cased vocab
               "float32", 65_200_000, rounded=True,
               note="fixed sinusoidal position embeddings, still stored as a weight"),
    ModelFacts("dslim/bert-base-NER", "bert", "BertForTokenClassification",
               dict(BERT, vocab_size=28996, hidden_size=768, num_hidden_layers=12,  # cased
                    num_attention_heads=12, intermediate_size=3072, id2label=CONLL_TAGS),
               "float32", 107_700_000, rounded=True),
    ModelFacts("dslim/bert-large-NER", "bert", "BertForTokenClassification",
               dict(BERT, vocab_size=28996, hidden_size=1024, num_hidden_layers=24,
                    num_attention_heads=16, intermediate_size=4096, id2label=CONLL_TAGS),
               "float32", 333_000_000, rounded=True),
    ModelFacts("deepset/roberta-base-squad2", "roberta", "RobertaForQuestionAnswering",
               dict(vocab_size=50265, hidden_size=768, num_hidden_layers=12,  # byte-level BPE
                    num_attention_heads=12, intermediate_size=3072, hidden_act="gelu",
                    max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5,
                    pad_token_id=1, bos_token_id=0, eos_token_id=2),  # 2 positions: padding
               "float32", 124_000_000, rounded=True),
    ModelFacts("sentence-transformers/all-MiniLM-L6-v2", "bert", "BertModel",
               dict(BERT, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                    intermediate_size=1536),  # 12 heads of 32
               "float32", 22_713_216),
    ModelFacts("sentence-transformers/all-mpnet-base-v2", "mpnet", "MPNetModel",
               dict(vocab_size=30527, hidden_size=768, num_hidden_layers=12,
                    num_attention_heads=12, intermediate_size=3072, hidden_act="gelu",
                    max_position_embeddings=514, relative_attention_num_buckets=32,
                    layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2),
               "float32", 109_500_000, rounded=True,
               note="config.json names MPNetForMaskedLM (copied from microsoft/mpnet-base); "
                    "the checkpoint stores the encoder alone, MPNetModel"),
    ModelFacts("HuggingFaceTB/SmolLM2-135M-Instruct", "llama", "LlamaForCausalLM",
               dict(SMOLLM2, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                    num_attention_heads=9, num_key_value_heads=3,  # 3 query heads per kv head
                    rope_theta=100000.0),
               "bfloat16", 134_515_008),
    ModelFacts("HuggingFaceTB/SmolLM2-1.7B-Instruct", "llama", "LlamaForCausalLM",
               dict(SMOLLM2, hidden_size=2048, intermediate_size=8192, num_hidden_layers=24,
                    num_attention_heads=32, num_key_value_heads=32, rope_theta=130000.0),
               "bfloat16", 1_710_000_000, rounded=True),
    # Google's compact BERTs (Turc et al. 2019): L layers, H hidden, A heads, feed-forward 4H.
    # Their config.json is Google's original one; the weights are the encoder plus BERT's
    # pre-training heads, which a fine-tuned student does not use: the count is the encoder's.
    ModelFacts("google/bert_uncased_L-2_H-128_A-2", "bert", "BertModel",
               dict(BERT, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=512),
               "float32", 4_400_000, rounded=True),
    ModelFacts("google/bert_uncased_L-4_H-256_A-4", "bert", "BertModel",
               dict(BERT, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                    intermediate_size=1024),
               "float32", 11_200_000, rounded=True),
    llama_2("7b", 4096, 11008, 32, 32, 32, 6_738_415_616),
    llama_2("13b", 5120, 13824, 40, 40, 40, 13_015_864_320),
    llama_2("70b", 8192, 28672, 80, 64, 8, 68_976_648_192),  # grouped-query attention: 8 kv
]
MODEL_FACTS: dict[str, ModelFacts] = {facts.hub_id: facts for facts in ENTRIES}


def facts_for(hub_id: str) -> ModelFacts:
    """The table's entry for `hub_id`; KeyError (listing the known ids) if it has none."""
    if hub_id not in MODEL_FACTS:
        raise KeyError(f"no model facts for {hub_id!r}; known: {', '.join(MODEL_FACTS)}")
    return MODEL_FACTS[hub_id]


def config_for(hub_id: str, **overrides):
    """The transformers config of `hub_id`, as from_pretrained would read it, without a download."""
    from transformers import AutoConfig

    facts = facts_for(hub_id)
    values = {"architectures": [facts.architecture], **facts.config, **overrides}
    if "id2label" in values and "label2id" not in values:  # config.json holds both maps
        values["label2id"] = {label: i for i, label in values["id2label"].items()}
    return AutoConfig.for_model(facts.model_type, **values)


def keeps_own_output_layer(config) -> bool:
    """Does the checkpoint store an output layer of its own, apart from the input embeddings?"""
    # Transformers 5 forces a T5 config's tie_word_embeddings to True and remembers the
    # checkpoint's False only as "do not scale the decoder output" (scale_decoder_outputs).
    return (getattr(config, "tie_word_embeddings", True) is False
            or getattr(config, "scale_decoder_outputs", True) is False)


def untie_output_layer(model):
    """Give `model` its own output layer where its checkpoint has one; return the model.

    Built from a config, transformers 5 ties T5's lm_head to the input embeddings even for
    Flan-T5, whose checkpoints store their own (from_pretrained then unties it, with a
    warning). Without this a model built from the config is 16 M (flan-t5-small) to 131 M
    (xxl) parameters short. The new layer is made on the embeddings' device (meta stays meta).
    """
    import torch

    head, embeddings = model.get_output_embeddings(), model.get_input_embeddings()
    if head is None or head.weight is not embeddings.weight:
        return model  # nothing tied: Llama-2, classifiers, encoders
    if not keeps_own_output_layer(model.config):
        return model  # tied in the checkpoint too: SmolLM2, DistilBERT's masked-LM head
    weight = embeddings.weight
    model.set_output_embeddings(torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False,
                                                device=weight.device, dtype=weight.dtype))
    # Transformers 5 lists tied weights for device maps, quantizers and FSDP, which treat them
    # as copies: drop lm_head from that list, as from_pretrained does when it unties.
    tied = getattr(model, "all_tied_weights_keys", None)
    if tied:
        tied.pop("lm_head.weight", None)
    return model


def build_on_meta(hub_id: str, **overrides):
    """The checkpoint's class built from the table on the meta device: shapes, no memory."""
    import torch
    import transformers

    config = config_for(hub_id, **overrides)
    model_class = getattr(transformers, facts_for(hub_id).architecture)
    with torch.device("meta"):  # tensors with shapes and no storage: a 70B model in no bytes
        return untie_output_layer(model_class(config))


def random_real_size(hub_id: str, seed: int = 0):
    """The checkpoint's architecture at real size on the CPU, random N(0, 0.02) weights.

    For timing and memory, where only the shapes matter: normal_ over 67 M weights is quick,
    the library's own initialisation is not.
    """
    import torch

    model = build_on_meta(hub_id).to_empty(device="cpu")
    torch.manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.02)
        for name, buffer in model.named_buffers():  # to_empty left them uninitialized
            if name.endswith("position_ids"):
                buffer.copy_(torch.arange(buffer.shape[-1]).expand_as(buffer))
    return model


def count_parameters(model) -> int:
    """Parameters of `model`, a tensor that two layers share counted once (as the Hub counts)."""
    return sum(p.numel() for p in model.parameters())  # parameters() yields each tensor once


# Training throughput measured on GPUs by tests/benchmarks/gpu_throughput.py: the model at real
# size with random weights, bf16, the Trainer, 32 examples of 128 tokens per GPU per step, 50
# steps timed after 10. Each GPU keeps its batch, so N GPUs train N times the examples a step.
# (hub id, GPUs, samples/s, peak GiB per GPU, GPU, torch, date)
GPU_THROUGHPUT = [
    ("distilbert/distilbert-base-uncased", 1, 1314.3, 1.74, "NVIDIA H200", "2.11", "2026-12-01"),
    ("google/flan-t5-base", 1, 196.9, 9.24, "NVIDIA H200", "2.11", "2026-12-01"),
]
GPU_THROUGHPUT_PENDING = ("2 GPUs: not measured yet (no 2-GPU machine was available when the "
                          "table was made). Measure: accelerate launch --config_file "
                          "Day3/accelerate_configs/ddp.yaml --num_processes 2 "
                          "tests/benchmarks/gpu_throughput.py --model distilbert")


def gpu_scaling_rows() -> list[list]:
    """GPU_THROUGHPUT as table rows: model, GPUs, samples/s, x one GPU, GiB per GPU, GPU."""
    one = {hub_id: rate for hub_id, gpus, rate, *_ in GPU_THROUGHPUT if gpus == 1}
    return [[hub_id.split("/")[-1], gpus, f"{rate:,.0f}", f"{rate / one[hub_id]:.2f}",
             f"{gib:.2f}", gpu] for hub_id, gpus, rate, gib, gpu, *_ in GPU_THROUGHPUT]
