"""The tiny zoo: loads through Auto classes, gives sensible outputs, builds deterministically."""

from __future__ import annotations

import json

import torch
from coursekit import data, metrics, tiny


def _generate(model, tokenizer, prompts: list[str]) -> list[str]:
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        ids = model.generate(**batch, max_new_tokens=24, do_sample=False)
    return tokenizer.batch_decode(ids, skip_special_tokens=True)


def test_sentiment_classifier_labels_simple_reviews(zoo):
    from transformers import pipeline

    classify = pipeline("text-classification", model=str(zoo["tiny-distilbert-sst2"]))
    assert classify("I loved this course")[0]["label"] == "POSITIVE"
    assert classify("This movie was terrible.")[0]["label"] == "NEGATIVE"
    reviews = data.sentiment_reviews(200, seed=123)  # unseen rows, training domains
    predicted = [int(p["label"] == "POSITIVE") for p in classify(list(reviews["sentence"]))]
    assert metrics.accuracy(predicted, list(reviews["label"])) >= 0.95


def test_flan_t5_follows_its_instructions(zoo):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    path = zoo["tiny-flan-t5"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSeq2SeqLM.from_pretrained(path)
    scores = {}
    for task in data.PROMPTS:
        rows = data.instruction_examples(task, 60, seed=4242)
        outputs = _generate(model, tokenizer, [r["instruction"] for r in rows])
        references = [r["output"] for r in rows]
        scores[task] = (metrics.rouge(outputs, references)["rougeL"] if task == "summarization"
                        else metrics.exact_match(outputs, references))
    assert scores["sentiment"] >= 0.8, scores
    assert scores["translation"] >= 0.9, scores
    assert scores["qa"] >= 0.8, scores
    assert scores["summarization"] >= 0.7, scores  # the right template; names not always


def test_chat_model_answers_through_the_text_generation_pipeline(zoo):
    from transformers import pipeline

    chat = pipeline("text-generation", model=str(zoo["tiny-chat-lm"]))
    rows = data.instruction_examples("sentiment", 20, seed=77)
    answers = [chat([{"role": "user", "content": r["instruction"]}], max_new_tokens=5,
                    do_sample=False)[0]["generated_text"][-1]["content"] for r in rows]
    assert metrics.exact_match(answers, [r["output"] for r in rows]) >= 0.8
    assert chat.tokenizer.chat_template  # chat template travels with the tokenizer


def test_ner_tagger_finds_people_and_places(zoo):
    from transformers import pipeline

    tagger = pipeline("token-classification", model=str(zoo["tiny-distilbert-ner"]),
                      aggregation_strategy="simple")
    entities = {(e["entity_group"], e["word"]) for e in tagger("anna works for acme in paris .")}
    assert {("PER", "anna"), ("ORG", "acme"), ("LOC", "paris")} <= entities


def test_qa_model_points_at_the_answer_span(zoo):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    path = zoo["tiny-distilbert-squad"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForQuestionAnswering.from_pretrained(path)
    rows = data.qa_examples(60, seed=99)
    hits = 0
    for row in rows:
        batch = tokenizer(row["question"], row["context"], return_tensors="pt")
        with torch.inference_mode():
            out = model(**batch)
        start, end = int(out.start_logits.argmax()), int(out.end_logits.argmax())
        answer = tokenizer.decode(batch["input_ids"][0][start:end + 1])
        hits += answer.strip() == row["answers"]["text"][0]
    assert hits / len(rows) >= 0.8


def test_masked_lm_base_fills_in_a_word(zoo):
    from transformers import pipeline

    fill = pipeline("fill-mask", model=str(zoo["tiny-distilbert"]))
    guesses = [g["token_str"] for g in fill("le chat [MASK] maintenant")]
    assert set(guesses) <= set(data.EN_FR_VERBS.values())  # a French verb fits the gap


def test_build_is_deterministic_from_the_seed(tmp_path, zoo):
    from safetensors.torch import load_file

    first, second = tmp_path / "a", tmp_path / "b"
    tiny.build_ner_tagger(first, seed=0)
    tiny.build_ner_tagger(second, seed=0)
    a, b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # The zoo's copy was built in another process, maybe with another thread count: the same
    # vocabulary, and weights equal up to float rounding in multi-threaded sums.
    cached = load_file(zoo["tiny-distilbert-ner"] / "model.safetensors")
    assert all(torch.allclose(a[k], cached[k], atol=1e-4) for k in a)
    fresh_vocab = tiny.wordpiece_tokenizer.__wrapped__(0).get_vocab()
    assert fresh_vocab == json.loads((zoo["tiny-distilbert-ner"] / "tokenizer.json")
                                     .read_text())["model"]["vocab"]


def test_zoo_models_round_trip_through_save_pretrained(zoo, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = zoo["tiny-distilbert-sst2"]
    assert (path / "model.safetensors").exists() and not (path / "pytorch_model.bin").exists()
    tokenizer = AutoTokenizer.from_pretrained(path)
    batch = tokenizer(["a great film ."], return_tensors="pt")
    original = AutoModelForSequenceClassification.from_pretrained(path)
    original.save_pretrained(tmp_path)
    reloaded = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    with torch.inference_mode():
        assert torch.equal(original(**batch).logits, reloaded(**batch).logits)
