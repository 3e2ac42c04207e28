"""The checker of final_exercise.py: each of its five parts against known answers.

    python Day3/4_WrapUpAndDemo/final_exercise.py --profile tiny --check   # this, then the project

`grade(parts)` calls each function of `parts` (the exercise module, or the reference solution)
on a small input whose right answer is known here, and prints one row per part: PASS, or FAIL
with a hint saying what went wrong and which lesson taught it. A part that is not written yet,
crashes, returns None or returns the wrong type is a FAIL row, never a traceback. The known
answers live here, not in the exercise: reading this file gives hints, not the solution (that
is in solutions/final_exercise_solution.py). What a part prints while it is checked is hidden;
it shows when the project runs.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path


class Failed(Exception):
    """A check that did not hold; its message is the hint shown to the student."""


def expect(condition, hint: str) -> None:
    """Fail the part with `hint` unless `condition` holds."""
    if not condition:
        raise Failed(hint)


def expect_type(value, kind, expected: str) -> None:
    """None and wrong types fail with a hint that names what was expected."""
    if value is None:
        raise Failed(f"returned None: does the function end with `return ...`? "
                     f"Expected {expected}")
    if not isinstance(value, kind):
        raise Failed(f"returned a {type(value).__name__}; expected {expected}")


def close(a, b, tolerance: float = 1e-3) -> bool:
    """a and b are numbers within `tolerance` of each other (False for anything else)."""
    try:
        return abs(float(a) - float(b)) <= tolerance
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------- small known inputs
TOY_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad"] + [f"w{i}" for i in range(12)]


def micro_classifier(seed: int = 0):
    """A 2-block DistilBERT sentiment classifier with 32-wide random weights (milliseconds).

    initializer_range 0.3 (not 0.02) makes the random encoder's outputs differ between texts,
    so a few LoRA steps on the toy task below visibly lower the loss.
    """
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    torch.manual_seed(seed)
    config = DistilBertConfig(vocab_size=len(TOY_VOCAB), dim=32, hidden_dim=64, n_layers=2,
                              n_heads=2, max_position_embeddings=32, dropout=0.0,
                              attention_dropout=0.0, seq_classif_dropout=0.0, pad_token_id=0,
                              initializer_range=0.3, num_labels=2,
                              id2label={0: "NEGATIVE", 1: "POSITIVE"},
                              label2id={"NEGATIVE": 0, "POSITIVE": 1})
    return DistilBertForSequenceClassification(config).eval()


def toy_tokenizer():
    """A word-level tokenizer for TOY_VOCAB, with BERT's [CLS] ... [SEP] around each text."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(TOY_VOCAB)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                   cls_token="[CLS]", sep_token="[SEP]",
                                   model_input_names=["input_ids", "attention_mask"])


def toy_reviews(tokenizer, n: int = 64):
    """n tokenized texts of 3 to 8 words; label 1 if "good" is among them, 0 if "bad" is."""
    import random

    from datasets import Dataset

    rng = random.Random(0)
    texts, labels = [], []
    for i in range(n):
        words = [f"w{rng.randrange(12)}" for _ in range(rng.randrange(2, 7))]
        words.insert(rng.randrange(len(words) + 1), "good" if i % 2 else "bad")
        texts.append(" ".join(words))
        labels.append(i % 2)
    tokens = tokenizer(texts)
    return Dataset.from_dict({"input_ids": tokens["input_ids"],
                              "attention_mask": tokens["attention_mask"], "label": labels})


def mean_loss(model, dataset, tokenizer) -> float:
    """The model's cross-entropy on the whole (small) dataset, without gradients."""
    import torch
    from transformers import DataCollatorWithPadding

    batch = DataCollatorWithPadding(tokenizer)([dataset[i] for i in range(len(dataset))])
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        return float(model(**batch.to(device)).loss)


