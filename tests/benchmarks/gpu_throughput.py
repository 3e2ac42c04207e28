"""Training throughput of real-size models on GPUs: one process, or several under accelerate.

A benchmark, not a test (pytest does not collect it): it measures what the course states about
speed on GPUs, in samples per second and peak memory per GPU. The models are the course's, at
real size with random weights (built from coursekit.model_facts, no download), trained in bf16
by the Trainer on random token ids of a fixed length, so that only the arithmetic is measured.
Each process keeps its batch (weak scaling): on N GPUs a step trains N times the examples.

    python tests/benchmarks/gpu_throughput.py --model distilbert --batch-size 32
    accelerate launch --config_file Day3/accelerate_configs/ddp.yaml --num_processes 2 \\
        tests/benchmarks/gpu_throughput.py --model distilbert --batch-size 32
Prints one line of JSON (the main process) and appends it to --output if given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Day3"))

MODELS = {"distilbert": "distilbert/distilbert-base-uncased", "flan-t5-base": "google/flan-t5-base"}


def build(name: str):
    import torch
    from coursekit import model_facts
    from transformers import AutoModelForSeq2SeqLM, AutoModelForSequenceClassification

    config = model_facts.config_for(MODELS[name])
    torch.manual_seed(0)
    if name == "distilbert":
        config.num_labels = 2
        return AutoModelForSequenceClassification.from_config(config)
    return AutoModelForSeq2SeqLM.from_config(config)


def random_data(name: str, rows: int, length: int, vocab: int) -> list[dict]:
    """Random token ids of one length (a list of examples is a Dataset to the Trainer)."""
    import torch

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab, (rows, length), generator=g)
    if name == "distilbert":
        labels = torch.randint(0, 2, (rows,), generator=g)
    else:  # targets a quarter as long as the inputs, as a summary would be
        labels = torch.randint(5, vocab, (rows, length // 4), generator=g)
    return [{"input_ids": i, "attention_mask": torch.ones_like(i), "labels": y}
            for i, y in zip(ids, labels)]


def main(argv=None) -> dict:
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=list(MODELS), default="distilbert")
    parser.add_argument("--batch-size", type=int, default=32, help="per process (per GPU)")
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup-steps", type=int, default=10, help="not timed")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)

    model = build(args.model)

    class Clock(TrainerCallback):  # times the steps after the warm-up (compilation, allocator)
        start = end = None

        def on_step_end(self, a, state, control, **kwargs):
            if state.global_step in (args.warmup_steps, args.steps):
                torch.cuda.synchronize()
                if state.global_step == args.warmup_steps:
                    self.start = time.perf_counter()
                else:
                    self.end = time.perf_counter()

    clock = Clock()
    training = TrainingArguments(
        output_dir="/tmp/gpu-throughput", max_steps=args.steps,
        per_device_train_batch_size=args.batch_size, learning_rate=1e-4, bf16=True,
        logging_strategy="no", save_strategy="no", report_to="none", disable_tqdm=True,
        dataloader_num_workers=2, seed=0)
    world = training.world_size
    rows = args.batch_size * world * (args.steps + 1)
    trainer = Trainer(model=model, args=training, callbacks=[clock],
                      train_dataset=random_data(args.model, rows, args.seq_len,
                                                model.config.vocab_size))
    torch.cuda.reset_peak_memory_stats()
    trainer.train()
    timed = args.steps - args.warmup_steps
    seconds = clock.end - clock.start
    peak = torch.cuda.max_memory_allocated() / 2**30
    peaks = [peak]
    if world > 1:  # every GPU's peak, gathered to the main process
        peaks = trainer.accelerator.gather(torch.tensor([peak], device="cuda")).tolist()
    result = {"model": MODELS[args.model], "gpus": world, "gpu": torch.cuda.get_device_name(),
              "batch_per_gpu": args.batch_size, "seq_len": args.seq_len, "precision": "bf16",
              "timed_steps": timed, "seconds": round(seconds, 3),
              "samples_per_s": round(timed * args.batch_size * world / seconds, 1),
              "peak_gib_per_gpu": [round(p, 2) for p in peaks],
              "torch": torch.__version__}
    if trainer.is_world_process_zero():
        print(json.dumps(result), flush=True)
        if args.output:
            with args.output.open("a") as f:
                f.write(json.dumps(result) + "\n")
    return result


if __name__ == "__main__":
    main()
