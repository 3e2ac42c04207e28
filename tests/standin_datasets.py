"""Stand-ins for the class profile's Hub datasets: the real schema and layout, synthetic rows.

`build_dataset_folder(role, folder)` writes into an empty folder the files of a stand-in for
`DATASETS[role].hub_id`, laid out as the real Hub repository is laid out (file names, formats,
configs, the README's YAML header or the legacy dataset_infos.json), so that
`datasets.load_dataset(folder, config, split=...)` resolves it as it resolves the real repo.
tests/standin_hub.py puts each folder in a git repository and serves it on 127.0.0.1.

Rows come from the generators in coursekit.data, cast to the real Features. A split keeps its
real size up to ROW_CAP rows: the class profile takes at most 2,000 rows of a split.

What was checked, and where (stored copies of huggingface.co pages, read in 2026):
- the file trees ("Files and versions") and README/dataset_infos.json of each repository;
- the legacy loading scripts in github.com/huggingface/datasets (conll2003 label lists);
- DialogSum's test order from published notebooks that print test[0:10] (see DIALOGSUM_TEST).
What each stand-in holds is in STANDINS; `describe()` prints it as a table.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

ROW_CAP = 3000  # rows kept of a bigger split: > DEFAULT_SAMPLES["class"] (2,000)
SPLIT_OFFSET = {"train": 0, "validation": 1, "test": 2}  # as coursekit.hub.load_dataset_for


@dataclass(frozen=True)
class StandIn:
    """One stand-in: the repository it copies, how its files lie, and its split sizes."""

    hub_id: str
    config: str | None  # the config the course loads (None: the repository's default)
    files: tuple[str, ...]  # the files written, as named in the real repository
    real_rows: dict[str, int]  # split -> rows in the real split
    verified: str  # what was checked, and where
    row_cap: int = ROW_CAP  # rows kept of a bigger split

    @property
    def rows(self) -> dict[str, int]:
        """Rows per split in the stand-in: the real size, at most row_cap."""
        return {split: min(n, self.row_cap) for split, n in self.real_rows.items()}


STANDINS: dict[str, StandIn] = {
    # huggingface.co/datasets/stanfordnlp/sst2: README (dataset_info: idx int32, sentence,
    # label class_label 0 negative 1 positive; configs default data/{split}-*) and tree/main/data
    # (three *-00000-of-00001.parquet, "Convert dataset to Parquet (#7)"). Test labels are -1.
    "sentiment": StandIn(
        "stanfordnlp/sst2", None,
        ("README.md", "data/train-00000-of-00001.parquet",
         "data/validation-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"),
        {"train": 67349, "validation": 872, "test": 1821},
        "stanfordnlp/sst2 README.md at 8d51e7e and tree/main/data"),
    # huggingface.co/datasets/fancyzhx/yelp_polarity: tree/main/plain_text (train and test
    # *-00000-of-00001.parquet, "Convert dataset to Parquet (#9)"); card (refs/pr/8): label
    # class_label '0': '1', '1': '2' (the star classes: 0 = negative, 1 = positive), config
    # plain_text. The configs: block itself was not seen: written as the converter writes a
    # single named config (path plain_text/{split}-*, default: true).
    "sentiment-heldout": StandIn(
        "fancyzhx/yelp_polarity", None,
        ("README.md", "plain_text/train-00000-of-00001.parquet",
         "plain_text/test-00000-of-00001.parquet"),
        {"train": 560000, "test": 38000},
        "fancyzhx/yelp_polarity tree/main/plain_text and README (refs/pr/8)",
        row_cap=4000),  # the final exercise's class pool: POOL_FACTOR 2 x 2,000 training rows
    # fancyzhx/ag_news: text, label class_label World/Sports/Business/Sci/Tech (tfds catalogue of
    # the HF dataset; copies made with push_to_hub); splits train 120,000 and test 7,600. The
    # layout data/{split}-00000-of-00001.parquet + configs default is the Parquet converter's
    # (seen on a copy of ag_news, ebrigham/labels); fancyzhx/ag_news's own tree was not seen.
    "topics": StandIn(
        "fancyzhx/ag_news", None,
        ("README.md", "data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"),
        {"train": 120000, "test": 7600},
        "tfds huggingface:ag_news features; converter layout on ebrigham/labels"),
    # huggingface.co/datasets/lhoestq/conll2003 tree/main: .gitattributes, data/ (train,
    # validation, test -00000-of-00001.parquet), dataset_infos.json; no README (a 2021
    # push_to_hub). Features as the conll2003 loading script (huggingface/datasets
    # datasets/conll2003/conll2003.py): id, tokens, pos_tags (47), chunk_tags (23), ner_tags (9).
    # Real sizes 14,041 / 3,250 / 3,453 (eriktks/conll2003; one more each in copies made before
    # the July 2022 empty-example fix, as lhoestq's of Dec 2021 may be: not checked).
    "ner": StandIn(
        "lhoestq/conll2003", None,
        ("dataset_infos.json", "data/train-00000-of-00001.parquet",
         "data/validation-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"),
        {"train": 14041, "validation": 3250, "test": 3453},
        "lhoestq/conll2003 tree/main; huggingface/datasets conll2003.py"),
    # huggingface.co/datasets/rajpurkar/squad: viewer "Subset (1) plain_text", train 87.6k,
    # validation 10.6k; answers = sequence {text string, answer_start int32} (copies of its card).
    # Files plain_text/{split}-00000-of-00001.parquet as the converter writes a named config
    # (not seen on this repo). Questions on one context are adjacent, as in the real splits;
    # validation rows carry three answers (three annotators), train rows one.
    "qa": StandIn(
        "rajpurkar/squad", None,
        ("README.md", "plain_text/train-00000-of-00001.parquet",
         "plain_text/validation-00000-of-00001.parquet"),
        {"train": 87599, "validation": 10570},
        "rajpurkar/squad viewer; card of a copy (ryo0634/squad-with-markup)"),
    # huggingface.co/datasets/knkarthick/dialogsum tree/main: README.md (no configs: or
    # dataset_info: in its header), train.csv, validation.csv, test.csv, holdout.csv; splits are
    # inferred from the file names (holdout.csv matches no split and is ignored). Columns id,
    # dialogue, summary, topic, all strings; sizes 12,460 / 500 / 1,500.
    "dialogue-summary": StandIn(
        "knkarthick/dialogsum", None,
        ("README.md", "train.csv", "validation.csv", "test.csv", "holdout.csv"),
        {"train": 12460, "validation": 500, "test": 1500},
        "knkarthick/dialogsum tree/main and README history; copies' dataset_info"),
    # huggingface.co/datasets/Helsinki-NLP/opus_books: one config per language pair, each
    # {pair}/train-00000-of-00001.parquet ("Add en-fr data files" 1d599e7: en-fr has 127,085
    # rows); features id string, translation: translation languages [en, fr]. No default config:
    # a load without a config name fails, here as there (the stand-in also holds de-en).
    "translation": StandIn(
        "Helsinki-NLP/opus_books", "en-fr",
        ("README.md", "de-en/train-00000-of-00001.parquet", "en-fr/train-00000-of-00001.parquet"),
        {"train": 127085},
        "Helsinki-NLP/opus_books commit 1d599e7 and README dataset_info"),
}

# DialogSum's test split: 500 dialogues, each with three reference summaries (three annotators),
# one row per summary. The rows of a dialogue are adjacent (test[0:3] is the Ms. Dawson memo
# dialogue with its three summaries, test[3] the next dialogue): seen in notebooks that print the
# first rows of load_dataset("knkarthick/dialogsum")["test"]. Ids: "test_{dialogue}_{k}" (not
# seen in a stored copy; the original DialogSum files name the dialogue "test_{dialogue}").
DIALOGSUM_TEST = {"dialogues": 500, "summaries_per_dialogue": 3, "order": "adjacent"}
DIALOGSUM_HOLDOUT_ROWS = 100  # holdout.csv exists (86 kB); its rows were not seen

SST2_LABELS = ["negative", "positive"]
YELP_LABELS = ["1", "2"]  # the star classes of Zhang et al.: 1 = negative, 2 = positive
AG_NEWS_LABELS = ["World", "Sports", "Business", "Sci/Tech"]
CONLL_NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
CONLL_POS = ['"', "''", "#", "$", "(", ")", ",", ".", ":", "``", "CC", "CD", "DT", "EX", "FW",
             "IN", "JJ", "JJR", "JJS", "LS", "MD", "NN", "NNP", "NNPS", "NNS", "NN|SYM", "PDT",
             "POS", "PRP", "PRP$", "RB", "RBR", "RBS", "RP", "SYM", "TO", "UH", "VB", "VBD",
             "VBG", "VBN", "VBP", "VBZ", "WDT", "WP", "WP$", "WRB"]
CONLL_CHUNK = ["O", "B-ADJP", "I-ADJP", "B-ADVP", "I-ADVP", "B-CONJP", "I-CONJP", "B-INTJ",
               "I-INTJ", "B-LST", "I-LST", "B-NP", "I-NP", "B-PP", "I-PP", "B-PRT", "I-PRT",
               "B-SBAR", "I-SBAR", "B-UCP", "I-UCP", "B-VP", "I-VP"]


def class_label_yaml(names: list[str]) -> dict:
    """A class_label dtype as cards write it: names keyed by the label id as a string."""
    return {"class_label": {"names": {str(i): name for i, name in enumerate(names)}}}


# The features as each real card writes them (YAML), parsed by datasets like the real card.
CARD_FEATURES = {
    "sentiment": [
        {"name": "idx", "dtype": "int32"}, {"name": "sentence", "dtype": "string"},
        {"name": "label", "dtype": class_label_yaml(SST2_LABELS)}],
    "sentiment-heldout": [
        {"name": "text", "dtype": "string"},
        {"name": "label", "dtype": class_label_yaml(YELP_LABELS)}],
    "topics": [
        {"name": "text", "dtype": "string"},
        {"name": "label", "dtype": class_label_yaml(AG_NEWS_LABELS)}],
    "qa": [
        {"name": "id", "dtype": "string"}, {"name": "title", "dtype": "string"},
        {"name": "context", "dtype": "string"}, {"name": "question", "dtype": "string"},
        {"name": "answers", "sequence": [{"name": "text", "dtype": "string"},
                                         {"name": "answer_start", "dtype": "int32"}]}],
}


def translation_card_features(pair: list[str]) -> list[dict]:
    """opus_books' features for one language pair, as its card writes them."""
    return [{"name": "id", "dtype": "string"},
            {"name": "translation", "dtype": {"translation": {"languages": pair}}}]


