"""The final project: adapt a sentiment model to a new domain with LoRA (outline 4.1 and 4.2).

A DistilBERT fine-tuned on SST-2 (short movie-review sentences) meets another kind of text:
Yelp reviews (tiny profile: hotel reviews, whose opinion words the tiny model never saw). Used
as it is, that model is the baseline. Your project: adapt it to the new domain with LoRA, beat
the baseline, and report quality, parameters and time as you would present them (4.2).

Five parts are yours, marked EXERCISE PART 1 to 5 below. Each says what to do and which lesson
taught it. The rest (loading, the baseline, the tables, the plot) is given.
    1 prepare the new domain's reviews, balanced and leakage-free   datasets_library 1.3.3, 3.3.1
    2 the metric: accuracy and macro-F1 from predictions            distilbert_finetuning 3.3.3
    3 the LoRA config for DistilBERT                                finetune_strategies 3.1.2
    4 fine-tune with the Trainer                                    distilbert_finetuning 3.3.2
    5 compare with the baseline: gains, noise margin, verdict       distilbert_finetuning 3.5
Each run first checks your five functions against known answers on small inputs (in
exercise_checker.py) and prints PASS or FAIL with a hint per part; once all five pass, it runs
the project with them and says whether LoRA beat the baseline by more than the noise. Exit
status: 0 once all five parts pass (whatever the verdict: a gain within the noise is a result,
not a bug), 1 while any fails.

Run:
    python Day3/4_WrapUpAndDemo/final_exercise.py --profile tiny --check      # offline, seconds
    python Day3/4_WrapUpAndDemo/final_exercise.py --check                     # class profile
    python Day3/4_WrapUpAndDemo/final_exercise.py --profile tiny --solution   # the reference
    python Day3/4_WrapUpAndDemo/final_exercise.py --profile tiny --lora-rank 2 --max-steps 30
        # 4.1 "optimizing": compare a smaller rank or fewer steps with your neighbours
The solution (solutions/final_exercise_solution.py) is there for after you tried.

Time and memory (measured on 2 cores of a Xeon server with nothing else running; two to three
times longer on 2 busy laptop cores; the check takes a few seconds of it):
    tiny:  15 s once the tiny zoo is cached (60 steps of 16 in under a second); 1 GB RAM
    class: distilbert-base-uncased-finetuned-sst-2-english, 2,000 Yelp reviews to train on and
           400 to test, 100 steps of 16 at up to 128 tokens: about 5 minutes (100 steps of
           2.0 s and 800 reviews predicted at 5.4 s per 64, measured at real size and 128
           tokens); 1.5 GB RAM; 0.7 GB to download (the model, Yelp polarity's training file).
           On the real-size stand-ins (random weights, reviews of 2 to 4 short sentences, far
           below 128 tokens) the whole run took 165 s, 117 s of them training, 1.2 GB
    full:  the same model on 50,000 reviews, 5,000 to test, 2,000 steps at up to 256 tokens:
           for a GPU (an H200 takes 14 ms a step at 128 tokens)
Writes results.json, final_comparison.png and adapter/ (what LoRA trained) under --output-dir.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # find coursekit without install
sys.path.insert(0, str(HERE.parent / "3_FineTuning"))  # section 3's models.py, evaluation.py
sys.path.insert(0, str(HERE))  # the checker beside this file
from coursekit import checkpoints, cli  # noqa: E402  (light: no torch before --help)

RECIPES = {  # per profile: reviews to train on and to test on, steps of BATCH_SIZE, settings
    "tiny": dict(train=400, test=200, steps=60, learning_rate=1e-2, max_length=64),
    "class": dict(train=2000, test=400, steps=100, learning_rate=5e-4, max_length=128),
    "full": dict(train=50_000, test=5000, steps=2000, learning_rate=2e-4, max_length=256),
}  # tiny: a 64-wide model trained from scratch takes large steps (3e-3: 0.75-0.89, seeds 0-2)
LORA_RANK = 8  # rank of the update B @ A: 8 is the usual start; try 2 or 16 (4.1)
BATCH_SIZE = 16
WARMUP = 0.1  # the first 10% of the steps at a rising learning rate
POOL_FACTOR = 2  # load twice the reviews kept: enough of each class after dropping repeats
EXAMPLES_SHOWN = 4  # test reviews whose answer LoRA changed, shown in 4.2


# ==============================================================================================
# EXERCISE PART 1 of 5: prepare the new domain's reviews
# Taught in datasets_library.py 1.3.3 (shuffle, filter, select) and distilbert_finetuning.py
# 3.3.1 (leakage between splits).
# ==============================================================================================
def prepare_reviews(train_pool, test_pool, n_train: int, n_test: int, seed: int) -> dict:
    """Pick a balanced, leakage-free training set and test set from two pools of reviews.

    train_pool, test_pool: datasets.Dataset with columns `text` and `label` (0 negative,
    1 positive), more rows than needed, classes in any proportion and maybe sorted by label.
    Return {"train": Dataset, "test": Dataset}, both with columns `text` and `label`, where
      - "test" holds n_test // 2 reviews of each class, drawn at random (with `seed`) from
        test_pool;
      - "train" holds n_train // 2 reviews of each class drawn at random from train_pool, none
        of them with a text that is also in "test" (else the test score counts memory);
      - the same seed gives the same sets, and every text keeps its own label.
    Useful: ds.shuffle(seed=seed), ds.filter(lambda row: ...), ds.select(range(k)),
    datasets.concatenate_datasets([a, b]). About ten lines.
    """
    # TODO: your code here
    raise NotImplementedError("part 1 (prepare_reviews) is yours to write")


# ==============================================================================================
# EXERCISE PART 2 of 5: the metric
# Taught in distilbert_finetuning.py 3.3.3 (accuracy and macro-F1; evaluation.py computes them).
# ==============================================================================================
def score_predictions(predictions: list[int], labels: list[int]) -> dict:
    """Accuracy and macro-F1 of predicted classes against the true labels, floats in [0, 1].

    accuracy: the share of predictions equal to their label.
    macro-F1: the mean, over every class found in labels or predictions, of that class's
    F1 = 2 * precision * recall / (precision + recall), with precision = TP / (TP + FP) and
    recall = TP / (TP + FN); a class with no true positive has F1 0. Unlike accuracy, it drops
    when a model answers one class for everything.
    Write it from these definitions (coursekit.metrics gives the same numbers, to compare).
    Return {"accuracy": ..., "macro_f1": ...}.
    """
    # TODO: your code here
    raise NotImplementedError("part 2 (score_predictions) is yours to write")


# ==============================================================================================
# EXERCISE PART 3 of 5: the LoRA config
# Taught in finetune_strategies_overview.py 3.1.2 (LoRA) and 3_FineTuning/models.py (which
# layers each model family calls what: ARCHITECTURES).
# ==============================================================================================
def make_lora_config(model, rank: int):
    """A peft.LoraConfig that adapts `model`, a DistilBERT sentiment classifier.

    - task_type: sequence classification (peft.TaskType.SEQ_CLS);
    - r = rank and lora_alpha = 2 * rank (the update B @ A is scaled by alpha / r);
    - target_modules: the attention's query and value projections. DistilBERT does not call
      them "query" and "value": print(model) shows the names (or models.ARCHITECTURES);
    - modules_to_save: the classification head, pre_classifier and classifier, trained in full
      beside the adapters (the new domain may need a new decision boundary). With SEQ_CLS
      peft adds layers named *classifier by itself; naming them says what you meant.
    The project then calls peft.get_peft_model(model, your_config).
    """
    # TODO: your code here
    raise NotImplementedError("part 3 (make_lora_config) is yours to write")


# ==============================================================================================
# EXERCISE PART 4 of 5: fine-tune with the Trainer
# Taught in distilbert_finetuning.py 3.3.2 (TrainingArguments) and 3.3.3 (Trainer).
# ==============================================================================================
def train_with_lora(model, train_set, tokenizer, plan: dict):
    """Train `model` (already wrapped by peft) on `train_set`; return the Trainer.

    train_set: a tokenized Dataset (input_ids, attention_mask, label), texts of any length.
    plan: the settings to use: steps, learning_rate, batch_size, warmup (a share of the steps,
    for warmup_steps), seed, output_dir, use_cpu, bf16, save_steps, resume_from_checkpoint.
    Build TrainingArguments from the plan (report_to="none"; a checkpoint every
    plan["save_steps"] steps: save_strategy="steps", and save_total_limit=1 keeps only the
    last), a Trainer whose data_collator pads each batch (DataCollatorWithPadding(tokenizer))
    and processing_class is the tokenizer, then call
    .train(resume_from_checkpoint=plan["resume_from_checkpoint"]) (None: a fresh start; after
    a crash, --resume puts the last checkpoint there) and return the trainer.
    """
    # TODO: your code here
    raise NotImplementedError("part 4 (train_with_lora) is yours to write")


# ==============================================================================================
# EXERCISE PART 5 of 5: compare with the baseline
# Taught in distilbert_finetuning.py 3.5 and finetune_strategies_overview.py 3.1.5 (quality
# beside parameters and time).
# ==============================================================================================
def compare_with_baseline(baseline: dict, adapted: dict, test_size: int) -> dict:
    """Gains, LoRA's share of the parameters, and whether LoRA really beat the baseline.

    baseline, adapted: {"accuracy", "macro_f1", "trainable", "total", "train_seconds"}
    (trainable and total are parameter counts; the baseline trains nothing).
    Return a dict with
      accuracy_gain, macro_f1_gain: adapted minus baseline;
      trainable_percent: 100 * the adapted model's trainable / total parameters;
      margin: 1 / sqrt(test_size). An accuracy measured on n reviews is uncertain by about
              sqrt(p (1 - p) / n), at most 0.5 / sqrt(n): a gain under two such standard
              errors may be luck (a rule of thumb; 400 reviews: 0.05);
      beats_baseline: True when accuracy_gain is larger than the margin, else False.
    """
    # TODO: your code here
    raise NotImplementedError("part 5 (compare_with_baseline) is yours to write")


# ==============================================================================================
# The project (given). It calls your five parts in the order a real project needs them.
# ==============================================================================================
def parse_args(argv):
    parser = cli.make_parser(__doc__, script=__file__)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--check", action="store_true",
                       help="check your five parts, then run the project with them if all "
                            "pass (what a run does without --solution)")
    which.add_argument("--solution", action="store_true",
                       help="the same with the reference solution instead of your parts")
    parser.add_argument("--max-steps", type=cli.positive_int, default=None,
                        help="training steps (default: " + ", ".join(
                            f"{p} {r['steps']}" for p, r in RECIPES.items()) + ")")
    parser.add_argument("--max-samples", type=cli.positive_int, default=None,
                        help="reviews to train on, also the most to test on (default: " +
                             ", ".join(f"{p} {r['train']:,}/{r['test']:,}"
                                       for p, r in RECIPES.items()) + ")")
    parser.add_argument("--learning-rate", type=cli.positive_float, default=None,
                        help="peak learning rate (default: " + ", ".join(
                            f"{p} {r['learning_rate']:g}" for p, r in RECIPES.items()) + ")")
    parser.add_argument("--lora-rank", type=cli.positive_int, default=LORA_RANK,
                        help="LoRA's rank r (default: %(default)s)")
    checkpoints.add_flags(parser, interrupt=False)  # --resume after a crash or Ctrl-C
    return parser.parse_args(argv)


def load_sentiment_model(args, device) -> dict:
    """The baseline: a sentiment classifier fine-tuned on SST-2, and its recipe."""
    import models
    from coursekit import hub, report
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    choice = hub.resolve_model("sentiment", args.profile, args.model)
    config = AutoConfig.from_pretrained(choice.path)  # refuse a wrong model before loading it
    labels = [config.id2label[i] for i in range(config.num_labels)]
    if len(labels) != 2:  # Yelp polarity and SST-2 both say 0 negative, 1 positive
        raise cli.UsageError(f"model {choice.name!r} has {len(labels)} labels {labels}; this "
                             f"project needs a 2-class sentiment model (0 negative, 1 positive)")
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    with models.quiet_load_report():
        model = AutoModelForSequenceClassification.from_pretrained(choice.path).to(device)
    profile = "tiny" if choice.source == "tiny" else args.profile  # offline fallback: tiny
    recipe = dict(RECIPES[profile])
    recipe["train"] = args.max_samples or recipe["train"]
    recipe["test"] = min(recipe["test"], args.max_samples or recipe["test"])
    report.table("The baseline model", ["what", "value"], [
        ["model", choice.name], ["loaded from", f"{choice.source} ({choice.path})"],
        ["labels", ", ".join(labels)], ["parameters", models.parameter_report(model)["total"]]])
    return {"choice": choice, "model": model, "tokenizer": tokenizer, "profile": profile,
            "recipe": recipe, "labels": labels}


# ---------------------------------------------------------------- 4.1.1 data
def load_pools(args, setup: dict) -> dict:
    """Random pools of new-domain reviews, POOL_FACTOR times the rows kept, from each split."""
    from coursekit import hub

    def pool(split: str, n: int):
        if setup["profile"] == "tiny":  # synthetic hotel reviews, generated per split
            return hub.load_dataset_for("sentiment-heldout", "tiny", split, n, args.seed)
        # The first rows of a Hub split may be sorted: load it whole, then sample at random.
        rows = hub.load_dataset_for("sentiment-heldout", setup["profile"], split, None,
                                    args.seed)
        return rows.shuffle(seed=args.seed).select(range(min(n, len(rows))))

    recipe = setup["recipe"]
    pools = {"train": pool("train", POOL_FACTOR * recipe["train"]),
             "test": pool("test", POOL_FACTOR * recipe["test"])}
    for name, rows in pools.items():
        missing = {"text", "label"} - set(rows.column_names)
        if missing or len(rows) == 0:
            raise cli.UsageError(f"the new domain's {name} split has {len(rows)} rows and "
                                 f"columns {rows.column_names}; expected text and label")
    check_enough(pools, recipe)
    return pools


def check_enough(pools: dict, recipe: dict) -> None:
    """Fail in words before part 1 runs when a class has too few reviews to pick from."""
    test_texts = set(pools["test"]["text"])
    for name, need in (("test", recipe["test"] // 2), ("train", recipe["train"] // 2)):
        rows = pools[name]
        for label in (0, 1):  # training reviews that repeat a test text do not count
            have = sum(y == label and (name == "test" or text not in test_texts)
                       for text, y in zip(rows["text"], rows["label"]))
            if have < need:
                raise cli.UsageError(f"the new domain's {name} split has {have} usable reviews "
                                     f"of class {label}, {need} are needed: lower --max-samples")


def prepare_new_domain(args, setup: dict, parts) -> dict:
    """4.1.1 Your part 1 picks the reviews; then we tokenize them (no padding: the collator)."""
    from coursekit import report

    recipe, tokenizer = setup["recipe"], setup["tokenizer"]
    pools = load_pools(args, setup)
    data = parts.prepare_reviews(pools["train"], pools["test"], recipe["train"],
                                 recipe["test"], args.seed)  # part 1
    test_texts = set(data["test"]["text"])
    repeats = sum(text in test_texts for text in pools["train"]["text"])
    lengths = [len(ids) for ids in  # verbose=False: no warning for reviews over 512 tokens
               tokenizer(list(data["train"]["text"]), verbose=False)["input_ids"]]
    report.table("The new domain's reviews (part 1)", ["split", "pool", "kept", "negative",
                 "positive", "example"],
                 [[name, len(pools[name]), len(data[name]), list(data[name]["label"]).count(0),
                   list(data[name]["label"]).count(1), data[name]["text"][0][:60]]
                  for name in ("train", "test")])
    cut = sum(n > recipe["max_length"] for n in lengths)
    report.note(f"{repeats} training-pool reviews repeat a test text (dropped by part 1); "
                f"{cut} of {len(lengths)} training reviews are longer than "
                f"{recipe['max_length']} tokens and are cut there")
    data["encoded"] = data["train"].map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=recipe["max_length"]),
        batched=True, remove_columns=["text"])
    data["pool_repeats"] = repeats
    return data


# ---------------------------------------------------------------- 4.1.2 the baseline
def evaluate(model, setup: dict, test, parts) -> tuple[dict, list[int]]:
    """Predict every test review (timed), score the predictions with your part 2."""
    import models
    from evaluation import predict_labels

    texts, labels = list(test["text"]), list(test["label"])
    start = time.perf_counter()
    predictions = predict_labels(model, setup["tokenizer"], texts,
                                 max_length=setup["recipe"]["max_length"])
    seconds = time.perf_counter() - start
    scores = parts.score_predictions(predictions, labels)  # part 2
    params = models.parameter_report(model)
    return {"accuracy": float(scores["accuracy"]), "macro_f1": float(scores["macro_f1"]),
            "trainable": params["trainable"], "total": params["total"],
            "predict_seconds": round(seconds, 2)}, predictions


# ---------------------------------------------------------------- 4.1.3 LoRA
def add_lora(args, setup: dict, parts):
    """Your part 3's config, checked against the model's layers, applied with peft."""
    import models
    from coursekit import device as devices
    from coursekit import report
    from peft import get_peft_model

    model = setup["model"]
    config = parts.make_lora_config(model, args.lora_rank)  # part 3
    targets = sorted(config.target_modules) if not isinstance(config.target_modules, str) \
        else [config.target_modules]
    try:  # a name that matches no layer: say so now, in words
        models.check_target_modules(model, targets)
    except ValueError as err:
        raise cli.UsageError(f"LoRA: {err}") from None
    devices.seed_everything(args.seed)  # peft draws LoRA's A matrices from the global RNG
    model = get_peft_model(model, config)
    params = models.parameter_report(model)  # tiny: 8,386 of 117,124 (7.16 %)
    full = sorted({n.split(".modules_to_save")[0].rsplit(".", 1)[-1]  # the head's layers
                   for n, p in model.named_parameters() if ".modules_to_save." in n})
    report.table("LoRA (part 3)", ["what", "value"], [
        ["adapted layers", ", ".join(targets)], ["rank r, alpha", f"{config.r}, "
                                                                 f"{config.lora_alpha}"],
        ["trained in full", ", ".join(full) or "-"],
        ["trainable parameters", f"{params['trainable']:,} of {params['total']:,} "
                                 f"({params['percent']:.2f} %)"]])
    return model, {"targets": targets, "rank": config.r, "alpha": config.lora_alpha, **params}


# ---------------------------------------------------------------- 4.1.4 training
def fine_tune(args, device, setup: dict, model, data: dict, parts) -> dict:
    """4.1.4 Your part 4 trains; we time it and keep the loss curve it logged."""
    from coursekit import device as devices
    from coursekit import report

    recipe = setup["recipe"]
    plan = {"steps": args.max_steps or recipe["steps"],
            "learning_rate": args.learning_rate or recipe["learning_rate"],
            "batch_size": BATCH_SIZE, "warmup": WARMUP, "seed": args.seed,
            "output_dir": str(checkpoints.folder(args, "lora")), "use_cpu": device.type == "cpu",
            "bf16": bool(devices.trainer_precision(device))}
    plan["save_steps"] = max(1, plan["steps"] // 4)  # --resume continues from the last one
    plan["resume_from_checkpoint"] = checkpoints.resume_from(args, plan["output_dir"], "lora")
    report.table("About to run", ["setting", "value"], [
        ["training reviews", len(data["encoded"])], ["steps x batch",
                                                     f"{plan['steps']} x {BATCH_SIZE}"],
        ["learning rate", f"{plan['learning_rate']:g} (warm-up {WARMUP:.0%})"],
        ["max length", recipe["max_length"]], ["device", device.type],
        ["precision", "bf16" if plan["bf16"] else "fp32"]])
    devices.seed_everything(args.seed)
    start = time.perf_counter()
    trainer = parts.train_with_lora(model, data["encoded"], setup["tokenizer"], plan)  # part 4
    seconds = time.perf_counter() - start
    devices.plain_forward(trainer.model)  # after bf16 training: fp32 predictions again
    losses = [round(h["loss"], 4) for h in trainer.state.log_history if "loss" in h]
    report.note(f"{trainer.state.global_step} steps in {seconds:.1f} s; training loss "
                + (f"{losses[0]} -> {losses[-1]}" if losses else "not logged"))
    return {**{k: v for k, v in plan.items() if k not in ("output_dir", "resume_from_checkpoint")},
            "resumed": plan["resume_from_checkpoint"] is not None,
            "train_seconds": round(seconds, 2), "losses": losses}


# ---------------------------------------------------------------- 4.2 results
def present_results(args, runs: dict, test_size: int, parts) -> dict:
    """4.2 One table (quality, parameters, time), the verdict, and a plot."""
    from coursekit import report
    from evaluation import plot_grouped_bars

    comparison = parts.compare_with_baseline(runs["baseline"], runs["lora"], test_size)  # part 5
    report.table("Baseline vs LoRA on the new domain's test reviews (part 5)",
                 ["model", "accuracy", "macro-F1", "trainable params", "trainable %",
                  "train time s", "predict time s"],
                 [[name, run["accuracy"], run["macro_f1"], run["trainable"],
                   f"{100 * run['trainable'] / run['total']:.2f}", run["train_seconds"],
                   run["predict_seconds"]] for name, run in
                  (("baseline: SST-2 model as is", runs["baseline"]),
                   ("+ LoRA, new domain", runs["lora"]))])
    verdict = "beats" if comparison["beats_baseline"] else "does NOT beat"
    report.note(f"LoRA {verdict} the baseline: accuracy {comparison['accuracy_gain']:+.3f} "
                f"(margin of noise on {test_size} reviews: {comparison['margin']:.3f}),"
                f" macro-F1 {comparison['macro_f1_gain']:+.3f}, training "
                f"{comparison['trainable_percent']:.2f} % of the parameters")
    plot_grouped_bars({"accuracy": [runs["baseline"]["accuracy"], runs["lora"]["accuracy"]],
                       "macro-F1": [runs["baseline"]["macro_f1"], runs["lora"]["macro_f1"]]},
                      ["baseline", "LoRA"], args.output_dir, "final_comparison",
                      "The SST-2 model on a new domain: as it is, and adapted with LoRA",
                      "score on the test reviews", chance=[0.5, 0.5])  # two classes
    return {k: v.item() if hasattr(v, "item") else v for k, v in comparison.items()}


def changed_answers(setup: dict, test, said: dict) -> list[dict]:
    """4.2 Model behaviour: test reviews whose answer LoRA changed, right and wrong ones."""
    from coursekit import report

    names = setup["labels"]
    changed = [{"text": text, "truth": names[y], "baseline": names[b], "lora": names[a]}
               for text, y, b, a in zip(test["text"], test["label"], said["baseline"],
                                        said["lora"]) if a != b]
    fixed = [row for row in changed if row["lora"] == row["truth"]]
    broken = [row for row in changed if row["lora"] != row["truth"]]
    shown = fixed[:EXAMPLES_SHOWN - min(1, len(broken))] + broken[:1]
    report.table(f"Answers LoRA changed: {len(fixed)} fixed, {len(broken)} broken",
                 ["review", "truth", "baseline", "LoRA"],
                 [[row["text"][:70], row["truth"], row["baseline"], row["lora"]]
                  for row in shown])
    return shown


def save_adapter(args, model, base_parameters: int) -> float:
    """What you would ship: the LoRA weights and the head, not the whole model (MB)."""
    from coursekit import atomic, report
    from evaluation import folder_mb

    folder = args.output_dir / "adapter"
    # adapter_model.safetensors + adapter_config.json; the embeddings were not trained, so
    # peft need not look up the base model's vocabulary size (a Hub call) to decide
    atomic.save_pretrained(folder, model, save_embedding_layers=False)  # whole or none
    size = folder_mb(folder)
    report.note(f"adapter saved to {folder}: {size:.2f} MB (the whole model in fp32: "
                f"{4 * base_parameters / 2**20:.2f} MB)")
    return round(size, 3)


def run_project(args, device, parts) -> dict:
    """The project, top to bottom, with the given five parts."""
    from coursekit import report

    report.section("4.1.1", "The model, and a balanced, leakage-free set of new reviews (part 1)")
    setup = load_sentiment_model(args, device)
    data = prepare_new_domain(args, setup, parts)
    report.section("4.1.2", "The baseline: the SST-2 model as it is, on the new domain (part 2)")
    runs, said = {}, {}  # scores and the predicted labels, per model
    runs["baseline"], said["baseline"] = evaluate(setup["model"], setup, data["test"], parts)
    runs["baseline"].update(trainable=0, train_seconds=0.0)  # nothing trained
    report.note(f"baseline accuracy {runs['baseline']['accuracy']:.3f}, macro-F1 "
                f"{runs['baseline']['macro_f1']:.3f} on {len(data['test'])} test reviews")
    report.section("4.1.3", "Add LoRA (part 3)")
    model, lora = add_lora(args, setup, parts)
    report.section("4.1.4", "Fine-tune on the new domain (part 4)")
    training = fine_tune(args, device, setup, model, data, parts)
    runs["lora"], said["lora"] = evaluate(model, setup, data["test"], parts)
    runs["lora"]["train_seconds"] = training["train_seconds"]
    report.section("4.2", "Results: quality, parameters, time, and the verdict (part 5)")
    comparison = present_results(args, runs, len(data["test"]), parts)
    examples = changed_answers(setup, data["test"], said)
    return {"model": {"name": setup["choice"].name, "source": setup["choice"].source},
            "data": {"train": len(data["train"]), "test": len(data["test"]),
                     "pool_repeats": data["pool_repeats"]},
            "lora": lora, "training": training,
            "adapter_mb": save_adapter(args, model, lora["total"] - lora["trainable"]),
            "baseline": runs["baseline"], "adapted": runs["lora"],
            "comparison": comparison, "examples": examples}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    with cli.user_errors(resume_hint=True):
        device = cli.start(args, "4.1, 4.2 Final project: adapt a sentiment model with LoRA")
        checkpoints.record_run(args, {  # --resume checks that the flags match
            "profile": args.profile, "model": args.model, "seed": args.seed,
            "solution": args.solution, "max_steps": args.max_steps, "max_samples":
            args.max_samples, "learning_rate": args.learning_rate, "lora_rank": args.lora_rank})
        import exercise_checker
        from coursekit import report

        parts = exercise_checker.load_solution() if args.solution else sys.modules[__name__]
        whose = "the reference solution" if args.solution else "your parts"
        report.section("4.1", f"Check {whose} (exercise_checker.py)")
        checked = exercise_checker.grade(parts)
        failed = [row["part"] for row in checked if not row["passed"]]
        results = {"profile": args.profile, "mode": "solution" if args.solution else "check",
                   "seed": args.seed, "check": checked, "passed": not failed}
        if failed:
            report.note(f"part(s) {', '.join(map(str, failed))} to do: follow the hints, run "
                        f"again; the project runs once all five pass")
        else:
            results.update(run_project(args, device, parts))
            report.note("project done: compare your table with your neighbours' (same seed, "
                        "same numbers)" if results["comparison"]["beats_baseline"] else
                        "all parts pass, but the gain is within the noise: try more steps, "
                        "another learning rate or rank (4.1), or more test reviews")
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
