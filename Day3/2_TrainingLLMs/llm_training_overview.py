"""Training LLMs, the decisions before the GPU bill (outline 2.1 and 2.2).

Steps: 2.1.1 train or not: questions (or flags) mapped by a rule table to zero-shot, few-shot,
retrieval, PEFT, full fine-tuning or pre-training, with the reason; 2.1.2 zero-shot vs few-shot
on the instruction model, same inputs, accuracy; 2.2.1 memory: weights, gradients, optimizer
states and activations for fp32, bf16 mixed precision, 8-bit Adam, Adafactor, LoRA and QLoRA,
for built-in sizes (Flan-T5 small to XXL, DistilBERT, 7B/13B/70B decoders) and any Hub model
(config only, built on the meta device: no weights); 2.2.2 the estimate against a measured peak
(a fresh process trains a random-weight model for a few AdamW steps); 2.2.3 cost: 6 x params x
tokens FLOPs, hours on a named GPU, dollars at your price; 2.2.4 what distributed strategies
divide.

Run:
    python Day3/2_TrainingLLMs/llm_training_overview.py                  # class profile
    python Day3/2_TrainingLLMs/llm_training_overview.py --profile tiny   # offline, tiny models
    python Day3/2_TrainingLLMs/llm_training_overview.py --interactive    # answer the questions
    python Day3/2_TrainingLLMs/llm_training_overview.py --examples 50000 --private-data
    python Day3/2_TrainingLLMs/llm_training_overview.py --model llama-13b --gpu H100 --tokens 2e9
    python Day3/2_TrainingLLMs/llm_training_overview.py --price-per-hour 3.5 --num-gpus 16
--model: a built-in name (flan-t5-small ... llama-70b) or a Hub id (the day's models are sized
from coursekit.model_facts; of others only config.json is read, offline from the cache).
--max-steps: AdamW steps of the measured run (2.2.2); --max-samples: held-out reviews
prompted in 2.1.2.

Time and memory (2-core laptop CPU):
    tiny:  about 15 s once the tiny zoo is cached (8 s of it: the measured training run); 1 GB
    class: 76 s measured on 2 CPU cores from real-size stand-ins (Flan-T5 small prompted
           3 x 100 times, then 3 training steps of it at 4 x 256 tokens); 3.2 GB RAM; 0.3 GB
           download
    full:  Flan-T5 base prompted; on a GPU the measured run trains Flan-T5 base, batch 8 x 512
           tokens (20 GB of GPU memory, seconds), read from the CUDA allocator's own counters
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
from coursekit import cli, model_facts  # noqa: E402  (light: no torch before --help)

# ---------------------------------------------------------------- 2.1 settings
# The decision rules: (name, condition on the answers `a`, recommendation, why). The first rule
# that holds wins. Read them, argue with them, change them: they are opinions, not laws.
RULES = [
    ("text unlike any public model's, big budget", lambda a: a["new_domain"] and
     a["budget_usd"] >= 1e6, "pre-training", "no public model knows text like yours; teaching "
     "a language takes billions of tokens and 1e21+ FLOPs (2.2.3)"),
    ("facts change or must be cited", lambda a: a["fresh_facts"], "retrieval (RAG)",
     "knowledge belongs in a search index, not in weights: re-index in minutes, cite sources"),
    ("the task changes often", lambda a: a["task_changes"] == "often", "few-shot prompting",
     "a prompt changes in minutes; a fine-tune must be redone after every change"),
    ("almost no labelled data", lambda a: a["examples"] < 10, "zero-shot prompting",
     "nothing to learn from: write a clear instruction, then measure it on what you have"),
    ("a few hundred examples", lambda a: a["examples"] < 500, "few-shot prompting",
     "too few to fine-tune reliably; put the best k in the prompt (2.1.2 measures it)"),
    ("strict latency", lambda a: a["latency_ms"] < 100, "full fine-tuning of a small model",
     "a big prompted model cannot answer in time; a small one trained on your data can"),
    ("private data, modest budget", lambda a: a["private_data"] and a["budget_usd"] < 10_000,
     "PEFT (QLoRA) on a self-hosted open model",
     "the data may not leave your machines; a 4-bit base plus adapters fits one GPU you own"),
    ("many examples and the budget for them", lambda a: a["examples"] >= 50_000 and
     a["budget_usd"] >= 5_000, "full fine-tuning",
     "enough data to move every weight, and money for GPUs; watch for forgetting (2.3)"),
    ("otherwise", lambda a: True, "PEFT (LoRA)", "enough examples to learn from; LoRA trains "
     "under 1% of the weights, and one base model serves many adapters"),
]
QUESTIONS = {  # answer: the question --interactive asks (the flag of the same name answers it)
    "examples": "labelled examples you have", "task_changes": "the task changes rarely/often",
    "latency_ms": "slowest acceptable answer, ms", "budget_usd": "training budget, USD",
    "private_data": "must the data stay on your machines (y/n)",
    "fresh_facts": "do answers depend on facts that change (y/n)",
    "new_domain": "is your text unlike anything public (y/n)"}
SHOTS = 4  # solved examples in the few-shot prompt: both labels twice, still a short prompt
REWORDED = "Review: {sentence} Did the reviewer like it? Answer positive or negative."

# ---------------------------------------------------------------- 2.2 settings
# The models of the tables, by short name. Their config.json values (and published parameter
# counts) are in coursekit.model_facts: sizing them needs no download, even offline.
BUILTIN = {**{f"flan-t5-{size}": f"google/flan-t5-{size}"
              for size in ("small", "base", "large", "xl", "xxl")},
           "distilbert-base": "distilbert/distilbert-base-uncased",
           **{f"llama-{size}": f"meta-llama/Llama-2-{size}-hf" for size in ("7b", "13b", "70b")}}
TABLE_MODELS = list(BUILTIN)
# Not in the table: a T5 small enough to train for a few steps on a laptop CPU (2.2.2).
T5_MINI = dict(d_model=256, d_ff=1024, d_kv=64, num_heads=4, num_layers=4,
               decoder_start_token_id=0)
LORA_RANK = 8  # r: each adapted matrix W (out x in) gains B (out x r) and A (r x in)
LORA_TARGETS = ("q", "v", "q_proj", "v_proj", "q_lin", "v_lin")  # attention query and value
METHODS = {  # column: (base weights, what trains, optimizer, bytes per activation value)
    "fp32": ("fp32", "all", "adamw", 4),  # everything in fp32, AdamW
    "bf16 mixed": ("bf16", "all", "adamw", 2),  # bf16 weights + fp32 master copy, AdamW
    "8-bit Adam": ("bf16", "all", "adam8bit", 2),  # bf16 mixed, bitsandbytes' 8-bit AdamW
    "Adafactor": ("bf16", "all", "adafactor", 2),  # bf16 mixed, factored second moments
    "LoRA": ("bf16", "lora", "adamw", 2),  # frozen bf16 base, fp32 adapters of rank LORA_RANK
    "QLoRA": ("nf4", "lora", "adamw", 2)}  # frozen 4-bit NF4 base, the same adapters
HEADERS = [m.replace(" ", "\n") for m in METHODS]  # narrow columns: one word per line
# 2.2.2 measures (model, batch, sequence). Measured / estimated, fp32 AdamW, 3 steps: CPU
# (ru_maxrss) t5-mini 0.89 (4 x 128), 0.93 (4 x 256); H200 (CUDA allocator) t5-mini 0.90,
# flan-t5-small 0.89 (8 x 512), flan-t5-base 0.92 (8 x 512), flan-t5-large 0.89 (4 x 512).
MEASURE = {"tiny": ("t5-mini", 4, 128), "class": ("flan-t5-small", 4, 256),
           "full": ("flan-t5-base", 8, 512)}  # full: on a GPU only (20 GB)
GPUS = {  # name: (dense 16-bit tensor-core peak FLOP/s from the spec sheet, memory in GB)
    "T4": (65e12, 16), "L4": (121e12, 24), "A100": (312e12, 80),
    "H100": (989e12, 80), "H200": (989e12, 141)}  # big bf16 matmuls reach ~60-80% of these
CHINCHILLA_TOKENS_PER_PARAM = 20  # Hoffmann et al. 2022: compute-optimal pre-training
MAX_TOKENS = 1e15  # --tokens cap: Llama 3 was pre-trained on 1.5e13 tokens, this is 60x that
GB = 1e9


def short(n: float, unit: str = "") -> str:
    """Three significant figures that fit a narrow column: 1,460 / 36.1 / 0.65 / 2.85B."""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")) if unit == "count" else ():
        if n >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:,.0f}" if n >= 100 else f"{n:.3g}" if n >= 0.001 else "<0.001"


def ask_questions(args) -> dict:
    """2.1.1 The answers: typed in (--interactive, on a terminal only) or taken from the flags."""
    from coursekit import report

    answers = {key: getattr(args, key) for key in QUESTIONS}
    if args.interactive and not sys.stdin.isatty():
        report.note("--interactive: stdin is not a terminal, so the flags' answers are used")
    elif args.interactive:  # never in CI: input() would wait forever on a pipe
        for key, question in QUESTIONS.items():
            reply, kind = input(f"{question} [{answers[key]}]: ").strip().lower(), \
                type(answers[key])
            try:
                if reply:
                    answers[key] = reply.startswith("y") if kind is bool else kind(reply)
            except ValueError:
                print(f"  not understood: keeping {answers[key]}")
    return answers


def recommend(answers: dict) -> dict:
    """2.1.1 Walk the rules top to bottom; the first that holds is the recommendation."""
    from coursekit import report

    chosen = next(i for i, (_, holds, _, _) in enumerate(RULES) if holds(answers))
    report.table("Your answers", ["question", "answer"], [[k, v] for k, v in answers.items()])
    report.table("The rules, first match wins", ["#", "rule", "holds", "recommendation"], [
        [i + 1, name, ("<- CHOSEN" if i == chosen else "yes") if holds(answers) else "no", rec]
        for i, (name, holds, rec, _) in enumerate(RULES)])
    name, _, recommendation, why = RULES[chosen]
    report.note(f"recommendation: {recommendation}, because {why}")
    if answers["private_data"] and "self-hosted" not in recommendation:
        report.note("private data: run an open model on your own machines, not a hosted API")
    return {"answers": answers, "rule": name, "recommendation": recommendation, "why": why}


def compare_zero_and_few_shot(args, device) -> dict:
    """2.1.2 The same held-out reviews, three prompts: the trained wording, a new one, few-shot."""
    import torch
    from coursekit import data, hub, report
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    choice = hub.resolve_model("instruction", args.profile)
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    model = AutoModelForSeq2SeqLM.from_pretrained(choice.path).to(device).eval()
    test = hub.load_dataset_for("sentiment", args.profile, "validation", args.max_samples,
                                args.seed)
    train = hub.load_dataset_for("sentiment", args.profile, "train", 200, args.seed)
    sentences, labels = [s.strip() for s in test["sentence"]], list(test["label"])
    by_label = {y: [s for s, t in zip(train["sentence"], train["label"]) if t == y]
                for y in (0, 1)}
    solved = "".join(f"Review: {by_label[i % 2][i // 2].strip()}\nAnswer: "
                     f"{data.SENTIMENT_LABELS[i % 2]}\n\n" for i in range(SHOTS))  # alternating
    styles = {"zero-shot (trained wording)": data.PROMPTS["sentiment"],
              "zero-shot (reworded)": REWORDED, f"few-shot (k={SHOTS})":
              f"Is this review positive or negative?\n\n{solved}Review: {{sentence}}\nAnswer:"}
    rows, results = [], {}
    for style, template in styles.items():
        prompts = [template.format(sentence=s) for s in sentences]
        outputs = []
        for start in range(0, len(prompts), 25):  # model.generate: no text2text pipeline in v5
            batch = tokenizer(prompts[start:start + 25], padding=True, truncation=True,
                              return_tensors="pt").to(device)
            with torch.inference_mode():
                ids = model.generate(**batch, max_new_tokens=5, do_sample=False)  # greedy
            outputs += tokenizer.batch_decode(ids, skip_special_tokens=True)
        words = [o.strip().lower().split(" ")[0].strip(".!") for o in outputs]
        accuracy = sum(w == data.SENTIMENT_LABELS[y] for w, y in zip(words, labels)) / len(labels)
        off_format = sum(w not in data.SENTIMENT_LABELS for w in words)
        tokens = sum(len(tokenizer(p)["input_ids"]) for p in prompts) / len(prompts)
        results[style] = {"accuracy": accuracy, "n": len(labels), "off_format": off_format,
                          "prompt_tokens": tokens, "predicted_positive": words.count("positive"),
                          "outputs": outputs[:3]}
        rows.append([style, accuracy, off_format, words.count("positive"), tokens, outputs[0]])
    report.table(f"{choice.name} on the same {len(labels)} held-out reviews", [
        "prompt", "accuracy", "off format", "said positive", "prompt tokens", "1st answer"], rows)
    report.note(f"1st review: {sentences[0]!r}, truly {data.SENTIMENT_LABELS[labels[0]]}")
    report.note("few-shot helps models trained on such prompts (real Flan-T5 was); a model "
                "tuned on one wording only can get worse: measure, do not assume")
    return {"model": choice.name, "inputs": sentences[:3], "styles": results}


def build_config(name: str):
    """A config object without download: t5-mini's, or a table model's (coursekit.model_facts)."""
    from transformers import T5Config

    if name == "t5-mini":
        return T5Config(**T5_MINI)
    return model_facts.config_for(BUILTIN.get(name, name))  # a short name or a Hub id


def model_class_for(config):
    """Seq2seq LM, causal LM, or the bare encoder (a classifier head adds next to nothing)."""
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSeq2SeqLM
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if config.is_encoder_decoder:
        return AutoModelForSeq2SeqLM
    # The checkpoint's class says it best: BERT also has a causal-LM class, its NER models don't
    kinds = getattr(config, "architectures", None) or []
    causal = (any(k.endswith(("ForCausalLM", "LMHeadModel")) for k in kinds) if kinds
              else config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)
    return AutoModelForCausalLM if causal else AutoModel


def read_model_shape(name: str, profile: str) -> dict:
    """What the estimator needs, counted on the model built from its config on the meta device.

    Meta tensors have shapes but no storage: a 70B model is "built" in milliseconds in zero
    bytes, and nothing is downloaded but config.json.
    """
    import torch
    from coursekit import hub
    from transformers import AutoConfig

    short = {hub_id: key for key, hub_id in BUILTIN.items()}.get(name, name)
    builtin = short in BUILTIN or short == "t5-mini" or short in model_facts.MODEL_FACTS
    choice = None if builtin else hub.resolve_model("instruction", profile, name)  # or exit 2
    try:  # a built-in needs no network, even in the tiny profile
        config = build_config(short) if builtin else AutoConfig.from_pretrained(choice.path)
        with torch.device("meta"):  # transformers ties Flan-T5's lm_head: untie, as on loading
            model = model_facts.untie_output_layer(model_class_for(config).from_config(config))
        hidden, heads, layers = (config.hidden_size, config.num_attention_heads,
                                 config.num_hidden_layers)
    except (OSError, ValueError, KeyError, AttributeError) as err:  # not a text transformer
        raise cli.UsageError(f"cannot size {name!r} from its config: {err}".splitlines()[0]) \
            from None
    name = short if builtin else name
    source = f"built-in config of {BUILTIN.get(name, name)}" if builtin else \
        f"{choice.source} config"
    head = model.get_output_embeddings()
    params = list(model.parameters())  # each tensor once: tied embeddings count once
    linear = [(n.split(".")[-1], m) for n, m in model.named_modules()
              if isinstance(m, torch.nn.Linear) and m is not head]
    ffn = ("intermediate_size", "d_ff", "hidden_dim", "ffn_dim", "encoder_ffn_dim")
    enc_dec = bool(config.is_encoder_decoder)
    return {
        "name": name, "source": source, "params": model_facts.count_parameters(model),
        "linear_params": sum(m.weight.numel() for _, m in linear),  # what 4-bit packs
        "lora_params": sum(LORA_RANK * (m.in_features + m.out_features)
                           for leaf, m in linear if leaf in LORA_TARGETS),
        "adafactor_floats": sum(p.shape[-1] + p[..., 0].numel() if p.dim() > 1 else p.numel()
                                for p in params),  # rows + columns per matrix
        "hidden": hidden, "heads": heads, "layers": layers,
        "ffn": next((getattr(config, k) for k in ffn if getattr(config, k, None)), 4 * hidden),
        "gated": any(leaf in ("gate_proj", "wi_0") for leaf, _ in linear),
        "decoder_layers": (getattr(config, "num_decoder_layers", None)
                           or getattr(config, "decoder_layers", 0)) if enc_dec else 0,
        "vocab": config.vocab_size if head is not None else 0}


def activation_bytes(shape: dict, batch: int, seq: int, value_bytes: int,
                     checkpointing: bool = False) -> float:
    """Activations kept for the backward pass, in bytes: an APPROXIMATION.

    Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer Models",
    eq. 1) count, per layer with 16-bit values and 1-byte dropout masks,
        s*b*h*(34 + 5*a*s/h) = attention 11sbh + 5as^2b, MLP 19sbh, two layer norms 4sbh
    (s sequence length, b batch, h hidden size, a heads). Adapted here: an MLP of width f*h
    stores (3 + 4f)sbh (19 when f=4), a gated one (two up-projections) (3 + 8f)sbh; fp32 values
    double everything; an encoder-decoder's decoder layers add a cross-attention block
    (13sbh + 5as^2b; target length taken = s). The output layer keeps the logits and the
    log-probabilities, and at the start of backward both their gradients: four fp32 tensors of
    b*s*vocab, 16 bytes per element. Gradient checkpointing stores only each layer's input and
    recomputes one layer at a time. LoRA and QLoRA keep about as much: the backward pass still
    runs through every layer to reach the adapters.
    """
    s, b, h, a = seq, batch, shape["hidden"], shape["heads"]
    mlp = 3 + (8 if shape["gated"] else 4) * shape["ffn"] / h
    layer = s * b * h * (15 + mlp) + 5 * a * s * s * b  # bytes with 16-bit values
    cross = (13 * s * b * h + 5 * a * s * s * b) if shape["decoder_layers"] else 0
    total = shape["layers"] * layer + shape["decoder_layers"] * (layer + cross)
    if checkpointing:
        total = (shape["layers"] + shape["decoder_layers"]) * 2 * s * b * h + layer + cross
    return total * value_bytes / 2 + 16 * b * s * shape["vocab"]


def weight_bytes(shape: dict, method: str) -> float:
    """Weights: fp32 4 bytes/param, bf16 2. QLoRA: Linear weights in 4-bit NF4, 0.5 byte, plus
    quantization constants (an absmax per 64 weights, double-quantized: ~0.016 byte); the rest
    (embeddings, norms, output layer) in bf16. LoRA/QLoRA add fp32 adapters, 4 bytes each."""
    base, trains, _, _ = METHODS[method]
    adapters = 4 * shape["lora_params"] if trains == "lora" else 0
    if base == "nf4":
        packed = shape["linear_params"]
        return packed * (0.5 + 0.016) + 2 * (shape["params"] - packed) + adapters
    return {"fp32": 4, "bf16": 2}[base] * shape["params"] + adapters


def gradient_bytes(shape: dict, method: str) -> float:
    """Gradients: one per trained parameter in the weights' precision (the adapters: fp32)."""
    base, trains, _, _ = METHODS[method]
    if trains == "lora":
        return 4 * shape["lora_params"]  # the frozen base needs no weight gradients
    return {"fp32": 4, "bf16": 2}[base] * shape["params"]


