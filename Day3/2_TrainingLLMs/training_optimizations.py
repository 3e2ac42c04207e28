"""Training optimizations (outline 2.2: memory optimization, mixed precision), measured.

The same fine-tuning step, set up one way at a time, on the same model and data: fp32 baseline;
TF32, bf16 and fp16; gradient accumulation (same effective batch in micro-batches); gradient
checkpointing; Adafactor and 8-bit AdamW; eager instead of SDPA attention; torch.compile; and
bf16 + compile + fused AdamW. Each gets samples/s, memory (static = weights + gradients +
optimizer states; activations; the step's peak), the loss after the same updates (which tricks
keep the arithmetic), and on a GPU the model FLOPs utilization (MFU).
Steps: 2.2.1 the model and the run, 2.2.2 measure each setup, 2.2.3 compare, 2.2.4 goals,
2.2.5 more GPUs (data parallel under `accelerate launch`, measured on H200s by a benchmark).

--model: a built-in config with random weights (no download): tiny-distilbert, tiny-t5 (CPU
seconds), or at real size from coursekit.model_facts distilbert-base (67 M), flan-t5-small
(77 M), flan-t5-base (248 M); or a Hub id or folder, of which only config.json is read.

Run:
    python Day3/2_TrainingLLMs/training_optimizations.py --profile tiny     # CPU, seconds
    python Day3/2_TrainingLLMs/training_optimizations.py                    # distilbert-base
    python Day3/2_TrainingLLMs/training_optimizations.py --profile full     # GPU: flan-t5-base
    python Day3/2_TrainingLLMs/training_optimizations.py --model distilbert-base \\
        --batch-size 64 --seq-len 512 --steps 20 --setups bf16,grad-ckpt,compile
On a CPU torch.compile runs only when --setups names it (building kernels takes minutes).

Time and memory:
    tiny:  about 8 s on 2 CPU cores; 0.5 GB RAM
    class: distilbert-base, 8 x 128 tokens: 150 s measured on 2 CPU cores; 2.1 GB RAM (bf16 is
           skipped on CPUs without bf16 units unless --setups names it: 8 minutes there)
    full:  flan-t5-base, 32 x 512 tokens, 20 steps: for a GPU (H200: 4 minutes, 33 GB)
Memory is read in the second warm-up step, forward + backward and the update apart: on CUDA by
torch.cuda.max_memory_allocated; on a CPU by adding up the PyTorch profiler's allocation events
(tensors only: ru_maxrss would count interpreter and libraries, and never goes down).
"""

from __future__ import annotations

import copy
import gc
import math
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
from coursekit import cli, model_facts  # noqa: E402  (light: no torch before --help)

TINY_MODELS = {  # name -> (family, config settings): a few seconds of CPU, random weights
    "tiny-distilbert": ("distilbert", dict(vocab_size=1000, dim=64, n_layers=2, n_heads=4,
                                           hidden_dim=128, max_position_embeddings=128)),
    "tiny-t5": ("t5", dict(vocab_size=1000, d_model=64, d_ff=128, d_kv=16, num_layers=2,
                           num_heads=4, feed_forward_proj="gated-gelu", pad_token_id=0,
                           eos_token_id=1, decoder_start_token_id=0)),  # T5's special ids
}
REAL_MODELS = {  # name -> Hub id: the real architecture (coursekit.model_facts), random weights
    "distilbert-base": "distilbert/distilbert-base-uncased", "flan-t5-small":
    "google/flan-t5-small", "flan-t5-base": "google/flan-t5-base"}
BUILTIN_MODELS = [*TINY_MODELS, *REAL_MODELS]
PROFILE_DEFAULTS = {"tiny": ("tiny-distilbert", 8, 32, 3),  # model, batch, tokens, steps
                    "class": ("distilbert-base", 8, 128, 5),
                    "full": ("flan-t5-base", 32, 512, 20)}