# ---------------------------------------------------------------- part 1
def check_prepare_reviews(prepare_reviews) -> None:
    from datasets import Dataset

    # The test pool: 3 negative, 5 positive. The training pool is sorted by label (28 positive,
    # then 4 negative, then each test negative twice more): its first rows are all positive,
    # and 6 of its 10 negatives repeat a test text.
    test_neg, test_pos = [f"w1 bad w{i}" for i in range(3)], [f"w2 good w{i}" for i in range(5)]
    test_pool = Dataset.from_dict({"text": test_neg + test_pos, "label": [0] * 3 + [1] * 5})
    train_texts = [f"good w{i % 12} w{i // 12}" for i in range(28)] + \
        [f"bad w{i} w9" for i in range(4)] + test_neg * 2
    train_pool = Dataset.from_dict({"text": train_texts, "label": [1] * 28 + [0] * 10})

    def call(seed):
        out = prepare_reviews(train_pool, test_pool, 8, 6, seed)
        expect_type(out, dict, 'a dict {"train": Dataset, "test": Dataset}')
        expect(set(out) >= {"train", "test"},
               f'the dict has keys {sorted(out)}; expected "train" and "test"')
        for name in ("train", "test"):
            expect_type(out[name], Dataset, f"{name!r} to be a datasets.Dataset (filter, "
                                            f"select and concatenate_datasets keep the type)")
            expect({"text", "label"} <= set(out[name].column_names),
                   f"{name} has columns {out[name].column_names}; keep `text` and `label`")
        return out["train"], out["test"]

    train, test = call(0)
    counts = lambda ds: {c: list(ds["label"]).count(c) for c in (0, 1)}  # noqa: E731
    expect(counts(test) == {0: 3, 1: 3},
           f"test set: expected n_test // 2 = 3 reviews per class, got {counts(test)}")
    expect(counts(train) == {0: 4, 1: 4},
           f"training set: expected n_train // 2 = 4 reviews per class, got {counts(train)} "
           f"(the pool is sorted by label: take each class on its own, then select)")
    leaked = [t for t in train["text"] if t in set(test["text"])]
    expect(not leaked, f"leakage: {len(leaked)} training review(s) also in the test set "
                       f"{leaked[:1]}: drop training rows whose text is in the test set")
    pairs = lambda ds: set(zip(ds["text"], ds["label"]))  # noqa: E731
    expect(pairs(test) <= pairs(test_pool) and pairs(train) <= pairs(train_pool),
           "a review got another label, or came from the other pool: keep text and label "
           "together (shuffle or filter the dataset, not one column)")
    again, _ = call(0)
    expect(sorted(again["text"]) == sorted(train["text"]),
           "the same seed gave another training set: pass `seed` to shuffle")
    other, _ = call(1)
    expect(sorted(other["text"]) != sorted(train["text"]),
           "seeds 0 and 1 gave the same training set: draw at random (shuffle(seed=seed)), "
           "not the first rows of each class")


# ---------------------------------------------------------------- part 2
SCORING_CASES = [  # predictions, labels, accuracy, macro-F1, F1 of class 1 (worked by hand)
    ([0, 1, 1, 0, 1, 1], [0, 1, 0, 0, 1, 1], 5 / 6, (0.8 + 6 / 7) / 2, 6 / 7),
    ([1, 1, 1, 1], [0, 1, 0, 1], 0.5, 1 / 3, 2 / 3),  # class 0 never predicted: its F1 is 0
    ([2, 0, 1, 2], [0, 0, 1, 1], 0.5, 4 / 9, 2 / 3),  # class 2 only predicted: it counts, F1 0
]


def check_score_predictions(score_predictions) -> None:
    for predictions, labels, accuracy, macro_f1, f1_of_1 in SCORING_CASES:
        got = score_predictions(list(predictions), list(labels))
        expect_type(got, dict, 'a dict {"accuracy": float, "macro_f1": float}')
        missing = {"accuracy", "macro_f1"} - set(got)
        expect(not missing, f"the dict lacks {sorted(missing)}")
        case = f"predictions {predictions}, labels {labels}"
        expect(close(got["accuracy"], accuracy),
               f"accuracy of {case}: expected {accuracy:.3f}, got {got['accuracy']}")
        f1 = got["macro_f1"]
        why = (" (that is the accuracy, or micro-F1: average the F1 of each class instead)"
               if close(f1, accuracy) else " (that is the F1 of class 1 alone, binary F1: "
               "average over the classes)" if close(f1, f1_of_1) else " (count every class of "
               "labels and predictions; a class with no true positive has F1 0)")
        expect(close(f1, macro_f1), f"macro-F1 of {case}: expected {macro_f1:.3f}, got {f1}{why}")


