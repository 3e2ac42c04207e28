"""Section 3's evaluation: per-task metrics, an efficiency record per run, tables and plots.

    preds = predict_labels(model, tokenizer, texts)
    scores = classification_scores(preds, labels)    # {'accuracy': ..., 'macro_f1': ...}
    with measure_training(device) as usage:          # wall time and peak memory of a run
        trainer.train()
    record = efficiency_record("lora", model, usage, saved_folder, scores["accuracy"])
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from coursekit import metrics, report

BYTES_FP32 = 4
ADAM_STATES = 2  # AdamW keeps two running averages per trainable weight


# ---------------------------------------------------------------- quality
def text_and_labels(dataset) -> tuple[list[str], list[int]]:
    """The texts and labels of a classification set (SST-2 calls the text "sentence")."""
    column = "sentence" if "sentence" in dataset.column_names else "text"
    return list(dataset[column]), list(dataset["label"])


def predict_labels(model, tokenizer, texts: list[str], batch_size: int = 64,
                   task: int | None = None, max_length: int = 128) -> list[int]:
    """The predicted class of each text (argmax of the logits), in batches, without gradients."""
    import torch

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    predictions = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt").to(device)
            inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
            if task is not None:  # a multi-task model: which head to use
                inputs["task"] = torch.full((len(batch["input_ids"]),), task, device=device)
            predictions += model(**inputs).logits.argmax(-1).tolist()
    model.train(was_training)
    return predictions


def classification_scores(predictions: list[int], labels: list[int]) -> dict[str, float]:
    """Accuracy and macro-F1 (each class counts the same, however rare)."""
    return {"accuracy": round(metrics.accuracy(predictions, labels), 4),
            "macro_f1": round(metrics.f1(predictions, labels, average="macro"), 4)}


def confusion_matrix(predictions: list[int], labels: list[int], num_labels: int) -> list[list]:
    """Counts of (true class, predicted class): rows are the truth, columns the prediction."""
    matrix = [[0] * num_labels for _ in range(num_labels)]
    for truth, guess in zip(labels, predictions):
        matrix[truth][guess] += 1
    return matrix


# ---------------------------------------------------------------- efficiency
@dataclass
class EfficiencyRecord:
    """What one fine-tuning run cost, next to what it achieved."""

    method: str
    trainable: int  # parameters updated by the optimizer
    total: int  # parameters in the model (frozen ones included)
    percent: float  # trainable / total, in percent
    state_mb: float  # weights + gradients + AdamW states, computed from the counts
    peak_mb: float | None  # measured peak GPU memory (None on a CPU)
    seconds: float  # wall time of training
    disk_mb: float  # what has to be saved and shipped for this task
    quality: float  # the task's metric (accuracy)

    def row(self) -> list:
        peak = "n/a (CPU)" if self.peak_mb is None else round(self.peak_mb, 1)
        return [self.method, self.trainable, f"{self.percent:.2f}%", round(self.state_mb, 2),
                peak, round(self.seconds, 1), round(self.disk_mb, 3), round(self.quality, 3)]


RECORD_COLUMNS = ["method", "trainable params", "trainable %", "train state MB",
                  "peak GPU MB", "time s", "saved MB", "accuracy"]


def training_state_mb(total: int, trainable: int) -> float:
    """Memory for weights (all), gradients and AdamW's two states (trainable only), fp32.

    Activations come on top and depend on batch size and length; this is the part that PEFT
    shrinks: 16 bytes per trained weight against 4 per frozen one.
    """
    weights = total * BYTES_FP32
    gradients = trainable * BYTES_FP32
    optimizer = trainable * BYTES_FP32 * ADAM_STATES
    return (weights + gradients + optimizer) / 2**20


@dataclass
class Usage:
    seconds: float = 0.0
    peak_mb: float | None = None


@contextlib.contextmanager
def measure_training(device):
    """Time the block; on a CUDA GPU also record its peak memory."""
    import torch

    usage = Usage()
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    yield usage
    if cuda:
        torch.cuda.synchronize(device)
        usage.peak_mb = torch.cuda.max_memory_allocated(device) / 2**20
    usage.seconds = time.perf_counter() - start


def folder_mb(folder) -> float:
    """Size of the files in a folder (what an upload of it would weigh), in MB."""
    files = [f for f in Path(folder).rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files) / 2**20


def efficiency_record(method: str, params: dict, usage: Usage, saved_folder,
                      quality: float) -> EfficiencyRecord:
    """Put one run's numbers together (params comes from models.parameter_report)."""
    return EfficiencyRecord(
        method=method, trainable=params["trainable"], total=params["total"],
        percent=params["percent"], state_mb=training_state_mb(params["total"],
                                                              params["trainable"]),
        peak_mb=usage.peak_mb, seconds=usage.seconds, disk_mb=folder_mb(saved_folder),
        quality=quality)


