"""Section 3's training: a multi-task Trainer, task sampling strategies, a per-task eval callback.

The Hugging Face `Trainer` runs the loop (mixed precision, gradient accumulation, checkpoints,
several GPUs under `accelerate launch`); we change only what multi-task learning needs:

- which task each batch comes from (`TaskBatchSampler`: proportional, temperature or
  round-robin), every batch holding examples of one task, so it goes through one head;
- the loss logged per task as well as in total (`MultiTaskTrainer`);
- every task evaluated during training (`MultiTaskEvalCallback`), to watch transfer and
  interference as they happen.
The Trainer's log dicts stay off the screen through the kit (`coursekit.quiet`, set up by
`cli.start`); a script keeps the progress bar with `disable_tqdm=False`.
"""

from __future__ import annotations

import random
from collections import Counter

import torch
from transformers import Trainer, TrainerCallback
from transformers.trainer_callback import ExportableState

SAMPLING_STRATEGIES = ("proportional", "temperature", "round-robin")


def task_probabilities(sizes: dict[str, int], strategy: str,
                       temperature: float = 2.0) -> dict[str, float]:
    """How often each task is drawn: p ~ n (proportional), p ~ n^(1/T) (temperature).

    Proportional follows the data, so a big task drowns a small one; T = 2 flattens the mix
    (T -> infinity would be uniform); round-robin takes the tasks in turn (uniform).
    """
    if strategy == "proportional":
        weights = dict(sizes)
    elif strategy == "temperature":
        weights = {task: n ** (1 / temperature) for task, n in sizes.items()}
    elif strategy == "round-robin":
        weights = {task: 1.0 for task in sizes}
    else:
        raise ValueError(f"unknown sampling strategy {strategy!r}; "
                         f"choose from {SAMPLING_STRATEGIES}")
    total = sum(weights.values())
    return {task: w / total for task, w in weights.items()}


class TaskBatchSampler(torch.utils.data.Sampler):
    """Yields `num_batches` batches of indices; each batch comes from one task.

    `task_of` gives each row's task name. Within a task the rows are shuffled and reshuffled
    after every pass, so a small task is cycled through, never cut short.
    """

    def __init__(self, task_of: list[str], batch_size: int, num_batches: int,
                 strategy: str = "proportional", temperature: float = 2.0, seed: int = 0):
        self.rows: dict[str, list[int]] = {}
        for index, task in enumerate(task_of):
            self.rows.setdefault(task, []).append(index)
        self.batch_size, self.num_batches = batch_size, num_batches
        self.strategy, self.seed = strategy, seed
        sizes = {task: len(rows) for task, rows in self.rows.items()}
        self.probabilities = task_probabilities(sizes, strategy, temperature)

    def task_sequence(self) -> list[str]:
        """The task of each batch, in order (what the training loop will see)."""
        tasks = list(self.rows)
        if self.strategy == "round-robin":
            return [tasks[i % len(tasks)] for i in range(self.num_batches)]
        rng = random.Random(self.seed)
        weights = [self.probabilities[t] for t in tasks]
        return rng.choices(tasks, weights=weights, k=self.num_batches)

    def __iter__(self):
        rng = random.Random(self.seed + 1)
        queues = {task: [] for task in self.rows}
        for task in self.task_sequence():
            batch = []
            while len(batch) < self.batch_size:
                if not queues[task]:  # start another shuffled pass over this task
                    queues[task] = rng.sample(self.rows[task], len(self.rows[task]))
                batch.append(queues[task].pop())
            yield batch

    def __len__(self) -> int:
        return self.num_batches


class MultiTaskTrainer(Trainer):
    """A Trainer whose batches each come from one task, chosen by a sampling strategy.

    The training dataset has a `task` column (the task's index in `task_names`); the model
    takes `task` as an input and picks that task's head. The loss is logged per task.
    """

    def __init__(self, *args, task_names: list[str], strategy: str = "proportional",
                 temperature: float = 2.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.task_names = task_names
        self.strategy, self.temperature = strategy, temperature
        self.batch_counts: Counter = Counter()  # batches trained per task, for the lesson
        self._loss_sums: Counter = Counter()
        self._loss_steps: Counter = Counter()

    def make_batch_sampler(self) -> TaskBatchSampler:
        args = self.args
        steps = args.max_steps * args.gradient_accumulation_steps
        task_of = [self.task_names[i] for i in self.train_dataset["task"]]
        return TaskBatchSampler(task_of, args.per_device_train_batch_size, steps,
                                self.strategy, self.temperature, seed=args.seed)

    def task_mix(self) -> Counter:
        """Batches per task in the steps trained so far, as the sampler dealt them.

        Unlike `batch_counts`, this counts the steps before a --resume too (the sampler is
        seeded, so it deals the same sequence again).
        """
        steps = self.state.global_step * self.args.gradient_accumulation_steps
        return Counter(self.make_batch_sampler().task_sequence()[:steps])

    def get_train_dataloader(self):
        # Our batch sampler replaces the Trainer's random sampler; accelerate still shards the
        # batches across GPUs and moves them to the device.
        loader = torch.utils.data.DataLoader(
            self.train_dataset, batch_sampler=self.make_batch_sampler(),
            collate_fn=self.data_collator, num_workers=self.args.dataloader_num_workers)
        return self.accelerator.prepare(loader)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        task = self.task_names[int(inputs["task"][0])]
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True,
                                             num_items_in_batch=num_items_in_batch)
        if model.training:
            self.batch_counts[task] += 1
            self._loss_sums[task] += loss.detach().float().item()
            self._loss_steps[task] += 1
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:  # a training log: add each task's mean loss since the last one
            for task, steps in self._loss_steps.items():
                logs[f"loss_{task}"] = round(self._loss_sums[task] / steps, 4)
            self._loss_sums.clear()
            self._loss_steps.clear()
        super().log(logs, start_time)


class MultiTaskEvalCallback(TrainerCallback, ExportableState):
    """Every `every` steps, measure each task's validation accuracy and keep the history.

    `evaluate` is a function model -> {task: accuracy}. Watching all tasks during training
    shows transfer (a task improves while another is trained) and interference (it drops).
    The history travels in each checkpoint (the Trainer saves an ExportableState callback's
    `state()`), so a resumed run keeps the points measured before the interruption.
    """

    def __init__(self, evaluate, every: int, run: str = ""):
        self.evaluate, self.every, self.run = evaluate, every, run
        self.history: list[dict] = []

    def _record(self, step: int, model) -> None:
        scores = self.evaluate(model)
        self.history.append({"run": self.run, "step": step, **scores})

    def state(self) -> dict:
        return {"args": {}, "attributes": {"history": self.history}}

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step == 0:
            self._record(0, model)
        else:  # resumed: the checkpoint's trainer state holds the history so far
            saved = state.stateful_callbacks.get(type(self).__name__, {})
            self.history = [dict(point) for point in saved.get("attributes", {})
                            .get("history", []) if point["step"] <= state.global_step]

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every == 0 or state.global_step == state.max_steps:
            self._record(state.global_step, model)
