"""The dataset stand-ins load as the real Hub repositories do, in the real schema."""

from __future__ import annotations

import dataclasses

import pytest
import standin_datasets as standin
from coursekit.profiles import DATASETS, DEFAULT_SAMPLES


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict:
    """Every stand-in, built once for this file: role -> (folder, split -> rows)."""
    root = tmp_path_factory.mktemp("standins")
    return {role: (root / role, standin.build_dataset_folder(role, root / role))
            for role in standin.STANDINS}


def load(folders, role: str, split: str, config: str | None = None):
    """Load a split (or a slice) of a stand-in the way the course loads the Hub repository."""
    from datasets import load_dataset

    folder, _ = folders[role]
    return load_dataset(str(folder), config or standin.STANDINS[role].config, split=split)


def as_plain(features) -> str:
    """A Features repr in which the CSV loader's large_string counts as string."""
    return repr(features).replace("large_string", "string")


@pytest.mark.parametrize("role", sorted(DATASETS))
def test_every_split_loads_in_the_real_schema(folders, role):
    spec, stand = DATASETS[role], standin.STANDINS[role]
    folder, rows = folders[role]
    assert rows == stand.rows == {s: min(n, stand.row_cap) for s, n in stand.real_rows.items()}
    assert stand.row_cap >= standin.ROW_CAP
    assert set(spec.splits) <= set(rows)
    for split, n in rows.items():
        whole = load(folders, role, split)
        assert len(whole) == n
        assert as_plain(whole.features) == as_plain(standin.features_for(role))
        assert set(spec.columns) <= set(whole.column_names)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == \
        sorted(stand.files)


@pytest.mark.parametrize("role", sorted(DATASETS))
def test_the_course_loader_slices_the_stand_in(folders, role, monkeypatch):
    """coursekit.hub.load_dataset_for, pointed at the folder: the class profile's slices."""
    from coursekit import hub

    folder, rows = folders[role]
    local = dataclasses.replace(DATASETS[role], hub_id=str(folder))
    monkeypatch.setattr(hub, "DATASETS", {**DATASETS, role: local})
    monkeypatch.setattr(hub, "show_fallback_banner", lambda *a: pytest.fail(f"fallback: {a}"))
    n = DEFAULT_SAMPLES["class"]
    for split in DATASETS[role].splits:
        sliced = hub.load_dataset_for(role, "class", split, n)
        assert len(sliced) == min(n, rows[split])
        assert sliced[0] == load(folders, role, split)[0]


def test_the_cards_write_features_as_the_real_cards_do(folders):
    import yaml

    for role in standin.CARD_FEATURES:
        card = (folders[role][0] / "README.md").read_text().split("---\n")[1]
        info = yaml.safe_load(card)["dataset_info"]
        assert info["features"] == standin.CARD_FEATURES[role]
    squad = yaml.safe_load((folders["qa"][0] / "README.md").read_text().split("---\n")[1])
    assert squad["configs"] == [{"config_name": "plain_text", "data_files": [
        {"split": "train", "path": "plain_text/train-*"},
        {"split": "validation", "path": "plain_text/validation-*"}], "default": True}]


def test_class_labels_have_the_real_names_in_the_real_order(folders):
    assert load(folders, "sentiment", "train[:5]").features["label"].names == \
        ["negative", "positive"]
    assert load(folders, "sentiment-heldout", "test[:5]").features["label"].names == ["1", "2"]
    assert load(folders, "topics", "train[:5]").features["label"].names == \
        ["World", "Sports", "Business", "Sci/Tech"]


def test_sst2_has_int32_ids_and_hidden_test_labels(folders):
    test = load(folders, "sentiment", "test")
    assert test.features["idx"].dtype == "int32"
    assert set(test["label"]) == {-1}  # GLUE keeps the test labels private
    assert set(load(folders, "sentiment", "validation")["label"]) == {0, 1}