WARMUP_STEPS = 2  # 1: allocate optimizer states, build kernels; 2: read memory. Not timed.
DATA_BATCHES = 2  # distinct batches, cycled: the model memorises them, so the loss falls
LEARNING_RATE = 1e-3  # high for fine-tuning, so that a few updates move the loss visibly
ACCUMULATION = 4  # micro-batches per update in grad-accum (2 if the batch is not a multiple)
NUM_LABELS = 2  # classification head (labels are random)
PEAK_TFLOPS = 800.0  # dense bf16 matmul measured on an H100/H200 (datasheet: 989)
MIB = 2**20
BIG_ON_A_CPU = 10_000_000  # parameters; above: emulated bf16 took minutes (AVX2, distilbert-base)


@dataclass(frozen=True)
class Setup:
    """One way to run the training step; each differs from the fp32 baseline in one thing."""

    name: str
    what: str
    precision: str = "fp32"  # fp32, tf32 (fp32 matmuls on tensor cores), bf16/fp16 autocast
    optimizer: str = "adamw"  # adamw, adamw-fused, adafactor or adamw-8bit
    accumulate: bool = False
    checkpointing: bool = False
    attention: str | None = None  # None: the model's default (SDPA where supported)
    compile: bool = False


SETUPS = [
    Setup("fp32", "baseline: fp32, AdamW, whole batch, default attention"),
    Setup("tf32", "fp32 numbers, TF32 tensor-core matmuls", precision="tf32"),
    Setup("bf16", "bf16 autocast (weights stay fp32)", precision="bf16"),
    Setup("fp16", "fp16 autocast + GradScaler", precision="fp16"),
    Setup("grad-accum", "micro-batches, one update (same effective batch)", accumulate=True),
    Setup("grad-ckpt", "gradient checkpointing: recompute in backward", checkpointing=True),
    Setup("adafactor", "Adafactor: factored 2nd moment, no 1st", optimizer="adafactor"),
    Setup("adamw-8bit", "8-bit AdamW states (bitsandbytes)", optimizer="adamw-8bit"),
    Setup("eager-attn", "eager attention instead of SDPA", attention="eager"),
    Setup("compile", "torch.compile(model)", compile=True),
    Setup("combined", "bf16 + torch.compile + fused AdamW", precision="bf16",
          optimizer="adamw-fused", compile=True),
]


def load_config(name: str):
    """A built-in config, a model folder's config.json, or a Hub model's config (no weights)."""
    from coursekit import hub
    from transformers import AutoConfig, DistilBertConfig, T5Config

    if name in TINY_MODELS:
        family, settings = TINY_MODELS[name]
        return (DistilBertConfig if family == "distilbert" else T5Config)(**settings), "built-in"
    if name in REAL_MODELS:
        return model_facts.config_for(REAL_MODELS[name]), "built-in"
    if Path(name).expanduser().is_dir():
        source, where = "local", str(Path(name).expanduser())
    elif hub.HUB_ID.match(name):
        source, where = ("hub" if hub.network_status().online else "cache"), name
    else:
        raise cli.UsageError(f"unknown model {name!r}: give one of "
                             f"{', '.join(BUILTIN_MODELS)}, a Hub id or a model folder")
    try:
        return AutoConfig.from_pretrained(where), source
    except (OSError, ValueError) as err:
        where = {"hub": "on the Hub", "cache": "in the local cache (offline)"}.get(source, "")
        raise cli.UsageError(f"no config for model {name!r} {where} "
                             f"({type(err).__name__})") from None