# ---------------------------------------------------------------- tables and plots
def print_records(records: list[EfficiencyRecord], heading: str) -> list[dict]:
    """Print the comparison table; return the records as dicts (for results.json)."""
    report.table(heading, RECORD_COLUMNS, [r.row() for r in records])
    return [asdict(r) for r in records]


def plot_efficiency(records: list[EfficiencyRecord], output_dir, name: str,
                    baseline: float | None = None) -> Path:
    """Quality against trainable parameters (log scale): the PEFT trade-off in one picture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for r in records:
        ax.scatter(r.trainable, r.quality, s=60)
        ax.annotate(r.method, (r.trainable, r.quality), textcoords="offset points",
                    xytext=(6, 4), fontsize=9)
    if baseline is not None:
        ax.axhline(baseline, color="grey", linestyle="--", label="untrained baseline")
        ax.legend(loc="lower right")
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters (log scale)")
    ax.set_ylabel("accuracy")
    ax.set_title("Quality against parameters trained")
    return report.save_figure(fig, output_dir, name)


def plot_confusion(matrix: list[list[int]], label_names: list[str], output_dir, name: str,
                   heading: str) -> Path:
    """A confusion matrix as a heat map with the counts written in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = len(label_names)
    fig, ax = plt.subplots(figsize=(1.2 * size + 2, 1.1 * size + 1.5))
    ax.imshow(matrix, cmap="Blues")
    top = max(max(row) for row in matrix) or 1
    for i in range(size):
        for j in range(size):  # white on the dark cells, black on the light ones
            ax.text(j, i, str(matrix[i][j]), ha="center", va="center", fontsize=10,
                    color="white" if matrix[i][j] > top / 2 else "black")
    ax.set_xticks(range(size), label_names, rotation=30)
    ax.set_yticks(range(size), label_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(heading)
    return report.save_figure(fig, output_dir, name)


def steps_to_reach(history: list[dict], task: str, level: float, run: str = "") -> int | None:
    """The first training step at which `task`'s validation accuracy reached `level`."""
    for row in history:
        if row.get("run", "") == run and row[task] >= level:
            return row["step"]
    return None


def plot_task_curves(history: list[dict], output_dir, name: str, heading: str,
                     chance: dict[str, float]) -> Path:
    """Validation accuracy during training: one panel per task, one line per run, and chance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [k for k in history[0] if k not in ("step", "run")]
    runs = list(dict.fromkeys(row.get("run", "") for row in history))  # in order of appearance
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), sharey=True,
                             squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for run in runs:
            rows = [row for row in history if row.get("run", "") == run]
            ax.plot([r["step"] for r in rows], [r[task] for r in rows], marker="o",
                    markersize=3, label=run or task)
        ax.axhline(chance[task], color="grey", linestyle="--", linewidth=1,
                   label=f"chance ({chance[task]:.2f})")
        ax.set_title(task)
        ax.set_xlabel("training step")
        ax.set_ylim(0, 1.02)
    axes[0][0].set_ylabel("validation accuracy")
    axes[0][-1].legend(fontsize=8, loc="lower right")
    fig.suptitle(heading)
    return report.save_figure(fig, output_dir, name)


def plot_grouped_bars(scores: dict[str, list[float]], series: list[str], output_dir, name: str,
                      heading: str, ylabel: str, chance: list[float] | None = None) -> Path:
    """One group of bars per key of `scores`, one bar per series (e.g. per model).

    `chance`, one value per group, draws a dashed line across that group: the score of guessing.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    width = 0.8 / len(series)
    for i, label in enumerate(series):
        bars = ax.bar([j + i * width for j in range(len(scores))],
                      [values[i] for values in scores.values()], width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    for j, level in enumerate(chance or []):
        ax.hlines(level, j - width / 2 - 0.03, j + width * (len(series) - 0.5) + 0.03,
                  colors="grey", linestyles="--", linewidth=1.2,
                  label="chance" if j == 0 else None)
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(scores))],
                  list(scores))
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.08)  # scores run to 1; the legend sits beside the plot
    ax.set_title(heading)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return report.save_figure(fig, output_dir, name)