def optimizer_bytes(shape: dict, method: str) -> float:
    """Optimizer states. AdamW: two fp32 moments, 8 bytes per trained param. 8-bit Adam
    (bitsandbytes): two 8-bit moments + block constants, ~2 bytes. Adafactor (no momentum): a
    factored second moment, 4 bytes x (rows + columns) per matrix. Mixed precision adds an fp32
    master copy of the weights, 4 bytes/param (the ZeRO paper's 12 bytes/param for AdamW).
    LoRA's adapters are fp32 already: no master copy."""
    base, trains, optimizer, _ = METHODS[method]
    if trains == "lora":
        return 8 * shape["lora_params"]
    states = {"adamw": 8 * shape["params"], "adam8bit": 2 * shape["params"],
              "adafactor": 4 * shape["adafactor_floats"]}[optimizer]
    return states + (4 * shape["params"] if base != "fp32" else 0)


def estimate_memory(shape: dict, method: str, batch: int, seq: int) -> dict:
    """The four terms in bytes and their sum (as if all were alive at once: an upper bound)."""
    terms = {"weights": weight_bytes(shape, method), "gradients": gradient_bytes(shape, method),
             "optimizer": optimizer_bytes(shape, method),
             "activations": activation_bytes(shape, batch, seq, METHODS[method][3])}
    return {**terms, "total": sum(terms.values())}


