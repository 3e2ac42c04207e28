"""The day in one run (outline 4.1, 4.2): data, LoRA fine-tuning, evaluation, a Hub-ready model,
then an app in which the class pokes at the result.

Why sentiment on the encoder, with Flan-T5 beside it: classification gives one unambiguous
before/after number (accuracy on the same test reviews, chance is the majority share), LoRA on
DistilBERT trains in about a minute on a laptop CPU, and label probabilities are easy to show
in an app. Flan-T5, the instruction model of section 2, answers the same question zero-shot
from a prompt: the app shows the two ways to get a task done side by side (and on the class
profile Flan-T5 has seen SST-2 during its instruction tuning, so it is a strong rival).

Steps, each timed: 4.2.1 load a slice of SST-2 (as in 1.3), 4.2.2 tokenize it (1.4),
4.2.3 the base model: the pretrained encoder with a new, untrained head (3.1), 4.2.4 fine-tune
with LoRA on the Trainer (3.2, peft), 4.2.5 evaluate before and after on the same test set, with
Flan-T5 zero-shot as a third opinion (2.2), 4.2.6 save the adapter and a merged copy with model
cards (1.5), reload both and check they give the same outputs, 4.2.7 the app (Gradio): base and
fine-tuned side by side, Flan-T5's answer, and the tokens, logits and probabilities underneath.

Run:
    python Day3/4_WrapUpAndDemo/journey_demo.py                    # class, then the app
    python Day3/4_WrapUpAndDemo/journey_demo.py --profile tiny     # offline, seconds
    python Day3/4_WrapUpAndDemo/journey_demo.py --profile tiny --no-ui   # no app (CI)
    python Day3/4_WrapUpAndDemo/journey_demo.py --port 7861        # another port
The app listens on http://127.0.0.1:7860 (this machine only); --host 0.0.0.0 lets others on
your network in, --share asks Gradio for a public link. Ctrl-C stops it.

Time and memory (2 CPU cores, before the app starts):
    tiny:  21 s once the tiny zoo is cached (2 idle cores; 55 to 110 s on 2 busy ones); 0.6 GB
    class: distilbert-base-uncased with LoRA, 2,000 SST-2 sentences, 100 steps of 16, and
           flan-t5-small on 200 validation sentences: 85 s on the real-size stand-ins (2 idle
           cores: 49 s training, 17 s scoring 200 sentences with 3 models); 1.7 GB RAM,
           0.6 GB download
    full:  the same models on all of SST-2 (67,349 sentences) with --max-steps 2000: a GPU
Writes results.json, journey.png, adapter/ and merged/ (each with its README.md card) under
--output-dir, and a checkpoint every quarter of the steps under checkpoints/: an interrupted
run continues with the same flags plus --resume.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "3_FineTuning"))  # models.py etc.
from coursekit import checkpoints, cli  # noqa: E402  (light: no torch before --help)

LABELS = ["negative", "positive"]
STEPS = {"tiny": 150, "class": 100, "full": 2000}  # class: 100 x 16 = 1,600 sentences, once
TEST_ROWS = {"tiny": 200, "class": 200, "full": None}  # SST-2's validation split is the test
#                                                       set: its own test split has no labels
MAX_LENGTH = 64  # SST-2 sentences are short: 64 tokens cover 99% of the validation sentences
LORA_RANK = 8  # the rank of LoRA's update B @ A on the query and value projections
LEARNING_RATE = {"tiny": 5e-3, "class": 5e-4, "full": 2e-4}  # LoRA takes larger steps than
#                                                  full fine-tuning (3.2): its B starts at zero
BATCH_SIZE = 16
LOG_EVERY = 10  # steps between the training losses kept for the plot
MAX_CHARS = 2000  # the app's limit: a review, not a book (longer text is refused, not cut)
EXAMPLES = ["i loved this course , it was great and the teacher was helpful .",  # lower case
            "the film was boring and the plot was awful .",  # with spaces around punctuation:
            "the pasta was delicious and the service was friendly .",  # the tiny models'
            "the battery was faulty , really disappointing ."]  # vocabulary reads every word


def parse_args(argv):
    parser = cli.make_parser(__doc__, script=__file__, max_samples="profile")
    parser.add_argument("--max-steps", type=cli.positive_int, default=None,
                        help="LoRA training steps (default: " + ", ".join(
                            f"{p} {n}" for p, n in STEPS.items()) + ")")
    parser.add_argument("--no-ui", action="store_true",
                        help="stop after the pipeline, without the app (CI, scripted runs)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address the app listens on (default: %(default)s, this "
                             "machine only; 0.0.0.0 lets your network in)")
    parser.add_argument("--port", type=cli.port_number, default=7860,
                        help="the app's port (default: %(default)s)")
    parser.add_argument("--share", action="store_true",
                        help="ask Gradio for a public *.gradio.live link (off by default)")
    checkpoints.add_flags(parser)  # --resume, --interrupt-after
    args = parser.parse_args(argv)
    if args.max_steps is None and args.profile in STEPS:
        args.max_steps = STEPS[args.profile]
    return args


def check_port_free(host: str, port: int) -> None:
    """Fail now, in one line, rather than after a minute of training."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as err:
            raise cli.UsageError(f"port {port} on {host} is in use or not allowed "
                                 f"({err.strerror}); pick another with --port") from None


