"""The synthetic datasets: deterministic, with the Hub datasets' columns, usable as files."""

from __future__ import annotations

import pytest
from coursekit import data
from coursekit.profiles import DATASETS

GENERATORS = [spec.synthetic for spec in DATASETS.values()]


@pytest.mark.parametrize("role", sorted(DATASETS))
def test_generator_has_the_hub_columns(role):
    spec = DATASETS[role]
    ds = getattr(data, spec.synthetic)(20, seed=1)
    assert len(ds) == 20
    assert set(spec.columns) <= set(ds.column_names)


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_deterministic_from_the_seed(name):
    make = getattr(data, name)
    assert make(30, seed=3).to_list() == make(30, seed=3).to_list()
    assert make(30, seed=3).to_list() != make(30, seed=4).to_list()


def test_sentiment_labels_are_balanced_and_named_like_sst2():
    ds = data.sentiment_reviews(100, seed=0)
    assert ds.features["label"].names == ["negative", "positive"]
    assert sum(ds["label"]) == 50
    assert set(ds["domain"]) <= set(data.TRAIN_DOMAINS)


def test_heldout_domain_shares_no_opinion_words_with_training_domains():
    heldout = data.SENTIMENT_DOMAINS[data.HELDOUT_DOMAIN]
    heldout_words = set(heldout["nouns"] + heldout["positive"] + heldout["negative"])
    train_text = " ".join(data.sentiment_reviews(2000, seed=0)["sentence"])
    assert not heldout_words & set(train_text.split())


def test_ner_tags_align_with_tokens_and_use_conll_labels():
    ds = data.ner_sentences(50, seed=0)
    assert ds.features["ner_tags"].feature.names == data.NER_LABELS
    for row in ds:
        assert len(row["tokens"]) == len(row["ner_tags"])
        for i, tag in enumerate(row["ner_tags"]):  # an I- tag always continues an entity
            if data.NER_LABELS[tag].startswith("I-"):
                assert data.NER_LABELS[row["ner_tags"][i - 1]][2:] == data.NER_LABELS[tag][2:]


def test_qa_answer_start_points_at_the_answer():
    for row in data.qa_examples(100, seed=0):
        text, start = row["answers"]["text"][0], row["answers"]["answer_start"][0]
        assert row["context"][start:start + len(text)] == text


def test_translation_is_word_for_word():
    pair = data.translation_pairs(1, seed=0)[0]["translation"]
    assert set(pair) == {"en", "fr"}
    row = data.instruction_examples("translation", 1, seed=0)[0]
    assert row["instruction"] == f"Translate English to French: {row['input']}"


def test_instruction_mixture_counts_each_task():
    ds = data.instruction_tasks({"sentiment": 5, "qa": 3}, seed=0)
    assert sorted(ds["task"]) == ["qa"] * 3 + ["sentiment"] * 5
    with pytest.raises(ValueError, match="unknown task"):
        data.instruction_examples("poetry", 1)


def test_dialogues_can_lay_out_three_summaries_per_dialogue_like_dialogsum_test():
    one = data.dialogues(20, seed=5)
    three = data.dialogues(20, seed=5, summaries_per_dialogue=3)
    assert len(three) == 60
    topic = one["topic"][0]
    assert three["id"][:4] == [f"{topic}_0_1", f"{topic}_0_2", f"{topic}_0_3",
                               f"{one['topic'][1]}_1_1"]
    assert three["dialogue"][::3] == one["dialogue"]  # the same dialogues ...
    assert three["summary"][::3] == one["summary"]  # ... and the same first summary
    for i in range(0, 60, 3):  # adjacent rows: one dialogue, three different wordings
        assert len(set(three["dialogue"][i:i + 3])) == 1
        assert len(set(three["summary"][i:i + 3])) == 3
    assert set(data.OTHER_SUMMARIES) == set(data.DIALOGUE_TOPICS) | set(
        data.TARGET_DIALOGUE_TOPICS)
    with pytest.raises(ValueError, match="summaries_per_dialogue"):
        data.dialogues(1, summaries_per_dialogue=4)


def dialogsum_test_layout(n_dialogues: int) -> list[dict]:
    """Rows as DialogSum's test split lays them out: ids test_{dialogue}_{k}, adjacent."""
    rows = data.dialogues(n_dialogues, seed=0, summaries_per_dialogue=3).to_list()
    assert len({row["dialogue"] for row in rows}) == n_dialogues  # seed 0: no repeats
    return [{**row, "id": f"test_{i // 3}_{i % 3 + 1}"} for i, row in enumerate(rows)]


def test_distinct_dialogues_keeps_each_dialogue_once_with_all_its_summaries():
    rows = dialogsum_test_layout(5)
    assert len(data.distinct_dialogues(rows[:3])) == 1  # a 3-row slice is ONE dialogue
    first = data.distinct_dialogues(rows, 3)
    assert [d["id"] for d in first] == ["test_0_1", "test_1_1", "test_2_1"]
    assert [d["summaries"] for d in first] == [[r["summary"] for r in rows[i:i + 3]]
                                               for i in (0, 3, 6)]
    assert len(data.distinct_dialogues(rows)) == 5  # n=None: every dialogue
    shuffled = rows[::-1]  # rows matched by dialogue text, not by position
    by_text = {d["dialogue"]: sorted(d["summaries"]) for d in data.distinct_dialogues(shuffled)}
    assert by_text == {d["dialogue"]: sorted(d["summaries"])
                       for d in data.distinct_dialogues(rows)}
    from datasets import Dataset

    assert data.distinct_dialogues(Dataset.from_list(rows), 3) == first  # a Dataset too
    twice = data.distinct_dialogues(rows[:3] + rows[:3])  # a repeated dialogue (synthetic
    assert twice == data.distinct_dialogues(rows[:3])  # data has some): each wording once


def test_distinct_dialogues_reads_the_dialogsum_stand_in():
    """The class path's stand-in (tests/standin_datasets.py) copies the real test layout."""
    from standin_datasets import DIALOGSUM_TEST, dialogsum_rows

    rows = dialogsum_rows("test", 1500, seed=0)
    dialogues = data.distinct_dialogues(rows, 50)  # flan_t5_finetuning's class test set
    assert len(dialogues) == 50 and len({d["dialogue"] for d in dialogues}) == 50
    assert {len(d["summaries"]) for d in dialogues} == {
        DIALOGSUM_TEST["summaries_per_dialogue"]}
    assert [d["id"] for d in dialogues[:2]] == ["test_0_1", "test_1_1"]
    assert len(data.distinct_dialogues(rows)) == DIALOGSUM_TEST["dialogues"]


def test_files_round_trip_as_csv_json_and_parquet(tmp_path):
    from datasets import load_dataset

    ds = data.sentiment_reviews(40, seed=2)
    paths = data.write_files(ds, tmp_path, "reviews")
    original = ds.remove_columns([]).to_list()
    for kind, path in paths.items():
        loaded = load_dataset(kind, data_files=str(path), split="train")
        assert loaded.to_list() == original, kind