def tabulate_memory(args, shapes: dict, shape: dict) -> dict:
    """2.2.1 Training memory of the built-in sizes (and --model) for each method, in GB."""
    from coursekit import report

    b, s = args.batch_size, args.seq_len
    totals = {n: {m: estimate_memory(sh, m, b, s)["total"] / GB for m in METHODS}
              for n, sh in shapes.items()}
    report.table(f"Training memory, GB (batch {b}, sequence {s}, activations included)",
                 ["model", "params", *HEADERS], [[n, short(shapes[n]["params"], "count"),
                                                  *map(short, totals[n].values())]
                                                 for n in shapes])
    terms = {m: estimate_memory(shape, m, b, s) for m in METHODS}
    saved = {m: activation_bytes(shape, b, s, METHODS[m][3], checkpointing=True)
             for m in METHODS}  # gradient checkpointing: recompute instead of store
    rows = [[t, *(short(terms[m][t] / GB) for m in METHODS)] for t in terms["fp32"]]
    rows.append(["activations, checkpointed", *(short(v / GB) for v in saved.values())])
    report.table(f"{shape['name']} ({shape['source']}): the terms, GB", ["term", *HEADERS], rows)
    report.note(f"LoRA r={LORA_RANK} on attention q and v trains {shape['lora_params']:,} of "
                f"{shape['params']:,} parameters "
                f"({100 * shape['lora_params'] / shape['params']:.2f}%)")
    return {"batch": b, "seq": s, "params": {n: sh["params"] for n, sh in shapes.items()},
            "total_gb": totals, "lora_params": shape["lora_params"],
            "terms_gb": {m: {t: v / GB for t, v in terms[m].items()} for m in METHODS},
            "checkpointed_activations_gb": {m: v / GB for m, v in saved.items()}}


