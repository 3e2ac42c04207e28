"""Device and precision: CUDA (bf16 where supported), Apple MPS, or the CPU in fp32; and the
few facts a script needs when `accelerate launch` runs it as several processes."""

from __future__ import annotations

import os

from coursekit.errors import UsageError


def pick_device(requested: str = "auto"):
    """The torch device to use: `auto` takes CUDA, then MPS, then the CPU."""
    import torch

    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if requested == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if requested == "cuda" and not cuda:
        raise UsageError("--device cuda: no CUDA GPU is visible to PyTorch on this machine "
                         "(see TECHNICAL_SETUP.md); use --device auto or cpu")
    if requested == "mps" and not mps:
        raise UsageError("--device mps: Apple's MPS backend is not available here; "
                         "use --device auto or cpu")
    if requested not in ("cpu", "cuda", "mps"):
        raise UsageError(f"unknown device {requested!r}; choose auto, cpu, cuda or mps")
    return torch.device(requested)


def one_thread_for_tiny_models(profile: str, device) -> None:
    """The tiny profile on a CPU runs on one thread: its layers are 64 to 128 wide, and splitting
    such small products across threads costs more in synchronisation than it saves. Measured on
    a shared 2-core machine: the journey demo's 150 LoRA steps took 26 s on 2 threads and 4.9 s
    on one; the final exercise's 60 steps 22.5 s and 1.7 s, with the same losses."""
    import torch

    if profile == "tiny" and device.type == "cpu":
        torch.set_num_threads(1)


def cpu_has_bf16() -> bool:
    """Does this CPU compute in bf16 (AVX512-BF16 or AMX)? Without, autocast emulates it."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu, private
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def pick_dtype(device):
    """bf16 on a GPU that supports it, else fp32. Never fp16 for T5: it overflows to NaN."""
    import torch

    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def trainer_precision(device) -> dict:
    """The TrainingArguments precision flags matching pick_dtype: {'bf16': True} or {}."""
    import torch

    return {"bf16": True} if pick_dtype(device) == torch.bfloat16 else {}


def plain_forward(model):
    """Undo what bf16 training leaves behind: the Trainer (through Accelerate) wraps
    `model.forward` in autocast, and the wrapper stays after training. Left alone, every later
    forward pass on the GPU runs in bf16: a saved-and-reloaded model then differs from the one
    in memory by bf16 rounding (a probability gap of 3e-3 in the journey on an H200, where fp32
    gives 0). This restores the fp32 forward; a model that was not wrapped is left as it is."""
    from accelerate.utils import extract_model_from_parallel

    return extract_model_from_parallel(model, keep_fp32_wrapper=False)


def describe(device) -> str:
    """A short description such as 'cpu (2 threads, fp32)' or 'cuda:0 NVIDIA H100 (bf16)'."""
    import torch

    precision = str(pick_dtype(device)).replace("torch.", "").replace("float32", "fp32")
    precision = precision.replace("bfloat16", "bf16")
    if device.type == "cuda":
        return f"cuda {torch.cuda.get_device_name(device)} ({precision})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads, {precision})"
    return f"{device.type} ({precision})"


def peak_tensor_bytes(device, work) -> int | None:
    """The most tensor bytes allocated at once during work(), above what was allocated before.

    CUDA keeps the count itself. On a CPU we add up the PyTorch profiler's allocation events
    (+ allocation, - free) in time order; its C++ side chatters on stderr, so that is muted.
    Apple MPS: not measured (None).
    """
    import sys

    import torch
    from torch.profiler import ProfilerActivity, profile

    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        work()
        torch.cuda.synchronize(device)  # GPU work is asynchronous: wait for it
        return torch.cuda.max_memory_allocated(device) - before
    if device.type != "cpu":
        work()
        return None
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            work()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    running = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        running += event.nbytes()
        peak = max(peak, running)
    return peak


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all GPUs too) so students' numbers match the instructor's."""
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS


# ---------------------------------------------------------------- several processes
# `accelerate launch --num_processes N script.py` (or torchrun) starts the script N times, one
# process per GPU (or CPU share), and sets RANK and WORLD_SIZE. The Trainer sees them and
# trains with DistributedDataParallel; the script itself only has to let one process speak.
def process_count() -> int:
    """How many processes run this script together (1 unless `accelerate launch` started it)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """The process that prints and writes: rank 0 (the only one in a plain run)."""
    return int(os.environ.get("RANK", "0")) == 0


def wait_for_everyone() -> None:
    """A barrier: every process waits here until all arrive (e.g. until rank 0 has written a
    folder that the others read). Nothing to wait for in a one-process run."""
    if process_count() > 1:
        from accelerate import PartialState

        PartialState().wait_for_everyone()


def trainer_distribution() -> dict:
    """TrainingArguments that keep each step's batch the same however many processes train.

    With `split_batches`, a batch of 16 is split into 8 + 8 on 2 processes instead of each
    process taking 16 of its own: the model sees the same examples per step as in a one-process
    run (the gradients are averaged across processes), so the lesson's numbers hold, and the
    per-process memory shrinks. To go faster with more GPUs, raise the batch size instead.

    `average_tokens_across_devices` off: with it, the Trainer multiplies each process's loss by
    the number of processes whenever the model's forward takes **kwargs (peft models do),
    expecting the model to have divided by the tokens of all processes. A classifier's loss is
    a plain mean over its own examples, so on 2 processes the loss and the gradients doubled
    (journey demo: a first logged loss of 1.389 instead of 0.694). Off, each process's mean
    is averaged by DistributedDataParallel: the mean over the whole batch.
    """
    return {"accelerator_config": {"split_batches": True},
            "average_tokens_across_devices": False}
