"""Uploading checkpoints to Hugging Face (outline 1.5): prepare, describe, validate, share.

Steps: 1.5.1 prepare a model folder (the sentiment model, fine-tuned briefly, saved as
safetensors), 1.5.2 write an effective model card (YAML metadata with the measured accuracy,
then intended use, limitations, training settings, how to use, licence), 1.5.3 validate the
folder (files, no pickles, card parses back, identical logits after reloading), 1.5.4 upload
it with a version tag, or (the default) a dry run that prints what would be uploaded and the
equivalent `hf` commands.

Before the first upload (once): make an account at https://huggingface.co/join, create a token
with the "write" role at https://huggingface.co/settings/tokens, then run `hf auth login` (or
set HF_TOKEN). The token is never printed or saved by this script.

Run:
    python Day3/1_HuggingFace/huggingface_upload.py                  # class profile, dry run
    python Day3/1_HuggingFace/huggingface_upload.py --profile tiny   # offline, tiny model
    python Day3/1_HuggingFace/huggingface_upload.py --push           # private repo + tag v1.0
    python Day3/1_HuggingFace/huggingface_upload.py --push --public --version v1.1 \\
        --repo-id my-name/my-sentiment-model --license mit --fine-tune-steps 50

Time and memory (2-core laptop CPU):
    tiny:  about 10 s once the tiny zoo is cached; 0.6 GB RAM; the folder is 0.5 MB
    class: 38 s (DistilBERT SST-2, 20 steps, 200 validation reviews; measured on 2 CPU cores
           from real-size stand-ins) plus a 0.3 GB download on first use; 1.8 GB RAM; the
           folder is 0.26 GB, so --push uploads 0.26 GB
    full:  same model as class; any GPU is picked automatically
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
from coursekit import cli  # noqa: E402  (light: no torch import before --help)

DEFAULT_FINE_TUNE_STEPS = 20  # enough to change the weights and show a real training record
TRAIN_EXAMPLES = 64  # "a few examples": the lesson is sharing the model, not training it
BATCH_SIZE = 8
LEARNING_RATES = {"tiny": 5e-4, "pretrained": 2e-5}  # tiny models need larger steps
LOGIT_TOLERANCE = 1e-6  # a reloaded model must give the same logits, up to float noise
MAX_FILE_BYTES = 50 * 1024**3  # the Hub refuses single files over 50 GB
PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt"}  # can run code on load
TOKEN_PATTERN = re.compile(rb"hf_[A-Za-z0-9]{30,}")  # what a Hugging Face token looks like
USER_PLACEHOLDER = "<your-username>"
# Licence ids the Hub accepts in a card (full list: huggingface.co/docs/hub/repositories-licenses;
# add yours here). "other" needs license_name and license_link too, so it is left out.
HUB_LICENSES = ("apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "bsl-1.0", "isc", "mpl-2.0",
                "unlicense", "zlib", "gpl-2.0", "gpl-3.0", "lgpl-2.1", "lgpl-3.0", "agpl-3.0",
                "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0",
                "cc-by-nd-4.0", "cc-by-nc-nd-4.0", "openrail", "openrail++", "llama3.1", "gemma")
REPO_NAME = re.compile(r"^(?!.*(--|\.\.))[A-Za-z0-9][\w.-]{0,94}(?<![.-])$")  # Hub name rules
VERSION = re.compile(r"^[A-Za-z0-9][\w.-]{0,63}$")


def check_flags(args) -> None:
    """Refuse bad flags before any work: a typo found after training wastes minutes."""
    if args.fine_tune_steps < 0:
        raise cli.UsageError(f"--fine-tune-steps must be 0 or more, got {args.fine_tune_steps}")
    if args.license not in HUB_LICENSES:
        raise cli.UsageError(f"--license {args.license!r} is not a Hub licence id this script "
                             f"knows; e.g. {', '.join(HUB_LICENSES[:4])} (see HUB_LICENSES)")
    if not VERSION.match(args.version):
        raise cli.UsageError(f"--version {args.version!r}: use letters, digits, '.', '-', '_'")
    parts = (args.repo_id or "").split("/")
    if args.repo_id is not None and (len(parts) > 2 or not all(map(REPO_NAME.match, parts))):
        raise cli.UsageError(f"--repo-id {args.repo_id!r} is not 'name' or 'owner/name' "
                             f"(letters, digits, '-', '_', '.'; at most 96 characters)")


def find_token() -> tuple[str | None, str]:
    """The token from HF_TOKEN or `hf auth login`, and where it came from (never its value)."""
    from huggingface_hub import get_token

    token = get_token()  # HF_TOKEN first, then the file `hf auth login` wrote
    from_env = bool(os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN"))
    return token, ("none" if token is None else "HF_TOKEN" if from_env else "hf auth login")


def check_upload_access(token: str | None) -> dict:
    """1.5.4 (first) --push: a token, a network and the write role, before minutes of work."""
    from coursekit import hub
    from huggingface_hub import whoami

    if token is None:
        raise cli.UsageError("no Hugging Face token found: create one with the write role at "
                             "huggingface.co/settings/tokens, then `hf auth login`")
    network = hub.network_status()
    if not network.online:
        raise cli.UsageError(f"cannot upload: the Hub is unreachable ({network.reason}); "
                             f"run without --push for a dry run")
    try:
        info = whoami(token=token)  # who owns the token, and what it may do
    except Exception as err:  # 401 for a revoked token, or a network error: one line each
        raise cli.UsageError(f"the Hub did not accept the token ({type(err).__name__}); make a "
                             f"new one at huggingface.co/settings/tokens") from None
    # e.g. {"name": "ada", "auth": {"accessToken": {"displayName": "laptop", "role": "write"}}}
    role = ((info.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise cli.UsageError(f"the token of {info.get('name')} has the read role: uploads need "
                             f"a token with the write role (huggingface.co/settings/tokens)")
    return {"user": info.get("name"), "role": role}


def prepare_model_folder(args, device) -> tuple:
    """1.5.1 Load the sentiment model, fine-tune it briefly, save it as a Hub-ready folder."""
    from coursekit import atomic, cards, hub, report
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    choice = hub.resolve_model("sentiment", args.profile, args.model)
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    model = AutoModelForSequenceClassification.from_pretrained(choice.path).to(device).eval()
    if model.config.num_labels != 2:
        raise cli.UsageError(f"{choice.name} has {model.config.num_labels} labels; this lesson "
                             f"shares a 2-label (negative/positive) classifier")
    train = hub.load_dataset_for("sentiment", args.profile, "train", TRAIN_EXAMPLES, args.seed)
    valid = hub.load_dataset_for("sentiment", args.profile, "validation", args.max_samples,
                                 args.seed)
    texts, labels = list(valid["sentence"]), list(valid["label"])
    before = measure_accuracy(model, tokenizer, texts, labels)
    lr = LEARNING_RATES["tiny" if choice.source == "tiny" else "pretrained"]
    if args.fine_tune_steps:
        fine_tune(model, tokenizer, list(train["sentence"]), list(train["label"]), lr, args)
    after = measure_accuracy(model, tokenizer, texts, labels)
    report.table("Accuracy on the held-out validation slice", ["model", "examples", "accuracy"],
                 [[f"{choice.name} (before fine-tuning)", len(texts), before],
                  [f"after {args.fine_tune_steps} fine-tuning steps", len(texts), after]])
    base_model = Path(choice.path).name if choice.source == "local" else choice.name
    folder = args.output_dir / "hub-folder"  # exactly what will be uploaded, nothing else
    # save_pretrained writes safetensors by default: weights only, no pickled code. The folder
    # appears whole, replacing an earlier run's (whose stale files must not mix in).
    atomic.save_pretrained(folder, model, tokenizer)
    list_files(folder, f"Saved to {folder} (the card README.md comes next)")
    synthetic = "domain" in valid.column_names  # the synthetic reviews carry a domain column
    info = {"base_model": base_model, "source": choice.source, "accuracy_before": before,
            "accuracy": after, "eval_examples": len(texts), "synthetic_data": synthetic,
            "dataset": "synthetic-sentiment-reviews" if synthetic else "stanfordnlp/sst2",
            "training": {"steps": args.fine_tune_steps, "learning_rate": lr,
                         "batch_size": BATCH_SIZE, "train_examples": len(train),
                         "seed": args.seed, "device": str(device)},
            "base_license": cards.read_base_license(choice.path, choice.source)}
    return model, tokenizer, info, texts[:BATCH_SIZE], folder


def measure_accuracy(model, tokenizer, texts: list[str], labels: list[int]) -> float:
    """Share of validation reviews whose predicted label is right (batched, no gradients)."""
    import torch
    from coursekit import metrics

    predictions = []
    with torch.inference_mode():
        for start in range(0, len(texts), 32):
            batch = tokenizer(texts[start:start + 32], padding=True, truncation=True,
                              return_tensors="pt").to(model.device)
            predictions += model(**batch).logits.argmax(-1).tolist()
    return round(metrics.accuracy(predictions, labels), 4)


def fine_tune(model, tokenizer, texts: list[str], labels: list[int], lr: float, args) -> None:
    """A few AdamW steps (the kit's short loop: warm-up, linear decay, gradient clipping)."""
    import torch
    from coursekit import device, report, tiny

    lengths = [len(ids) for ids in tokenizer(texts, truncation=True)["input_ids"]]
    report.note(f"fine-tuning: {args.fine_tune_steps} steps | batch {BATCH_SIZE} | lr {lr} | "
                f"{len(texts)} examples | seed {args.seed} | device {model.device} | float32")

    def make_batch(indices):
        batch = tokenizer([texts[i] for i in indices], padding=True, truncation=True,
                          return_tensors="pt")
        batch["labels"] = torch.tensor([labels[i] for i in indices])
        return batch.to(model.device)

    device.seed_everything(args.seed)  # the same batches, so the same weights, every run
    tiny.train_for_steps(model, make_batch, lengths, args.fine_tune_steps,
                         lr, args.seed, batch_size=BATCH_SIZE, desc="fine-tune")


def list_files(folder: Path, heading: str | None = None) -> dict[str, int]:
    """Each file of the folder with its size in bytes (printed as a table under a heading)."""
    from coursekit import report

    files = {p.relative_to(folder).as_posix(): p.stat().st_size
             for p in sorted(folder.rglob("*")) if p.is_file()}
    if heading:
        report.table(heading, ["file", "bytes"], [[f, size] for f, size in files.items()]
                     + [["total", sum(files.values())]])
    return files


def write_model_card(args, folder: Path, info: dict, repo_id: str) -> dict:
    """1.5.2 Metadata the Hub reads (YAML) + the sections people read before they use a model.

    The card's text is written by coursekit.cards (journey_demo.py writes cards too): open
    Day3/coursekit/cards.py to read the template, or the README.md this step saves.
    """
    from coursekit import cards, report

    card = cards.write_sentiment_card(folder, cards.CardInfo(
        name=repo_id.split("/")[-1], repo_id=repo_id, base_model=info["base_model"],
        accuracy=info["accuracy"], accuracy_before=info["accuracy_before"],
        eval_examples=info["eval_examples"], dataset=info["dataset"],
        synthetic_data=info["synthetic_data"], training=info["training"],
        license=args.license, base_license=info["base_license"], version=args.version))
    summary = cards.card_summary(card)
    report.table("Model card metadata (the YAML block of README.md)", ["field", "value"],
                 [[k, v] for k, v in summary["yaml"].items() if k != "model-index"]
                 + [["model-index: accuracy", info["accuracy"]],
                    ["licence of the base model", info["base_license"] or "unknown"]])
    return summary


def validate_folder(folder: Path, model, tokenizer, expected: dict, texts: list[str],
                    token: str | None = None) -> list[list[str]]:
    """1.5.3 Everything a Hub repo needs, checked here, where a mistake is cheap to fix."""
    import torch
    from coursekit import report
    from huggingface_hub import ModelCard
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    files = list_files(folder)
    rows = [["config.json", "config.json" in files, "architecture + labels"],
            ["weights as safetensors", "model.safetensors" in files
             or "model.safetensors.index.json" in files, "loads without running code"],
            ["tokenizer files", "tokenizer_config.json" in files and bool(
                {"tokenizer.json", "vocab.txt", "spiece.model"} & set(files)), "same tokens"],
            ["README.md (model card)", "README.md" in files, "the repo's front page"]]
    pickles = [f for f in files if Path(f).suffix in PICKLE_SUFFIXES]
    rows.append(["no pickles (.bin/.pt/.pkl)", not pickles, ", ".join(pickles) or "none"])
    card = ModelCard.load(folder / "README.md") if "README.md" in files else None
    got = card and {"license": card.data.license, "base_model": card.data.base_model,
                    "accuracy": card.data.eval_results[0].metric_value
                    if card.data.eval_results else None}
    rows.append(["card metadata parses back", got == expected, str(got)])
    missing = [s for s in ("Intended use", "Limitations and bias", "How to use")
               if not card or f"## {s}" not in card.text]
    rows.append(["card sections", not missing, "missing: " + ", ".join(missing)
                 if missing else "intended use, limitations, how to use"])
    reloaded = AutoModelForSequenceClassification.from_pretrained(folder).to(model.device).eval()
    reloaded_tokenizer = AutoTokenizer.from_pretrained(folder)
    with torch.inference_mode():
        batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        again = reloaded_tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        batch, again = batch.to(model.device), again.to(model.device)
        gap = (model(**batch).logits - reloaded(**again).logits).abs().max().item()
    same_ids = torch.equal(batch["input_ids"], again["input_ids"])
    rows.append(["reloads with Auto classes", same_ids and gap <= LOGIT_TOLERANCE,
                 f"{len(texts)} texts: same token ids {same_ids}, max logit gap {gap:.1e}"])
    contents = {f: (folder / f).read_bytes() for f in files}  # a token pasted into a file
    leaks = [f for f, data in contents.items() if TOKEN_PATTERN.search(data)
             or (token and token.encode() in data)]
    rows.append(["no access token in the files", not leaks, ", ".join(leaks) or "none"])
    biggest = max(files.values())
    rows.append(["file sizes", biggest < MAX_FILE_BYTES,
                 f"total {sum(files.values()) / 1e6:.2f} MB, largest {biggest / 1e6:.2f} MB"])
    rows = [[check, "OK" if ok else "FAIL", detail] for check, ok, detail in rows]
    report.table(f"Checklist for {folder}", ["check", "result", "detail"], rows)
    return rows


def plan_upload(args, folder: Path, repo_id: str, token_source: str, private: bool) -> dict:
    """1.5.4 What would be uploaded, and the same steps with the `hf` command line."""
    from coursekit import report

    message = f"Upload {repo_id.split('/')[-1]} {args.version} (Day 3 course)"
    visibility = "--private" if private else "--public"
    commands = [
        "hf auth login  # paste a token with the write role from huggingface.co/settings/tokens",
        "hf auth whoami",
        f"hf repos create {repo_id} {visibility} --exist-ok",
        f"hf upload {repo_id} {shlex.quote(str(folder))} . --commit-message "
        f"{shlex.quote(message)}",
        f"hf repos tag create {repo_id} {args.version} -m {shlex.quote('Release ' + args.version)}",
        f"hf repos branch create {repo_id} release-{args.version}  # optional: a release branch",
        f"hf repos settings {repo_id} --gated auto  # optional: users accept terms to download"]
    if private:
        commands.append(f"hf repos settings {repo_id} --public  # later, once the card is right")
    report.table("Upload plan", ["what", "value"], [
        ["repository", repo_id], ["visibility", "private" if private else "public"],
        ["version tag", args.version], ["token", f"found ({token_source})" if token_source
                                        != "none" else "not found (needed only for --push)"]])
    report.note("First time: make an account at huggingface.co/join, create a token with the "
                "write role at huggingface.co/settings/tokens, then `hf auth login`. The same "
                "steps on the command line:")
    for command in commands:
        report.console.print(f"  $ {command}", markup=False, soft_wrap=True)  # copy-pasteable
    return {"repo_id": repo_id, "private": private, "version": args.version,
            "commit_message": message, "commands": commands}


def upload_to_hub(args, folder: Path, plan: dict, token: str) -> dict:
    """1.5.4 Create the repo, upload the folder in one commit, tag it; undo a half-done upload."""
    import huggingface_hub as hf
    from coursekit import report

    repo_id, version = plan["repo_id"], plan["version"]
    try:  # nothing is created yet: any failure here leaves the Hub as it was
        existed = hf.repo_exists(repo_id, token=token)
        tags = [tag.name for tag in hf.list_repo_refs(repo_id, token=token).tags] if existed else []
        if version not in tags:  # an existing repo keeps its visibility
            hf.create_repo(repo_id, token=token, private=plan["private"], exist_ok=True,
                           repo_type="model")
    except Exception as err:  # e.g. 403: a fine-grained token without write access there
        raise cli.UsageError(f"the Hub refused {repo_id}: {first_line(err)}") from None
    if version in tags:
        raise cli.UsageError(f"{repo_id} already has a tag {version}; pick a new --version")
    try:
        commit = hf.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="model",
                                  commit_message=plan["commit_message"], token=token)
        hf.create_tag(repo_id, tag=version, tag_message=f"Release {version}",
                      revision=commit.oid, token=token)  # a tag pins this exact commit
    except Exception as err:  # any failure: leave nothing half-done, then say so in one line
        undone = "the repo existed before and was kept"
        if not existed:
            try:
                hf.delete_repo(repo_id, token=token, missing_ok=True)
                undone = "the new repo was deleted again"
            except Exception:  # the network may be gone: say what is left behind
                undone = f"delete the half-done repo yourself: hf repos delete {repo_id}"
        raise cli.UsageError(f"upload to {repo_id} failed ({first_line(err)}); {undone}") from None
    url = f"https://huggingface.co/{repo_id}"
    report.table("Uploaded", ["what", "value"], [["repository", url], ["commit", commit.oid],
                                                 ["tag", f"{url}/tree/{version}"]])
    return {"url": url, "commit": commit.oid, "tag": version, "created_repo": not existed}