# ---------------------------------------------------------------- 4.2.1 data
def load_reviews(args) -> dict:
    """4.2.1 A training slice and a labelled test slice of SST-2 (tiny: synthetic reviews)."""
    from coursekit import hub, report
    from evaluation import text_and_labels

    train = hub.load_dataset_for("sentiment", args.profile, "train", args.max_samples, args.seed)
    test_rows = TEST_ROWS[args.profile]  # --max-samples caps the test slice too (None: all)
    if args.max_samples:
        test_rows = min(test_rows or args.max_samples, args.max_samples)
    test = hub.load_dataset_for("sentiment", args.profile, "validation", test_rows, args.seed)
    (train_texts, train_labels), (texts, labels) = text_and_labels(train), text_and_labels(test)
    for name, rows in (("train", train_labels), ("test", labels)):
        if len(set(rows)) < 2:
            raise cli.UsageError(f"the {name} slice holds one class only: nothing to compare")
    majority = max(labels.count(0), labels.count(1)) / len(labels)
    report.table("The data", ["split", "rows", "positive share", "example"], [
        ["train", len(train_texts), sum(train_labels) / len(train_labels), train_texts[0]],
        ["test", len(texts), sum(labels) / len(labels), texts[0]]])
    report.note(f"chance on the test set: {majority:.3f} (always answering its majority class)")
    return {"train": (train_texts, train_labels), "test": (texts, labels), "chance": majority,
            "dataset": "synthetic-sentiment-reviews" if "domain" in test.column_names
            else "stanfordnlp/sst2"}


# ---------------------------------------------------------------- 4.2.2 tokenize
def tokenize_reviews(tokenizer, data: dict):
    """4.2.2 Text to token ids; the collator pads each batch to its longest review later."""
    from coursekit import report
    from datasets import Dataset

    texts, labels = data["train"]
    train = Dataset.from_dict({"text": texts, "label": labels}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=MAX_LENGTH),
        batched=True, remove_columns=["text"])
    ids = tokenizer(texts[0])["input_ids"]
    report.table(f"The first review as tokens ({len(ids)} ids)", ["token", "id"],
                 [[t, i] for t, i in zip(tokenizer.convert_ids_to_tokens(ids), ids)][:12])
    cut = sum(len(row) >= MAX_LENGTH for row in train["input_ids"])
    report.note(f"{len(train)} training reviews tokenized; {cut} reached {MAX_LENGTH} tokens "
                f"and were cut")
    return train