def most_memory_held() -> int:
    """The most resident memory this process ever held, in bytes (VmHWM, else ru_maxrss)."""
    status = Path("/proc/self/status")
    if status.exists():  # Linux: ru_maxrss can carry the parent's peak over fork and exec
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    try:
        import resource
    except ImportError:  # Windows has no resource module; psutil knows the peak working set
        import psutil

        return psutil.Process().memory_info().peak_wset
    kilobytes = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kilobytes


def measure_training_peak(spec: dict) -> dict:
    """(Runs in a fresh process.) A few AdamW steps on a random-weight model: memory added.

    CPU: the baseline is the resident memory once imports, model and batch exist; the peak is
    ru_maxrss (the most this process ever held) after training. CUDA: the allocator's own
    counters (tensors only: not its cache, not the CUDA context).
    """
    import gc

    import torch

    config, cuda = build_config(spec["model"]), spec["device"].startswith("cuda")
    torch.manual_seed(0)
    model = model_facts.untie_output_layer(model_class_for(config).from_config(config))
    model = model.to(spec["device"]).train()
    ids = torch.randint(2, config.vocab_size, (spec["batch"], spec["seq"]), device=spec["device"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)  # states appear at step 1
    gc.collect()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        baseline, peak_now = torch.cuda.memory_allocated(), torch.cuda.max_memory_allocated
    else:
        import psutil

        baseline, peak_now = psutil.Process().memory_info().rss, most_memory_held
    peak_before = peak_now()
    for _ in range(spec["steps"]):
        model(input_ids=ids, labels=ids).loss.backward()
        optimizer.step()
        optimizer.zero_grad()  # set_to_none: gradients are freed between steps
    peak = peak_now()
    return {"params": model_facts.count_parameters(model),
            "baseline_mb": baseline / 1e6, "added_mb": (peak - baseline) / 1e6,
            "peak_rose_in_training": peak > peak_before,
            "method": "torch.cuda.max_memory_allocated" if cuda else "ru_maxrss - RSS"}


def check_against_measurement(args, device) -> dict:
    """2.2.2 The estimate against a measured peak: same model, batch, sequence; fp32 AdamW."""
    from coursekit import report

    name, batch, seq = MEASURE["class" if args.profile == "full" and device.type != "cuda"
                               else args.profile]
    spec = {"model": name, "batch": batch, "seq": seq, "steps": args.max_steps,
            "device": str(device) if device.type == "cuda" else "cpu"}
    # A fresh process, so that nothing done before counts. glibc would keep freed blocks, and
    # the peak crept up step after step (to 1.3x the estimate); a fixed mmap threshold hands
    # blocks over 64 KB back to the system when freed (Linux only: macOS has no glibc).
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import llm_training_overview "
            "as lesson; print(json.dumps(lesson.measure_training_peak(json.loads(sys.argv[2]))))")
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent),
                           json.dumps(spec)], env=dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536"),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the measuring process failed:\n{done.stderr}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    shape = {**read_model_shape(name, args.profile), "params": measured["params"]}
    estimate = estimate_memory(shape, "fp32", batch, seq)
    estimate_mb = (estimate["total"] - estimate["weights"]) / 1e6  # weights: in the baseline
    ratio = measured["added_mb"] / estimate_mb
    rows = [[f"estimate: {t}", estimate[t] / 1e6] for t in ("gradients", "optimizer",
                                                             "activations")]
    report.table(f"{name} ({shape['params']:,} params), batch {batch}, sequence {seq}, "
                 f"{args.max_steps} AdamW steps, {spec['device']}", ["what", "MB"], [
                     *rows, ["estimate: sum", estimate_mb],
                     [f"measured: peak added ({measured['method']})", measured["added_mb"]],
                     ["measured: baseline (imports, weights, batch)", measured["baseline_mb"]],
                     ["measured / estimated", ratio]])
    report.note("the sum counts gradients, states and activations as alive at once; PyTorch "
                "frees activations while gradients appear, so the real peak is a bit lower")
    return {"model": name, "batch": batch, "seq": seq, "steps": args.max_steps,
            "estimate_mb": estimate_mb, **measured, "ratio": ratio}