def first_line(err: Exception) -> str:
    """An exception as one short line (its type and the first line of its message)."""
    return f"{type(err).__name__}: {(str(err).splitlines() or ['-'])[0][:200]}"


def choose_repo_id(args, model_name: str, token: str | None, access: dict | None) -> str:
    """--repo-id if it names an owner, else <user>/<name>; the user comes from the token."""
    from coursekit import hub
    from huggingface_hub import whoami

    name = args.repo_id or f"day3-{model_name.split('/')[-1]}"
    if "/" in name:
        return name
    user = access and access["user"]
    try:  # a dry run asks the Hub only outside tiny, online, with a token (a read-only call)
        if not user and token and args.profile != "tiny" and hub.network_status().online:
            user = whoami(token=token).get("name")
    except Exception:  # a dry run never fails on this: the placeholder stays
        user = None
    return f"{user or USER_PLACEHOLDER}/{name}"


def main(argv: list[str] | None = None) -> dict:
    parser = cli.make_parser(__doc__, script=__file__, max_samples=200)
    parser.add_argument("--fine-tune-steps", type=int, default=DEFAULT_FINE_TUNE_STEPS,
                        help="steps before saving; 0 shares the model as is (default: 20)")
    parser.add_argument("--license", default="apache-2.0",
                        help="the Hub licence id written in the card (default: %(default)s)")
    parser.add_argument("--push", action="store_true",
                        help="really upload (default: a dry run that uploads nothing)")
    parser.add_argument("--repo-id", default=None,
                        help="'name' or 'owner/name' (default: <user>/day3-<model name>)")
    parser.add_argument("--public", action="store_true",
                        help="make a new repo public (default: private)")
    parser.add_argument("--version", default="v1.0", help="release tag (default: v1.0)")
    args = parser.parse_args(argv)
    with cli.user_errors():
        check_flags(args)
        token, token_source = find_token()
        access = check_upload_access(token) if args.push else None  # fail fast, not after work
        device = cli.start(args, "1.5 Uploading checkpoints to Hugging Face")
        from coursekit import report

        report.section("1.5.1", "Prepare the model files")
        model, tokenizer, info, texts, folder = prepare_model_folder(args, device)
        repo_id = choose_repo_id(args, info["base_model"], token, access)
        report.section("1.5.2", "Write the model card")
        card = write_model_card(args, folder, info, repo_id)
        report.section("1.5.3", "Validate the folder")
        expected = {"license": args.license, "base_model": info["base_model"],
                    "accuracy": info["accuracy"]}
        checklist = validate_folder(folder, model, tokenizer, expected, texts, token)
        failed = [row[0] for row in checklist if row[1] == "FAIL"]
        if failed:
            raise cli.UsageError(f"{folder} failed {len(failed)} check(s): {', '.join(failed)}; "
                                 f"nothing was uploaded")
        report.section("1.5.4", "Upload" if args.push else "Upload (dry run: nothing leaves "
                                                           "this machine; add --push)")
        files = list_files(folder, "Files to upload")
        plan = plan_upload(args, folder, repo_id, token_source, private=not args.public)
        upload = upload_to_hub(args, folder, plan, token) if args.push else None
        results = {"profile": args.profile, "dry_run": not args.push, "folder": str(folder),
                   "files": files, "total_bytes": sum(files.values()), "model": info,
                   "card": card, "checklist": checklist, "plan": plan,
                   "token_found": token is not None, "token_role": access and access["role"],
                   "upload": upload}
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
