"""Section 3's models: classifiers, a multi-task model, PEFT wrappers, freezing, parameter counts.

Shared by finetune_strategies_overview.py and distilbert_finetuning.py (and their tests):

    model = build_classifier(path, num_labels=2)          # any encoder + a fresh head
    model = apply_peft(model, "lora")                      # or ia3, prompt, prefix, adapter
    parameter_report(model)  # {'total': ..., 'trainable': ..., 'percent': ...}

PEFT methods need to know which layers to adapt, and those layers have different names in each
architecture (DistilBERT calls its attention projections q_lin/v_lin, BERT query/value, T5
q/v). peft has defaults for BERT and T5 but none for DistilBERT, so the table ARCHITECTURES
names them for every model family the day uses.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

import torch
from torch import nn

PEFT_METHODS = ("lora", "ia3", "adapter", "prompt", "prefix")


@dataclass(frozen=True)
class Architecture:
    """Where the adaptable layers of one model family are, by module name."""

    attention: tuple[str, ...]  # LoRA's default targets: the query and value projections
    ia3: tuple[str, ...]  # IA3 rescales keys, values and the feed-forward output
    feedforward: tuple[str, ...]  # ...which of those are feed-forward layers
    ffn_output: str  # a regex for the feed-forward output layer (bottleneck adapters go after it)
    layers: str  # the attribute path to the list of transformer blocks, from the base model
    head: tuple[str, ...]  # the classification head: trained by every method


ARCHITECTURES = {
    "distilbert": Architecture(("q_lin", "v_lin"), ("k_lin", "v_lin", "lin2"), ("lin2",),
                               r"ffn\.lin2$", "transformer.layer",
                               ("pre_classifier", "classifier")),
    "bert": Architecture(("query", "value"), ("key", "value", "output.dense"), ("output.dense",),
                         r"layer\.\d+\.output\.dense$", "encoder.layer", ("classifier",)),
    "t5": Architecture(("q", "v"), ("k", "v", "wo"), ("wo",), r"DenseReluDense\.wo$",
                       "encoder.block", ()),
}


def architecture_of(model) -> Architecture:
    """The layer names for this model's family (config.model_type)."""
    kind = model.config.model_type
    if kind not in ARCHITECTURES:
        raise ValueError(f"no PEFT layer names known for model type {kind!r}; known: "
                         f"{sorted(ARCHITECTURES)} (pass the target modules explicitly)")
    return ARCHITECTURES[kind]


# ---------------------------------------------------------------- building models
def build_classifier(path: str, num_labels: int, label_names: list[str] | None = None,
                     from_scratch: bool = False):
    """An encoder with a fresh classification head; `from_scratch` keeps only the architecture.

    The label names go into the config (id2label), so a saved model says "positive", not
    "LABEL_1", and a label order that does not match the data is visible at once.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    names = label_names or [f"LABEL_{i}" for i in range(num_labels)]
    labels = {"num_labels": num_labels, "id2label": dict(enumerate(names)),
              "label2id": {name: i for i, name in enumerate(names)}}
    if from_scratch:  # same layers and sizes, random weights: what pre-training gives us
        return AutoModelForSequenceClassification.from_config(
            AutoConfig.from_pretrained(path, **labels))
    with quiet_load_report():  # the pretraining head is dropped, a new one is initialized
        return AutoModelForSequenceClassification.from_pretrained(path, **labels)


@contextlib.contextmanager
def quiet_load_report():
    """Hide transformers' table of dropped / newly initialized weights (expected here)."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