# ---------------------------------------------------------------- part 3
def check_make_lora_config(make_lora_config) -> None:
    import torch
    from peft import LoraConfig, TaskType, get_peft_model

    model = micro_classifier()
    config = make_lora_config(model, 4)
    expect_type(config, LoraConfig, "a peft.LoraConfig")
    expect(config.task_type in (TaskType.SEQ_CLS, "SEQ_CLS"),
           f"task_type is {config.task_type}; use TaskType.SEQ_CLS (sequence classification)")
    expect(config.r == 4 and config.lora_alpha == 8,
           f"r={config.r}, lora_alpha={config.lora_alpha}: with rank 4 expected r=4, "
           f"lora_alpha=8 (r = rank, alpha = 2 x rank)")
    ids = torch.tensor([[2, 4, 7, 9, 3], [2, 5, 6, 3, 0]])
    mask = (ids != 0).long()
    with torch.no_grad():
        before = model(input_ids=ids, attention_mask=mask).logits
    names = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                    if isinstance(m, torch.nn.Linear)})
    try:
        wrapped = get_peft_model(model, config)
    except ValueError as err:
        raise Failed(f"peft could not apply it ({str(err).splitlines()[0][:90]}); DistilBERT's "
                     f"Linear layers are called {names}") from None
    adapted = [n for n, m in wrapped.named_modules() if hasattr(m, "lora_A")]  # LoRA layers
    for block in range(2):
        for layer in ("q_lin", "v_lin"):
            expect(any(f"layer.{block}." in n and n.endswith(layer) for n in adapted),
                   f"no LoRA on {layer} of block {block}: target the attention's query and "
                   f"value projections (in DistilBERT q_lin and v_lin); adapted: "
                   f"{sorted({n.rsplit('.', 1)[-1] for n in adapted}) or 'nothing'}")
    trainable = [n for n, p in wrapped.named_parameters() if p.requires_grad]
    for head in ("pre_classifier", "classifier"):
        expect(any(f".{head}." in n or n.startswith(head) for n in trainable),
               f"the head's {head} does not train: list the head in modules_to_save "
               f"(pre_classifier and classifier)")
    base = [n for n in trainable if "lora_" not in n and "modules_to_save" not in n]
    expect(not base, f"weights of the base model train too (e.g. {base[0] if base else ''}): "
                     f"only LoRA's A and B and the head should")
    with torch.no_grad():
        after = wrapped(input_ids=ids, attention_mask=mask).logits
    expect(torch.allclose(before, after, atol=1e-5),
           "the outputs changed before any training: LoRA starts with B = 0, so the wrapped "
           "model equals the pretrained one (keep init_lora_weights at its default)")