def features_for(role: str):
    """The real datasets.Features of a role's dataset (the config the course loads)."""
    from datasets import ClassLabel, Features, Sequence, Value

    if role in CARD_FEATURES:
        return Features._from_yaml_list(CARD_FEATURES[role])
    if role == "translation":
        return Features._from_yaml_list(translation_card_features(["en", "fr"]))
    if role == "ner":
        tags = lambda names: Sequence(ClassLabel(names=names))  # noqa: E731
        return Features({"id": Value("string"), "tokens": Sequence(Value("string")),
                         "pos_tags": tags(CONLL_POS), "chunk_tags": tags(CONLL_CHUNK),
                         "ner_tags": tags(CONLL_NER)})
    if role == "dialogue-summary":  # CSV: every column is read as a string
        return Features({c: Value("string") for c in ("id", "dialogue", "summary", "topic")})
    raise KeyError(f"unknown dataset role {role!r}; roles: {sorted(STANDINS)}")


def split_seed(seed: int, split: str) -> int:
    """The seed of one split: the same offsets coursekit.hub uses for synthetic fallbacks."""
    return seed + SPLIT_OFFSET.get(split, 3) * 7919


def hex_id(*parts) -> str:
    """A 24-character hex id like SQuAD's ('5733be284776f41900661182'), from the parts."""
    return hashlib.md5("/".join(map(str, parts)).encode()).hexdigest()[:24]