class MultiTaskModel(nn.Module):
    """One shared encoder, one small head per task; optionally a bottleneck adapter per task.

    A batch holds one task (`task` = that task's index); the encoder reads the text, the task's
    head turns the first token's vector into that task's labels.
    """

    def __init__(self, encoder_path: str, tasks: dict[str, int], adapter_size: int = 0):
        super().__init__()
        from transformers import AutoModel

        with quiet_load_report():  # the pretraining head is dropped: expected
            self.encoder = AutoModel.from_pretrained(encoder_path)
        self.config = self.encoder.config  # the Trainer and peft look for a config
        self.task_names = list(tasks)
        hidden = self.encoder.config.hidden_size
        self.heads = nn.ModuleDict({
            name: nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.1),
                                nn.Linear(hidden, n_labels))
            for name, n_labels in tasks.items()})
        if adapter_size:  # task-specific parameters inside the shared encoder
            add_bottleneck_adapters(self.encoder, adapter_size, self.task_names,
                                    architecture_of(self.encoder).ffn_output)

    @property
    def base_model(self):
        return self.encoder

    def forward(self, input_ids=None, attention_mask=None, task=None, labels=None,
                **encoder_inputs):  # e.g. token_type_ids: BERT's tokenizer adds them
        from transformers.modeling_outputs import SequenceClassifierOutput

        name = self.task_names[int(task[0]) if torch.is_tensor(task) else int(task or 0)]
        set_active_task(self.encoder, name)
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              **encoder_inputs)
        logits = self.heads[name](hidden.last_hidden_state[:, 0])  # first token: [CLS]
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


# ---------------------------------------------------------------- bottleneck adapters
class BottleneckAdapter(nn.Module):
    """Down-project, ReLU, up-project, add back (Houlsby et al. 2019). Starts as the identity."""

    def __init__(self, dim: int, size: int):
        super().__init__()
        self.down = nn.Linear(dim, size)
        self.up = nn.Linear(size, dim)
        nn.init.zeros_(self.up.weight)  # zero up-projection: the adapted model starts unchanged
        nn.init.zeros_(self.up.bias)

    def forward(self, x):
        return x + self.up(torch.relu(self.down(x)))


class AdaptedLinear(nn.Module):
    """A (frozen) Linear layer followed by a bottleneck adapter; one adapter per task."""

    def __init__(self, linear: nn.Linear, size: int, tasks: list[str]):
        super().__init__()
        self.linear = linear
        self.adapters = nn.ModuleDict({t: BottleneckAdapter(linear.out_features, size)
                                       for t in tasks})
        self.active = tasks[0]

    def forward(self, x):
        return self.adapters[self.active](self.linear(x))


def add_bottleneck_adapters(model, size: int, tasks: list[str] | None = None,
                            pattern: str | None = None) -> list[str]:
    """Put an adapter after every layer whose name matches `pattern`; return those names."""
    pattern = pattern or architecture_of(model).ffn_output
    names = [n for n, m in model.named_modules()
             if re.search(pattern, n) and isinstance(m, nn.Linear)]
    if not names:
        raise ValueError(f"no Linear layer matches {pattern!r}")
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, AdaptedLinear(getattr(parent, child), size, tasks or ["default"]))
    return names


def set_active_task(model, task: str) -> None:
    """Route every task-specific adapter of `model` to `task`'s adapter."""
    for module in model.modules():
        if isinstance(module, AdaptedLinear) and task in module.adapters:
            module.active = task


# ---------------------------------------------------------------- PEFT wrappers
def linear_layer_names(model) -> list[str]:
    """The short names of the Linear layers in a model (what target_modules can match)."""
    return sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                   if isinstance(m, nn.Linear)})


def check_target_modules(model, targets: list[str]) -> None:
    """Fail early, in words, when a target module name matches no Linear layer of the model."""
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    missing = [t for t in targets if not any(n == t or n.endswith("." + t) for n in names)]
    if missing:
        raise ValueError(f"target module(s) {missing} match no Linear layer of this "
                         f"{model.config.model_type} model; its Linear layers are called "
                         f"{linear_layer_names(model)}")


