"""Device and precision: CUDA (bf16 where supported), Apple MPS, or the CPU in fp32."""

from __future__ import annotations

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


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all GPUs too) so students' numbers match the instructor's."""
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS
