"""Metrics computed offline: accuracy, F1, exact match, ROUGE, BLEU.

`evaluate.load("accuracy")` downloads the metric's code from the Hub, so it fails offline. These
functions return the same numbers as the `evaluate` metrics of the same names (scikit-learn,
rouge_score and sacrebleu do the work underneath, as they do inside `evaluate`), on the same
scales: accuracy, F1, exact match and ROUGE in [0, 1]; BLEU in [0, 100] as sacrebleu reports it.
"""

from __future__ import annotations


def accuracy(predictions, references) -> float:
    """Share of predictions equal to their reference."""
    from sklearn.metrics import accuracy_score

    _check_lengths(predictions, references)
    return float(accuracy_score(references, predictions))


def f1(predictions, references, average: str = "macro") -> float:
    """F1 score; `macro` averages over classes so a rare class counts as much as a common one."""
    from sklearn.metrics import f1_score

    _check_lengths(predictions, references)
    return float(f1_score(references, predictions, average=average, zero_division=0))


def normalize_text(text: str) -> str:
    """Lower case, single spaces: how generated answers are compared."""
    return " ".join(text.lower().split())


def exact_match(predictions: list[str], references: list[str]) -> float:
    """Share of generated texts equal to the reference after normalize_text."""
    _check_lengths(predictions, references)
    hits = [normalize_text(p) == normalize_text(r) for p, r in zip(predictions, references)]
    return sum(hits) / len(hits)


def rouge(predictions: list[str], references: list[str] | list[list[str]]) -> dict[str, float]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-L F-measures (word overlap with the reference).

    A reference may be a list of texts (DialogSum's test dialogues have three summaries): the
    prediction then scores against the one it matches best, per ROUGE kind, as `evaluate`'s
    rouge does with a list of references (rouge_score's score_multi).
    """
    from rouge_score import rouge_scorer

    _check_lengths(predictions, references)
    kinds = ["rouge1", "rouge2", "rougeL"]
    scorer = rouge_scorer.RougeScorer(kinds, use_stemmer=True)
    totals = dict.fromkeys(kinds, 0.0)
    for pred, ref in zip(predictions, references):
        if isinstance(ref, str):
            scores = scorer.score(ref, pred)
        elif ref:
            scores = scorer.score_multi(list(ref), pred)
        else:
            raise ValueError("a prediction has an empty list of references")
        for kind in kinds:
            totals[kind] += scores[kind].fmeasure
    return {kind: total / len(predictions) for kind, total in totals.items()}


def bleu(predictions: list[str], references: list[str]) -> float:
    """Corpus BLEU (0 to 100) with one reference per prediction."""
    import sacrebleu

    _check_lengths(predictions, references)
    return float(sacrebleu.corpus_bleu(predictions, [references]).score)


def noise_level(score: float, n: int) -> float:
    """How far apart two accuracies on the same n examples may be by chance alone.

    Two standard errors of a difference of two proportions at `score`, and never less than one
    example's worth (1/n): a smaller difference is noise, not a result.
    """
    import math

    return max(2 * math.sqrt(2 * score * (1 - score) / n), 1 / n)


def _check_lengths(predictions, references) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if len(predictions) == 0:
        raise ValueError("no predictions to score")