def estimate_cost(args, shapes: dict) -> dict:
    """2.2.3 FLOPs = 6 x params x tokens (2 forward, 4 backward); time at an assumed use."""
    from coursekit import report

    peak, _ = GPUS[args.gpu]
    hours = lambda flops: flops / (peak * args.utilization * args.num_gpus) / 3600
    usd = lambda h: h * args.num_gpus * args.price_per_hour
    rows, out = [], {}
    for name, shape in shapes.items():
        n = shape["params"]
        fine, pre = 6 * n * args.tokens, 6 * n * CHINCHILLA_TOKENS_PER_PARAM * n
        out[name] = {"flops": fine, "hours": hours(fine), "usd": usd(hours(fine)),
                     "pretrain_flops": pre, "pretrain_usd": usd(hours(pre))}
        rows.append([name, short(n, "count"), f"{fine:.1e}".replace("+", ""),
                     short(hours(fine)), short(usd(hours(fine)), "count"),
                     f"{pre:.1e}".replace("+", ""), short(hours(pre) / 24),
                     short(usd(hours(pre)), "count")])
    report.table(f"{args.num_gpus} x {args.gpu} at {args.utilization:.0%} of "
                 f"{peak / 1e12:.0f} TFLOP/s, {args.price_per_hour} USD per GPU-hour",
                 ["model", "params", "tune\nFLOPs", "tune\nhours", "tune\nUSD",
                  "pre-\ntrain\nFLOPs", "pre-\ntrain\ndays", "pre-\ntrain\nUSD"], rows)
    report.note(f"FLOPs = 6 x params x tokens; tune: {args.tokens:.2g} tokens; pre-train: "
                f"{CHINCHILLA_TOKENS_PER_PARAM} per parameter. LoRA skips the frozen weights' "
                f"gradients: about 4 x params x tokens")
    return {"gpu": args.gpu, "utilization": args.utilization, "tokens": args.tokens,
            "price_per_hour": args.price_per_hour, "num_gpus": args.num_gpus, "models": out}


