"""Offline metrics against values worked out by hand."""

from __future__ import annotations

import pytest
from coursekit import metrics


def test_accuracy_and_macro_f1():
    assert metrics.accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == pytest.approx(0.5)
    # class 1: precision 2/3, recall 2/3 -> F1 2/3; class 0: 0 -> macro F1 1/3
    assert metrics.f1([1, 0, 1, 1], [1, 1, 1, 0]) == pytest.approx(1 / 3)


def test_exact_match_ignores_case_and_spacing():
    assert metrics.exact_match(["Le chat  dort", "paris"], ["le chat dort", "rome"]) == 0.5


def test_rouge_is_one_for_identical_and_zero_for_disjoint_texts():
    same = metrics.rouge(["anna invites bob to the park"], ["anna invites bob to the park"])
    assert same == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}
    assert metrics.rouge(["red car"], ["blue boat"])["rouge1"] == 0.0
    # 3 of 4 words shared both ways: precision = recall = F1 = 0.75
    assert metrics.rouge(["the cat sat down"], ["the cat sat up"])["rouge1"] == pytest.approx(0.75)


def test_rouge_with_several_references_scores_the_closest_one():
    prediction = "anna invites bob to the park"
    references = ["bob and anna plan a walk", prediction, "a talk about the weekend"]
    assert metrics.rouge([prediction], [references]) == {"rouge1": 1.0, "rouge2": 1.0,
                                                        "rougeL": 1.0}
    singles = [metrics.rouge([prediction], [r])["rougeL"] for r in references]
    assert metrics.rouge([prediction], [references])["rougeL"] == max(singles)
    mixed = metrics.rouge(["red car", "the cat sat down"], [["blue boat"], "the cat sat up"])
    assert mixed["rouge1"] == pytest.approx((0.0 + 0.75) / 2)  # lists and strings mix
    with pytest.raises(ValueError, match="empty list of references"):
        metrics.rouge(["red car"], [[]])


def test_bleu_is_100_for_identical_text():
    assert metrics.bleu(["le chat dort ici ."], ["le chat dort ici ."]) == pytest.approx(100.0)
    assert metrics.bleu(["le chien mange"], ["la fille chante bien"]) < 10


def test_mismatched_or_empty_inputs_are_rejected():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        metrics.accuracy([1, 0], [1])
    with pytest.raises(ValueError, match="no predictions"):
        metrics.exact_match([], [])


def test_noise_level_is_two_standard_errors_and_at_least_one_example():
    assert metrics.noise_level(0.5, 100) == pytest.approx(2 * (2 * 0.25 / 100) ** 0.5)  # 0.141
    assert metrics.noise_level(1.0, 20) == pytest.approx(1 / 20)  # perfect scores: one example
    assert metrics.noise_level(0.9, 1000) < metrics.noise_level(0.9, 100)  # more data, less