def prepare_config(config, seq_len: int) -> str:
    """Pick the task, switch dropout off (setups must do the same arithmetic), check length."""
    for key, value in config.to_dict().items():  # with dropout on, accumulation and
        if ("dropout" in key or key.endswith("pdrop")) and isinstance(value, float):
            setattr(config, key, 0.0)  # checkpointing would draw other random masks
    config.use_cache = False  # a KV cache helps generation only, and clashes with checkpointing
    limit = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", 0)
    if limit and seq_len > limit:
        raise cli.UsageError(f"--seq-len {seq_len} is longer than this model's {limit} "
                             f"positions")
    if getattr(config, "is_encoder_decoder", False):
        return "seq2seq"  # T5: LM loss on a random target of seq_len / 4 tokens
    if any("CausalLM" in a or "LMHead" in a for a in getattr(config, "architectures", None)
           or []):
        return "causal-lm"  # decoders (GPT-2, Llama...): next-token loss
    config.num_labels = NUM_LABELS
    return "classification"  # encoders: a sequence-classification head


def build_model(config, task: str, device, seed: int, attention: str | None = None):
    """A fresh model with random weights, the same for every setup (same seed)."""
    import torch
    import transformers

    auto = {"seq2seq": transformers.AutoModelForSeq2SeqLM,
            "causal-lm": transformers.AutoModelForCausalLM,
            "classification": transformers.AutoModelForSequenceClassification}[task]
    torch.manual_seed(seed)
    extra = {"attn_implementation": attention} if attention else {}
    try:
        with torch.device(device):  # initialise on the device: fast for 250 M parameters
            # a copy: from_config writes the attention choice into the config it is given
            model = auto.from_config(copy.deepcopy(config), **extra)
            # Flan-T5 has its own lm_head; built from a config, transformers ties it: untie
            return model_facts.untie_output_layer(model).train()
    except ValueError as err:
        raise cli.UsageError(f"{config.model_type}: no {task} model "
                             f"({str(err).splitlines()[0][:80]})") from None


def make_batches(config, task: str, batch_size: int, seq_len: int, seed: int) -> list[dict]:
    """DATA_BATCHES random token batches (fixed seed): every setup trains on the same data."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(DATA_BATCHES):
        ids = torch.randint(3, config.vocab_size, (batch_size, seq_len), generator=gen)
        labels = {"seq2seq": lambda: torch.randint(  # the model shifts them into decoder input
                      3, config.vocab_size, (batch_size, max(4, seq_len // 4)), generator=gen),
                  "causal-lm": ids.clone,
                  "classification": lambda: torch.randint(0, NUM_LABELS, (batch_size,),
                                                          generator=gen)}[task]()
        batches.append({"input_ids": ids, "attention_mask": torch.ones_like(ids),
                        "labels": labels})
    return batches


def count_step_flops(model, task: str, batch: dict) -> int:
    """Model FLOPs of one step by the 6·N·D rule: 2 (forward) + 4 (backward) per weight per token.

    N counts weights that multiply every token: embedding tables are look-ups (no FLOPs), and
    in T5 encoder weights see the input tokens, decoder weights (and lm_head) the target tokens.
    Attention's own seq² term is left out (about 10% more at 512 tokens): MFU reads a bit low.
    """
    import torch

    encoder = decoder = 0
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if isinstance(module, torch.nn.Embedding) or weight is None or weight.dim() != 2:
            continue
        if task == "seq2seq" and not name.startswith("encoder."):
            decoder += weight.numel()
        else:
            encoder += weight.numel()
    targets = batch["labels"].numel() if task == "seq2seq" else 0
    return 6 * (encoder * batch["input_ids"].numel() + decoder * targets)


def skip_reason(setup: Setup, run: dict) -> str | None:
    """Why a setup cannot run here (None: it can)."""
    import importlib.util

    import torch
    from coursekit import device as devices

    cuda, device = run["device"].type == "cuda", run["device"].type
    eight_bit = setup.optimizer == "adamw-8bit"
    reasons = [
        (setup.precision == "fp16" and not cuda, "fp16 autocast needs CUDA; on a CPU use bf16"),
        (setup.precision == "tf32" and not (cuda and torch.cuda.get_device_capability()[0] >= 8),
         "TF32 is a tensor-core format of NVIDIA GPUs (Ampere and newer)"),
        (setup.precision == "bf16" and device not in ("cpu", "cuda"), f"not measured on {device}"),
        (setup.precision == "bf16" and cuda and not torch.cuda.is_bf16_supported(),
         "this GPU has no bf16 (Ampere and newer have)"),
        (setup.accumulate and not run["micro_batches"],
         f"a batch of {run['batch_size']} cannot be split into equal micro-batches"),
        (setup.checkpointing and not run["supports_checkpointing"],
         f"{run['model_class']} does not support gradient checkpointing"),
        (eight_bit and importlib.util.find_spec("bitsandbytes") is None,
         "bitsandbytes is not installed: pip install bitsandbytes, on a CUDA machine"),
        (eight_bit and not cuda, "8-bit AdamW (bitsandbytes) needs a CUDA GPU"),
        (setup.attention == "eager" and run["default_attention"] == "eager",
         "the model has no SDPA attention: the baseline already uses eager"),
        (setup.compile and not cuda and setup.name not in run["asked"],
         "torch.compile takes minutes on a CPU: name it in --setups to measure it"),
        (setup.precision == "bf16" and device == "cpu" and run["parameters"] > BIG_ON_A_CPU
         and not devices.cpu_has_bf16() and setup.name not in run["asked"],
         "this CPU has no bf16 units: emulated, 20x slower; name it in --setups to measure it")]
    return next((why for applies, why in reasons if applies), None)


def make_optimizer(name: str, model):
    """AdamW keeps 2 fp32 states per weight (8 bytes), 8-bit AdamW 2 bytes, Adafactor ~0."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    if name == "adafactor":  # as the Trainer's optim="adafactor", with the same fixed lr
        from transformers.optimization import Adafactor

        return Adafactor(params, lr=LEARNING_RATE, scale_parameter=False, relative_step=False)
    if name == "adamw-8bit":
        import bitsandbytes

        return bitsandbytes.optim.AdamW8bit(params, lr=LEARNING_RATE)
    return torch.optim.AdamW(params, lr=LEARNING_RATE, fused=name == "adamw-fused")


