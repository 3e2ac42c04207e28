"""The reference solution of final_exercise.py's five parts. Try the exercise first.

Run it through the exercise, which grades it with the same checker as your code, then runs the
whole project with it:

    python Day3/4_WrapUpAndDemo/final_exercise.py --profile tiny --solution

Each function is one way to meet the spec in the exercise's docstrings; the checker accepts any
other way that gives the same answers.
"""

from __future__ import annotations

import math


# ---------------------------------------------------------------- part 1: the data
def prepare_reviews(train_pool, test_pool, n_train: int, n_test: int, seed: int) -> dict:
    """A balanced test set, then a balanced training set with no test text in it."""
    test = balanced_sample(test_pool, n_test, seed)
    seen = set(test["text"])  # a set: `in` is one lookup, not a scan of the test texts
    clean = train_pool.filter(lambda row: row["text"] not in seen)  # leakage: drop repeats
    return {"train": balanced_sample(clean, n_train, seed), "test": test}


def balanced_sample(rows, n: int, seed: int):
    """n // (number of classes) random rows of each class, shuffled together."""
    from datasets import concatenate_datasets

    rows = rows.shuffle(seed=seed)  # the pool may be sorted: never take its first rows as is
    classes = sorted(set(rows["label"]))
    per_class = n // len(classes)
    picked = [rows.filter(lambda row, c=c: row["label"] == c).select(range(per_class))
              for c in classes]
    return concatenate_datasets(picked).shuffle(seed=seed)  # mix the classes again


# ---------------------------------------------------------------- part 2: the metric
def score_predictions(predictions: list[int], labels: list[int]) -> dict:
    """Accuracy and macro-F1, counted from their definitions."""
    correct = sum(p == y for p, y in zip(predictions, labels))
    f1_per_class = []
    for c in sorted(set(labels) | set(predictions)):
        tp = sum(p == c and y == c for p, y in zip(predictions, labels))
        fp = sum(p == c and y != c for p, y in zip(predictions, labels))
        fn = sum(p != c and y == c for p, y in zip(predictions, labels))
        if tp == 0:  # no hit: precision or recall is 0 (or undefined): F1 is 0
            f1_per_class.append(0.0)
            continue
        precision, recall = tp / (tp + fp), tp / (tp + fn)
        f1_per_class.append(2 * precision * recall / (precision + recall))
    # Same numbers as coursekit.metrics.accuracy and metrics.f1(..., average="macro").
    return {"accuracy": correct / len(labels),
            "macro_f1": sum(f1_per_class) / len(f1_per_class)}


# ---------------------------------------------------------------- part 3: LoRA
def make_lora_config(model, rank: int):
    """LoRA on the attention's query and value projections; the head trains in full."""
    from models import ARCHITECTURES  # 3_FineTuning/models.py: layer names per model family
    from peft import LoraConfig, TaskType

    layers = ARCHITECTURES[model.config.model_type]  # distilbert: q_lin, v_lin; bert: query...
    return LoraConfig(task_type=TaskType.SEQ_CLS, r=rank, lora_alpha=2 * rank,
                      lora_dropout=0.0,  # under one pass over the data: little to overfit
                      target_modules=list(layers.attention),  # ["q_lin", "v_lin"]
                      modules_to_save=list(layers.head))  # ["pre_classifier", "classifier"]


# ---------------------------------------------------------------- part 4: training
def train_with_lora(model, train_set, tokenizer, plan: dict):
    """The Trainer with the plan's settings, batches padded by the collator; returns it."""
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    settings = TrainingArguments(
        output_dir=plan["output_dir"], max_steps=plan["steps"],
        learning_rate=plan["learning_rate"], per_device_train_batch_size=plan["batch_size"],
        warmup_steps=plan["warmup"],  # below 1: a share of the steps
        lr_scheduler_type="linear", seed=plan["seed"],
        logging_steps=max(1, plan["steps"] // 10), report_to="none",
        save_strategy="steps", save_steps=plan["save_steps"], save_total_limit=1,  # checkpoints
        use_cpu=plan["use_cpu"], bf16=plan["bf16"], dataloader_num_workers=0)
    trainer = Trainer(model=model, args=settings, train_dataset=train_set,
                      data_collator=DataCollatorWithPadding(tokenizer),  # pads each batch
                      processing_class=tokenizer)
    trainer.train(resume_from_checkpoint=plan["resume_from_checkpoint"])  # None: from step 0
    return trainer


# ---------------------------------------------------------------- part 5: the comparison
def compare_with_baseline(baseline: dict, adapted: dict, test_size: int) -> dict:
    """Gains, LoRA's share of parameters, the margin of noise, and the verdict."""
    gain = adapted["accuracy"] - baseline["accuracy"]
    margin = 1 / math.sqrt(test_size)  # two standard errors at most: 2 x 0.5 / sqrt(n)
    return {"accuracy_gain": gain,
            "macro_f1_gain": adapted["macro_f1"] - baseline["macro_f1"],
            "trainable_percent": 100 * adapted["trainable"] / adapted["total"],
            "margin": margin,
            "beats_baseline": gain > margin}