def peft_config(model, method: str, targets: list[str] | None = None, rank: int = 8,
                virtual_tokens: int = 10, seq2seq: bool = False):
    """The peft config for `method`, with this architecture's layer names filled in."""
    from peft import IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig, TaskType

    arch = architecture_of(model)
    task_type = TaskType.SEQ_2_SEQ_LM if seq2seq else TaskType.SEQ_CLS
    head = list(arch.head) or None  # trained in full next to the adapter
    if method == "lora":
        targets = list(targets or arch.attention)
        check_target_modules(model, targets)
        # r: the rank of the update B @ A; alpha / r scales it; dropout 0 on tiny data.
        return LoraConfig(task_type=task_type, r=rank, lora_alpha=2 * rank, lora_dropout=0.0,
                          target_modules=targets, modules_to_save=head)
    if method == "ia3":
        targets = list(targets or arch.ia3)
        check_target_modules(model, targets)
        feedforward = [t for t in arch.feedforward if t in targets]
        return IA3Config(task_type=task_type, target_modules=targets,
                         feedforward_modules=feedforward, modules_to_save=head)
    # Prompt and prefix tuning learn vectors, not weights: peft needs the model's sizes, which
    # it cannot read from a DistilBERT config (dim / n_layers / n_heads), so we pass them.
    config = model.config
    sizes = {"token_dim": config.hidden_size, "num_attention_heads": config.num_attention_heads,
             "num_layers": config.num_hidden_layers, "num_virtual_tokens": virtual_tokens}
    if method == "prompt":  # trainable embeddings prepended to the input
        return PromptTuningConfig(task_type=task_type, **sizes)
    if method == "prefix":  # trainable keys and values prepended in every attention layer
        # Keys and values have heads x head size features, which need not be the hidden size:
        # flan-t5-small has 6 heads of d_kv 64 (384) on a d_model of 512. peft splits token_dim
        # by the number of heads, so it must be 384 there, or the first step fails to reshape.
        heads = config.num_attention_heads
        sizes["token_dim"] = heads * (getattr(config, "d_kv", None) or config.hidden_size // heads)
        return PrefixTuningConfig(task_type=task_type, **sizes)
    raise ValueError(f"unknown PEFT method {method!r}; choose from {PEFT_METHODS}")


def apply_peft(model, method: str, targets: list[str] | None = None, rank: int = 8,
               adapter_size: int = 16, seq2seq: bool = False):
    """Wrap `model` for parameter-efficient fine-tuning; only the new parts stay trainable.

    lora, ia3, prompt and prefix come from peft; "adapter" (a bottleneck adapter after each
    feed-forward block) is built here, since peft has no classic adapter.
    """
    if method == "adapter":
        add_bottleneck_adapters(model, adapter_size)
        freeze(model, train="none")
        for name, param in model.named_parameters():
            if ".adapters." in name or name.split(".")[0] in architecture_of(model).head:
                param.requires_grad = True
        return model
    from peft import get_peft_model

    if method == "prefix" and not seq2seq and model.config.model_type == "distilbert":
        raise ValueError("prefix tuning needs attention layers that accept past keys and "
                         "values, which DistilBERT does not have; use a seq2seq model such as T5")
    config = peft_config(model, method, targets, rank, seq2seq=seq2seq)
    # peft draws the new weights from the global random state: the caller seeds before this.
    model = get_peft_model(model, config)
    if method == "prefix":
        check_prefix_reaches_model(model)
    return model


@contextlib.contextmanager
def prefix_tuning_calls():
    """Calls of a prefix-tuned T5, without the one FutureWarning peft's call causes.

    peft 0.21.2 (the newest release in December 2026) hands the prefix to T5 as
    `past_key_values`; transformers 5.24 renamed that argument `cache`, translates the old name
    and warns that it goes in 5.40. Remove this filter once peft passes `cache`.
    `check_prefix_reaches_model` catches the day the old name stops arriving.
    """
    import warnings

    with warnings.catch_warnings():
        for message in (r"`past_key_values` is deprecated .*Use `cache` instead",
                        r"Both `past_key_values` and `cache` are set"):
            warnings.filterwarnings("ignore", message=message, category=FutureWarning)
        yield


def greedy_decode(model, batch: dict, max_new_tokens: int) -> torch.Tensor:
    """Greedy decoding with one forward() call per new token: generate() without its cache.

    Needed for prefix-tuned T5: with peft 0.21.2 and transformers 5.24, generate() passes its
    own `cache`, and T5 then drops peft's prefix ("Both `past_key_values` and `cache` are set
    ... ignoring deprecated `past_key_values`"): the answers would come from the base model.
    forward() keeps the prefix. Four-word answers make the missing cache cost nothing.
    """
    config = model.config
    rows = batch["input_ids"].shape[0]
    device = batch["input_ids"].device
    decoded = torch.full((rows, 1), config.decoder_start_token_id, device=device)
    finished = torch.zeros(rows, dtype=torch.bool, device=device)
    with torch.no_grad():
        for _ in range(max_new_tokens):
            next_ids = model(**batch, decoder_input_ids=decoded).logits[:, -1].argmax(-1)
            next_ids = next_ids.masked_fill(finished, config.pad_token_id)  # done: pad
            decoded = torch.cat([decoded, next_ids[:, None]], dim=1)
            finished |= next_ids == config.eos_token_id
            if finished.all():
                break
    return decoded


class PrefixNotUsedError(RuntimeError):
    """The learned prefix does not change the model's output: the library pair is broken."""


def check_prefix_reaches_model(model) -> None:
    """Fail in words if the prefix has no effect (it would train nothing, silently).

    T5's forward() takes **kwargs: a transformers release that drops the `past_key_values`
    name would swallow peft's prefix without an error, and prefix tuning would learn nothing.
    """
    import transformers

    device = next(model.parameters()).device
    ids = torch.tensor([[3, 4, 5, 1]], device=device)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if model.config.is_encoder_decoder:
        inputs["decoder_input_ids"] = ids[:, :2]
    was_training = model.training
    model.eval()  # no dropout: the two outputs may differ only by the prefix
    with torch.no_grad(), prefix_tuning_calls():
        with_prefix = model(**inputs).logits
        with model.disable_adapter():
            without = model(**inputs).logits
    model.train(was_training)
    if torch.equal(with_prefix, without):
        import peft

        raise PrefixNotUsedError(
            f"prefix tuning has no effect with peft {peft.__version__} and transformers "
            f"{transformers.__version__}: the model ignores the prefix peft passes it "
            f"(`past_key_values`). Use a peft release that passes `cache`, or transformers < 5.40")


# ---------------------------------------------------------------- freezing
def transformer_layers(model) -> nn.ModuleList:
    """The list of transformer blocks of the model's encoder."""
    return model.base_model.get_submodule(architecture_of(model).layers)


def freeze(model, train: str = "all", last_n: int = 1):
    """Choose what trains: "all", "head" (encoder frozen), "last-n" (head + last N), "none"."""
    if train not in ("all", "head", "last-n", "none"):
        raise ValueError(f"unknown freezing choice {train!r}")
    for param in model.parameters():
        param.requires_grad = train != "none"
    if train in ("head", "last-n"):
        for param in model.base_model.parameters():
            param.requires_grad = False
    if train == "last-n":
        for block in transformer_layers(model)[-last_n:]:
            for param in block.parameters():
                param.requires_grad = True
    return model


def _weights_in(param) -> int:
    """Weights a tensor stands for: a 4-bit (bitsandbytes) tensor packs two per byte."""
    return param.numel() * 2 if type(param).__name__ == "Params4bit" else param.numel()


def parameter_report(model) -> dict:
    """Total and trainable parameters, and the trainable share in percent."""
    params = {id(p): p for p in model.parameters()}.values()  # count shared weights once
    total = sum(_weights_in(p) for p in params)
    trainable = sum(_weights_in(p) for p in params if p.requires_grad)
    return {"total": total, "trainable": trainable,
            "percent": round(100 * trainable / total, 4) if total else 0.0}


# ---------------------------------------------------------------- saving what was trained
def save_trainable(model, folder) -> int:
    """Save only the trainable weights (adapters and head) as safetensors; return the bytes."""
    from pathlib import Path

    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = {n: p.detach().contiguous().cpu() for n, p in model.named_parameters()
               if p.requires_grad}
    save_file(weights, str(folder / "adapter_model.safetensors"))
    return (folder / "adapter_model.safetensors").stat().st_size


def load_trainable(model, folder) -> None:
    """Load weights saved by save_trainable into a model prepared the same way."""
    from pathlib import Path

    from safetensors.torch import load_file

    weights = load_file(str(Path(folder) / "adapter_model.safetensors"))
    missing = set(weights) - {n for n, _ in model.named_parameters()}
    if missing:
        raise ValueError(f"the saved adapter has weights this model lacks: {sorted(missing)[:3]}")
    model.load_state_dict(weights, strict=False)