# ---------------------------------------------------------------- rows per dataset
def sst2_rows(split: str, n: int, seed: int):
    """SST-2: lower-case tokenized sentences ending in a space; test labels hidden (-1)."""
    from coursekit import data
    from datasets import Dataset

    rows = data.sentiment_reviews(n, split_seed(seed, split)).to_dict()
    rows["sentence"] = [s + " " for s in rows["sentence"]]  # SST-2 sentences end in a space
    if split == "test":
        rows["label"] = [-1] * n  # SST-2 (GLUE) keeps its test labels private
    del rows["domain"]
    return Dataset.from_dict(rows, features=features_for("sentiment"))


def yelp_rows(split: str, n: int, seed: int):
    """Yelp polarity: text and the star class (0 = '1' negative, 1 = '2' positive).

    A Yelp review is a paragraph, not a sentence: each row joins 2 to 4 hotel-review sentences
    of one polarity. That also keeps the rows distinct, as real reviews are: single template
    sentences repeat (1,731 distinct in 3,000), and the final exercise drops every training
    review that repeats a test one, so its class recipe (2 x 2,000 training rows) ran short.
    """
    from coursekit import data
    from datasets import Dataset

    split_rng_seed = split_seed(seed, split)
    rng = random.Random(split_rng_seed)
    sentences = data.heldout_reviews(4 * n, split_rng_seed)
    by_label = {label: [text for text, y in zip(sentences["text"], sentences["label"])
                        if y == label] for label in (0, 1)}
    labels = [i % 2 for i in range(n)]
    rng.shuffle(labels)
    texts = [" ".join(rng.sample(by_label[label], rng.randint(2, 4))) for label in labels]
    return Dataset.from_dict({"text": texts, "label": labels},
                             features=features_for("sentiment-heldout"))