def test_conll2003_is_parquet_with_legacy_infos_and_tag_sequences(folders):
    from datasets import ClassLabel, List

    folder, _ = folders["ner"]
    assert not (folder / "README.md").exists()  # lhoestq/conll2003 has dataset_infos.json only
    features = load(folders, "ner", "validation[:10]").features
    for column, n_names in (("ner_tags", 9), ("pos_tags", 47), ("chunk_tags", 23)):
        assert isinstance(features[column], List)
        assert isinstance(features[column].feature, ClassLabel)
        assert features[column].feature.num_classes == n_names
    assert features["ner_tags"].feature.names == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG",
                                                  "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    row = load(folders, "ner", "train[:1]")[0]
    assert len(row["tokens"]) == len(row["ner_tags"]) == len(row["pos_tags"])


def test_squad_answers_are_nested_and_point_into_the_context(folders):
    from datasets import List, Value

    validation = load(folders, "qa", "validation[:30]")
    answers = validation.features["answers"]
    assert answers == {"text": List(Value("string")), "answer_start": List(Value("int32"))}
    for row in validation:
        assert len(row["answers"]["text"]) == 3  # SQuAD's dev set: three annotators
        start, text = row["answers"]["answer_start"][0], row["answers"]["text"][0]
        assert row["context"][start:start + len(text)] == text
        assert len(row["id"]) == 24
    assert len(set(validation["context"])) < len(validation) / 2  # questions share a context
    assert len(load(folders, "qa", "train[:1]")[0]["answers"]["text"]) == 1


def test_opus_books_needs_its_config_and_holds_translation_dicts(folders):
    from datasets import Translation, load_dataset

    train = load(folders, "translation", "train[:20]", config="en-fr")
    assert train.features["translation"] == Translation(languages=["en", "fr"])
    assert set(train[0]["translation"]) == {"en", "fr"}
    with pytest.raises(ValueError, match="Config name is missing"):  # as on the Hub
        load_dataset(str(folders["translation"][0]), split="train")


def test_dialogsum_test_rows_come_in_adjacent_triples(folders):
    """Real: 500 dialogues x 3 reference summaries, one dialogue's rows next to each other."""
    test = load(folders, "dialogue-summary", "test")
    assert len(test) == 1500 and len(set(test["dialogue"])) == 500
    first = load(folders, "dialogue-summary", "test[:50]")  # what the class profile takes
    assert first["id"][:4] == ["test_0_1", "test_0_2", "test_0_3", "test_1_1"]
    for i in range(0, 48, 3):
        triple = first[i:i + 3]
        assert len(set(triple["dialogue"])) == 1  # one dialogue ...
        assert len(set(triple["summary"])) == 3  # ... three annotators' summaries
    assert len(set(first["dialogue"])) == 17  # 50 rows: 16 whole triples and 2 rows of a 17th
    assert first[0]["dialogue"].startswith("#Person1#: ")
    assert {"topic", "summary"} <= set(first.column_names)


def test_dialogsum_splits_come_from_the_csv_names(folders):
    from datasets import load_dataset

    folder, _ = folders["dialogue-summary"]
    assert "configs:" not in (folder / "README.md").read_text()  # the real card has none
    splits = load_dataset(str(folder))
    assert sorted(splits) == ["test", "train", "validation"]  # holdout.csv is no split
    assert splits["validation"][0]["id"] == "dev_0" and splits["train"][0]["id"] == "train_0"


def test_a_build_is_deterministic_and_needs_an_empty_folder(folders, tmp_path):
    again = tmp_path / "again"
    standin.build_dataset_folder("dialogue-summary", again)
    first = folders["dialogue-summary"][0]
    for name in ("train.csv", "test.csv"):
        assert (again / name).read_bytes() == (first / name).read_bytes()
    with pytest.raises(FileExistsError):
        standin.build_dataset_folder("dialogue-summary", again)
    assert len(standin.describe()) == len(DATASETS)


def test_yelp_rows_are_paragraphs_of_one_polarity_and_distinct(folders):
    """The final exercise drops training reviews that repeat a test review: few may repeat."""
    train, test = load(folders, "sentiment-heldout", "train"), load(folders, "sentiment-heldout",
                                                                     "test")
    assert sum(train["label"]) == len(train) // 2  # balanced, as Yelp polarity is
    assert all(text.count(" . ") + text.count(" ! ") >= 1 for text in train["text"][:50])
    repeats = set(train["text"]) & set(test["text"])
    assert len(set(train["text"])) > 0.99 * len(train) and len(repeats) < 0.01 * len(train)
