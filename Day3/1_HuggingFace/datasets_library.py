"""Working with the Datasets library (outline 1.3): load, build, transform, stream, version.

Steps: 1.3.1 load and explore a public dataset (SST-2: features, splits, slicing, pandas, label
balance), 1.3.2 custom datasets from CSV, JSON Lines and Parquet files (and your own file with
--data-file), 1.3.3 transformations (map, filter, train_test_split, select, cast_column,
rename_column), 1.3.4 efficiency (streaming, memory mapping, the Arrow cache and fingerprints),
1.3.5 versioning and documenting (save_to_disk, a dataset card, pinning a revision).

Run:
    python Day3/1_HuggingFace/datasets_library.py                    # class profile (default)
    python Day3/1_HuggingFace/datasets_library.py --profile tiny     # offline, synthetic data
    python Day3/1_HuggingFace/datasets_library.py --data-file my_reviews.csv --text-column text

Time, memory and disk (2-core laptop CPU):
    tiny:  about 6 s; 0.5 GB RAM; 65 MB disk under --output-dir (a 64 MB memory-mapping demo)
    class: 14 s once cached (measured on 2 CPU cores, from real-size stand-ins), plus a 5 MB
           download (SST-2, a tokenizer) on first use; 1 GB RAM;
           300 MB disk (--mmap-mb 300: an Arrow dataset built, then opened without reading it;
           twice that while it is built)
    full:  all 67,349 SST-2 training rows; a few minutes; same memory and disk as class
Offline, the class profile uses the local Hugging Face cache, or falls back to synthetic data
with a banner (prepare a class with `python -m coursekit prefetch --profile class`).
"""

from __future__ import annotations

import gc
import json
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
from coursekit import cli  # noqa: E402  (light: no torch import before --help)

HUB_ID = "stanfordnlp/sst2"
SST2_COLUMNS = ["idx", "sentence", "label"]  # the synthetic stand-in adds "domain": dropped
MIN_WORDS = 6  # SST-2's train split is full of phrase fragments ("the movie"): filter them out
TEST_FRACTION = 0.2  # train_test_split: hold out a fifth
MIN_SAMPLES = 10  # --max-samples floor: 1.3.3 drops short sentences, then splits 80/20
DEBUG_ROWS = 100  # select(): a small subset for quick experiments
MAX_TOKENS = 64  # SST-2 sentences are short; truncation keeps outliers cheap
MODEL_LABELS = ["NEGATIVE", "POSITIVE"]  # the names in the sentiment model's config.id2label
STREAM_TAKE = 5  # rows taken from the streamed file
MMAP_MB = {"tiny": 64, "class": 300, "full": 300}  # size of the memory-mapping demo dataset
ROW_CHARS = 4_000  # characters per row: about one web page of text
WRITER_BATCH = 2_000  # rows (8 MB) held in RAM at a time while the file is written
LICENSES = {"hub": "unknown", "cache": "unknown",  # SST-2's Hub card says "unknown"
            "synthetic": "mit"}
FORMATS = {".csv": "csv", ".jsonl": "json", ".parquet": "parquet"}  # suffix -> builder


def rss_mb() -> float:
    """Resident memory of this process in MB (after a garbage collection)."""
    import psutil
    import pyarrow

    gc.collect()
    pyarrow.default_memory_pool().release_unused()  # freed Arrow buffers back to the OS
    return psutil.Process().memory_info().rss / 1e6


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def short(feature) -> str:
    """Value('int64') -> int64, ClassLabel(names=[...]) -> ClassLabel(negative, positive)."""
    names = getattr(feature, "names", None)
    return f"ClassLabel({', '.join(names)})" if names else getattr(feature, "dtype", repr(feature))


