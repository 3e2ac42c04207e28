"""The tiny model zoo: small models trained for seconds on the synthetic data, cached on disk.

Each model is built on first use, deterministically from the seed, saved with
`save_pretrained` (safetensors) and loaded back through the same Auto* classes as a Hub model:

    path = tiny_model_path("tiny-distilbert-sst2")
    model = AutoModelForSequenceClassification.from_pretrained(path)

| name                   | architecture            | trained to                                  |
| ---------------------- | ----------------------- | ------------------------------------------- |
| tiny-flan-t5           | T5, about 0.75 M params | follow four instructions (see data.PROMPTS) |
| tiny-distilbert        | DistilBERT encoder      | fill in masked words (a "pretrained" base)  |
| tiny-distilbert-sst2   | DistilBERT + classifier | label reviews positive or negative          |
| tiny-distilbert-ner    | DistilBERT + tagger     | tag people, organisations, places, events   |
| tiny-distilbert-squad  | DistilBERT + span head  | answer questions from a context             |
| tiny-chat-lm           | Llama-style decoder     | answer sentiment and translation as a chat  |

The cache directory is `$DAY3_ZOO_DIR`, else `~/.cache/day3-course/tiny-zoo`.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

from coursekit import data
from coursekit.device import seed_everything

ZOO_VERSION = "2"  # bump when a recipe changes, so stale caches are rebuilt
DEFAULT_SEED = 0

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def zoo_dir() -> Path:
    """Where tiny models are cached: $DAY3_ZOO_DIR or ~/.cache/day3-course/tiny-zoo."""
    root = os.environ.get("DAY3_ZOO_DIR") or Path.home() / ".cache" / "day3-course" / "tiny-zoo"
    return Path(root)


def tiny_model_path(name: str, seed: int = DEFAULT_SEED, verbose: bool = True) -> Path:
    """Return the folder of tiny model `name`, building and caching it on first use."""
    if name not in BUILDERS:
        raise ValueError(f"unknown tiny model {name!r}; choose from {sorted(BUILDERS)}")
    path = zoo_dir() / f"v{ZOO_VERSION}-seed{seed}" / name
    if (path / "config.json").exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if verbose:
        print(f"[tiny zoo] building {name} (first use, seconds; cached in {path.parent})",
              flush=True)
    # Build into a temporary folder and rename at the end: an interrupted build leaves no
    # half-written model behind, and two processes building at once do not collide.
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=path.parent))
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # sums in one fixed order: the same weights on every machine
    try:
        BUILDERS[name](tmp, seed)
        try:
            tmp.rename(path)
        except OSError:  # another process finished first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        torch.set_num_threads(threads)
    if verbose:
        print(f"[tiny zoo] {name} ready in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def build_zoo(seed: int = DEFAULT_SEED) -> dict[str, float]:
    """Build every tiny model (skipping cached ones); return seconds spent per model."""
    times = {}
    for name in BUILDERS:
        start = time.perf_counter()
        tiny_model_path(name, seed)
        times[name] = round(time.perf_counter() - start, 2)
    return times


# ---------------------------------------------------------------- tokenizers
@functools.lru_cache(maxsize=4)
def wordpiece_tokenizer(seed: int = DEFAULT_SEED):
    """An uncased WordPiece tokenizer (BERT style) whose vocabulary is the synthetic corpus.

    Every corpus word is one token; other words fall back to single characters ("##x" inside
    a word). The vocabulary is listed by hand because the `tokenizers` WordPiece trainer does
    not give the same vocabulary twice, and the zoo must be reproducible from the seed.
    """
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    counts = Counter(word for text in data.corpus_text(seed=seed)
                     for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    chars = sorted({ch for word in counts for ch in word})
    words = sorted((w for w in counts if len(w) > 1), key=lambda w: (-counts[w], w))
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = specials + chars + [f"##{ch}" for ch in chars] + words
    tok = Tokenizer(models.WordPiece({piece: i for i, piece in enumerate(vocab)},
                                     unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=128,
        model_input_names=["input_ids", "attention_mask"])


def bpe_tokenizer(specials: list[str], eos: str, seed: int = DEFAULT_SEED):
    """A BPE tokenizer (T5 style: Metaspace, ':' split off) that appends `eos` to each text."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from tokenizers.trainers import BpeTrainer

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("\n", " ")])
    # Metaspace alone would make "anna:" one token unlike "anna"; isolating ":" lets the model
    # copy names from a dialogue into its summary.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(),
        pre_tokenizers.Split(Regex("▁?[:?!.,]"), behavior="isolated")])  # ▁ marks a space
    tok.decoder = decoders.Metaspace()
    texts = data.corpus_text(seed=seed)
    texts += [ex["output"] for task in data.PROMPTS
              for ex in data.instruction_examples(task, 200, seed)]
    tok.train_from_iterator(texts, BpeTrainer(vocab_size=1000, special_tokens=specials,
                                                show_progress=False))
    if eos:
        tok.post_processor = processors.TemplateProcessing(
            single=f"$A {eos}", special_tokens=[(eos, tok.token_to_id(eos))])
    return tok


