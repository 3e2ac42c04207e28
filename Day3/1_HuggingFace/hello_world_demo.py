"""Hello World with Hugging Face (outline 1.6): load a pretrained model, run it, read its output.

Steps: 1.6.1 set-up check, 1.6.2 load a pretrained sentiment model, 1.6.3 run it with a
pipeline, 1.6.4 interpret the output by hand (tokens -> logits -> probabilities -> label),
1.6.5 a generation task with an instruction model (Flan-T5), 1.6.6 common patterns and best
practices, each measured.

Run:
    python Day3/1_HuggingFace/hello_world_demo.py                    # class profile (default)
    python Day3/1_HuggingFace/hello_world_demo.py --profile tiny     # offline, tiny models
    python Day3/1_HuggingFace/hello_world_demo.py --text "I loved this course"

Time and memory (2-core laptop CPU):
    tiny:  about 10 s once the tiny zoo is cached (first use builds it: about a minute); 1 GB RAM
    class: 12 s once cached (measured on 2 CPU cores, from real-size stand-ins); 0.8 GB RAM;
           a 0.6 GB download on first use (DistilBERT SST-2 + Flan-T5 small)
    full:  same models as class; any GPU is picked automatically
Offline, the class profile uses the local Hugging Face cache, or falls back to the tiny models
with a banner (prepare a class with `python -m coursekit prefetch --profile class`).
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
from coursekit import cli  # noqa: E402  (light: no torch import before --help)

EXAMPLES = [  # one clear positive, one clear negative, two from other domains
    "I loved this course, the teacher was clear and helpful!",
    "This movie was terrible.",
    "The pasta was delicious and the service friendly.",
    "The battery is slow to charge and the screen is faulty.",
]
GENERATION_PROMPTS = [  # the instruction wording Flan-T5 was trained on
    "Translate English to French: the cat sleeps now",
    "Is this review positive or negative? Review: the soundtrack was beautiful .",
    "Answer the question. Question: where does anna live ? "
    "Context: anna lives in paris . anna works as a doctor .",
]
MAX_TEXT_CHARS = 2000  # longer inputs are rejected: the model would truncate them anyway
BATCH_REPEATS = 16  # texts in the batching benchmark (the examples, repeated)


def check_setup(args, device) -> dict:
    """1.6.1 Which versions, device and network this run uses."""
    import torch
    import transformers
    from coursekit import hub, report

    network = hub.network_status() if args.profile != "tiny" else None
    rows = [["python", platform.python_version()], ["torch", torch.__version__],
            ["transformers", transformers.__version__], ["device", str(device)],
            ["network", "not needed (tiny profile)" if network is None else
             ("Hub reachable" if network.online else f"offline: {network.reason}")]]
    report.table("Set-up", ["what", "value"], rows)
    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "device": str(device),
            "online": None if network is None else network.online,
            "network_seconds": None if network is None else network.seconds}


def load_pretrained_classifier(args, device):
    """1.6.2 The Auto classes read config.json and build the right architecture for us."""
    from coursekit import hub, report
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    choice = hub.resolve_model("sentiment", args.profile, args.model)
    seconds = []  # the first load also imports the model's code and reads the files from disk
    for _ in range(2):
        start = time.perf_counter()
        tokenizer = AutoTokenizer.from_pretrained(choice.path)
        model, loading = AutoModelForSequenceClassification.from_pretrained(
            choice.path, output_loading_info=True)
        model.to(device)
        seconds.append(time.perf_counter() - start)
    model.eval()  # from_pretrained already returns eval mode (dropout off); say it anyway
    n_params = sum(p.numel() for p in model.parameters())
    report.table("The model", ["what", "value"], [
        ["model", choice.name], ["loaded from", f"{choice.source} ({choice.path})"],
        ["class", type(model).__name__], ["parameters", n_params],
        ["labels (config.id2label)", model.config.id2label], ["load time (s), first", seconds[0]],
        ["load time (s), again (warm: code imported, files cached)", seconds[1]]])
    if loading["missing_keys"]:  # e.g. --model distilbert/distilbert-base-uncased
        report.note(f"WARNING: {choice.name} has no trained classification head; these weights "
                    f"were initialised at random: {', '.join(loading['missing_keys'])}. Its "
                    f"predictions mean nothing until it is fine-tuned (section 3).")
    info = {"model": choice.name, "wanted": choice.wanted, "source": choice.source,
            "parameters": n_params, "labels": list(model.config.id2label.values()),
            "head_trained": not loading["missing_keys"], "load_seconds": round(seconds[0], 2),
            "reload_seconds": round(seconds[1], 2)}
    return tokenizer, model, info


def classify_with_pipeline(tokenizer, model, texts: list[str]) -> list[dict]:
    """1.6.3 A pipeline bundles tokenizer + model + post-processing into one call."""
    from coursekit import report
    from transformers import pipeline

    classifier = pipeline("text-classification", model=model, tokenizer=tokenizer)
    predictions = classifier(texts)  # e.g. [{'label': 'POSITIVE', 'score': 0.9998}, ...]
    report.table("pipeline('text-classification')", ["text", "label", "score"],
                 [[t, p["label"], p["score"]] for t, p in zip(texts, predictions)])
    return predictions


def interpret_by_hand(tokenizer, model, text: str, pipeline_prediction: dict) -> dict:
    """1.6.4 The same prediction without the pipeline: tokens -> logits -> softmax -> label."""
    import torch
    from coursekit import report

    inputs = tokenizer(text, return_tensors="pt").to(model.device)
    tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    report.note(f"tokens ({len(tokens)}): {' '.join(tokens)}")
    with torch.inference_mode():
        logits = model(**inputs).logits[0]  # raw scores, one per label; not probabilities
    probabilities = torch.softmax(logits, dim=-1)  # exp(logit) / sum(exp(logits))
    label_id = int(probabilities.argmax())
    label = model.config.id2label[label_id]
    report.table(f"By hand: {text!r}", ["label", "logit", "probability"],
                 [[model.config.id2label[i], float(logits[i]), float(probabilities[i])]
                  for i in range(len(logits))])
    same = label == pipeline_prediction["label"]
    gap = abs(float(probabilities[label_id]) - pipeline_prediction["score"])
    report.note(f"predicted {label} (id {label_id}); pipeline said "
                f"{pipeline_prediction['label']} {pipeline_prediction['score']:.4f}: "
                f"{'identical' if same and gap < 1e-4 else 'DIFFERENT'}")
    return {"text": text, "tokens": tokens, "logits": [float(x) for x in logits],
            "probabilities": [float(p) for p in probabilities], "label": label,
            "matches_pipeline": bool(same and gap < 1e-4)}


def generate_with_instruction_model(args, device) -> list[dict]:
    """1.6.5 Generation: the decoder writes token ids one at a time; decode() turns them to text.

    Flan-T5 is an encoder-decoder: model.generate() is the transformers 5 way to use it (the
    old "summarization"/"translation" pipelines were removed in transformers 5).
    """
    import torch
    from coursekit import hub, report
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    choice = hub.resolve_model("instruction", args.profile)
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    model = AutoModelForSeq2SeqLM.from_pretrained(choice.path).to(device).eval()
    outputs = []
    for prompt in GENERATION_PROMPTS:
        inputs = tokenizer(prompt, return_tensors="pt").to(device)
        start = time.perf_counter()
        with torch.inference_mode():
            ids = model.generate(**inputs, max_new_tokens=20, do_sample=False)  # greedy
        seconds = time.perf_counter() - start
        text = tokenizer.decode(ids[0], skip_special_tokens=True)
        outputs.append({"prompt": prompt, "output_ids": ids[0].tolist(), "output": text,
                        "seconds": round(seconds, 3)})
    report.table(f"{choice.name}: model.generate()", ["prompt", "output token ids", "text"],
                 [[o["prompt"], o["output_ids"][:8], o["output"]] for o in outputs])
    report.note("ids start with the decoder start token (pad) and end with </s>; "
                "skip_special_tokens=True drops both when decoding")
    return outputs


def show_best_practices(tokenizer, model) -> dict:
    """1.6.6 Patterns worth a habit, each with a number from this run."""
    import torch
    from coursekit import report

    texts = (EXAMPLES * BATCH_REPEATS)[:BATCH_REPEATS]
    with torch.inference_mode():
        start = time.perf_counter()
        one_by_one = [model(**tokenizer(t, return_tensors="pt").to(model.device)).logits
                      for t in texts]
        single_s = time.perf_counter() - start
        start = time.perf_counter()
        batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        batched = model(**batch.to(model.device)).logits
        batch_s = time.perf_counter() - start
    same = torch.allclose(torch.cat(one_by_one), batched, atol=1e-4)
    long_text = "great " * 5000
    n_tokens = len(tokenizer(long_text, truncation=True)["input_ids"])
    report.table("Best practices, measured", ["practice", "why", "measured here"], [
        ["batch with padding=True", "one forward pass for many texts",
         f"{len(texts)} texts: {single_s:.3f} s one by one vs {batch_s:.3f} s batched "
         f"(same logits: {same})"],
        ["truncation=True", "models have a maximum length",
         f"5,000 words -> {n_tokens} tokens (model_max_length {tokenizer.model_max_length})"],
        ["torch.inference_mode()", "no gradient bookkeeping at inference",
         "used for every call above"],
        ["model.eval()", "turns dropout off for repeatable outputs",
         f"model.training = {model.training}"],
        ["pin a revision", "a Hub repo can change under you",
         "from_pretrained(id, revision='<commit sha>')"]])
    return {"single_seconds": round(single_s, 4), "batched_seconds": round(batch_s, 4),
            "batched_speedup": round(single_s / max(batch_s, 1e-9), 2),
            "batched_equals_single": bool(same), "truncated_tokens": n_tokens}


def check_texts(texts: list[str]) -> list[str]:
    """Reject empty or oversized inputs with a clear message."""
    for text in texts:
        if not text.strip():
            raise cli.UsageError("--text is empty; give a sentence to classify")
        try:  # bytes that are not UTF-8 reach Python as lone surrogates; the tokenizer fails
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise cli.UsageError("--text is not valid UTF-8: check the terminal's encoding, "
                                 "or type the sentence again") from None
        if len(text) > MAX_TEXT_CHARS:
            raise cli.UsageError(f"--text has {len(text):,} characters; the limit is "
                                 f"{MAX_TEXT_CHARS:,} (the model would truncate it anyway)")
    return texts


def main(argv: list[str] | None = None) -> dict:
    parser = cli.make_parser(__doc__, script=__file__)
    parser.add_argument("--text", action="append", default=None,
                        help="a sentence to classify (repeat for several; default: examples)")
    args = parser.parse_args(argv)
    with cli.user_errors():
        texts = check_texts(args.text or EXAMPLES)
        device = cli.start(args, "1.6 Hello World with Hugging Face")
        from coursekit import report

        report.section("1.6.1", "Set-up check")
        setup = check_setup(args, device)
        report.section("1.6.2", "Load a pretrained model")
        tokenizer, model, model_info = load_pretrained_classifier(args, device)
        report.section("1.6.3", "Run a simple inference task (sentiment)")
        predictions = classify_with_pipeline(tokenizer, model, texts)
        report.section("1.6.4", "Interpret the outputs")
        by_hand = interpret_by_hand(tokenizer, model, texts[0], predictions[0])
        report.section("1.6.5", "A generation task (instruction model)")
        generations = generate_with_instruction_model(args, device)
        report.section("1.6.6", "Common patterns and best practices")
        practices = show_best_practices(tokenizer, model)
        results = {"profile": args.profile, "setup": setup, "model": model_info,
                   "predictions": [{"text": t, **p} for t, p in zip(texts, predictions)],
                   "by_hand": by_hand, "generations": generations, "best_practices": practices}
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