def ag_news_rows(split: str, n: int, seed: int):
    """AG News: one-sentence news items with the four topic labels."""
    from coursekit import data

    return data.news_topics(n, split_seed(seed, split)).cast(features_for("topics"))


POS_OF_WORD = {".": ".", "in": "IN", "to": "TO", "at": "IN", "for": "IN", "about": "IN",
               "on": "IN", "the": "DT", "an": "DT", "works": "VBZ", "flew": "VBD",
               "opened": "VBD", "met": "VBD", "joined": "VBD", "talked": "VBD",
               "yesterday": "NN", "office": "NN"}
CHUNK_OF_POS = {".": "O", "IN": "B-PP", "TO": "B-PP", "VBZ": "B-VP", "VBD": "B-VP"}


def conll_rows(split: str, n: int, seed: int):
    """CoNLL-2003: the synthetic NER sentences, with POS and chunk tags from a small lexicon."""
    from coursekit import data
    from datasets import Dataset

    rows = data.ner_sentences(n, split_seed(seed, split)).to_dict()
    rows["pos_tags"], rows["chunk_tags"] = [], []
    for tokens, ner in zip(rows["tokens"], rows["ner_tags"]):
        entity = [tag != 0 for tag in ner]
        pos = ["NNP" if e else POS_OF_WORD.get(t, "NN") for t, e in zip(tokens, entity)]
        chunk = [CHUNK_OF_POS.get(p, "B-NP") for p in pos]
        chunk = [("I-NP" if i and entity[i] and entity[i - 1] and c == "B-NP" else c)
                 for i, c in enumerate(chunk)]
        rows["pos_tags"].append([CONLL_POS.index(p) for p in pos])
        rows["chunk_tags"].append([CONLL_CHUNK.index(c) for c in chunk])
    rows = {name: rows[name] for name in ("id", "tokens", "pos_tags", "chunk_tags", "ner_tags")}
    return Dataset.from_dict(rows, features=features_for("ner"))