# ---------------------------------------------------------------- training loop
def _pad(rows: list[list[int]], value: int):
    """Right-pad lists of ids into one tensor."""
    import torch

    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows])


def batch_indices(lengths: list[int], steps: int, batch_size: int, seed: int) -> list[list[int]]:
    """Random batches of example indices, grouped by length to waste less time on padding.

    Four batches are drawn at once and sorted by length before they are split (the idea of the
    Trainer's `group_by_length`); their order is then shuffled again.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    batches = []
    while len(batches) < steps:
        pool = torch.randint(len(lengths), (4 * batch_size,), generator=generator).tolist()
        pool.sort(key=lambda i: lengths[i])
        group = [pool[k:k + batch_size] for k in range(0, len(pool), batch_size)]
        order = torch.randperm(len(group), generator=generator).tolist()
        batches += [group[k] for k in order]
    return batches[:steps]


def train_for_steps(model, make_batch, lengths: list[int], steps: int, lr: float, seed: int,
                    batch_size: int = 32, desc: str = "training") -> float:
    """AdamW with 5% warm-up then linear decay and clipping; returns the last loss.

    `make_batch(indices)` turns example indices into the model's keyword arguments;
    `lengths` holds each example's length in tokens.
    """
    import torch
    from tqdm.auto import tqdm

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    model.train()
    loss = torch.tensor(math.nan)
    batches = batch_indices(lengths, steps, batch_size, seed)
    for indices in tqdm(batches, desc=desc, unit="step", leave=False):
        loss = model(**make_batch(indices)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    model.eval()
    return loss.item()


def _save(model, tokenizer, path: Path, name: str, summary: str, pipeline_tag: str) -> None:
    """Save weights (safetensors), config, tokenizer and a model card with Hub metadata."""
    from huggingface_hub import ModelCard, ModelCardData

    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    metadata = ModelCardData(license="mit", language="en", library_name="transformers",
                             pipeline_tag=pipeline_tag, tags=["day3-course", "tiny", "synthetic"])
    card = ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n# {name}\n\n"
                     f"{summary}\n\n## Training\n\nBuilt locally by `coursekit.tiny` in seconds "
                     f"from the course's synthetic data (seed-deterministic).\n\n## Limitations"
                     f"\n\nA teaching model: it knows only the synthetic vocabulary and "
                     f"templates, and is not meant for real text.\n")
    card.save(path / "README.md")


# ---------------------------------------------------------------- the models
def _encoder_config(tokenizer, **extra):
    from transformers import DistilBertConfig

    return DistilBertConfig(vocab_size=len(tokenizer), dim=64, hidden_dim=128, n_layers=2,
                            n_heads=4, max_position_embeddings=128, dropout=0.0,
                            attention_dropout=0.0, pad_token_id=tokenizer.pad_token_id, **extra)


def build_sentiment_classifier(path: Path, seed: int) -> None:
    """DistilBERT sentiment classifier (labels NEGATIVE/POSITIVE, as the SST-2 model on the Hub)."""
    from transformers import DistilBertForSequenceClassification

    seed_everything(seed)
    tokenizer = wordpiece_tokenizer(seed)
    reviews = data.sentiment_reviews(3000, seed + 1)
    enc = tokenizer(list(reviews["sentence"]))["input_ids"]
    labels = list(reviews["label"])
    config = _encoder_config(tokenizer, num_labels=2,
                             id2label={0: "NEGATIVE", 1: "POSITIVE"},
                             label2id={"NEGATIVE": 0, "POSITIVE": 1})
    model = DistilBertForSequenceClassification(config)

    def make_batch(ix):
        import torch

        ids = _pad([enc[i] for i in ix], tokenizer.pad_token_id)
        return {"input_ids": ids, "attention_mask": (ids != tokenizer.pad_token_id).long(),
                "labels": torch.tensor([labels[i] for i in ix])}

    train_for_steps(model, make_batch, [len(r) for r in enc], steps=150, lr=3e-3, seed=seed,
                    desc="tiny-distilbert-sst2")
    _save(model, tokenizer, path, "tiny-distilbert-sst2",
          "Binary sentiment of short reviews (SST-2 labels).",
          "text-classification")


def build_ner_tagger(path: Path, seed: int) -> None:
    """DistilBERT token classifier with the CoNLL-2003 BIO labels."""
    from transformers import DistilBertForTokenClassification

    seed_everything(seed)
    tokenizer = wordpiece_tokenizer(seed)
    sentences = data.ner_sentences(2000, seed + 2)
    enc = tokenizer(list(sentences["tokens"]), is_split_into_words=True)
    rows, tags = [], []
    for i, word_tags in enumerate(list(sentences["ner_tags"])):
        word_ids = enc.word_ids(i)
        # Label the first sub-word of each word; -100 (ignored by the loss) on the others.
        previous, row_tags = None, []
        for w in word_ids:
            row_tags.append(-100 if w is None or w == previous else word_tags[w])
            previous = w
        rows.append(enc["input_ids"][i])
        tags.append(row_tags)
    names = data.NER_LABELS
    config = _encoder_config(tokenizer, num_labels=len(names), id2label=dict(enumerate(names)),
                             label2id={n: i for i, n in enumerate(names)})
    model = DistilBertForTokenClassification(config)

    def make_batch(ix):
        ids = _pad([rows[i] for i in ix], tokenizer.pad_token_id)
        return {"input_ids": ids, "attention_mask": (ids != tokenizer.pad_token_id).long(),
                "labels": _pad([tags[i] for i in ix], -100)}

    train_for_steps(model, make_batch, [len(r) for r in rows], steps=150, lr=3e-3, seed=seed,
                    desc="tiny-distilbert-ner")
    _save(model, tokenizer, path, "tiny-distilbert-ner",
          "A PER/ORG/LOC/MISC tagger with BIO labels (CoNLL-2003).",
          "token-classification")


def build_qa_model(path: Path, seed: int) -> None:
    """DistilBERT extractive QA: predicts the start and end token of the answer span."""
    import torch
    from transformers import DistilBertForQuestionAnswering

    seed_everything(seed)
    tokenizer = wordpiece_tokenizer(seed)
    examples = data.qa_examples(3000, seed + 3)
    enc = tokenizer(list(examples["question"]), list(examples["context"]),
                    return_offsets_mapping=True)
    starts, ends = [], []
    for i, answer in enumerate(list(examples["answers"])):
        a_start = answer["answer_start"][0]
        a_end = a_start + len(answer["text"][0])
        seq_ids = enc.sequence_ids(i)
        offsets = enc["offset_mapping"][i]
        in_context = [t for t, s in enumerate(seq_ids) if s == 1]
        starts.append(next(t for t in in_context if offsets[t][0] >= a_start))
        ends.append(max(t for t in in_context if offsets[t][1] <= a_end))
    ids_all = enc["input_ids"]
    model = DistilBertForQuestionAnswering(_encoder_config(tokenizer))

    def make_batch(ix):
        ids = _pad([ids_all[i] for i in ix], tokenizer.pad_token_id)
        return {"input_ids": ids, "attention_mask": (ids != tokenizer.pad_token_id).long(),
                "start_positions": torch.tensor([starts[i] for i in ix]),
                "end_positions": torch.tensor([ends[i] for i in ix])}

    train_for_steps(model, make_batch, [len(r) for r in ids_all], steps=300, lr=3e-3, seed=seed,
                    desc="tiny-distilbert-squad")
    _save(model, tokenizer, path, "tiny-distilbert-squad",
          "Extractive question answering (SQuAD format).",
          "question-answering")


def build_masked_lm(path: Path, seed: int) -> None:
    """DistilBERT pre-trained with masked-language modelling: the base encoder to fine-tune."""
    import torch
    from transformers import DistilBertForMaskedLM

    seed_everything(seed)
    tokenizer = wordpiece_tokenizer(seed)
    texts = data.corpus_text(n_per_kind=600, seed=seed + 4)
    ids_all = tokenizer(texts, truncation=True, max_length=64)["input_ids"]
    model = DistilBertForMaskedLM(_encoder_config(tokenizer))
    special = set(tokenizer.all_special_ids)
    mask_gen = torch.Generator().manual_seed(seed)

    def make_batch(ix):
        ids = _pad([ids_all[i] for i in ix], tokenizer.pad_token_id)
        maskable = ~sum(ids == s for s in special).bool()
        masked = (torch.rand(ids.shape, generator=mask_gen) < 0.15) & maskable
        labels = torch.where(masked, ids, torch.full_like(ids, -100))
        inputs = torch.where(masked, torch.full_like(ids, tokenizer.mask_token_id), ids)
        return {"input_ids": inputs, "attention_mask": (ids != tokenizer.pad_token_id).long(),
                "labels": labels}

    train_for_steps(model, make_batch, [len(r) for r in ids_all], steps=300, lr=3e-3, seed=seed,
                    desc="tiny-distilbert")
    _save(model, tokenizer, path, "tiny-distilbert",
          "A masked-LM encoder: the base to fine-tune.", "fill-mask")


FLAN_MIX = {"sentiment": 2000, "translation": 3000, "qa": 4000, "summarization": 1000}


def build_flan_t5(path: Path, seed: int) -> None:
    """A tiny T5 instruction-tuned on four tasks, like a miniature Flan-T5."""
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    seed_everything(seed)
    tok = bpe_tokenizer(["<pad>", "</s>", "<unk>"], eos="</s>", seed=seed)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
        model_max_length=256, clean_up_tokenization_spaces=False,
        model_input_names=["input_ids", "attention_mask"])
    mix = data.instruction_tasks(FLAN_MIX, seed + 5)
    inputs = tokenizer(list(mix["instruction"]), truncation=True, max_length=128)["input_ids"]
    targets = tokenizer(list(mix["output"]), truncation=True, max_length=32)["input_ids"]
    config = T5Config(vocab_size=len(tokenizer), d_model=128, d_ff=256, d_kv=16, num_heads=8,
                      num_layers=2, num_decoder_layers=2, dropout_rate=0.0,
                      feed_forward_proj="relu", pad_token_id=tokenizer.pad_token_id,
                      eos_token_id=tokenizer.eos_token_id,
                      decoder_start_token_id=tokenizer.pad_token_id)
    model = T5ForConditionalGeneration(config)

    def make_batch(ix):
        ids = _pad([inputs[i] for i in ix], tokenizer.pad_token_id)
        return {"input_ids": ids, "attention_mask": (ids != tokenizer.pad_token_id).long(),
                "labels": _pad([targets[i] for i in ix], -100)}

    train_for_steps(model, make_batch, [len(r) for r in inputs], steps=230, lr=3e-3, seed=seed,
                    batch_size=48, desc="tiny-flan-t5")
    model.generation_config.max_new_tokens = 32
    _save(model, tokenizer, path, "tiny-flan-t5",
          "Follows the instructions in coursekit.data.PROMPTS.",
          "text2text-generation")


# Two short tasks only: a 2-layer decoder given QA and dialogues too learned none of them well
# in the same 20 seconds (measured), and those long prompts made every step slower.
CHAT_MIX = {"sentiment": 3000, "translation": 3000}


def build_chat_lm(path: Path, seed: int) -> None:
    """A tiny Llama-style chat model with a ChatML template (sentiment and translation prompts)."""
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    seed_everything(seed)
    tok = bpe_tokenizer(["<pad>", "<unk>", "<|im_start|>", "<|im_end|>"], eos="", seed=seed)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<|im_end|>", unk_token="<unk>",
        bos_token="<|im_start|>", model_max_length=256, clean_up_tokenization_spaces=False,
        model_input_names=["input_ids", "attention_mask"])
    tokenizer.chat_template = CHAT_TEMPLATE
    mix = data.instruction_tasks(CHAT_MIX, seed + 6)
    rows, labels = [], []
    for prompt, answer in zip(list(mix["instruction"]), list(mix["output"])):
        head = tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                             add_generation_prompt=True, tokenize=False)
        # Tokenize prompt and answer apart, so the prompt's ids are exactly those the model
        # sees at inference time; learn only the answer and its closing <|im_end|>.
        head_ids = tokenizer(head, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(answer + "<|im_end|>", add_special_tokens=False)["input_ids"]
        rows.append(head_ids + answer_ids)
        labels.append([-100] * len(head_ids) + answer_ids)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=128, intermediate_size=256,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                         max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True)
    model = LlamaForCausalLM(config)

    def make_batch(ix):
        ids = _pad([rows[i] for i in ix], tokenizer.pad_token_id)
        return {"input_ids": ids, "attention_mask": (ids != tokenizer.pad_token_id).long(),
                "labels": _pad([labels[i] for i in ix], -100)}

    train_for_steps(model, make_batch, [len(r) for r in rows], steps=280, lr=3e-3, seed=seed,
                    desc="tiny-chat-lm")
    model.generation_config.max_new_tokens = 32
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    _save(model, tokenizer, path, "tiny-chat-lm",
          "A chat model for sentiment and translation prompts.",
          "text-generation")


BUILDERS = {
    "tiny-distilbert-sst2": build_sentiment_classifier,
    "tiny-flan-t5": build_flan_t5,
    "tiny-distilbert": build_masked_lm,
    "tiny-distilbert-ner": build_ner_tagger,
    "tiny-distilbert-squad": build_qa_model,
    "tiny-chat-lm": build_chat_lm,
}