def enable_checkpointing(model) -> None:
    """Keep only each layer's input in the forward; recompute the rest during backward."""
    kwargs = {"use_reentrant": False}  # the non-reentrant kind: PyTorch's recommended one
    if hasattr(model, "activation_checkpointing_enable"):  # its newer transformers 5 name
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:  # transformers 5.17 and older
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def forward_backward(model, batch: dict, setup: Setup, run: dict, scaler):
    """Loss and gradients; with accumulation, over k micro-batches of batch_size / k."""
    import torch

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(setup.precision)
    k = run["micro_batches"] if setup.accumulate else 1
    total = 0.0
    for part in ({key: t.chunk(k)[i] for key, t in batch.items()} for i in range(k)):
        with torch.autocast(run["device"].type, dtype=dtype, enabled=dtype is not None):
            loss = model(**part).loss / k  # the mean of k equal-sized means = the batch mean
        (scaler.scale(loss) if scaler else loss).backward()  # gradients add up over parts
        total += loss.detach()
    return total


def update(optimizer, scaler) -> None:
    """One optimizer step, then free the gradients until the next backward."""
    if scaler:  # fp16: the loss was scaled up so that small gradients do not round to zero
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def measure_setup(setup: Setup, run: dict) -> dict:
    """Warm up, read memory, time `steps` updates, then the loss on the same data."""
    import torch
    from coursekit import device as devices

    device, batches, cuda = run["device"], run["batches"], run["device"].type == "cuda"
    model = build_model(run["config"], run["task"], device, run["seed"], setup.attention)
    if setup.checkpointing:
        enable_checkpointing(model)
    optimizer = make_optimizer(setup.optimizer, model)
    scaler = torch.amp.GradScaler("cuda") if setup.precision == "fp16" else None
    forward = torch.compile(model) if setup.compile else model  # compiles at the first call
    # TF32 keeps fp32 tensors but rounds matmul inputs to a 10-bit mantissa: ~8x the FLOP/s.
    torch.set_float32_matmul_precision("high" if setup.precision == "tf32" else "highest")

    def step(i: int, measure: bool = False):
        def learn():
            return forward_backward(forward, batches[i % DATA_BATCHES], setup, run, scaler)

        if not measure:
            loss = learn()
            update(optimizer, scaler)
            return loss
        return (devices.peak_tensor_bytes(device, learn),  # coursekit.device
                devices.peak_tensor_bytes(device, lambda: update(optimizer, scaler)))

    step(0)  # allocates the optimizer states (and compiles)
    states = [t for s in optimizer.state.values() for t in s.values() if torch.is_tensor(t)]
    live, grads = (sum(t.numel() * t.element_size() for t in tensors) for tensors in (
        [*model.parameters(), *states], [p for p in model.parameters() if p.requires_grad]))
    backward_peak, update_peak = step(1, measure=True)
    start = time.perf_counter()
    for i in range(WARMUP_STEPS, WARMUP_STEPS + run["steps"]):
        last = step(i)
    if cuda:
        torch.cuda.synchronize(device)  # wait for the GPU before reading the clock
    seconds = (time.perf_counter() - start) / run["steps"]
    torch.set_float32_matmul_precision("highest")  # PyTorch's default: true fp32
    with torch.no_grad():  # in fp32 on the plain module: the same yardstick for every setup
        loss = sum(float(model.eval()(**b).loss) for b in batches) / len(batches)
    mfu = run["flops"] / seconds / (run["peak_tflops"] * 1e12) if cuda else None
    known = backward_peak is not None

    def mib(value):
        return round(value / MIB, 3) if known else None

    return {"setup": setup.name, "what": setup.what, "status": "ran", "reason": None,
            "attention": model.config._attn_implementation,
            "samples_per_s": float(f"{run['batch_size'] / seconds:.3g}"),  # 0.025 too
            "step_ms": round(1000 * seconds, 3), "static_mib": round((live + grads) / MIB, 3),
            "peak_mib": mib(known and live + max(backward_peak, grads + update_peak)),
            # activations: what forward + backward hold beyond weights, gradients and states
            "activation_mib": mib(known and backward_peak - grads),
            "update_mib": mib(known and update_peak),  # the optimizer's temporaries
            "loss_after": round(loss, 6) if math.isfinite(loss + float(last)) else None,
            "mfu": None if mfu is None else round(mfu, 4)}