# ---------------------------------------------------------------- 4.2.3 and 4.2.4 LoRA
def load_tokenizer(args):
    """4.2.2 The encoder's own tokenizer: text must be cut the way the model was pretrained."""
    from coursekit import hub
    from transformers import AutoTokenizer

    choice = hub.resolve_model("encoder", args.profile, args.model)
    return choice, AutoTokenizer.from_pretrained(choice.path)


def load_base_model(choice):
    """4.2.3 The pretrained encoder with a new 2-label head (random: it knows no sentiment)."""
    from coursekit import report
    from models import build_classifier

    model = build_classifier(choice.path, num_labels=2, label_names=LABELS)
    if model.config.model_type not in ("distilbert", "bert"):
        raise cli.UsageError(f"{choice.name} is a {model.config.model_type} model; the journey "
                             f"fine-tunes a BERT-family encoder (distilbert or bert)")
    report.table("The base model", ["what", "value"], [
        ["model", choice.name], ["loaded from", f"{choice.source} ({choice.path})"],
        ["architecture", model.config.model_type], ["parameters", model.num_parameters()]])
    return model


def fine_tune_with_lora(args, model, tokenizer, train, device) -> tuple:
    """4.2.4 Wrap the model with LoRA (peft) and train it with the Trainer."""
    from coursekit import device as devices
    from coursekit import report
    from models import apply_peft, parameter_report
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    devices.seed_everything(args.seed)  # LoRA's A matrices are drawn from the global state
    model = apply_peft(model, "lora", rank=LORA_RANK)  # B = 0: starts as the base model
    params = parameter_report(model)
    lr = LEARNING_RATE[args.profile]
    report.table("About to fine-tune", ["setting", "value"], [
        ["method", f"LoRA, rank {LORA_RANK}, on the attention query and value, plus the head"],
        ["trainable", f"{params['trainable']:,} of {params['total']:,} "
                      f"({params['percent']:.2f}%)"],
        ["steps x batch", f"{args.max_steps} x {BATCH_SIZE}"], ["learning rate", lr],
        ["device", str(device)], ["seed", args.seed]])
    training = TrainingArguments(
        output_dir=str(checkpoints.folder(args, "lora")), max_steps=args.max_steps,
        learning_rate=lr, warmup_steps=0.1, per_device_train_batch_size=BATCH_SIZE,
        logging_steps=min(LOG_EVERY, args.max_steps), logging_first_step=True,
        save_strategy="steps", save_steps=max(1, args.max_steps // 4), save_total_limit=1,
        report_to="none", seed=args.seed, use_cpu=device.type == "cpu",
        dataloader_num_workers=0, disable_tqdm=False,  # a bar; coursekit.quiet hides log dicts
        **devices.trainer_precision(device), **devices.trainer_distribution())
    trainer = Trainer(model=model, args=training, train_dataset=train,
                      data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer)
    resumed = checkpoints.train(trainer, args, "lora")  # --resume: from the newest checkpoint
    seconds = checkpoints.seconds_trained(trainer)  # after a resume: both parts
    losses = [(log["step"], log["loss"]) for log in trainer.state.log_history if "loss" in log]
    report.note(f"{args.max_steps} steps in {seconds:.1f} s; training loss "
                f"{losses[0][1]:.3f} (step {losses[0][0]}) -> {losses[-1][1]:.3f}")
    model.eval()
    return model, {**params, "seconds": round(seconds, 2), "steps": args.max_steps,
                   "resumed": resumed,
                   "learning_rate": lr, "losses": losses}


# ---------------------------------------------------------------- 4.2.5 before and after
def predict_probabilities(model, tokenizer, texts: list[str], batch_size: int = 64):
    """Each text's label probabilities (softmax of the logits), without gradients."""
    import torch

    device = next(model.parameters()).device
    rows = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                              max_length=MAX_LENGTH, return_tensors="pt").to(device)
            rows.append(model(**batch).logits.float().softmax(-1).cpu())
    return torch.cat(rows)