def explain_distributed_strategies(args, shape: dict) -> dict:
    """2.2.4 What each strategy divides among G GPUs, as GB per GPU (bf16 mixed AdamW)."""
    from coursekit import report

    g, memory = args.num_gpus, GPUS[args.gpu][1]
    e = estimate_memory(shape, "bf16 mixed", args.batch_size, args.seq_len)
    w, gr, o, a = (e[k] for k in ("weights", "gradients", "optimizer", "activations"))
    strategies = {  # name: (what it divides, weights, gradients, optimizer, activations)
        "data parallel": ("the batch", w, gr, o, a), "ZeRO-1": ("+ optimizer", w, gr, o / g, a),
        "ZeRO-2": ("+ gradients", w, gr / g, o / g, a),
        "ZeRO-3 / FSDP": ("+ weights", w / g, gr / g, o / g, a),
        "tensor parallel": ("layer matrices", w / g, gr / g, o / g, a / g),
        "pipeline": ("the layers", w / g, gr / g, o / g, a)}
    rows, out = [], {}
    for name, (divides, *terms) in strategies.items():
        out[name] = sum(terms) / GB
        rows.append([name, divides, *(short(t / GB) for t in terms), short(out[name]),
                     "yes" if out[name] < memory else "no"])
    report.table(f"{shape['name']} on {g} GPUs, batch {args.batch_size} each: GB per GPU",
                 ["strategy", "divides", "weights", "grads", "optim.", "activ.", "total",
                  f"fits\n{memory}\nGB"], rows)
    report.note("data parallel all-reduces gradients every step; ZeRO-3/FSDP also gathers "
                "each layer's weights (~1.5x the traffic); tensor parallel talks inside every "
                "layer (NVLink, one node; its activations here assume sequence parallelism); "
                "a pipeline passes activations between stages and idles in its bubble")
    return {"gpus": g, "per_gpu_gb": out}