def measure_all(run: dict) -> list[dict]:
    """2.2.2 Every chosen setup, one at a time; those that cannot run here say why."""
    import torch
    from coursekit import report

    rows = []
    for setup in [s for s in SETUPS if s.name in run["chosen"]]:
        reason, row = skip_reason(setup, run), None
        if reason is None:
            try:
                with warnings.catch_warnings():  # inductor's tuning hints: TF32 has its own row
                    warnings.filterwarnings("ignore", module=r"torch\._inductor")
                    row = measure_setup(setup, run)
            except torch.OutOfMemoryError:
                reason = "out of GPU memory: lower --batch-size or --seq-len"
            except Exception as err:  # compile fails on some models and platforms
                if not setup.compile:
                    raise
                reason = f"torch.compile failed: {type(err).__name__}"
            if setup.compile:
                torch._dynamo.reset()  # forget compiled graphs: the next compile starts cold
            gc.collect()
            if run["device"].type == "cuda":
                torch.cuda.empty_cache()  # give the next setup the whole GPU
        row = row or {"setup": setup.name, "what": setup.what, "status": "skipped",
                      "reason": reason}
        report.note(f"{setup.name:<10} " + (f"skipped: {reason}" if reason else
                    f"{row['samples_per_s']:,.1f} samples/s   # {setup.what}"))
        rows.append(row)
    return rows