def ask_flan_t5(flan, texts: list[str], batch_size: int = 32) -> list[str]:
    """Flan-T5's short answer to the sentiment prompt it was instruction-tuned on."""
    import torch
    from coursekit import data

    model, tokenizer = flan
    answers = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            prompts = [data.PROMPTS["sentiment"].format(sentence=t)
                       for t in texts[start:start + batch_size]]
            batch = tokenizer(prompts, padding=True, truncation=True, max_length=256,
                              return_tensors="pt").to(model.device)
            out = model.generate(**batch, max_new_tokens=4, do_sample=False)
            answers += [a.strip().lower() for a in tokenizer.batch_decode(
                out, skip_special_tokens=True)]
    return answers


def load_flan_t5(args):
    """The instruction model of section 2, as it comes: no fine-tuning."""
    from coursekit import hub
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    choice = hub.resolve_model("instruction", args.profile)
    return (AutoModelForSeq2SeqLM.from_pretrained(choice.path).eval(),
            AutoTokenizer.from_pretrained(choice.path)), choice.name


def compare_before_after(args, model, tokenizer, flan, data: dict, params: dict) -> dict:
    """4.2.5 The same test reviews through the base, Flan-T5 zero-shot, and the LoRA model."""
    from coursekit import report
    from evaluation import classification_scores

    texts, labels = data["test"]
    scores = {}
    with model.disable_adapter():  # peft: the same model without its adapter is the base
        base = predict_probabilities(model, tokenizer, texts).argmax(-1).tolist()
    scores["base (new head)"] = classification_scores(base, labels)
    answers = ask_flan_t5(flan, texts)
    flan_labels = [LABELS.index(a) if a in LABELS else 1 - y for a, y in zip(answers, labels)]
    scores["Flan-T5 zero-shot"] = classification_scores(flan_labels, labels)  # off-label: wrong
    tuned_probabilities = predict_probabilities(model, tokenizer, texts)
    tuned = tuned_probabilities.argmax(-1).tolist()
    scores["LoRA fine-tuned"] = classification_scores(tuned, labels)
    trainable = {"base (new head)": 0, "Flan-T5 zero-shot": 0,
                 "LoRA fine-tuned": params["trainable"]}
    report.table(f"Before and after, on the same {len(texts)} test reviews (chance "
                 f"{data['chance']:.3f})", ["model", "accuracy", "macro-F1", "weights trained"],
                 [[name, s["accuracy"], s["macro_f1"], trainable[name]]
                  for name, s in scores.items()])
    wrong = [i for i, (guess, truth) in enumerate(zip(tuned, labels)) if guess != truth][:3]
    report.table("Where LoRA is wrong (the first 3): show one when you present",
                 ["review", "truth", "P(positive)"],
                 [[texts[i], LABELS[labels[i]], float(tuned_probabilities[i, 1])] for i in wrong])
    off_label = sum(a not in LABELS for a in answers)
    report.note(f"Flan-T5 answered outside negative/positive {off_label} times (counted "
                f"wrong); one review is worth {1 / len(texts):.4f} of accuracy")
    return scores