def main(argv: list[str] | None = None) -> dict:
    parser = cli.make_parser(__doc__, script=__file__, max_steps=3, max_samples=100)
    shown = " (default: %(default)s)"
    ask = parser.add_argument_group("2.1 train or not: your answers")
    ask.add_argument("--interactive", action="store_true",
                     help="ask the questions (only when stdin is a terminal)")
    ask.add_argument("--task-changes", choices=("rarely", "often"), default="rarely",
                     help="how often the task changes" + shown)
    for flag, kind, default, text in (
            ("--examples", int, 1000, "labelled examples you have"),
            ("--latency-ms", cli.positive_float, 1000.0, "slowest acceptable answer"),
            ("--budget-usd", cli.positive_float, 500.0, "training budget")):
        ask.add_argument(flag, type=kind, default=default, help=text + shown)
    for flag, text in (("--private-data", "the data must stay on your machines"),
                       ("--fresh-facts", "answers depend on facts that change"),
                       ("--new-domain", "your text is unlike anything public")):
        ask.add_argument(flag, action="store_true", help=text)
    est = parser.add_argument_group(f"2.2 memory and cost (--model: {', '.join(TABLE_MODELS)} "
                                    f"or a Hub id)")
    est.add_argument("--gpu", choices=GPUS, default="A100", help="in 2.2.3 and 2.2.4" + shown)
    for flag, kind, default, text in (
            ("--batch-size", cli.positive_int, 8, "per GPU"),
            ("--seq-len", cli.positive_int, 512, "tokens per example"),
            ("--tokens", cli.positive_float_at_most(MAX_TOKENS), "1e8",
             "training tokens (100k examples x 500 x 2)"),
            ("--utilization", cli.positive_float, 0.4, "share of the peak FLOP/s reached"),
            ("--price-per-hour", cli.positive_float, 2.0, "USD per GPU-hour, assumed: pass yours"),
            ("--num-gpus", cli.positive_int, 8, "GPUs in 2.2.3 and 2.2.4")):
        est.add_argument(flag, type=kind, default=default, help=text + shown)
    args = parser.parse_args(argv)
    with cli.user_errors():
        if args.examples < 0 or args.utilization > 1:
            raise cli.UsageError("--examples must be 0 or more and --utilization at most 1")
        device = cli.start(args, "2.1-2.2 Training LLMs: train or not, memory and cost")
        from coursekit import profiles, report

        # Sizing needs only a config, so even the tiny profile sizes a real model by default.
        model_name = args.model or profiles.MODELS["instruction"][
            "class" if args.profile == "tiny" else args.profile]
        shape = read_model_shape(model_name, args.profile)  # a bad id fails now, before work
        shapes = {**{n: read_model_shape(n, args.profile) for n in TABLE_MODELS},
                  shape["name"]: shape}
        report.section("2.1.1", "Train or not: a decision framework")
        decision = recommend(ask_questions(args))
        report.section("2.1.2", "Zero-shot vs few-shot, same inputs")
        prompting = compare_zero_and_few_shot(args, device)
        report.section("2.2.1", "Memory: weights, gradients, optimizer states, activations")
        memory = tabulate_memory(args, shapes, shape)
        report.section("2.2.2", "The estimate against a measured peak")
        measured = check_against_measurement(args, device)
        report.section("2.2.3", "Cost: FLOPs, hours, dollars")
        cost = estimate_cost(args, shapes)
        report.section("2.2.4", "Distributed training: what each strategy divides")
        distributed = explain_distributed_strategies(args, shape)
        results = {"profile": args.profile, "decision": decision, "prompting": prompting,
                   "model": shape, "memory": memory, "measured": measured, "cost": cost,
                   "distributed": distributed}
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