def compare_setups(rows: list[dict], run: dict) -> None:
    """2.2.3 One table: speed against memory, and whether the loss stayed the same."""
    from coursekit import report

    base = rows[0]
    if base["status"] != "ran":
        raise cli.UsageError(f"the fp32 baseline could not run ({base['reason']})")
    for row in (r for r in rows if r["status"] == "ran"):
        row["speedup"] = round(base["step_ms"] / row["step_ms"], 3)  # same batch per step
        row["loss_gap"] = (None if row["loss_after"] is None or base["loss_after"] is None
                           else round(abs(row["loss_after"] - base["loss_after"]), 6))

    def cell(value, fmt):
        return "-" if value is None else format(value, fmt)

    mfu = run["device"].type == "cuda"  # MFU only means something against a GPU's peak
    report.table(f"{run['model']}: batch {run['batch_size']} x {run['seq_len']} tokens, "
                 f"{run['steps']} timed steps after {WARMUP_STEPS} warm-up",
                 ["setup", "samples/s", "x fp32", "peak MiB", "act. MiB", "loss after",
                  "Δ loss"] + ["MFU"] * mfu,
                 [[r["setup"], cell(r["samples_per_s"], ",.1f"), cell(r["speedup"], ".2f"),
                   cell(r["peak_mib"], ",.1f"), cell(r["activation_mib"], ",.1f"),
                   cell(r["loss_after"], ".5f"), cell(r["loss_gap"], ".0e")]
                  + [cell(r["mfu"], ".1%")] * mfu for r in rows if r["status"] == "ran"])
    report.note(f"loss after = mean fp32 loss on the {DATA_BATCHES} training batches after "
                f"{WARMUP_STEPS + run['steps']} updates (before any: {run['loss_before']:.5f}); "
                f"peak = the whole step's (the optimizer's temporaries too); act. = the "
                f"forward + backward peak minus weights, gradients and optimizer states")


def plot_setups(rows: list[dict], run: dict, output_dir: Path) -> str:
    """A bar chart: throughput, and memory split into static and activations."""
    import matplotlib

    matplotlib.use("Agg")  # no window: works on servers, CI and over SSH
    import matplotlib.pyplot as plt
    from coursekit import report

    ran = [r for r in rows if r["status"] == "ran"]
    names, static = [r["setup"] for r in ran], [r["static_mib"] for r in ran]
    peaks = [r["peak_mib"] or 0 for r in ran]
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(9, 1.8 * len(ran)), 4))
    left.bar_label(left.bar(names, [r["samples_per_s"] for r in ran]), fmt="{:,.0f}")
    left.set(title="Throughput (higher is better)", ylabel="samples / s")
    right.bar(names, static, color="#8C8C8C", label="weights + gradients + optimizer")
    right.bar(names, [r["activation_mib"] or 0 for r in ran], bottom=static, color="#DD8452",
              label="activations (forward + backward)")
    right.bar(names, peaks, fill=False, label="peak of the step")
    right.set(title="Memory (lower is better)", ylabel="MiB", ylim=(0, 1.3 * max(peaks) or 1))
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.tick_params(axis="x", labelrotation=30)
    fig.suptitle(f"{run['model']} on {run['device_name']}")
    return str(report.save_figure(fig, output_dir, "training_optimizations"))