# ---------------------------------------------------------------- part 4
def check_train_with_lora(train_with_lora) -> None:
    import models  # 3_FineTuning/models.py
    import torch
    from transformers import Trainer

    tokenizer = toy_tokenizer()
    reviews = toy_reviews(tokenizer)

    def fresh_model():
        torch.manual_seed(0)
        return models.apply_peft(micro_classifier(), "lora", rank=4)  # the reference LoRA

    model = fresh_model()
    frozen = model.base_model.model.distilbert.embeddings.word_embeddings.weight.detach().clone()
    lora_b = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_B" in n}
    before = mean_loss(model, reviews, tokenizer)
    with tempfile.TemporaryDirectory() as folder:
        plan = {"steps": 20, "learning_rate": 1e-2, "batch_size": 16, "warmup": 0.1,
                "seed": 0, "output_dir": folder, "use_cpu": True, "bf16": False,
                "save_steps": 10, "resume_from_checkpoint": None}
        trainer = train_with_lora(model, reviews, tokenizer, dict(plan))
        expect_type(trainer, Trainer, "the transformers.Trainer (the project reads "
                                      "trainer.state)")
        expect(trainer.state.global_step == plan["steps"],
               f"{trainer.state.global_step} steps were trained; the plan says "
               f"{plan['steps']} (max_steps=plan['steps']): did you call trainer.train()?")
        for key, name in (("learning_rate", "learning_rate"), ("seed", "seed"),
                          ("batch_size", "per_device_train_batch_size"),
                          ("save_steps", "save_steps")):
            value = getattr(trainer.args, name)
            expect(value == plan[key], f"TrainingArguments {name}={value}; the plan says "
                                       f"{key}={plan[key]}: take the settings from `plan`")
        last = Path(folder) / "checkpoint-20"
        expect(last.is_dir(), "no checkpoint was saved: save_strategy='steps' with "
                              "save_steps=plan['save_steps'] lets --resume continue a run")
        now = model.base_model.model.distilbert.embeddings.word_embeddings.weight.detach().cpu()
        expect(torch.equal(now, frozen), "frozen weights changed: train the model you were "
                                         "given (peft already froze its base), do not unwrap it")
        moved = [n for n, p in model.named_parameters()
                 if n in lora_b and not torch.equal(p.detach().cpu(), lora_b[n])]
        expect(moved, "LoRA's weights did not move: train the `model` argument itself")
        after = mean_loss(model, reviews, tokenizer)
        expect(after < 0.8 * before, f"the loss on the training texts hardly fell ({before:.3f}"
                                     f" -> {after:.3f}): check the learning rate and warm-up")
        # Resuming from the last checkpoint loads its weights and trains no further step; a
        # fresh start with another seed would land elsewhere.
        again = fresh_model()
        train_with_lora(again, reviews, tokenizer,
                        dict(plan, seed=1, resume_from_checkpoint=str(last)))
        trained = dict(model.named_parameters())
        same = all(torch.equal(p.detach().cpu(), trained[n].detach().cpu())
                   for n, p in again.named_parameters() if n in lora_b)
        expect(same, "resuming did not continue from the checkpoint: pass "
                     "resume_from_checkpoint=plan['resume_from_checkpoint'] to trainer.train()")


# ---------------------------------------------------------------- part 5
BASELINE = {"accuracy": 0.5, "macro_f1": 0.4, "trainable": 0, "total": 1000,
            "train_seconds": 0.0}
COMPARE_KEYS = ("accuracy_gain", "macro_f1_gain", "trainable_percent", "margin",
                "beats_baseline")


def check_compare_with_baseline(compare_with_baseline) -> None:
    adapted = {"accuracy": 0.9, "macro_f1": 0.88, "trainable": 20, "total": 1020,
               "train_seconds": 12.0}
    got = compare_with_baseline(dict(BASELINE), dict(adapted), 100)
    expect_type(got, dict, f"a dict with keys {', '.join(COMPARE_KEYS)}")
    missing = [k for k in COMPARE_KEYS if k not in got]
    expect(not missing, f"the dict lacks {missing}")
    expected = {"accuracy_gain": 0.4, "macro_f1_gain": 0.48,
                "trainable_percent": 100 * 20 / 1020, "margin": 0.1}
    for key, value in expected.items():
        hint = {"trainable_percent": " (in percent, of the adapted model's total)",
                "margin": " (1 / sqrt(test_size), with test_size 100)"}.get(key, " (adapted "
                                                                         "minus baseline)")
        expect(close(got[key], value), f"{key}: expected {value:.4g}, got {got[key]}{hint}")
    cases = [(0.9, 100, True, "a gain of 0.4 on 100 reviews is far beyond the margin 0.1"),
             (0.55, 100, False, "a gain of 0.05 on 100 reviews is within the margin 0.1"),
             (0.55, 10_000, True, "on 10,000 reviews the margin is 0.01: 0.05 is beyond it"),
             (0.4, 100, False, "the adapted model is worse: it does not beat the baseline")]
    for accuracy, n, verdict, why in cases:
        out = compare_with_baseline(dict(BASELINE), dict(adapted, accuracy=accuracy), n)
        expect_type(out, dict, "a dict")
        value = out.get("beats_baseline")
        expect(type(value).__name__ in ("bool", "bool_") and bool(value) == verdict,
               f"beats_baseline should be {verdict}, got {value!r}: {why}")