def check_data_file(path: Path, column: str) -> str:
    """--data-file: the file exists, parses, has rows and the text column. Returns its format."""
    import pandas as pd
    import pyarrow.parquet as pq

    fmt = FORMATS.get(path.suffix.lower())
    if not path.is_file() or fmt is None:
        raise cli.UsageError(f"--data-file {path}: " + (
            "no such file" if not path.exists() else "not a file" if not path.is_file() else
            f"unknown format {path.suffix!r}; use .csv, .jsonl (JSON Lines) or .parquet"))
    try:
        if fmt == "csv":  # datasets reads CSV with pandas: the same parser, and it names the line
            frame = pd.read_csv(path)
            columns, n_rows = list(frame.columns), len(frame)
        elif fmt == "json":
            columns, n_rows = scan_json_lines(path)
        else:  # Parquet: the schema and row count are in the footer; no data is read
            meta = pq.ParquetFile(path)
            columns, n_rows = meta.schema_arrow.names, meta.metadata.num_rows
    except (ValueError, OSError) as err:  # pandas and pyarrow errors derive from these two
        reason = str(err).strip().splitlines()[0].replace("Error tokenizing data. C error: ", "")
        raise cli.UsageError(f"--data-file {path}: not a readable {path.suffix} file: "
                             f"{reason}") from None
    if n_rows == 0:
        raise cli.UsageError(f"--data-file {path}: the file holds no rows")
    if column not in columns:
        raise cli.UsageError(f"--data-file {path} has no column {column!r} (columns: "
                             f"{', '.join(map(str, columns))}); name it with --text-column")
    return fmt