def check_goals(rows: list[dict], run: dict) -> dict:
    """2.2.4 The targets a GPU run should meet, against what this run measured."""
    from coursekit import report

    by = {r["setup"]: r for r in rows if r["status"] == "ran"}
    base, ckpt, bf16 = by["fp32"], by.get("grad-ckpt"), by.get("bf16")
    measured = ckpt and base["activation_mib"] and ckpt["activation_mib"] is not None
    best = max((r for r in by.values() if r["mfu"] is not None), key=lambda r: r["mfu"],
               default=None)
    goals = {"bf16_speedup": bf16 and bf16["speedup"],
             "ckpt_activation_cut": round(1 - ckpt["activation_mib"] / base["activation_mib"], 3)
             if measured else None,
             "ckpt_slowdown": round(1 - ckpt["speedup"], 3) if measured else None,
             "best_mfu": best and best["mfu"], "best_mfu_setup": best and best["setup"]}

    def judge(key, fmt, ok):
        value = goals[key]
        return ["-" if value is None else fmt.format(value),
                "not measured" if value is None else "no target" if ok is None
                else "met" if ok(value) else "NOT met"]

    report.table("Goals", ["goal", "measured", "verdict"], [
        ["bf16 >= 2.5x fp32 throughput", *judge("bf16_speedup", "{:.2f}x", lambda v: v >= 2.5)],
        ["checkpointing cuts activation memory >= 40%",
         *judge("ckpt_activation_cut", "{:.0%}", lambda v: v >= 0.4)],
        ["... and slows the step <= 30%", *judge("ckpt_slowdown", "{:.0%}", lambda v: v <= 0.3)],
        [f"best MFU ({goals['best_mfu_setup'] or 'GPU only'})",
         *judge("best_mfu", "{:.1%}", None)]])
    report.note(f"MFU = 6·N·tokens / step time / {run['peak_tflops']:g} TFLOP/s, an ASSUMED peak "
                f"(dense bf16 on an H100/H200): pass --peak-tflops for your GPU"
                if run["device"].type == "cuda" else
                "these goals are for a GPU: on most CPUs bf16 is no faster than fp32")
    return goals


def describe_run(args, device) -> dict:
    """2.2.1 Load the config, build the baseline once, and say what is about to run."""
    import torch
    from coursekit import device as devices
    from coursekit import report

    config, source = load_config(args.model)
    task = prepare_config(config, args.seq_len)
    model = build_model(config, task, device, args.seed)
    batches = [{k: t.to(device) for k, t in b.items()}
               for b in make_batches(config, task, args.batch_size, args.seq_len, args.seed)]
    with torch.no_grad():
        loss_before = sum(float(model(**b).loss) for b in batches) / len(batches)
    chosen = {"fp32", *(args.setups or [s.name for s in SETUPS])}  # fp32: the yardstick
    run = {"model": args.model, "source": source, "task": task, "config": config,
           "model_class": type(model).__name__, "device": device, "seed": args.seed,
           "device_name": devices.describe(device), "batches": batches,
           "batch_size": args.batch_size, "seq_len": args.seq_len, "steps": args.steps,
           "parameters": sum(p.numel() for p in model.parameters()),
           "default_attention": model.config._attn_implementation,
           "supports_checkpointing": model.supports_gradient_checkpointing,
           "micro_batches": next((k for k in (ACCUMULATION, 2) if args.batch_size % k == 0
                                  and args.batch_size > 1), None),
           "flops": count_step_flops(model, task, batches[0]), "peak_tflops": args.peak_tflops,
           "loss_before": loss_before, "chosen": chosen, "asked": set(args.setups)}
    report.table("About to run", ["what", "value"], [
        ["model", f"{args.model} ({source} config, random weights)"],
        ["class", run["model_class"]], ["parameters", run["parameters"]], ["task", task],
        ["device", run["device_name"]], ["batch x tokens", f"{args.batch_size} x "
                                         f"{args.seq_len}"],
        ["steps per setup", f"{WARMUP_STEPS} warm-up + {args.steps} timed"],
        ["optimizer", f"AdamW, lr {LEARNING_RATE:g}"], ["attention", run["default_attention"]],
        ["setups", ", ".join(s.name for s in SETUPS if s.name in chosen)]])
    return run


