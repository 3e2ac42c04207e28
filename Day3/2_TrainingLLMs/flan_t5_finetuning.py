"""Fine-tuning Flan-T5, and what it forgets (outline 2.3 to 2.5, the hands-on exercise).

Flan-T5 already follows many instructions. We fine-tune it on one target task (dialogue
summarization), measure the gain, and measure what it loses on tasks it could already do
(sentiment, translation, question answering): catastrophic forgetting. Then we compare ways to
keep those skills: replaying a few old-task examples, a lower learning rate, and LoRA.
Steps, numbered as the exercise's (2.5) and in its order, which draws on 2.4 and 2.3 on the way:
2.5.1 set up Flan-T5, 2.5.2 prepare the target task (labels masked with -100), 2.5.3 evaluate
before fine-tuning, 2.5.4 configure training (2.4's hyperparameters explained), 2.5.5 fine-tune
with Seq2SeqTrainer, one strategy at a time (checkpoints, --resume), 2.5.6 measure forgetting
per task and on average (2.3), 2.5.7 compare the strategies (plot, LoRA share).

Run:
    python Day3/2_TrainingLLMs/flan_t5_finetuning.py --profile tiny      # offline, seconds
    python Day3/2_TrainingLLMs/flan_t5_finetuning.py                     # class: flan-t5-small
    python Day3/2_TrainingLLMs/flan_t5_finetuning.py --strategies full,replay --replay-fraction 0.05
    python Day3/2_TrainingLLMs/flan_t5_finetuning.py --interrupt-after 30   # stops, as a crash
    python Day3/2_TrainingLLMs/flan_t5_finetuning.py --resume      # would; continues from there

Time and memory (2 CPU cores):
    tiny:  about 25 s (4 strategies x 80 steps) once the tiny zoo is cached; 1 GB RAM
    class: google/flan-t5-small on 1,000 knkarthick/dialogsum dialogues (256 source tokens), full
           fine-tuning and LoRA, 50 steps of 4 x 2 each; 30 test dialogues and 3 x 20 probes scored
           before and after each. Measured on 2 CPU cores (this run alone) with real-size
           stand-ins: 4.5 and 5.8 min in two runs (2.4 s a full step with its checkpoints, 1.8 s a
           LoRA step, 15 to 19 s a round of scoring). Real dialogues are longer (about 190 words;
           the stand-ins' 80 tokens) and a full step at the 256-token cap took 4.9 s, so expect 8
           to 9 minutes; real summaries stop before the 64-token cap that random weights always
           reach. On 2 busy cores (load 3): 46 s a full step, 137 s a round. Replay and low-lr add
           about 4 minutes each (--strategies full,replay,low-lr,lora). Published runs move
           Flan-T5-small's ROUGE-L on DialogSum within 50 to 100 such steps: not checked here
           (stand-ins have random weights). 2.3 GB RAM, 0.3 GB download
    full:  google/flan-t5-base on all of dialogsum, 1,500 steps per strategy: for a GPU
Writes results.json, target_vs_forgetting.png and checkpoints/ under --output-dir.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
from coursekit import checkpoints, cli, model_facts  # noqa: E402  (light: no torch before --help)

RECIPES = {  # per profile; the tiny numbers were measured on seeds 0, 1, 2 and 42
    "tiny": dict(train_examples=1000, test_examples=100, probe_examples=50, max_steps=80,
                 batch_size=16, accumulation=1, learning_rate=2e-3,  # a tiny model takes a
                 source_tokens=128, target_tokens=32,              # large lr without harm
                 strategies="full,replay,low-lr,lora"),
    "class": dict(train_examples=1000, test_examples=30, probe_examples=20, max_steps=50,
                  batch_size=4, accumulation=2, learning_rate=5e-4,  # 4 x 2: less memory
                  source_tokens=256, target_tokens=64,  # most dialogues; summaries fit 64
                  strategies="full,lora"),  # 8-9 minutes on 2 CPU cores; the others +4 each
    "full": dict(train_examples=None, test_examples=500, probe_examples=200, max_steps=1500,
                 batch_size=16, accumulation=2, learning_rate=3e-4,
                 source_tokens=512, target_tokens=96, strategies="full,replay,low-lr,lora"),
}
PROBE_TASKS = ("sentiment", "translation", "qa")  # skills the base model already has
STRATEGIES = {  # name -> what changes compared with plain full fine-tuning
    "full": "all weights, target data only",
    "replay": "all weights, some old-task examples mixed into the data",
    "low-lr": "all weights, a 5x lower learning rate",
    "lora": "base frozen, low-rank adapters on attention trained",
}
REPLAY_FRACTION = 0.2  # share of the training examples replayed from old tasks (measured)
LOW_LR_FACTOR = 0.2  # low-lr trains at learning_rate * 0.2
LORA = dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q", "k", "v", "o"])
LORA_LR_FACTOR = 2.5  # adapters start at zero and are low-rank: they need larger steps
WARMUP = 0.05  # 5% of the steps: Adam's early estimates are noisy, so start gently
CHECKPOINTS_PER_RUN = 4  # save every max_steps / 4 steps; --resume continues from the last
EVAL_BATCH = 64  # prompts per generate() call when evaluating
REAL_SIZES = ("google/flan-t5-small", "google/flan-t5-base")  # LoRA's share at these sizes,
# built from their config.json values in coursekit.model_facts: no download


def check_seq2seq(choice):
    """Read config.json only: is this an encoder-decoder (seq2seq) model like Flan-T5?"""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(choice.path)
    if not config.is_encoder_decoder:
        raise cli.UsageError(f"--model {choice.wanted} is a {config.model_type} model, not an "
                             f"encoder-decoder like Flan-T5")
    return config


def set_up_flan_t5(choice, config, device) -> tuple:
    """2.5.1 Load the tokenizer and the base model; Flan-T5 is an encoder-decoder (seq2seq)."""
    from coursekit import report
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    model = AutoModelForSeq2SeqLM.from_pretrained(choice.path).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    report.table("The base model", ["what", "value"], [
        ["model", choice.name], ["loaded from", f"{choice.source} ({choice.path})"],
        ["class", type(model).__name__], ["parameters", n_params],
        ["layers (encoder + decoder)", f"{config.num_layers} + {config.num_decoder_layers}"]])
    return tokenizer, model, {"name": choice.name, "source": choice.source,
                              "parameters": n_params}


def prepare_target_task(args, recipe: dict, tiny_data: bool) -> tuple[list, list]:
    """2.5.2 The target task as {prompt, target} rows: dialogue in, one-sentence summary out.

    DialogSum's test split has three summaries per dialogue (three annotators), one row each,
    in adjacent rows. Each test dialogue is kept once, with all three as its `references`.
    """
    from coursekit import data, hub

    if tiny_data:  # the tiny model already summarizes data.DIALOGUE_TOPICS: use new topics
        topics = list(data.TARGET_DIALOGUE_TOPICS)
        train = data.dialogues(recipe["train_examples"], args.seed, topics)
        test = data.dialogues(recipe["test_examples"], args.seed + 1, topics,
                              summaries_per_dialogue=3)  # laid out like DialogSum's test split
    else:
        train = hub.load_dataset_for("dialogue-summary", args.profile, "train",
                                     recipe["train_examples"], args.seed)
        # The whole test split (1,500 rows, one 1.4 MB file, downloaded whole anyway): a slice
        # such as test[:50] would be 17 dialogues, most of them three times
        test = hub.load_dataset_for("dialogue-summary", args.profile, "test", None, args.seed)
    prompt = data.PROMPTS["summarization"]  # the wording Flan-T5 was instruction-tuned on

    def as_rows(dataset) -> list[dict]:
        return [{"task": "summarization", "prompt": prompt.format(dialogue=r["dialogue"]),
                 "target": r["summary"]} for r in dataset]

    test_rows = [{"task": "summarization", "prompt": prompt.format(dialogue=d["dialogue"]),
                  "target": d["summaries"][0], "references": d["summaries"]}
                 for d in data.distinct_dialogues(test, recipe["test_examples"])]
    seen = {r["prompt"] for r in test_rows}
    train_rows = [r for r in as_rows(train) if r["prompt"] not in seen]  # never train on test
    return train_rows, test_rows


def prepare_probe_tasks(args, recipe: dict) -> dict[str, list]:
    """2.5.2 A fixed probe set of old tasks, seeded, never trained on: it detects forgetting."""
    from coursekit import data

    return {task: [{"task": task, "prompt": e["instruction"], "target": e["output"]}
                   for e in data.instruction_examples(task, recipe["probe_examples"],
                                                      args.seed + 2 + 1000 * i)]
            for i, task in enumerate(PROBE_TASKS)}


def mix_in_replay(args, train_rows: list[dict], probes: dict) -> list[dict]:
    """Replay: as many training examples, a fraction of them old-task ones not in the probes."""
    from coursekit import data

    n_old = round(args.replay_fraction * len(train_rows))
    probe_prompts = {r["prompt"] for rows in probes.values() for r in rows}
    rows = train_rows[:len(train_rows) - n_old]
    for i, task in enumerate(PROBE_TASKS):
        k = n_old // len(PROBE_TASKS) + (i < n_old % len(PROBE_TASKS))  # an even split
        pool = data.instruction_examples(task, 2 * k + 20, args.seed + 3 + 1000 * i)
        rows += [{"task": task, "prompt": e["instruction"], "target": e["output"]}
                 for e in pool if e["instruction"] not in probe_prompts][:k]
    return rows


def tokenize(tokenizer, rows: list[dict], recipe: dict):
    """Prompts become input_ids; targets become labels (the ids the decoder must produce)."""
    from datasets import Dataset

    def encode(batch):
        enc = tokenizer(batch["prompt"], truncation=True, max_length=recipe["source_tokens"])
        enc["labels"] = tokenizer(text_target=batch["target"], truncation=True,
                                  max_length=recipe["target_tokens"])["input_ids"]
        return enc

    dataset = Dataset.from_list(rows)
    return dataset.map(encode, batched=True, remove_columns=dataset.column_names)


def show_label_masking(tokenizer, model, train_rows: list[dict], recipe: dict) -> dict:
    """2.5.2 Padding labels with -100 makes the loss skip them (PyTorch's ignore_index)."""
    from coursekit import report
    from transformers import DataCollatorForSeq2Seq

    rows = sorted(train_rows[:50], key=lambda r: len(r["target"]))
    pair = tokenize(tokenizer, [rows[0], rows[-1]], recipe)
    collator = DataCollatorForSeq2Seq(tokenizer, model=model, label_pad_token_id=-100)
    batch = collator([pair[0], pair[1]])  # pads inputs with <pad>, labels with -100
    labels = batch["labels"].tolist()
    report.table("One training batch of two examples", ["field", "example 1", "example 2"], [
        ["prompt", rows[0]["prompt"][:60] + " ...", rows[-1]["prompt"][:60] + " ..."],
        ["target", rows[0]["target"], rows[-1]["target"]],
        ["labels", labels[0], labels[1]],
        ["decoder_input_ids", batch["decoder_input_ids"][0].tolist(),
         batch["decoder_input_ids"][1].tolist()]])
    report.note("decoder_input_ids = labels shifted right after the start token (teacher "
                "forcing); the -100s pad the shorter target and count for nothing in the loss")
    return {"labels": labels, "masked": sum(v == -100 for row in labels for v in row)}


def generate(model, tokenizer, prompts: list[str], max_new_tokens: int) -> list[str]:
    """Greedy model.generate() in batches of similar length (the transformers 5 way)."""
    import torch

    model.eval()
    outputs = [""] * len(prompts)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # less padding
    for start in range(0, len(order), EVAL_BATCH):
        ids = order[start:start + EVAL_BATCH]
        enc = tokenizer([prompts[i] for i in ids], return_tensors="pt", padding=True,
                        truncation=True, max_length=512).to(model.device)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
        for i, text in zip(ids, tokenizer.batch_decode(out, skip_special_tokens=True)):
            outputs[i] = text
    return outputs


def evaluate_model(model, tokenizer, test_rows: list, probes: dict, recipe: dict) -> dict:
    """Target: ROUGE-L, each dialogue once, against its closest reference. Probes: exact match."""
    from coursekit import metrics

    predictions = generate(model, tokenizer, [r["prompt"] for r in test_rows],
                           recipe["new_tokens"])
    # Max over a dialogue's references (evaluate's rouge does the same): a summary is as good as
    # the annotator it agrees with most; averaging would punish a valid wording of the same facts.
    rouge = metrics.rouge(predictions, [r["references"] for r in test_rows])
    probe, samples, answers = {}, {"summarization": predictions[0]}, {}
    for task, rows in probes.items():
        answers[task] = generate(model, tokenizer, [r["prompt"] for r in rows],
                                 min(32, recipe["new_tokens"]))
        probe[task] = metrics.exact_match(answers[task], [r["target"] for r in rows])
        samples[task] = answers[task][0]
    return {"target_rougeL": rouge["rougeL"], "target_rouge1": rouge["rouge1"],
            "probe": probe, "probe_avg": sum(probe.values()) / len(probe), "samples": samples,
            "probe_answers": answers}


def evaluate_before(model, tokenizer, test_rows, probes, recipe) -> dict:
    """2.5.3 The scores to beat (target) and to keep (probes), before any training."""
    from coursekit import report

    before = evaluate_model(model, tokenizer, test_rows, probes, recipe)
    scores = {"summarization": before["target_rougeL"], **before["probe"]}
    report.table("Before fine-tuning (ROUGE-L for the target, exact match for the probes)",
                 ["task", "score", "first output"],
                 [[t, v, before["samples"][t]] for t, v in scores.items()]
                 + [["probe average", before["probe_avg"], ""]])
    return before


def explain_hyperparameters(args, recipe: dict, n_train: int, device) -> dict:
    """2.5.4 (2.4) Each training setting, its value here, and why."""
    from coursekit import device as devices
    from coursekit import report

    batch = recipe["batch_size"] * recipe["accumulation"]
    precision = "bf16" if devices.trainer_precision(device) else "fp32"
    plan = {"max_steps": args.max_steps, "batch_size": recipe["batch_size"],
            "accumulation": recipe["accumulation"], "effective_batch": batch,
            "epochs": round(args.max_steps * batch / max(n_train, 1), 2),
            "learning_rate": args.learning_rate, "warmup_steps": math.ceil(WARMUP * args.max_steps),
            "precision": precision, "save_steps": max(1, args.max_steps // CHECKPOINTS_PER_RUN)}
    report.table("Training settings (Seq2SeqTrainingArguments)", ["setting", "value", "why"], [
        ["learning_rate", f"{args.learning_rate:g}", "the step size; too large forgets more "
         f"(low-lr uses x{LOW_LR_FACTOR:g}, LoRA x{LORA_LR_FACTOR:g})"],
        ["batch size x accumulation", f"{recipe['batch_size']} x {recipe['accumulation']} = "
         f"{batch}", "accumulation adds gradients of small batches: a big batch in less memory"],
        ["max_steps", f"{args.max_steps} (= {plan['epochs']} epochs of {n_train:,})",
         "a fixed step budget: every strategy gets the same compute"],
        ["warm-up, then linear decay", f"{plan['warmup_steps']} steps ({WARMUP:.0%})",
         "Adam's first estimates are noisy: start with small steps"],
        ["weight decay, gradient clipping", "0.01, 1.0", "keep weights small; one odd batch "
         "cannot throw the model far"],
        ["precision", precision, "bf16 where the GPU supports it, else fp32; never fp16 "
         "for T5 (its activations overflow to NaN)"],
        ["checkpoints", f"every {plan['save_steps']} steps, last one kept",
         "an interrupted run continues with --resume"]])
    report.note(f"About to run: {n_train:,} target examples, {args.max_steps} steps of "
                f"{batch}, lr {args.learning_rate:g}, warm-up {plan['warmup_steps']} steps, "
                f"device {device}, {precision}")
    return plan


def fine_tune(name: str, args, choice, tokenizer, rows: list, plan: dict, recipe: dict,
              device) -> tuple:
    """2.5.5 One strategy: fresh base weights, seeded, trained by Seq2SeqTrainer."""
    import torch
    from coursekit import device as devices
    from coursekit import report
    from transformers import (
        AutoModelForSeq2SeqLM,
        DataCollatorForSeq2Seq,
        Seq2SeqTrainer,
        Seq2SeqTrainingArguments,
    )

    lr = args.learning_rate * {"low-lr": LOW_LR_FACTOR, "lora": LORA_LR_FACTOR}.get(name, 1)
    devices.seed_everything(args.seed)  # every strategy starts from the same state
    model = AutoModelForSeq2SeqLM.from_pretrained(choice.path, dtype=torch.float32)
    collator = DataCollatorForSeq2Seq(tokenizer, model=model, label_pad_token_id=-100)
    if name == "lora":
        from peft import LoraConfig, get_peft_model

        devices.seed_everything(args.seed)  # peft draws the adapters' init from the global RNG
        model = get_peft_model(model, LoraConfig(task_type="SEQ_2_SEQ_LM", **LORA))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    training_args = Seq2SeqTrainingArguments(
        output_dir=str(checkpoints.folder(args, name)), max_steps=args.max_steps, learning_rate=lr,
        per_device_train_batch_size=recipe["batch_size"],
        gradient_accumulation_steps=recipe["accumulation"], lr_scheduler_type="linear",
        warmup_steps=WARMUP, weight_decay=0.01, max_grad_norm=1.0,
        save_strategy="steps", save_steps=plan["save_steps"], save_total_limit=1,
        logging_steps=plan["save_steps"], report_to="none", dataloader_num_workers=0,
        seed=args.seed, use_cpu=device.type == "cpu", disable_tqdm=False,  # a bar, no log dicts
        **devices.trainer_precision(device), **devices.trainer_distribution())
    trainer = Seq2SeqTrainer(
        model=model, args=training_args, train_dataset=tokenize(tokenizer, rows, recipe),
        data_collator=collator, processing_class=tokenizer)
    report.note(f"{name} ({STRATEGIES[name]}): {len(rows):,} examples, lr {lr:g}, "
                f"{trainable:,} of {total:,} parameters trained")
    resume = checkpoints.train(trainer, args, name)  # --resume: from the newest checkpoint
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    info = {"learning_rate": lr, "train_examples": len(rows),
            "replay_examples": sum(r["task"] != "summarization" for r in rows),
            "trainable_params": trainable, "total_params": total,
            "trainable_pct": 100 * trainable / total, "steps": trainer.state.global_step,
            "final_loss": losses[-1] if losses else None, "resumed": bool(resume),
            "train_seconds": checkpoints.seconds_trained(trainer)}  # resumed: both parts
    return trainer.model, info


def forgetting_examples(before: dict, runs: dict, probes: dict) -> dict:
    """Per task, a probe the base model got right and full fine-tuning answers differently
    (else any probe full fine-tuning changed, else the first): forgetting, one answer at a time."""
    examples = {}
    for task, rows in probes.items():
        base = before["probe_answers"][task]
        full = runs["full"]["after"]["probe_answers"][task] if "full" in runs else base
        changed = [i for i in range(len(rows)) if full[i] != base[i]]
        right_then = [i for i in changed if base[i].strip() == rows[i]["target"].strip()]
        i = (right_then or changed or [0])[0]
        examples[task] = {"probe": i, "reference": rows[i]["target"], "base model": base[i],
                          **{name: r["after"]["probe_answers"][task][i]
                             for name, r in runs.items()}, "full changed it": bool(changed)}
    return examples


def measure_forgetting(before: dict, runs: dict, probes: dict) -> dict:
    """2.5.6 (2.3) Forgetting = probe score before - after, per task and on average."""
    from coursekit import metrics, report

    for run in runs.values():
        after = run["after"]
        run["target_gain"] = after["target_rougeL"] - before["target_rougeL"]
        run["forgetting"] = {t: before["probe"][t] - s for t, s in after["probe"].items()}
        run["probe_drop"] = before["probe_avg"] - after["probe_avg"]
    full_drop = runs["full"]["probe_drop"] if "full" in runs else None
    learned_bar = 0.5 * runs["full"]["target_gain"] if "full" in runs else 0.0
    # Recovered %: how much of full fine-tuning's forgetting a strategy avoids, counted only if
    # it learned the target (half of full's gain): learning nothing also forgets nothing.
    for run in runs.values():
        learned = run["target_gain"] >= learned_bar
        run["recovered_pct"] = (100 * (full_drop - run["probe_drop"]) / full_drop
                                if learned and full_drop and full_drop > 0 else None)
    n = sum(len(rows) for rows in probes.values())  # probe answers in the average
    p = before["probe_avg"]
    noise = metrics.noise_level(p, n)  # 2 standard errors, at least one example
    mark = lambda drop: f"{drop:.3f}" + (" (noise)" if abs(drop) < noise else "")
    report.table("Target gain and forgetting (drop = probe average before - after)",
                 ["strategy", "ROUGE-L", "gain", "probe avg", "drop", "recovered %",
                  "trained %"],
                 [["base model", before["target_rougeL"], "-", before["probe_avg"], "-", "-",
                   "-"]]
                 + [[name, r["after"]["target_rougeL"], r["target_gain"],
                     r["after"]["probe_avg"], mark(r["probe_drop"]),
                     "-" if name == "full" else "target not learned"
                     if r["recovered_pct"] is None else f"{r['recovered_pct']:.0f}",
                     f"{r['trainable_pct']:.2f}"] for name, r in runs.items()])
    report.note(f"one probe answer is worth 1/{n} = {1 / n:.4f} of the average; a drop under "
                f"{noise:.3f} (2 standard errors at {p:.2f}) is within noise. Recovered % "
                f"counts only strategies whose target gain is at least half of full "
                f"fine-tuning's ({learned_bar:.3f}): learning nothing also forgets nothing")
    tasks = list(before["probe"])
    report.table("Forgetting per task (exact match before -> after)", ["strategy", *tasks],
                 [[name, *[f"{before['probe'][t]:.2f} -> {r['after']['probe'][t]:.2f}"
                           for t in tasks]] for name, r in runs.items()])
    clip = lambda text: text if len(text) <= 28 else text[:26] + " ..."
    examples = forgetting_examples(before, runs, probes)
    for run in [before, *[r["after"] for r in runs.values()]]:
        run.pop("probe_answers")  # every answer: used above, too long for results.json
    report.table("Signs of forgetting: per task, a probe the base model got right and full "
                 "fine-tuning answers differently", ["model", *tasks],
                 [[who, *[clip(examples[t][who]) for t in tasks]]
                  for who in ["reference", "base model", *runs]])
    return {"full_drop": full_drop, "probe_noise": noise, "learned_bar": learned_bar,
            "forgetting_examples": examples}


def count_lora_at_real_sizes() -> list[dict]:
    """LoRA's share depends on size: count it on the real architectures (meta device)."""
    import torch
    from peft import LoraConfig, get_peft_model

    rows = []
    for name in REAL_SIZES:
        model = model_facts.build_on_meta(name)  # shapes only: no memory, no download
        with torch.device("meta"):  # the adapters too
            model = get_peft_model(model, LoraConfig(task_type="SEQ_2_SEQ_LM", **LORA))
        trainable, total = model.get_nb_trainable_parameters()
        rows.append({"model": name, "trainable_params": trainable, "total_params": total,
                     "trainable_pct": 100 * trainable / total})
    return rows


def compare_strategies(runs: dict, before: dict, output_dir: Path, noise: float) -> dict:
    """2.5.7 Target score against forgetting: up and to the left is better."""
    import matplotlib

    matplotlib.use("Agg")  # no window: works on servers, CI and over SSH
    import matplotlib.pyplot as plt
    from coursekit import report

    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.axvspan(-noise, noise, color="grey", alpha=0.15, label=f"drop within noise (±{noise:.3f})")
    ax.scatter([0], [before["target_rougeL"]], color="grey", marker="s", s=60,
               label="base model (before)")
    for name, run in runs.items():  # a legend, not labels beside the points: those overlap
        ax.scatter([run["probe_drop"]], [run["after"]["target_rougeL"]], s=70, label=name,
                   edgecolor="black", linewidth=0.5)
    ax.set_xlabel("forgetting: probe-task average drop (exact match)")
    ax.set_ylabel("target task ROUGE-L (test dialogues)")
    ax.set_ylim(0, 1.02)
    ax.set_title("Target score vs forgetting (up and to the left is better)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    plot = report.save_figure(fig, output_dir, "target_vs_forgetting")
    real = count_lora_at_real_sizes() if "lora" in runs else []
    if real:
        report.table(f"LoRA (r {LORA['r']} on {', '.join(LORA['target_modules'])}): share of "
                     f"parameters trained", ["model", "trainable", "total", "trainable %"],
                     [["this run", runs["lora"]["trainable_params"],
                       runs["lora"]["total_params"], f"{runs['lora']['trainable_pct']:.2f}"]]
                     + [[r["model"], r["trainable_params"], r["total_params"],
                         f"{r['trainable_pct']:.2f}"] for r in real])
        report.note("LoRA forgets less partly because it learns less (Biderman et al. 2024, "
                    "'LoRA Learns Less and Forgets Less'); compare its ROUGE-L with full's")
    return {"plot": plot.name, "lora_real_sizes": real}


def record_run(args, choice, strategies: list[str]) -> dict:
    """Write (or, with --resume, check) the settings this output folder's checkpoints belong to."""
    return checkpoints.record_run(args, {
        "profile": args.profile, "model": choice.wanted, "seed": args.seed,
        "strategies": strategies, "max_steps": args.max_steps, "batch_size": args.batch_size,
        "learning_rate": args.learning_rate, "replay_fraction": args.replay_fraction})


def main(argv: list[str] | None = None) -> dict:
    parser = cli.make_parser(__doc__, script=__file__)
    parser.add_argument("--strategies", type=cli.comma_list(list(STRATEGIES), "strategy"),
                        help=f"comma-separated, from {', '.join(STRATEGIES)} (default: all "
                             f"four; class: {RECIPES['class']['strategies']})")
    parser.add_argument("--max-steps", type=cli.positive_int, default=None,
                        help="training steps per strategy (default: tiny 80, class 50)")
    parser.add_argument("--max-samples", type=cli.positive_int, default=None,
                        help="test dialogues, and probe examples per task (default: tiny "
                             "100 and 50, class 30 and 20)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=None,
                        help="examples per forward pass (default: tiny 16, class 4, full 16; "
                             "class and full add up the gradients of 2 per step)")
    parser.add_argument("--max-new-tokens", type=cli.positive_int, default=None,
                        help="cap on the tokens generated per answer when evaluating "
                             "(default: the recipe's summary length, class 64)")
    parser.add_argument("--learning-rate", type=cli.positive_float,
                        help="full fine-tuning's learning rate (default: tiny 2e-3, class 5e-4)")
    parser.add_argument("--replay-fraction", default=REPLAY_FRACTION,
                        type=cli.fraction,
                        help="share of replay's training examples taken from the old tasks "
                             "(default: %(default)s)")
    checkpoints.add_flags(parser)  # --resume, --interrupt-after
    args = parser.parse_args(argv)
    with cli.user_errors(resume_hint=True):
        device = cli.start(args, "2.5 Fine-tuning Flan-T5, and catastrophic forgetting")
        from coursekit import hub, report

        choice = hub.resolve_model("instruction", args.profile, args.model)
        tiny_data = args.profile == "tiny" or choice.source == "tiny"
        recipe = RECIPES["tiny" if tiny_data else args.profile]
        if args.max_samples:  # fewer evaluation examples: quicker, noisier numbers
            recipe = dict(recipe, test_examples=min(args.max_samples, recipe["test_examples"]),
                          probe_examples=min(args.max_samples, recipe["probe_examples"]))
        recipe = dict(recipe, batch_size=args.batch_size or recipe["batch_size"],
                      new_tokens=min(args.max_new_tokens or 999, recipe["target_tokens"]))
        args.strategies = args.strategies or recipe["strategies"].split(",")
        args.max_steps = args.max_steps or recipe["max_steps"]
        args.learning_rate = args.learning_rate or recipe["learning_rate"]
        config = check_seq2seq(choice)
        settings = record_run(args, choice, args.strategies)  # checked before any work
        report.section("2.5.1", "Set up Flan-T5")
        tokenizer, base, model_info = set_up_flan_t5(choice, config, device)
        report.section("2.5.2", "Prepare the target task and the probe tasks")
        train_rows, test_rows = prepare_target_task(args, recipe, tiny_data)
        probes = prepare_probe_tasks(args, recipe)
        references = sum(len(r["references"]) for r in test_rows)
        report.note(f"target: {len(train_rows):,} training and {len(test_rows):,} test "
                    f"dialogues ({references:,} reference summaries); probes: "
                    f"{recipe['probe_examples']} per task ({', '.join(PROBE_TASKS)}), never "
                    f"trained on")
        masking = show_label_masking(tokenizer, base, train_rows, recipe)
        report.section("2.5.3", "Evaluate before fine-tuning")
        before = evaluate_before(base, tokenizer, test_rows, probes, recipe)
        del base
        report.section("2.5.4", "Configure training (2.4: the hyperparameters that matter)")
        plan = explain_hyperparameters(args, recipe, len(train_rows), device)
        report.section("2.5.5", "Fine-tune, one strategy at a time")
        runs = {}
        for name in args.strategies:
            runs[name] = checkpoints.finished(args, name)  # --resume: done before the stop
            if runs[name]:
                report.note(f"{name}: finished before the interruption; results read back")
                continue
            rows = mix_in_replay(args, train_rows, probes) if name == "replay" else train_rows
            model, info = fine_tune(name, args, choice, tokenizer, rows, plan, recipe, device)
            info["after"] = evaluate_model(model, tokenizer, test_rows, probes, recipe)
            runs[name] = info
            checkpoints.save_finished(args, name, info)
            report.note(f"{name}: ROUGE-L {info['after']['target_rougeL']:.3f}, probe "
                        f"average {info['after']['probe_avg']:.3f}, "
                        f"{info['train_seconds']:.1f} s of training")
        report.section("2.5.6", "Measure catastrophic forgetting (2.3)")
        forgetting = measure_forgetting(before, runs, probes)
        report.section("2.5.7", "Strategies to improve results, compared")
        comparison = compare_strategies(runs, before, args.output_dir, forgetting["probe_noise"])
        results = {"profile": args.profile, "model": model_info, "settings": settings,
                   "training": plan, "data": {"train": len(train_rows), "test": len(test_rows),
                                              "test_references": references,
                                              "probe_per_task": recipe["probe_examples"]},
                   "label_masking": masking, "before": before, "strategies": runs,
                   **forgetting, **comparison}
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