def scan_json_lines(path: Path) -> tuple[list[str], int]:
    """JSON Lines: one object per line; the first line that does not parse is named."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line) if line.strip() else None
        except json.JSONDecodeError as err:
            raise ValueError(f"line {number}: {err.msg}") from None
        if row is not None and not isinstance(row, dict):
            raise ValueError(f"line {number}: not a JSON object")
        rows += [row] if row is not None else []
    return (list(rows[0]) if rows else []), len(rows)


def load_public_dataset(args):
    """1.3.1 Two splits of SST-2 (the synthetic stand-in for tiny, same columns)."""
    from coursekit import hub

    train, validation = (hub.load_dataset_for("sentiment", args.profile, split, args.max_samples,
                                              args.seed) for split in ("train", "validation"))
    online = args.profile != "tiny" and hub.network_status().online
    source = "synthetic" if "domain" in train.column_names else ("hub" if online else "cache")
    return train.select_columns(SST2_COLUMNS), validation.select_columns(SST2_COLUMNS), source


def label_distribution(ds) -> dict:
    """Rows per label name: ClassLabel stores integers and knows their names."""
    names = ds.features["label"].names  # ['negative', 'positive']
    counts = ds.to_pandas()["label"].value_counts()  # label id -> rows
    return {name: {"count": int(counts.get(i, 0)),
                   "percent": round(100 * int(counts.get(i, 0)) / len(ds), 1)}
            for i, name in enumerate(names)}


def explore_dataset(train, validation, source: str) -> dict:
    """1.3.1 Features, splits, slicing, pandas and the label balance."""
    from coursekit import report

    report.table(f"{HUB_ID} ({source}): features", ["column", "feature"],
                 [[name, repr(feature)] for name, feature in train.features.items()])
    report.table("Splits", ["split", "rows"], [["train", len(train)],
                                               ["validation", len(validation)]])
    print(train[:3])  # a dict of lists: {'idx': [0, 1, 2], 'sentence': [...], 'label': [...]}
    print(list(train[10:12]["sentence"]))  # slice rows, then pick a column
    df = train.to_pandas()  # a copy in pandas: handy for exploring, not for huge data
    words = df["sentence"].str.split().str.len()
    report.table("to_pandas(): words per sentence", ["mean", "min", "max"],
                 [[float(words.mean()), int(words.min()), int(words.max())]])
    splits = {"train": train, "validation": validation}
    distribution = {name: label_distribution(split) for name, split in splits.items()}
    report.table("Label distribution", ["split", "rows", "label", "count", "percent"],
                 [[split, len(splits[split]), label, c["count"], c["percent"]]
                  for split, labels in distribution.items() for label, c in labels.items()])
    return {"source": source, "features": {k: repr(v) for k, v in train.features.items()},
            "splits": {name: len(split) for name, split in splits.items()},
            "mean_words": round(float(words.mean()), 2), "label_distribution": distribution}


def load_data_file(path: Path, fmt: str, column: str) -> dict:
    """1.3.2 Your own file: the same load_dataset call, with the builder named by format."""
    from coursekit import report
    from datasets import load_dataset
    from datasets.exceptions import DatasetGenerationError

    try:
        ds = load_dataset(fmt, data_files=str(path), split="train")
    except DatasetGenerationError as err:  # e.g. a JSON column holding text in one row, a number
        cause = str(err.__cause__ or err).splitlines()[0]
        raise cli.UsageError(f"--data-file {path}: datasets could not read it ({cause})") from None
    words = [len(str(text or "").split()) for text in ds[column]]
    report.table(f"Your file: {path.name}", ["rows", "columns", f"mean words in {column!r}"],
                 [[len(ds), ", ".join(ds.column_names), sum(words) / len(words)]])
    report.table("Its first rows", [column], [[str(t)] for t in ds[:3][column]])
    return {"file": str(path), "format": fmt, "rows": len(ds), "columns": ds.column_names,
            "features": {k: repr(v) for k, v in ds.features.items()}}


def round_trip_files(train, output_dir: Path) -> dict:
    """1.3.2 Write CSV, JSON Lines and Parquet, load each back, compare row by row."""
    from coursekit import data, report
    from datasets import load_dataset

    paths = data.write_files(train, output_dir / "files", "sst2_train")
    expected = train.to_list()
    results = {}
    for fmt, path in paths.items():
        start = time.perf_counter()
        # One file and no split named: load_dataset calls it "train"
        loaded = load_dataset(fmt, data_files=str(path), split="train")
        results[fmt] = {"path": str(path), "kb": round(path.stat().st_size / 1024, 1),
                        "rows": len(loaded), "identical": loaded.to_list() == expected,
                        "label_feature": short(loaded.features["label"]),
                        "seconds": round(time.perf_counter() - start, 3)}
    report.table(f"Round trip: write to {paths['csv'].parent}, load_dataset(format, "
                 f"data_files=...), compare",
                 ["format", "KB", "rows", "identical rows", "label comes back as"],
                 [[f, r["kb"], r["rows"], r["identical"], r["label_feature"]]
                  for f, r in results.items()])
    report.note("CSV and JSON carry no types: the ClassLabel comes back as a plain int64 (cast "
                "it back with cast_column) and CSV turns strings like 'NA' into missing values. "
                "Parquet stores the features.")
    return results


def transform_dataset(args, train) -> dict:
    """1.3.3 map (tokenize), filter, train_test_split, select, cast_column, rename_column."""
    from coursekit import hub, report
    from datasets import ClassLabel
    from transformers import AutoTokenizer

    choice = hub.resolve_model("sentiment", args.profile, args.model)
    tokenizer = AutoTokenizer.from_pretrained(choice.path)

    def tokenize_batch(batch):  # batched=True: lists of up to 1,000 rows per call
        return tokenizer(list(batch["sentence"]), truncation=True, max_length=MAX_TOKENS)

    def tokenize_row(row):  # batched=False: one row per call
        return tokenizer(row["sentence"], truncation=True, max_length=MAX_TOKENS)

    # load_from_cache_file=False: time the work, not a cache read (1.3.4 shows the cache)
    start = time.perf_counter()
    train.map(tokenize_row, load_from_cache_file=False)
    unbatched_s = time.perf_counter() - start
    start = time.perf_counter()
    tokenized = train.map(tokenize_batch, batched=True, load_from_cache_file=False)
    batched_s = time.perf_counter() - start
    long_enough = tokenized.filter(
        lambda batch: [len(s.split()) >= MIN_WORDS for s in batch["sentence"]], batched=True)
    if len(long_enough) < 2:  # SST-2's first rows are often fragments: few may be left
        raise cli.UsageError(f"--max-samples {args.max_samples}: {len(long_enough)} row(s) of "
                             f"{MIN_WORDS}+ words left, too few to split; take more")
    split = long_enough.train_test_split(test_size=TEST_FRACTION, seed=args.seed)  # DatasetDict
    subset = split["train"].select(range(min(DEBUG_ROWS, len(split["train"]))))
    cast = subset.cast_column("label", ClassLabel(names=MODEL_LABELS))  # same ids, new names
    renamed = cast.rename_column("sentence", "text")  # the column name many trainers expect
    steps = [("loaded", train), ("map(tokenize, batched)", tokenized),
             (f"filter(>= {MIN_WORDS} words)", long_enough),
             ("train_test_split: train", split["train"]), ("train_test_split: test", split["test"]),
             (f"select(range({DEBUG_ROWS}))", subset), ("cast_column(label)", cast),
             ("rename_column(sentence)", renamed)]
    rows = [{"step": name, "rows": len(ds), "columns": ds.column_names} for name, ds in steps]
    report.table(f"Transformations (tokenizer: {choice.name})", ["step", "rows", "columns"],
                 [[r["step"], r["rows"], " ".join(r["columns"])] for r in rows])
    report.note(f"after cast_column the label is {short(renamed.features['label'])}: the same "
                f"ids, the names the model's config.id2label uses")
    report.table("map: one row per call vs batches", ["map", "seconds", "rows/s"],
                 [["batched=False", unbatched_s, len(train) / unbatched_s],
                  ["batched=True", batched_s, len(train) / batched_s]])
    return {"tokenizer": choice.name, "steps": rows, "unbatched_seconds": round(unbatched_s, 4),
            "batched_seconds": round(batched_s, 4), "first_row": renamed[0],
            "label_feature_after_cast": short(renamed.features["label"])}


def stream_file(path: Path, rows_in_file: int, table: list) -> dict:
    """1.3.4a streaming=True returns an IterableDataset: rows are read when you iterate."""
    from datasets import load_dataset

    touched = {"rows": 0}

    def count_row(row):  # counts every row that reaches our code
        touched["rows"] += 1
        return row

    before, start = rss_mb(), time.perf_counter()
    stream = load_dataset("json", data_files=str(path), split="train", streaming=True)
    first = list(stream.map(count_row).take(STREAM_TAKE))  # nothing is read before this line
    seconds, added = time.perf_counter() - start, rss_mb() - before
    table.append([f"streaming take({STREAM_TAKE})", seconds, added,
                  f"{touched['rows']} of {rows_in_file:,} rows reached map()"])
    return {"type": type(stream).__name__, "rows_taken": len(first),
            "rows_read": touched["rows"], "rows_in_file": rows_in_file,
            "seconds": round(seconds, 4), "rss_added_mb": round(added, 1)}


def synthetic_rows(n_rows: int, seed: int):
    """Rows of made-up review text, yielded one at a time: never all in memory."""
    from coursekit import data

    rng = random.Random(seed)
    words = sorted({w for domain in data.SENTIMENT_DOMAINS.values()
                    for group in domain.values() for w in group})
    pool = [" ".join(rng.choices(words, k=ROW_CHARS // 4))[:ROW_CHARS] for _ in range(997)]
    for i in range(n_rows):
        yield {"id": i, "text": pool[rng.randrange(len(pool))], "label": i % 2}


def build_large_dataset(folder: Path, megabytes: int, seed: int, table: list) -> dict:
    """1.3.4b A dataset bigger than we want in RAM, written in chunks of WRITER_BATCH rows."""
    import datasets
    from coursekit import quiet

    n_rows = megabytes * 1_000_000 // ROW_CHARS
    build_cache = folder.with_name(folder.name + "-build")
    for old in (folder, build_cache):  # a previous run's copy
        shutil.rmtree(old, ignore_errors=True)
    before, start = rss_mb(), time.perf_counter()
    # datasets' own bars only here, the one step long enough to deserve one (class: 300 MB)
    with quiet.datasets_progress_bars(show=megabytes > MMAP_MB["tiny"]):
        big = datasets.Dataset.from_generator(
            synthetic_rows, gen_kwargs={"n_rows": n_rows, "seed": seed},
            cache_dir=str(build_cache), writer_batch_size=WRITER_BATCH)
        big.save_to_disk(str(folder))  # Arrow files + state.json + dataset_info.json
    del big
    shutil.rmtree(build_cache)  # from_generator's own cache copy: no longer needed
    seconds, size = time.perf_counter() - start, folder_mb(folder)
    added = rss_mb() - before
    table.append([f"build {n_rows:,} rows", seconds, added, f"{size:,.0f} MB on disk"])
    return {"rows": n_rows, "data_mb": round(size, 1), "build_seconds": round(seconds, 2),
            "build_rss_added_mb": round(added, 1)}


def measure_memory_mapping(folder: Path, table: list) -> dict:
    """1.3.4b load_from_disk maps the Arrow file: the OS reads pages only when rows are used."""
    from datasets import load_from_disk

    size = folder_mb(folder)
    before, start = rss_mb(), time.perf_counter()
    mapped = load_from_disk(str(folder))  # a Dataset backed by the file, not by RAM
    seconds, added = time.perf_counter() - start, rss_mb() - before
    table.append(["load_from_disk", seconds, added, f"memory-mapped: {added / size:.1%} of size"])
    start = time.perf_counter()
    middle = mapped[len(mapped) // 2]  # random access: only this row's pages are read
    access_ms = (time.perf_counter() - start) * 1000
    table.append([f"read row {middle['id']:,}", access_ms / 1000, "",
                  f"random access: {access_ms:.2f} ms"])
    before, start = rss_mb(), time.perf_counter()
    in_memory = load_from_disk(str(folder), keep_in_memory=True)  # the opposite: copy to RAM
    memory_s, memory_added = time.perf_counter() - start, rss_mb() - before
    del in_memory
    table.append(["keep_in_memory=True", memory_s, memory_added,
                  f"copied to RAM: {memory_added / size:.0%} of size"])
    return {"data_mb": round(size, 1), "rows": len(mapped), "load_seconds": round(seconds, 4),
            "rss_added_mb": round(added, 1), "rss_added_fraction": round(added / size, 4),
            "row_access_ms": round(access_ms, 3), "in_memory_rss_added_mb": round(memory_added, 1)}


def count_words(batch):
    """The map function of the cache demo (module level: the same code gives the same hash)."""
    return {"n_words": [len(text.split()) for text in batch["text"]]}


def show_cache_and_fingerprints(folder: Path, table: list) -> dict:
    """1.3.4c Each dataset has a fingerprint; map(f) on a file-backed dataset caches its result
    under hash(fingerprint, f, arguments), so the same map again is read from disk."""
    from coursekit import report
    from datasets import load_from_disk

    ds = load_from_disk(str(folder))
    runs = []
    for attempt in ("first", "second"):
        start = time.perf_counter()
        counted = ds.map(count_words, batched=True, remove_columns=["text"])
        cache_file = Path(counted.cache_files[0]["filename"])
        runs.append({"attempt": attempt, "seconds": round(time.perf_counter() - start, 4),
                     "fingerprint": counted._fingerprint, "cache_file": cache_file.name,
                     "mtime_ns": cache_file.stat().st_mtime_ns})
        rewritten = len(runs) == 2 and runs[1]["mtime_ns"] != runs[0]["mtime_ns"]
        table.append([f"map, {attempt} run", runs[-1]["seconds"], "",
                      "computed, cache written" if len(runs) == 1 or rewritten
                      else "read from the cache"])
    report.table("Fingerprints", ["dataset", "_fingerprint"],
                 [["loaded", ds._fingerprint], ["after map (first)", runs[0]["fingerprint"]],
                  ["after map (second)", runs[1]["fingerprint"]]])
    cache_files = sorted(p.name for p in folder.glob("cache-*.arrow"))
    report.note(f"cache files beside the data: {cache_files}; delete them with "
                f"ds.cleanup_cache_files(), skip them with load_from_cache_file=False")
    return {"fingerprint_before": ds._fingerprint, "runs": runs, "cache_files": cache_files,
            "fingerprint_changed": runs[0]["fingerprint"] != ds._fingerprint,
            "same_cache_file": runs[0]["cache_file"] == runs[1]["cache_file"],
            "cache_file_rewritten": runs[0]["mtime_ns"] != runs[1]["mtime_ns"],
            "speedup": round(runs[0]["seconds"] / max(runs[1]["seconds"], 1e-9), 1)}


def save_and_document(args, train, source: str) -> dict:
    """1.3.5 save_to_disk / load_from_disk, a dataset card beside the data, a pinned revision."""
    from coursekit import hub, report
    from datasets import load_from_disk
    from huggingface_hub import DatasetCard, DatasetCardData

    folder = args.output_dir / "sst2_train_saved"
    shutil.rmtree(folder, ignore_errors=True)
    train.save_to_disk(str(folder))
    reloaded = load_from_disk(str(folder))
    identical = reloaded.to_list() == train.to_list() and reloaded.features == train.features
    n = len(train)
    size = "n<1K" if n < 1_000 else "1K<n<10K" if n < 10_000 else "10K<n<100K"  # SST-2: 67k
    real = source != "synthetic"  # SST-2 from the Hub, or from the cache of a download
    card_data = DatasetCardData(  # the YAML block the Hub reads for search and filters
        language=["en"], license=LICENSES[source], task_categories=["text-classification"],
        task_ids=["sentiment-classification"], size_categories=[size],
        source_datasets=[HUB_ID if real else "synthetic"],
        pretty_name="SST-2 train slice" if real else "Synthetic SST-2 stand-in")
    columns = "\n".join(f"| {name} | {feature!r} |" for name, feature in train.features.items())
    made_by = (f"the first {n:,} rows of the train split of {HUB_ID}" if real
               else f"{n:,} rows from coursekit.data.sentiment_reviews")
    card = DatasetCard(f"---\n{card_data.to_yaml()}\n---\n\n# {card_data.pretty_name}\n\n"
                       f"Made by datasets_library.py (--seed {args.seed}): {made_by}.\n\n"
                       f"| column | feature |\n| --- | --- |\n{columns}\n")
    card.save(folder / "README.md")  # the card travels with the data (and to the Hub, 1.5)
    parsed = DatasetCard.load(folder / "README.md").data.to_dict()
    report.table("save_to_disk -> load_from_disk", ["folder", "rows", "identical", "card"],
                 [[str(folder), len(reloaded), identical, "README.md"]])
    report.table("Dataset card metadata, parsed back", ["key", "value"],
                 [[k, v] for k, v in parsed.items()])
    sha = None
    if args.profile != "tiny" and hub.network_status().online:
        from huggingface_hub import dataset_info

        try:
            sha = dataset_info(HUB_ID, timeout=10).sha  # the commit "main" points to today
        except Exception as err:  # an answer we cannot use: the lesson goes on without it
            report.note(f"could not ask the Hub for {HUB_ID}'s revision: {err}")
    report.note("A Hub dataset can change under you; pin the commit you used:")
    print(f'    load_dataset("{HUB_ID}", revision="{sha or "<commit sha>"}")')
    return {"folder": str(folder), "identical_after_reload": identical, "card": parsed,
            "card_license_written": LICENSES[source], "revision_sha": sha}


def main(argv: list[str] | None = None) -> dict:
    parser = cli.make_parser(__doc__, script=__file__, max_samples="profile")
    parser.add_argument("--data-file", type=Path, default=None,
                        help="your own .csv, .jsonl or .parquet file to load in 1.3.2")
    parser.add_argument("--text-column", default="sentence",
                        help="the text column of --data-file (default: %(default)s)")
    parser.add_argument("--mmap-mb", type=cli.positive_int, default=None,
                        help="size of the memory-mapping demo in MB (default: tiny 64, else 300)")
    args = parser.parse_args(argv)
    with cli.user_errors():
        if args.max_samples is not None and args.max_samples < MIN_SAMPLES:
            raise cli.UsageError(f"--max-samples must be at least {MIN_SAMPLES} here (1.3.3 "
                                 f"splits the rows), got {args.max_samples}")
        data_format = check_data_file(args.data_file, args.text_column) if args.data_file else None
        cli.start(args, "1.3 Working with the Datasets library")
        from coursekit import report

        args.mmap_mb = args.mmap_mb or MMAP_MB[args.profile]
        free_mb = shutil.disk_usage(args.output_dir).free / 1e6
        if free_mb < 3 * args.mmap_mb:  # the demo data, a build copy, a cache file
            raise cli.UsageError(f"--mmap-mb {args.mmap_mb} needs about {3 * args.mmap_mb} MB "
                                 f"free in {args.output_dir}, {free_mb:,.0f} MB are")

        report.section("1.3.1", "Load and explore a public dataset")
        train, validation, source = load_public_dataset(args)
        explored = explore_dataset(train, validation, source)
        report.section("1.3.2", "Custom datasets from files")
        user_file = load_data_file(args.data_file, data_format, args.text_column) \
            if args.data_file else None  # read (and checked) before anything is written
        files = round_trip_files(train, args.output_dir)
        report.section("1.3.3", "Transformations and preprocessing")
        transformed = transform_dataset(args, train)
        report.section("1.3.4", "Efficiency: streaming, memory mapping, the cache")
        table: list[list] = []
        streaming = stream_file(Path(files["json"]["path"]), len(train), table)
        big_folder = args.output_dir / "mmap_demo_arrow"
        built = build_large_dataset(big_folder, args.mmap_mb, args.seed, table)
        mapped = measure_memory_mapping(big_folder, table)
        cache = show_cache_and_fingerprints(big_folder, table)
        report.table("Efficiency, measured", ["step", "seconds", "RSS added (MB)", "note"], table)
        report.section("1.3.5", "Versioning and documenting datasets")
        versioning = save_and_document(args, train, source)
        results = {"profile": args.profile, "explore": explored, "data_file": user_file,
                   "round_trip": files, "transformations": transformed, "versioning": versioning,
                   "efficiency": {"streaming": streaming, "build": built, "mmap": mapped,
                                  "cache": cache}}
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