def show_gpu_scaling() -> list[list]:
    """2.2.5 What more GPUs buy: the benchmark's table (coursekit.model_facts)."""
    from coursekit import report

    rows = model_facts.gpu_scaling_rows()
    report.table("Fine-tuning throughput, bf16, batch 32 x 128 tokens per GPU (random weights)",
                 ["model", "GPUs", "samples/s", "x 1 GPU", "peak GiB per GPU", "GPU"], rows)
    if not any(row[1] > 1 for row in rows):
        report.note(model_facts.GPU_THROUGHPUT_PENDING)
    report.note("data parallel (DDP): each GPU keeps its batch and the whole model, so N GPUs "
                "train up to N times the samples; the cost is the gradients' all-reduce")
    return rows


def parse_setups(text: str | None) -> list[str]:
    """--setups a,b,c -> names, checked against SETUPS."""
    names = [s.strip() for s in (text or "").split(",") if s.strip()]
    for name in names:
        if name not in {s.name for s in SETUPS}:
            raise cli.UsageError(f"unknown setup {name!r}; choose from "
                                 f"{', '.join(s.name for s in SETUPS)}")
    return names


def main(argv: list[str] | None = None) -> dict:
    parser = cli.make_parser(__doc__, script=__file__)
    parser.add_argument("--setups", help="comma-separated subset (default: all; fp32 always runs)")
    parser.add_argument("--batch-size", type=cli.positive_int,
                        help="samples per update (default by profile: tiny 8, class 8, full 32)")
    parser.add_argument("--seq-len", type=cli.int_at_least(4),  # [CLS] word [SEP]: at least
                        help="tokens per sample (default by profile: 32, 128, 512)")
    parser.add_argument("--steps", type=cli.positive_int,
                        help="timed updates per setup (default by profile: 3, 5, 20)")
    parser.add_argument("--peak-tflops", type=cli.positive_float, default=PEAK_TFLOPS,
                        help="the GPU's peak FLOP/s for MFU (default: %(default)g, an assumption "
                             "for an H100/H200 in dense bf16)")
    args = parser.parse_args(argv)
    with cli.user_errors():
        from coursekit import report

        model, batch_size, seq_len, steps = PROFILE_DEFAULTS[cli.check_profile(args.profile)]
        args.model, args.batch_size = args.model or model, args.batch_size or batch_size
        args.seq_len, args.steps = args.seq_len or seq_len, args.steps or steps
        args.setups = parse_setups(args.setups)
        # Built-in configs need no Hub: probe the network only for a Hub id.
        device = cli.start(args, "2.2 Training optimizations",
                           needs_hub=args.model not in BUILTIN_MODELS
                           and not Path(args.model).exists())
        report.section("2.2.1", "The model and the run")
        run = describe_run(args, device)  # a bad --model or --seq-len stops here
        report.section("2.2.2", "Measure each setup")
        rows = measure_all(run)
        report.section("2.2.3", "Compare: speed, memory, loss")
        compare_setups(rows, run)
        chart = plot_setups(rows, run, args.output_dir)
        report.section("2.2.4", "Goals")
        goals = check_goals(rows, run)
        report.section("2.2.5", "More GPUs: data parallel (measured, not run here)")
        scaling = show_gpu_scaling()
        keep = ("model", "source", "task", "model_class", "parameters", "default_attention",
                "device_name", "batch_size", "seq_len", "steps", "micro_batches", "flops",
                "peak_tflops")
        results = {"profile": args.profile,
                   "settings": {**{k: run[k] for k in keep}, "warmup_steps": WARMUP_STEPS,
                                "learning_rate": LEARNING_RATE, "memory_measure": {
                                    "cuda": "torch.cuda.max_memory_allocated",
                                    "cpu": "profiler allocation events"}.get(device.type)},
                   "loss_before": round(run["loss_before"], 6), "setups": rows,
                   "goals": goals, "chart": chart, "gpu_scaling": scaling}
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