# ---------------------------------------------------------------- grading
@dataclass(frozen=True)
class Part:
    number: int
    function: str
    title: str
    lesson: str  # where the course taught it
    start: str  # what to do, shown while the part is not done
    check: object


PARTS = [
    Part(1, "prepare_reviews", "Prepare the new domain's reviews",
         "datasets_library.py 1.3.3, distilbert_finetuning.py 3.3.1",
         "shuffle each pool with the seed, keep n // 2 rows per class (filter, select), and "
         "drop training rows whose text is in the test set", check_prepare_reviews),
    Part(2, "score_predictions", "The metric: accuracy and macro-F1",
         "distilbert_finetuning.py 3.3.3", "count TP, FP and FN per class, F1 per class, "
         "then average the F1s; accuracy is the share of right answers",
         check_score_predictions),
    Part(3, "make_lora_config", "The LoRA config for DistilBERT",
         "finetune_strategies_overview.py 3.1.2, 3_FineTuning/models.py",
         "LoraConfig(task_type=TaskType.SEQ_CLS, r, lora_alpha, target_modules=[query and "
         "value layers], modules_to_save=[the head])", check_make_lora_config),
    Part(4, "train_with_lora", "Fine-tune with the Trainer",
         "distilbert_finetuning.py 3.3.2, 3.3.3", "TrainingArguments from the plan, "
         "Trainer(model, args, train_dataset, data_collator=DataCollatorWithPadding(tokenizer))"
         ", checkpoints every plan['save_steps'], trainer.train(resume_from_checkpoint=plan["
         "'resume_from_checkpoint']), return the trainer", check_train_with_lora),
    Part(5, "compare_with_baseline", "Compare with the baseline, and the verdict",
         "distilbert_finetuning.py 3.5, finetune_strategies_overview.py 3.1.5",
         "gains = adapted minus baseline, trainable share in %, margin = 1 / sqrt(test_size), "
         "beats_baseline = accuracy gain > margin", check_compare_with_baseline),
]


@contextlib.contextmanager
def one_thread():
    """PyTorch on one thread: on 32-wide models, syncing threads costs more than the math
    (part 4's check took 7 to 14 s on 2 busy cores with 2 threads, under 1 s with one)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def where_in(err: Exception, path: str | None) -> str:
    """' (final_exercise.py, line 123)': the last line of the student's file in the traceback."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if path and f.filename == path]
    return f" ({Path(path).name}, line {frames[-1].lineno})" if frames else ""


def grade_part(part: Part, parts) -> dict:
    """Run one part's check: PASS, or FAIL with a hint, whatever the function does."""
    row = {"part": part.number, "function": part.function, "title": part.title,
           "lesson": part.lesson, "passed": False, "hint": "", "seconds": 0.0}
    function = getattr(parts, part.function, None)
    if not callable(function):
        row["hint"] = f"no function {part.function}() found: keep the name the exercise gave it"
        return row
    start = time.perf_counter()
    try:  # the part's own output (prints, progress bars) would break up the table
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()), one_thread():
            part.check(function)
        row["passed"] = True
    except Failed as failure:
        row["hint"] = f"{failure} (see {part.lesson})"
    except Exception as err:  # not written yet, or a crash: one line, then what to do
        message = str(err).splitlines()[0][:120] if str(err) else ""
        where = where_in(err, getattr(parts, "__file__", None))
        row["hint"] = (f"{type(err).__name__}: {message}{where}. To do: {part.start} "
                       f"(see {part.lesson})")
    row["seconds"] = round(time.perf_counter() - start, 2)
    return row


def grade(parts) -> list[dict]:
    """Check every part of `parts`, print the table, return the rows (for results.json)."""
    from coursekit import report

    rows = [grade_part(part, parts) for part in PARTS]
    report.table("The five parts, checked",
                 ["part", "function", "result", "hint"],
                 [[r["part"], r["function"], "PASS" if r["passed"] else "FAIL",
                   r["hint"] or "-"] for r in rows])
    return rows


def load_solution():
    """The reference solution, solutions/final_exercise_solution.py, as a module."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parent / "solutions" / "final_exercise_solution.py"
    spec = importlib.util.spec_from_file_location("final_exercise_solution", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
