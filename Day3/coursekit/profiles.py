"""Profiles: which model and dataset each role uses in the tiny, class and full profiles.

One table for the whole day, so a change of model is made in one place:

- `tiny`:  models built locally by `coursekit.tiny` and synthetic data; no network, seconds.
- `class`: small real Hub models and slices of real Hub datasets; minutes on a laptop CPU.
- `full`:  the same or larger models on whole datasets; meant for a GPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

PROFILES = ("tiny", "class", "full")
DEFAULT_PROFILE = "class"

# role -> model id per profile. Tiny names are folders of the local zoo (coursekit.tiny).
MODELS: dict[str, dict[str, str]] = {
    "instruction": {  # seq2seq instruction follower (Flan-T5)
        "tiny": "tiny-flan-t5",
        "class": "google/flan-t5-small",
        "full": "google/flan-t5-base",
    },
    "encoder": {  # a pretrained encoder to fine-tune
        "tiny": "tiny-distilbert",
        "class": "distilbert/distilbert-base-uncased",
        "full": "distilbert/distilbert-base-uncased",
    },
    "sentiment": {  # an encoder already fine-tuned for sentiment (SST-2)
        "tiny": "tiny-distilbert-sst2",
        "class": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        "full": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    },
    "ner": {  # a named-entity tagger (CoNLL-2003 labels)
        "tiny": "tiny-distilbert-ner",
        "class": "dslim/bert-base-NER",
        "full": "dslim/bert-large-NER",
    },
    "extractive-qa": {  # start/end span prediction (SQuAD)
        "tiny": "tiny-distilbert-squad",
        "class": "distilbert/distilbert-base-cased-distilled-squad",
        "full": "deepset/roberta-base-squad2",
    },
    "embedding": {  # sentence embeddings (mean pooling)
        "tiny": "tiny-distilbert",
        "class": "sentence-transformers/all-MiniLM-L6-v2",
        "full": "sentence-transformers/all-mpnet-base-v2",
    },
    "student": {  # a small BERT that learns from a fine-tuned teacher (distillation, 3.2.3)
        "tiny": "tiny-distilbert",
        "class": "google/bert_uncased_L-2_H-128_A-2",  # 4.4 M parameters
        "full": "google/bert_uncased_L-4_H-256_A-4",  # 11 M
    },
    "chat": {  # a small chat model for the text-generation pipeline
        "tiny": "tiny-chat-lm",
        "class": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "full": "HuggingFaceTB/SmolLM2-1.7B-Instruct",
    },
}


@dataclass(frozen=True)
class DatasetSpec:
    """A Hub dataset, the synthetic generator that stands in for it, and its columns."""

    hub_id: str
    config: str | None
    synthetic: str  # the name of a generator in coursekit.data
    columns: tuple[str, ...]
    splits: tuple[str, ...] = ("train", "validation", "test")


DATASETS: dict[str, DatasetSpec] = {
    "sentiment": DatasetSpec("stanfordnlp/sst2", None, "sentiment_reviews",
                             ("idx", "sentence", "label")),
    # Reviews of another kind, to test generalization: Yelp (tiny: the held-out hotel reviews).
    "sentiment-heldout": DatasetSpec("fancyzhx/yelp_polarity", None, "heldout_reviews",
                                     ("text", "label"), ("train", "test")),
    "topics": DatasetSpec("fancyzhx/ag_news", None, "news_topics", ("text", "label"),
                          ("train", "test")),
    "ner": DatasetSpec("lhoestq/conll2003", None, "ner_sentences", ("id", "tokens", "ner_tags")),
    "qa": DatasetSpec("rajpurkar/squad", None, "qa_examples",
                      ("id", "title", "context", "question", "answers"),
                      ("train", "validation")),
    "dialogue-summary": DatasetSpec("knkarthick/dialogsum", None, "dialogues",
                                    ("id", "dialogue", "summary", "topic")),
    "translation": DatasetSpec("Helsinki-NLP/opus_books", "en-fr", "translation_pairs",
                               ("id", "translation"), ("train",)),
}

# How many rows a script takes from a dataset split by default, per profile (None = all).
DEFAULT_SAMPLES = {"tiny": 400, "class": 2000, "full": None}


def profile_from_env() -> str:
    """The profile named by $DAY3_PROFILE, else the default (class)."""
    return os.environ.get("DAY3_PROFILE", DEFAULT_PROFILE).strip() or DEFAULT_PROFILE


def model_id(role: str, profile: str) -> str:
    """The model id (or tiny zoo name) that `role` uses in `profile`."""
    if role not in MODELS:
        raise KeyError(f"unknown model role {role!r}; roles: {sorted(MODELS)}")
    if profile not in PROFILES:
        raise KeyError(f"unknown profile {profile!r}; profiles: {PROFILES}")
    return MODELS[role][profile]


def hub_models(profile: str) -> list[str]:
    """Every distinct Hub model id the day uses in `profile` (empty for tiny)."""
    if profile == "tiny":
        return []
    return sorted({by_profile[profile] for by_profile in MODELS.values()})