def squad_rows(split: str, n: int, seed: int):
    """SQuAD: a context of facts, then one question per fact on adjacent rows (as in SQuAD)."""
    from coursekit import data
    from datasets import Dataset

    rng = random.Random(split_seed(seed, split))
    answers_per_question = 3 if split == "validation" else 1  # three annotators in dev
    rows = {"id": [], "title": [], "context": [], "question": [], "answers": []}
    while len(rows["id"]) < n:
        person = rng.choice(data.FIRST_NAMES)
        facts = [(rel, q, rng.choice(values)) for rel, q, values in
                 rng.sample(data.QA_RELATIONS, 3)]
        context = " ".join(f"{person} {rel} {value} ." for rel, _, value in facts)
        for _, question, answer in facts[:n - len(rows["id"])]:
            start = context.index(f" {answer} .") + 1
            rows["id"].append(hex_id(split, seed, len(rows["id"])))
            rows["title"].append(person.capitalize())
            rows["context"].append(context)
            rows["question"].append(question.format(p=person))
            rows["answers"].append({"text": [answer] * answers_per_question,
                                    "answer_start": [start] * answers_per_question})
    return Dataset.from_dict(rows).cast(features_for("qa"))


def as_person_tags(dialogue: str) -> tuple[str, dict[str, str]]:
    """DialogSum marks speakers #Person1#, #Person2#: rename the generator's speakers so.

    The first turn names the person spoken to, as real dialogues often do ("Ms. Dawson, I need
    you to..."): without names, the generator's dialogues repeat too often.
    """
    tags: dict[str, str] = {}
    lines = []
    for line in dialogue.split("\n"):
        speaker, text = line.split(": ", 1)
        tags.setdefault(speaker, f"#Person{len(tags) + 1}#")
        lines.append(f"{tags[speaker]}: {text}")
    listener = dialogue.split("\n")[1].split(": ", 1)[0]  # who speaks second
    first_tag, first_text = lines[0].split(": ", 1)
    if listener not in first_text.split():
        lines[0] = f"{first_tag}: {listener} , {first_text}"
    return "\n".join(lines), tags


def with_tags(text: str, tags: dict[str, str]) -> str:
    """A summary that calls the speakers by their tags, as most DialogSum summaries do."""
    return " ".join(tags.get(word, word) for word in text.split(" "))


