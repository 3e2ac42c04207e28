"""Model cards: the README.md that a Hub repository shows, written with huggingface_hub.

The day writes cards in two places: huggingface_upload.py (1.5.2, where cards are the lesson)
and journey_demo.py (4.2, which saves a LoRA adapter and a merged model). Both call

    info = CardInfo(name=..., base_model=..., accuracy=..., ...)
    card = write_sentiment_card(folder, info)    # folder/README.md
    summary = card_summary(card)                 # {'yaml': ..., 'accuracy': ..., 'sections': ...}

A card has two halves: YAML metadata that the Hub reads (licence, base model, datasets, the
measured score as "model-index", shown as a widget), then the sections people read before they
use a model: intended use, limitations and bias, training settings, how to use, licence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from coursekit import atomic


@dataclass
class CardInfo:
    """What a sentiment model's card says: where it came from, how good it is, how it was made."""

    name: str  # the repository name, e.g. "day3-sentiment-lora"
    repo_id: str  # "owner/name": used in the how-to-use snippet
    base_model: str  # the Hub id (or folder name) it was fine-tuned from
    accuracy: float  # measured on `eval_examples` held-out examples
    accuracy_before: float  # the base model's accuracy on the same examples
    eval_examples: int
    dataset: str  # a Hub dataset id, or a name for synthetic data
    synthetic_data: bool  # synthetic data is not on the Hub: the card says so
    training: dict = field(default_factory=dict)  # setting -> value, printed as a table
    license: str = "apache-2.0"
    base_license: str | None = None  # the base model's licence, from its own card
    version: str = "main"  # the revision in the how-to-use snippet
    eval_split: str = "validation"
    adapter: bool = False  # a peft adapter (needs the base model) rather than a whole model
    optimizer: str = "AdamW with warm-up then linear decay, float32"


def read_base_license(path: str, source: str) -> str | None:
    """The base model's licence, from its card: a derived model must respect it.

    `path` is a local folder or a Hub id; `source` is where the kit found it ("hub" means the
    network was found online, so the Hub's card may be read).
    """
    from huggingface_hub import ModelCard

    card_file = Path(path) / "README.md"
    where = card_file if card_file.is_file() else path if source == "hub" else None
    try:
        return ModelCard.load(where).data.license if where else None
    except Exception:  # no card, or one without metadata: the licence stays unknown
        return None


def how_to_use(info: CardInfo) -> str:
    """The code a reader copies: a pipeline for a whole model, peft for an adapter."""
    if info.adapter:
        return f"""from peft import AutoPeftModelForSequenceClassification
from transformers import AutoTokenizer

model = AutoPeftModelForSequenceClassification.from_pretrained("{info.repo_id}")
tokenizer = AutoTokenizer.from_pretrained("{info.repo_id}")
logits = model(**tokenizer("the service was friendly", return_tensors="pt")).logits"""
    return f"""from transformers import pipeline

classifier = pipeline("text-classification", model="{info.repo_id}", revision="{info.version}")
classifier("the service was friendly and the pasta delicious")"""


def write_sentiment_card(folder: Path, info: CardInfo):
    """Write folder/README.md for a 2-label sentiment model; return the huggingface_hub card."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    result = EvalResult(  # becomes "model-index" in the YAML: the Hub shows it as a widget
        task_type="text-classification", task_name="Sentiment analysis",
        dataset_type=info.dataset, dataset_name="Synthetic sentiment reviews"
        if info.synthetic_data else info.dataset, dataset_split=info.eval_split,
        metric_type="accuracy", metric_name="Accuracy", metric_value=info.accuracy)
    fine_tuned = bool(info.training.get("steps"))
    data = ModelCardData(
        license=info.license, language="en",
        library_name="peft" if info.adapter else "transformers",
        base_model=info.base_model, pipeline_tag="text-classification",
        datasets=None if info.synthetic_data else [info.dataset],  # Hub datasets only
        tags=["day3-course", "sentiment"] + (["lora"] if info.adapter else [])
        + (["synthetic"] if info.synthetic_data else []),
        metrics=["accuracy"], model_name=info.name, eval_results=[result],
        base_model_relation=("adapter" if info.adapter else "finetune") if fine_tuned else None)
    trained = f"fine-tuned for {info.training['steps']} steps" if fine_tuned else \
        "shared as it is"
    what = ("A LoRA adapter for" if info.adapter else "A fine-tuned copy of")
    data_note = ("Trained and evaluated on synthetic template reviews: it knows a few hundred "
                 "words only and fails on real text." if info.synthetic_data else
                 f"{info.dataset} holds English review sentences: other domains and sarcasm "
                 "are weaker.")
    card = ModelCard(f"""---
{data.to_yaml()}
---

# {info.name}

Labels short English reviews NEGATIVE or POSITIVE. {what} `{info.base_model}`, {trained} in
the Day 3 course.

Accuracy on {info.eval_examples} held-out {info.eval_split} reviews: **{info.accuracy:.4f}**
(before fine-tuning: {info.accuracy_before:.4f}).

## Intended use

Teaching and experiments: classifying the sentiment of short English reviews. Not for decisions
about people (hiring, moderation, credit) without a proper evaluation on your own data.

## Limitations and bias

{data_note}
It inherits the biases of `{info.base_model}` and of its pre-training text; the score above
comes from {info.eval_examples} examples, so treat it as a rough estimate.

## Training settings

{info.optimizer}, from `{info.base_model}`.

| setting | value |
| --- | --- |
{chr(10).join(f"| {key.replace('_', ' ')} | {value} |" for key, value in info.training.items())}

## How to use

```python
{how_to_use(info)}
```

## Licence and usage

Released under `{info.license}`. The base model's licence is
`{info.base_license or 'stated on its own card'}`: its terms still apply to this derivative.
""")
    with atomic.new_file(folder / "README.md") as partial:
        card.save(partial)
    return card


def card_summary(card) -> dict:
    """What results.json records of a card: its metadata, the score and the section names."""
    data = card.data.to_dict()
    return {"yaml": data, "accuracy": card.data.eval_results[0].metric_value,
            "sections": re.findall(r"^## (.+)$", card.text, flags=re.MULTILINE)}