def plot_journey(output_dir: Path, scores: dict, chance: float, losses: list) -> Path:
    """Training loss over the steps, and accuracy before/after against the chance line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from coursekit import report

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.plot(*zip(*losses), marker="o")
    left.set(title="LoRA fine-tuning", xlabel="step", ylabel="training loss")
    names = list(scores)
    bars = right.bar(names, [scores[n]["accuracy"] for n in names],
                     color=["#999999", "#DD8452", "#4C72B0"])
    right.bar_label(bars, fmt="%.3f")
    right.axhline(chance, color="black", linestyle="--", linewidth=1,
                  label=f"chance ({chance:.2f}: always the majority class)")
    right.legend(loc="upper left", frameon=False)
    right.set(title="Accuracy on the same test reviews", ylabel="accuracy", ylim=(0, 1.2),
              yticks=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    return report.save_figure(fig, output_dir, "journey")


# ---------------------------------------------------------------- 4.2.6 save, card, reload
def save_with_cards(args, model, tokenizer, choice, data: dict, scores: dict,
                    training: dict) -> dict:
    """4.2.6 The adapter (small, needs the base) and a merged copy (stands alone), each carded."""
    import copy

    from coursekit import atomic, report

    folders = {"adapter": args.output_dir / "adapter", "merged": args.output_dir / "merged"}
    if choice.source != "tiny":  # the adapter's config names the base by its Hub id
        model.peft_config["default"].base_model_name_or_path = choice.name
    merged = copy.deepcopy(model).merge_and_unload()  # W + B @ A, folded into plain weights
    saved = {"adapter": model, "merged": merged}  # adapter_model.safetensors + its config;
    for kind, folder in folders.items():  # a plain transformers model (model.safetensors)
        with atomic.new_folder(folder) as partial:  # appears whole, card included, or not
            saved[kind].save_pretrained(partial)
            tokenizer.save_pretrained(partial)
            write_card(args, kind, partial, choice, data, scores, training)
    sizes = {kind: {f.name: f.stat().st_size for f in sorted(folder.iterdir())}
             for kind, folder in folders.items()}
    report.table("Saved, Hub-ready (safetensors, tokenizer, README.md card)",
                 ["folder", "files", "MB"],
                 [[str(folders[k]), len(s), sum(s.values()) / 1e6] for k, s in sizes.items()])
    return {kind: str(folder) for kind, folder in folders.items()} | {"bytes": sizes}


def write_card(args, kind: str, folder, choice, data: dict, scores: dict, training: dict):
    """The model card (README.md): what it is, how it was trained, how well it does, licence."""
    from coursekit import cards

    cards.write_sentiment_card(folder, cards.CardInfo(
        name=f"day3-journey-{kind}", repo_id=f"<your-username>/day3-journey-{kind}",
        base_model=choice.name, accuracy=scores["LoRA fine-tuned"]["accuracy"],
        accuracy_before=scores["base (new head)"]["accuracy"],
        eval_examples=len(data["test"][0]), dataset=data["dataset"],
        synthetic_data=data["dataset"] != "stanfordnlp/sst2",
        training={"method": f"LoRA rank {LORA_RANK}", "steps": training["steps"],
                  "learning_rate": training["learning_rate"], "batch_size": BATCH_SIZE,
                  "train_examples": len(data["train"][0]), "seed": args.seed},
        base_license=cards.read_base_license(choice.path, choice.source),
        adapter=kind == "adapter"))


def reload_and_compare(args, model, tokenizer, choice, folders: dict, texts: list[str]) -> dict:
    """4.2.6 Load what was saved, as a user of the Hub repo would, and compare the outputs."""
    from coursekit import report
    from models import build_classifier
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification

    expected = predict_probabilities(model, tokenizer, texts)
    merged = AutoModelForSequenceClassification.from_pretrained(folders["merged"])
    adapter = PeftModel.from_pretrained(build_classifier(choice.path, 2, LABELS),
                                        folders["adapter"])
    rows, checks = [], {}
    for name, reloaded in (("merged", merged), ("adapter on a fresh base", adapter)):
        got = predict_probabilities(reloaded.to(model.device).eval(), tokenizer, texts)
        gap = (got - expected).abs().max().item()
        same = bool((got.argmax(-1) == expected.argmax(-1)).all())
        checks[name] = {"max_probability_gap": gap, "same_labels": same}
        rows.append([name, len(texts), f"{gap:.1e}", "yes" if same else "NO"])
    report.table("Reloaded from disk vs the model in memory",
                 ["reloaded", "reviews", "max probability gap", "same labels"], rows)
    return checks


# ---------------------------------------------------------------- 4.2.7 the app
def check_text(text) -> str:
    """The app's input rules: one clear message for each kind of bad input."""
    import gradio as gr

    def refuse(message: str):  # shown in the page; the server logs no traceback for it
        return gr.Error(message, print_exception=False)

    if text is None or not str(text).strip():
        raise refuse("Type a review first: the box is empty.")
    text = str(text)
    if len(text) > MAX_CHARS:
        raise refuse(f"The text has {len(text):,} characters; the limit is {MAX_CHARS:,}. "
                     f"Paste one review, not a whole page.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # e.g. a lone surrogate: not text any tokenizer can read
        raise refuse("The text holds characters that are not valid Unicode; paste it again "
                     "as plain text.") from None
    return text.strip()


def build_app(model, tokenizer, flan, flan_name: str, scores: dict):
    """Base and fine-tuned side by side, Flan-T5's answer, and what happens underneath."""
    import threading

    import gradio as gr

    lock = threading.Lock()  # disable_adapter() switches the one shared model: one at a time

    def classify(text):
        text = check_text(text)
        with lock:
            with model.disable_adapter():
                base_logits = logits_of(model, tokenizer, text)
            tuned_logits = logits_of(model, tokenizer, text)
        answer = ask_flan_t5(flan, [text])[0]
        ids = tokenizer(text, truncation=True, max_length=MAX_LENGTH)["input_ids"]
        tokens = tokenizer.convert_ids_to_tokens(ids)
        unknown = sum(t == tokenizer.unk_token for t in tokens)
        words = len(ids) - tokenizer.num_special_tokens_to_add()
        status = f"{words} token{'s' * (words != 1)} read by the encoder."
        if unknown:
            status += (f" {unknown} of them {'is' if unknown == 1 else 'are'} "
                       f"{tokenizer.unk_token} (not in the vocabulary: "
                       f"emoji, other scripts): the prediction says little about those parts.")
        if len(tokenizer(text)["input_ids"]) > MAX_LENGTH:
            status += f" Only the first {MAX_LENGTH} tokens were read."
        under = [[name, label, round(float(lg[i]), 3), round(float(lg.softmax(-1)[i]), 3)]
                 for name, lg in (("base", base_logits), ("fine-tuned", tuned_logits))
                 for i, label in enumerate(LABELS)]
        return (probabilities(base_logits), probabilities(tuned_logits), answer,
                [[i, t, n] for i, (t, n) in enumerate(zip(tokens, ids))], under, status)

    with gr.Blocks(title="Day 3 journey demo") as app:
        gr.Markdown("## Day 3 journey: a sentiment model, before and after LoRA\n"
                    f"Test accuracy: base {scores['base (new head)']['accuracy']:.3f}, "
                    f"fine-tuned {scores['LoRA fine-tuned']['accuracy']:.3f}, "
                    f"{flan_name} zero-shot {scores['Flan-T5 zero-shot']['accuracy']:.3f}.")
        text = gr.Textbox(label="Review", lines=3, placeholder="Type a review...")
        button = gr.Button("Classify", variant="primary")
        with gr.Row():
            base = gr.Label(label="Base model (new, untrained head)", num_top_classes=2,
                            elem_id="base-label")
            tuned = gr.Label(label="Fine-tuned with LoRA", num_top_classes=2,
                             elem_id="tuned-label")
        flan_box = gr.Textbox(label=f"{flan_name}, asked zero-shot (no fine-tuning)",
                              elem_id="flan-answer")
        status = gr.Markdown()
        with gr.Accordion("Under the hood: tokens, logits, probabilities", open=False):
            token_table = gr.Dataframe(headers=["position", "token", "id"], label="Tokens")
            logit_table = gr.Dataframe(headers=["model", "label", "logit", "probability"],
                                       label="Logits and softmax probabilities")
        gr.Examples(EXAMPLES, inputs=text)
        outputs = [base, tuned, flan_box, token_table, logit_table, status]
        button.click(classify, inputs=text, outputs=outputs, api_name="classify")
        text.submit(classify, inputs=text, outputs=outputs)
    return app


def logits_of(model, tokenizer, text: str):
    """One review's two logits (negative, positive)."""
    import torch

    batch = tokenizer(text, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    with torch.no_grad():
        return model(**batch.to(next(model.parameters()).device)).logits[0].float().cpu()


def probabilities(logits) -> dict[str, float]:
    """Label -> probability, the form gr.Label shows as bars."""
    return dict(zip(LABELS, logits.softmax(-1).tolist()))


def launch_app(args, app) -> None:
    """Serve until Ctrl-C; the URL is printed by Gradio and here."""
    from coursekit import report

    report.note(f"the app: http://{args.host}:{args.port} (Ctrl-C stops it)")
    try:
        app.launch(server_name=args.host, server_port=args.port, share=args.share,
                   show_error=False, quiet=False)
    except OSError as err:  # the port was taken while we trained
        raise cli.UsageError(f"cannot start the app on {args.host}:{args.port}: {err}") from None


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    with cli.user_errors():
        if not args.no_ui:
            check_port_free(args.host, args.port)
        device = cli.start(args, "4.2 The day's journey, end to end")
        from coursekit import report

        checkpoints.record_run(args, {"profile": args.profile, "model": args.model,  # --resume
                                      "seed": args.seed, "max_steps": args.max_steps,
                                      "max_samples": args.max_samples})
        seconds, clock = {}, time.perf_counter()

        def lap(step: str) -> None:
            nonlocal clock
            seconds[step], clock = round(time.perf_counter() - clock, 2), time.perf_counter()

        report.section("4.2.1", "Load a slice of SST-2 (as in 1.3)")
        data = load_reviews(args)
        lap("4.2.1 data")
        report.section("4.2.2", "Tokenize (as in 1.4)")
        choice, tokenizer = load_tokenizer(args)
        train = tokenize_reviews(tokenizer, data)
        lap("4.2.2 tokenize")
        report.section("4.2.3", "The base model: a pretrained encoder, a new head (3.1)")
        model = load_base_model(choice).to(device)
        report.note("its head is random: before fine-tuning it can only guess")
        lap("4.2.3 base model")
        report.section("4.2.4", "Fine-tune with LoRA on the Trainer (3.2)")
        model, training = fine_tune_with_lora(args, model, tokenizer, train, device)
        lap("4.2.4 fine-tune")
        report.section("4.2.5", "Before and after, with Flan-T5 zero-shot beside them (2.2)")
        flan, flan_name = load_flan_t5(args)
        flan[0].to(device)
        scores = compare_before_after(args, model, tokenizer, flan, data, training)
        plot = plot_journey(args.output_dir, scores, data["chance"], training["losses"])
        lap("4.2.5 evaluate")
        report.section("4.2.6", "Save the adapter and a merged copy with cards, reload (1.5)")
        folders = save_with_cards(args, model, tokenizer, choice, data, scores, training)
        reload = reload_and_compare(args, model, tokenizer, choice, folders, data["test"][0][:64])
        lap("4.2.6 save and reload")
        report.table("Timeline", ["step", "seconds"], [[k, v] for k, v in seconds.items()]
                     + [["total", round(sum(seconds.values()), 2)]])
        results = {"profile": args.profile, "seed": args.seed, "device": str(device),
                   "model": choice.name, "model_source": choice.source, "instruction_model":
                   flan_name, "dataset": data["dataset"], "chance": data["chance"],
                   "test_examples": len(data["test"][0]), "scores": scores,
                   "training": training, "folders": folders, "reload": reload,
                   "seconds": seconds, "plot": str(plot)}
        report.write_results(args.output_dir, results)
        if args.no_ui:
            return results
        report.section("4.2.7", "The app: poke at the result")
        launch_app(args, build_app(model, tokenizer, flan, flan_name, scores))
    return results


if __name__ == "__main__":
    main()