def dialogsum_rows(split: str, n: int, seed: int, prefix: str | None = None) -> list[dict]:
    """DialogSum rows (id, dialogue, summary, topic); test: three summaries per dialogue."""
    from coursekit import data

    every = list(data.DIALOGUE_TOPICS) + list(data.TARGET_DIALOGUE_TOPICS)
    per_dialogue = DIALOGSUM_TEST["summaries_per_dialogue"] if split == "test" else 1
    wanted = -(-n // per_dialogue)
    source, seen = [], set()  # distinct dialogues, as in DialogSum
    for row in data.dialogues(4 * wanted, split_seed(seed, split), every).to_list():
        dialogue, tags = as_person_tags(row["dialogue"])
        if dialogue not in seen:
            seen.add(dialogue)
            source.append((row, dialogue, tags))
    if len(source) < wanted:
        raise ValueError(f"only {len(source)} distinct dialogues for {wanted} ({split})")
    rows = []
    for i, (row, dialogue, tags) in enumerate(source[:wanted]):
        summaries = [with_tags(row["summary"], tags), row["summary"],
                     f"#Person1# and #Person2# talk about the {row['topic']} ."]
        topics = [row["topic"], row["topic"], f"{row['topic']} talk"]
        for k in range(per_dialogue):
            name = f"test_{i}_{k + 1}" if split == "test" else f"{prefix or split}_{i}"
            rows.append({"id": name, "dialogue": dialogue, "summary": summaries[k],
                         "topic": topics[k]})
    return rows[:n]


def opus_rows(pair: str, n: int, seed: int):
    """opus_books rows of one language pair: id and a translation dict keyed by language."""
    from coursekit import data
    from datasets import Dataset, Features

    ds = data.translation_pairs(n, split_seed(seed, "train"))
    if pair == "en-fr":
        return ds.cast(features_for("translation"))
    # de-en exists only so that the repository has more than one config: English both sides.
    pairs = [{"de": t["en"], "en": t["en"]} for t in ds["translation"]]
    features = Features._from_yaml_list(translation_card_features(pair.split("-")))
    return Dataset.from_dict({"id": ds["id"], "translation": pairs}, features=features)


# ---------------------------------------------------------------- files and cards
def write_parquet(ds, folder: Path, name: str) -> None:
    """One Parquet file, with the datasets Features in its schema metadata (as the Hub's)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_parquet(str(path))


def split_list(splits: dict) -> list[dict]:
    """The splits: block of a card's dataset_info, with the stand-in's sizes."""
    return [{"name": name, "num_bytes": int(ds.data.nbytes), "num_examples": len(ds)}
            for name, ds in splits.items()]


def dataset_info_entry(features_yaml: list[dict], splits: dict, folder: Path,
                       config: str | None = None) -> dict:
    """One dataset_info: entry (features as the real card writes them, sizes of the files)."""
    entry = {"config_name": config} if config else {}
    entry.update({"features": features_yaml, "splits": split_list(splits)})
    entry["download_size"] = sum(p.stat().st_size for p in folder.rglob("*.parquet")
                                 if config is None or p.parent.name == config)
    entry["dataset_size"] = sum(s["num_bytes"] for s in entry["splits"])
    return entry


def write_card(folder: Path, header: dict, title: str) -> None:
    """README.md: the YAML header (metadata, dataset_info, configs) and a short body."""
    import yaml

    text = yaml.safe_dump(header, sort_keys=False, allow_unicode=True)
    (folder / "README.md").write_text(
        f"---\n{text}---\n\n# {title}\n\nA stand-in written by tests/standin_datasets.py: the "
        f"real repository's layout and schema, synthetic rows.\n", encoding="utf-8")


def configs_entry(config: str, splits, default: bool = False) -> dict:
    """One configs: entry, with a path pattern per split as the Hub writes them."""
    folder = "data" if config == "default" else config
    entry = {"config_name": config,
             "data_files": [{"split": s, "path": f"{folder}/{s}-*"} for s in splits]}
    return {**entry, "default": True} if default else entry


def build_parquet_repo(role: str, folder: Path, seed: int, make_rows, config: str = "default",
                       header: dict | None = None) -> dict[str, int]:
    """A Parquet repository with one config: files, then a card with dataset_info and configs."""
    spec = STANDINS[role]
    splits = {split: make_rows(split, n, seed) for split, n in spec.rows.items()}
    sub = "data" if config == "default" else config
    for split, ds in splits.items():
        write_parquet(ds, folder, f"{sub}/{split}-00000-of-00001.parquet")
    info = dataset_info_entry(CARD_FEATURES[role], splits, folder,
                              None if config == "default" else config)
    write_card(folder, {**(header or {}), "dataset_info": info,
                        "configs": [configs_entry(config, splits, default=config != "default")]},
               spec.hub_id)
    return {split: len(ds) for split, ds in splits.items()}


def build_sst2(folder: Path, seed: int) -> dict[str, int]:
    """stanfordnlp/sst2: data/{split}-00000-of-00001.parquet, config default."""
    header = {"language": ["en"], "license": ["unknown"], "task_categories":
              ["text-classification"], "task_ids": ["sentiment-classification"],
              "paperswithcode_id": "sst", "pretty_name": "Stanford Sentiment Treebank v2"}
    return build_parquet_repo("sentiment", folder, seed, sst2_rows, header=header)


def build_yelp(folder: Path, seed: int) -> dict[str, int]:
    """fancyzhx/yelp_polarity: plain_text/{split}-00000-of-00001.parquet, config plain_text."""
    header = {"language": ["en"], "pretty_name": "YelpPolarity", "task_categories":
              ["text-classification"], "task_ids": ["sentiment-classification"],
              "paperswithcode_id": "yelp-review-polarity"}
    return build_parquet_repo("sentiment-heldout", folder, seed, yelp_rows, "plain_text", header)


def build_ag_news(folder: Path, seed: int) -> dict[str, int]:
    """fancyzhx/ag_news: data/{split}-00000-of-00001.parquet, config default."""
    header = {"language": ["en"], "license": ["unknown"], "task_categories":
              ["text-classification"], "task_ids": ["topic-classification"],
              "paperswithcode_id": "ag-news", "pretty_name": "AG’s News Corpus"}
    return build_parquet_repo("topics", folder, seed, ag_news_rows, header=header)


def build_squad(folder: Path, seed: int) -> dict[str, int]:
    """rajpurkar/squad: plain_text/{split}-00000-of-00001.parquet, config plain_text."""
    header = {"language": ["en"], "license": ["cc-by-sa-4.0"], "task_categories":
              ["question-answering"], "task_ids": ["extractive-qa"],
              "paperswithcode_id": "squad", "pretty_name": "SQuAD"}
    return build_parquet_repo("qa", folder, seed, squad_rows, "plain_text", header)


def legacy_feature(feature) -> dict:
    """A feature in the 2021 dataset_infos.json form (Sequence, ClassLabel with num_classes)."""
    from datasets import ClassLabel, List

    if isinstance(feature, List):
        return {"feature": legacy_feature(feature.feature), "length": -1, "id": None,
                "_type": "Sequence"}
    if isinstance(feature, ClassLabel):
        return {"num_classes": feature.num_classes, "names": feature.names, "names_file": None,
                "id": None, "_type": "ClassLabel"}
    return {"dtype": feature.dtype, "id": None, "_type": "Value"}


def build_conll(folder: Path, seed: int) -> dict[str, int]:
    """lhoestq/conll2003: data/{split}-00000-of-00001.parquet and dataset_infos.json, no README."""
    spec = STANDINS["ner"]
    splits = {split: conll_rows(split, n, seed) for split, n in spec.rows.items()}
    for split, ds in splits.items():
        write_parquet(ds, folder, f"data/{split}-00000-of-00001.parquet")
    features = features_for("ner")
    info = {"description": "", "citation": "", "homepage": "", "license": "",
            "features": {name: legacy_feature(f) for name, f in features.items()},
            "post_processed": None, "supervised_keys": None, "task_templates": None,
            "builder_name": None, "config_name": None, "version": None,
            "splits": {s["name"]: {**s, "dataset_name": "conll2003"}
                       for s in split_list(splits)},
            "download_checksums": None, "download_size": 0, "post_processing_size": None,
            "dataset_size": sum(s["num_bytes"] for s in split_list(splits)), "size_in_bytes": 0}
    (folder / "dataset_infos.json").write_text(json.dumps({"lhoestq--conll2003": info}))
    return {split: len(ds) for split, ds in splits.items()}


def write_csv(rows: list[dict], path: Path) -> None:
    """A CSV file with a header line, quoted where needed (dialogues hold newlines)."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "dialogue", "summary", "topic"])
        writer.writeheader()
        writer.writerows(rows)


def build_dialogsum(folder: Path, seed: int) -> dict[str, int]:
    """knkarthick/dialogsum: {split}.csv at the top, holdout.csv, a README without configs."""
    spec = STANDINS["dialogue-summary"]
    prefixes = {"train": "train", "validation": "dev", "test": "test"}
    counts = {}
    for split, n in spec.rows.items():
        rows = dialogsum_rows(split, n, seed, prefixes[split])
        write_csv(rows, folder / f"{split}.csv")
        counts[split] = len(rows)
    write_csv(dialogsum_rows("holdout", DIALOGSUM_HOLDOUT_ROWS, seed), folder / "holdout.csv")
    header = {"annotations_creators": ["expert-generated"], "language_creators":
              ["expert-generated"], "language": ["en"], "license": "cc-by-nc-sa-4.0",
              "multilinguality": ["monolingual"], "size_categories": ["10K<n<100K"],
              "source_datasets": ["original"], "task_categories":
              ["summarization", "text2text-generation", "text-generation"], "task_ids": [],
              "pretty_name": "DIALOGSum Corpus", "tags": ["dialogue-summary",
              "one-liner-summary", "meeting-title", "email-subject"]}
    write_card(folder, header, "Dataset Card for DIALOGSum Corpus")
    return counts


def build_opus_books(folder: Path, seed: int) -> dict[str, int]:
    """Helsinki-NLP/opus_books: {pair}/train-00000-of-00001.parquet, one config per pair."""
    n = STANDINS["translation"].rows["train"]
    pairs = {"de-en": opus_rows("de-en", 20, seed), "en-fr": opus_rows("en-fr", n, seed)}
    for pair, ds in pairs.items():
        write_parquet(ds, folder, f"{pair}/train-00000-of-00001.parquet")
    infos = [dataset_info_entry(translation_card_features(pair.split("-")), {"train": ds},
                                folder, pair) for pair, ds in pairs.items()]
    header = {"language": ["de", "en", "fr"], "license": ["unknown"],
              "multilinguality": ["multilingual"], "task_categories": ["translation"],
              "task_ids": [], "pretty_name": "OpusBooks", "dataset_info": infos,
              "configs": [configs_entry(pair, ["train"]) for pair in pairs]}
    write_card(folder, header, "Dataset Card for OpusBooks")
    return {"train": len(pairs["en-fr"])}


BUILDERS = {"sentiment": build_sst2, "sentiment-heldout": build_yelp, "topics": build_ag_news,
            "ner": build_conll, "qa": build_squad, "dialogue-summary": build_dialogsum,
            "translation": build_opus_books}


def build_dataset_folder(role: str, folder: Path, seed: int = 0) -> dict[str, int]:
    """Write the stand-in of DATASETS[role] into an empty folder; return split -> rows."""
    from coursekit.profiles import DATASETS

    if role not in BUILDERS:
        raise KeyError(f"unknown dataset role {role!r}; roles: {sorted(BUILDERS)}")
    if STANDINS[role].hub_id != DATASETS[role].hub_id:
        raise ValueError(f"{role}: profiles names {DATASETS[role].hub_id}, the stand-in copies "
                         f"{STANDINS[role].hub_id}: update STANDINS")
    import datasets

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty")
    bars_were_off = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # a dozen bars of a few milliseconds each: noise in logs
    try:
        return BUILDERS[role](folder, seed)
    finally:
        if not bars_were_off:
            datasets.enable_progress_bars()


def build_all(root: Path, seed: int = 0) -> dict[str, dict[str, int]]:
    """Every stand-in, each in root/<owner>/<name>: role -> split -> rows."""
    return {role: build_dataset_folder(role, Path(root) / spec.hub_id, seed)
            for role, spec in STANDINS.items()}


def describe() -> list[list]:
    """What each stand-in holds: role, repository, config, files, rows (real rows)."""
    return [[role, s.hub_id, s.config or "(default)", ", ".join(s.files),
             ", ".join(f"{k} {s.rows[k]:,} ({n:,})" for k, n in s.real_rows.items())]
            for role, s in STANDINS.items()]


if __name__ == "__main__":
    for line in describe():
        print(" | ".join(map(str, line)))
