"""Nothing half-written: every output file and model folder appears whole, or not at all.

A run that is interrupted (Ctrl-C, a crash, a killed process) while writing must leave either
the previous complete output or none, never a truncated results.json or a model folder with
half its weights. The recipe is the classic one: write under a temporary name in the same
folder, then rename, which the operating system does in one step (`os.replace`).

Under `accelerate launch` every process runs the script, but only the main one writes: the
others' writes are dropped here, and a saved folder is waited for (a barrier) before anyone
reads it back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from coursekit import device


def _temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial-{os.getpid()}")


def write_text(path: Path, text: str) -> Path:
    """Write a text file atomically (UTF-8); only the main process writes."""
    if device.is_main_process():
        with new_file(path) as partial:
            partial.write_text(text, encoding="utf-8")
    return Path(path)


@contextlib.contextmanager
def new_file(path: Path):
    """Yield a temporary path to write; on success it becomes `path` in one step.

    For writers that take a file name (matplotlib's savefig, ModelCard.save, torch.save).
    """
    path = Path(path)
    partial = _temporary_name(path)
    try:
        yield partial
        if device.is_main_process():
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


@contextlib.contextmanager
def new_folder(path: Path):
    """Yield an empty temporary folder to fill; on success it replaces `path`.

    For model folders (save_pretrained, then a card): an earlier run's folder stays whole
    until the new one is complete, and stale files of the old one never mix with the new.
    """
    path = Path(path)
    partial = _temporary_name(path)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
        if not device.is_main_process():
            pass  # the main process writes the same folder
        elif path.exists():  # two renames: the old folder moves aside, the new one moves in
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(partial, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(partial, path)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    device.wait_for_everyone()  # the others may read it back now


def save_pretrained(path: Path, *objects, **options) -> Path:
    """`obj.save_pretrained` for each object (a model, then its tokenizer) into one folder that
    appears whole. `options` go to every call (e.g. peft's save_embedding_layers)."""
    with new_folder(path) as partial:
        for obj in objects:
            obj.save_pretrained(partial, **options)
    return Path(path)
