"""Synthetic datasets with the same column names as the Hub datasets they stand in for.

Every generator is deterministic from its seed and returns a `datasets.Dataset`, so the
tiny profile exercises the same code as the class profile:

| generator            | stands in for            | columns                                   |
| -------------------- | ------------------------ | ----------------------------------------- |
| `sentiment_reviews`  | stanfordnlp/sst2         | idx, sentence, label (+ domain)           |
| `news_topics`        | fancyzhx/ag_news         | text, label                               |
| `ner_sentences`      | lhoestq/conll2003        | id, tokens, ner_tags                      |
| `qa_examples`        | rajpurkar/squad          | id, title, context, question, answers     |
| `dialogues`          | knkarthick/dialogsum     | id, dialogue, summary, topic              |
| `translation_pairs`  | Helsinki-NLP/opus_books  | id, translation {en, fr}                  |
| `instruction_tasks`  | an instruction mixture   | task, instruction, input, output          |

Text is lower case with spaces around punctuation, like a tokenized corpus: it keeps the tiny
tokenizers small and every word a single token. `distinct_dialogues` reads DialogSum-shaped rows
(real or synthetic) as one entry per dialogue with all of its reference summaries.
"""

from __future__ import annotations

import random
from pathlib import Path

# ---------------------------------------------------------------- sentiment reviews
# Each domain has its own nouns and its own opinion words. Training domains also share a few
# general words ("great", "terrible"); the held-out domain shares none, so a model that only
# memorised training words is lost there, while a pretrained encoder knows "superb" ~ "great".
SENTIMENT_DOMAINS = {
    "movies": {
        "nouns": ["movie", "film", "plot", "cast", "soundtrack", "ending", "script", "actor"],
        "positive": ["gripping", "moving", "hilarious", "brilliant", "beautiful"],
        "negative": ["boring", "predictable", "dull", "awful", "pointless"],
    },
    "restaurants": {
        "nouns": ["meal", "pasta", "service", "dessert", "waiter", "soup", "pizza", "menu"],
        "positive": ["delicious", "tasty", "fresh", "friendly", "generous"],
        "negative": ["bland", "greasy", "stale", "rude", "cold"],
    },
    "electronics": {
        "nouns": ["phone", "laptop", "battery", "screen", "charger", "speaker", "camera"],
        "positive": ["fast", "reliable", "sturdy", "sharp", "powerful"],
        "negative": ["slow", "broken", "flimsy", "faulty", "overpriced"],
    },
    "courses": {
        "nouns": ["course", "lecture", "teacher", "workshop", "class", "tutorial", "lesson"],
        "positive": ["clear", "helpful", "inspiring", "engaging", "useful"],
        "negative": ["confusing", "useless", "chaotic", "tedious", "disorganized"],
    },
    "hotels": {  # the held-out domain: none of these words appear in the others
        "nouns": ["hotel", "room", "lobby", "pool", "staff", "breakfast", "view", "suite"],
        "positive": ["superb", "spotless", "charming", "cozy", "wonderful", "excellent"],
        "negative": ["filthy", "noisy", "dreadful", "cramped", "horrible", "disgusting"],
    },
}
TRAIN_DOMAINS = ["movies", "restaurants", "electronics", "courses"]
HELDOUT_DOMAIN = "hotels"
GENERAL_WORDS = {
    "positive": ["great", "good", "amazing", "fantastic"],
    "negative": ["terrible", "bad", "poor", "disappointing"],
}
GENERAL_VERBS = {"positive": ["loved", "enjoyed", "liked"], "negative": ["hated", "disliked"]}
SENTIMENT_LABELS = ["negative", "positive"]  # the order of SST-2: 0 negative, 1 positive

REVIEW_TEMPLATES = [
    "the {noun} was {adj} .",
    "what a {adj} {noun} !",
    "the {noun} was {adj} and the {noun2} was {adj2} .",
    "a {adj} {noun} , really {adj2} .",
    "honestly , the {noun} is {adj} .",
    "i found the {noun} {adj} .",
]
VERB_TEMPLATES = ["i {verb} this {noun} .", "i {verb} the {noun} , it was {adj} ."]


def sentiment_reviews(n: int = 1000, seed: int = 0, domains: list[str] | None = None):
    """Short reviews labelled 0 (negative) or 1 (positive), balanced, in the given domains."""
    from datasets import ClassLabel, Dataset, Features, Value

    domains = domains or TRAIN_DOMAINS
    unknown = set(domains) - set(SENTIMENT_DOMAINS)
    if unknown:
        raise ValueError(f"unknown review domain(s) {sorted(unknown)}; "
                         f"choose from {sorted(SENTIMENT_DOMAINS)}")
    rng = random.Random(seed)
    rows = {"idx": [], "sentence": [], "label": [], "domain": []}
    for i in range(n):
        label = i % 2
        polarity = SENTIMENT_LABELS[label]
        domain = domains[rng.randrange(len(domains))]
        words = SENTIMENT_DOMAINS[domain]
        heldout = domain == HELDOUT_DOMAIN
        opinion = words[polarity] + ([] if heldout else GENERAL_WORDS[polarity])
        templates = REVIEW_TEMPLATES + ([] if heldout else VERB_TEMPLATES)
        noun, noun2 = rng.sample(words["nouns"], 2)
        sentence = rng.choice(templates).format(
            noun=noun, noun2=noun2, adj=rng.choice(opinion), adj2=rng.choice(opinion),
            verb=rng.choice(GENERAL_VERBS[polarity]))
        rows["idx"].append(i)
        rows["sentence"].append(sentence)
        rows["label"].append(label)
        rows["domain"].append(domain)
    features = Features({"idx": Value("int32"), "sentence": Value("string"),
                         "label": ClassLabel(names=SENTIMENT_LABELS), "domain": Value("string")})
    return Dataset.from_dict(rows, features=features)


def heldout_reviews(n: int = 1000, seed: int = 0):
    """Labelled reviews of the held-out domain (hotels) with Yelp's columns: text, label."""
    reviews = sentiment_reviews(n, seed, domains=[HELDOUT_DOMAIN])
    return reviews.rename_column("sentence", "text").select_columns(["text", "label"])


def domain_text(domain: str = HELDOUT_DOMAIN, n: int = 1000, seed: int = 0) -> list[str]:
    """Unlabelled reviews of one domain in which domain words and general words meet.

    Raw text of a new domain (hotel reviews scraped from the web, say) mixes its own words
    ("superb room") with everyday ones ("great staff") in the same sentences. That is what
    continued pre-training (masked-LM on in-domain text) learns from: no labels needed.
    """
    if domain not in SENTIMENT_DOMAINS:
        raise ValueError(f"unknown review domain {domain!r}; "
                         f"choose from {sorted(SENTIMENT_DOMAINS)}")
    rng = random.Random(seed)
    words = SENTIMENT_DOMAINS[domain]
    texts = []
    for i in range(n):
        polarity = SENTIMENT_LABELS[i % 2]
        own, general = words[polarity], GENERAL_WORDS[polarity]
        adj, adj2 = rng.choice(own), rng.choice(general)
        if rng.random() < 0.5:
            adj, adj2 = adj2, adj
        noun, noun2 = rng.sample(words["nouns"], 2)
        template = rng.choice([t for t in REVIEW_TEMPLATES if "{adj2}" in t])
        texts.append(template.format(noun=noun, noun2=noun2, adj=adj, adj2=adj2))
    return texts


# ---------------------------------------------------------------- news topics (AG News)
TOPIC_LABELS = ["World", "Sports", "Business", "Sci/Tech"]
TOPIC_WORDS = {
    "World": (["president", "minister", "parliament", "embassy", "army", "election"],
              ["signed a treaty", "visited the capital", "won the vote", "called for peace"]),
    "Sports": (["team", "striker", "coach", "goalkeeper", "champion", "club"],
               ["won the final", "scored twice", "lost the match", "broke the record"]),
    "Business": (["company", "bank", "investor", "market", "retailer", "startup"],
                 ["raised prices", "reported profits", "cut jobs", "bought a rival"]),
    "Sci/Tech": (["scientist", "software", "satellite", "processor", "robot", "laboratory"],
                 ["released an update", "found a new planet", "tested a chip",
                  "published a study"]),
}
PLACES = ["paris", "tokyo", "london", "berlin", "madrid", "rome", "cairo", "lima"]


def news_topics(n: int = 1000, seed: int = 0):
    """One-sentence news items labelled World, Sports, Business or Sci/Tech (balanced)."""
    from datasets import ClassLabel, Dataset, Features, Value

    rng = random.Random(seed)
    rows = {"text": [], "label": []}
    for i in range(n):
        label = i % len(TOPIC_LABELS)
        subjects, events = TOPIC_WORDS[TOPIC_LABELS[label]]
        text = (f"the {rng.choice(subjects)} in {rng.choice(PLACES)} "
                f"{rng.choice(events)} on {rng.choice(WEEKDAYS)} .")
        rows["text"].append(text)
        rows["label"].append(label)
    features = Features({"text": Value("string"), "label": ClassLabel(names=TOPIC_LABELS)})
    return Dataset.from_dict(rows, features=features)


# ---------------------------------------------------------------- named entities (CoNLL-2003)
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
FIRST_NAMES = ["anna", "bob", "carla", "david", "emma", "felix", "grace", "hugo", "iris", "jonas"]
LAST_NAMES = ["smith", "garcia", "muller", "rossi", "novak", "tanaka", "silva", "dubois"]
ORGS = [["acme"], ["globex"], ["initech"], ["umbrella", "corp"], ["stark", "industries"],
        ["red", "cross"]]
LOCS = [["paris"], ["tokyo"], ["london"], ["berlin"], ["new", "york"], ["buenos", "aires"]]
MISCS = [["olympics"], ["python"], ["nobel", "prize"], ["world", "cup"]]
NER_TEMPLATES = [
    "{PER} works for {ORG} in {LOC} .",
    "{PER} flew to {LOC} on {day} .",
    "{ORG} opened an office in {LOC} .",
    "{PER} met {PER2} at the {MISC} .",
    "yesterday {PER} joined {ORG} .",
    "{PER} talked about the {MISC} in {LOC} .",
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _entity_tags(words: list[str], kind: str) -> list[int]:
    """BIO tags for one entity: B- on its first word, I- on the rest."""
    return [NER_LABELS.index(f"B-{kind}")] + [NER_LABELS.index(f"I-{kind}")] * (len(words) - 1)


def ner_sentences(n: int = 1000, seed: int = 0):
    """Sentences as word lists with BIO entity tags (PER, ORG, LOC, MISC)."""
    from datasets import ClassLabel, Dataset, Features, Sequence, Value

    rng = random.Random(seed)
    rows = {"id": [], "tokens": [], "ner_tags": []}
    for i in range(n):
        people = rng.sample(FIRST_NAMES, 2)
        fills = {
            "PER": [people[0], rng.choice(LAST_NAMES)] if rng.random() < 0.5 else [people[0]],
            "PER2": [people[1]],
            "ORG": rng.choice(ORGS), "LOC": rng.choice(LOCS), "MISC": rng.choice(MISCS),
        }
        tokens, tags = [], []
        for part in rng.choice(NER_TEMPLATES).split():
            slot = part.strip("{}")
            if slot in fills:
                words = fills[slot]
                tokens += words
                tags += _entity_tags(words, slot.rstrip("2"))
            else:
                word = rng.choice(WEEKDAYS) if slot == "day" else part
                tokens.append(word)
                tags.append(0)
        rows["id"].append(str(i))
        rows["tokens"].append(tokens)
        rows["ner_tags"].append(tags)
    features = Features({"id": Value("string"), "tokens": Sequence(Value("string")),
                         "ner_tags": Sequence(ClassLabel(names=NER_LABELS))})
    return Dataset.from_dict(rows, features=features)


# ---------------------------------------------------------------- extractive QA (SQuAD)
# One fact per relation in each context: two facts of one kind make the answer ambiguous.
QA_RELATIONS = [
    ("lives in", "where does {p} live ?", ["paris", "tokyo", "london", "berlin", "madrid",
                                           "rome", "cairo", "lima"]),
    ("works as a", "what is the job of {p} ?", ["doctor", "pilot", "teacher", "baker",
                                                "lawyer", "farmer", "nurse", "painter"]),
    ("owns a", "what pet does {p} own ?", ["cat", "dog", "parrot", "rabbit", "turtle",
                                           "hamster", "goldfish", "pony"]),
    ("plays the", "which instrument does {p} play ?", ["piano", "guitar", "violin", "drums",
                                                       "flute", "cello", "trumpet", "harp"]),
]


def qa_examples(n: int = 1000, seed: int = 0):
    """A short context of facts about one person, a question, and the answer span in it."""
    from datasets import Dataset

    rng = random.Random(seed)
    rows = {"id": [], "title": [], "context": [], "question": [], "answers": []}
    for i in range(n):
        person = rng.choice(FIRST_NAMES)
        relations = rng.sample(QA_RELATIONS, 3)
        facts = [(rel, q, rng.choice(values)) for rel, q, values in relations]
        context = " ".join(f"{person} {rel} {value} ." for rel, _, value in facts)
        _, question, answer = rng.choice(facts)
        start = context.index(f" {answer} .") + 1
        rows["id"].append(str(i))
        rows["title"].append(person)
        rows["context"].append(context)
        rows["question"].append(question.format(p=person))
        rows["answers"].append({"text": [answer], "answer_start": [start]})
    return Dataset.from_dict(rows)


# ---------------------------------------------------------------- dialogue summaries (DialogSum)
DIALOGUE_TOPICS = {
    "invitation": (["cinema", "park", "museum", "beach", "concert"],
                   "{a}: hi {b} , are you free on {day} ?\n{b}: yes , why ?\n"
                   "{a}: let us go to the {x} together .\n{b}: good idea , see you then .",
                   "{a} invites {b} to the {x} on {day} ."),
    "shopping": (["shoes", "jacket", "lamp", "bike", "watch"],
                 "{a}: i need a new {x} .\n{b}: the shop near the station sells one .\n"
                 "{a}: great , i will go there on {day} .\n{b}: tell me how it goes .",
                 "{a} will buy a {x} on {day} ."),
    "meeting": (["budget", "project", "report", "plan", "schedule"],
                "{a}: {b} , can we talk about the {x} ?\n{b}: sure , what is wrong ?\n"
                "{a}: it needs changes before {day} .\n{b}: ok , let us meet tomorrow .",
                "{a} and {b} will meet about the {x} before {day} ."),
    "doctor": (["headache", "cough", "fever", "backache", "rash"],
               "{b}: what brings you here , {a} ?\n{a}: i have had a {x} since {day} .\n"
               "{b}: take this medicine and rest .\n{a}: thank you , doctor .",
               "{a} has a {x} since {day} and gets medicine from {b} ."),
}
# Topics the tiny Flan-T5 never saw (it was tuned on DIALOGUE_TOPICS only): a target task with
# room to improve for the fine-tuning lesson. Slot words are ones the tiny tokenizer knows.
TARGET_DIALOGUE_TOPICS = {
    "travel": (["paris", "tokyo", "london", "berlin", "madrid", "rome", "cairo", "lima"],
               "{a}: i flew to {x} on {day} .\n{b}: how was the trip ?\n"
               "{a}: the hotel was lovely .",
               "{a} tells {b} about a trip to {x} on {day} ."),
    "pets": (["cat", "dog", "parrot", "rabbit", "turtle", "hamster", "pony"],
             "{a}: my {x} is ill since {day} .\n{b}: take it to the vet today .\n"
             "{a}: thanks , i will .",
             "{b} tells {a} to take the sick {x} to the vet ."),
    "music": (["piano", "guitar", "violin", "drums", "flute", "cello", "trumpet", "harp"],
              "{b}: do you still play the {x} , {a} ?\n{a}: yes , i have a lesson every {day} .\n"
              "{b}: can i come and listen ?",
              "{a} takes {x} lessons on {day} and {b} wants to listen ."),
    "repair": (["phone", "laptop", "camera", "speaker", "charger", "bike", "car"],
               "{a}: my {x} is broken again .\n{b}: i can fix it by {day} .\n"
               "{a}: thank you so much !",
               "{b} will fix the {x} of {a} by {day} ."),
}


# How two more annotators might word each summary. DialogSum's test split has three summaries
# per dialogue, by different people, one row each (ids test_0_1, test_0_2, test_0_3 for the first
# dialogue, in adjacent rows); `dialogues(..., summaries_per_dialogue=3)` mirrors that.
OTHER_SUMMARIES = {
    "invitation": ("{a} and {b} plan to go to the {x} on {day} .",
                   "{b} agrees to go to the {x} with {a} on {day} ."),
    "shopping": ("{b} tells {a} where to buy a new {x} .",
                 "{a} needs a {x} and will go to the shop near the station on {day} ."),
    "meeting": ("{a} asks {b} to talk about changes to the {x} .",
                "the {x} needs changes before {day} , so {a} and {b} will meet ."),
    "doctor": ("{b} gives {a} medicine for a {x} .",
               "{a} sees doctor {b} about a {x} that started on {day} ."),
    "travel": ("{a} flew to {x} on {day} and liked the hotel .",
               "{b} asks {a} how the trip to {x} was ."),
    "pets": ("the {x} of {a} is ill and {b} says to see the vet .",
             "{a} will take the sick {x} to the vet today ."),
    "music": ("{b} asks to listen to {a} playing the {x} .",
              "{a} still plays the {x} and has a lesson every {day} ."),
    "repair": ("{b} offers to fix the broken {x} of {a} .",
               "the {x} of {a} is broken again and {b} will fix it by {day} ."),
}


def dialogues(n: int = 1000, seed: int = 0, topics: list[str] | None = None,
              summaries_per_dialogue: int = 1):
    """Two-person dialogues (one turn per line, "name: text") with a one-sentence summary.

    `topics` may name DIALOGUE_TOPICS (the default) and TARGET_DIALOGUE_TOPICS. With
    `summaries_per_dialogue` 2 or 3, each dialogue fills that many adjacent rows, one summary
    each (ids `{topic}_{i}_1`, `{topic}_{i}_2`, ...), as in DialogSum's test split; the first
    summary and the dialogues are the same as with 1.
    """
    from datasets import Dataset

    every_topic = {**DIALOGUE_TOPICS, **TARGET_DIALOGUE_TOPICS}
    topics = topics or list(DIALOGUE_TOPICS)
    unknown = set(topics) - set(every_topic)
    if unknown:
        raise ValueError(f"unknown dialogue topic(s) {sorted(unknown)}; "
                         f"choose from {sorted(every_topic)}")
    if not 1 <= summaries_per_dialogue <= 3:
        raise ValueError(f"summaries_per_dialogue must be 1, 2 or 3, not {summaries_per_dialogue}")
    rng = random.Random(seed)
    rows = {"id": [], "dialogue": [], "summary": [], "topic": []}
    for i in range(n):
        topic = topics[rng.randrange(len(topics))]
        things, dialogue, summary = every_topic[topic]
        a, b = rng.sample(FIRST_NAMES, 2)
        fill = {"a": a, "b": b, "x": rng.choice(things), "day": rng.choice(WEEKDAYS)}
        wordings = (summary, *OTHER_SUMMARIES[topic])[:summaries_per_dialogue]
        for k, wording in enumerate(wordings, start=1):
            rows["id"].append(f"{topic}_{i}" if summaries_per_dialogue == 1 else f"{topic}_{i}_{k}")
            rows["dialogue"].append(dialogue.format(**fill))
            rows["summary"].append(wording.format(**fill))
            rows["topic"].append(topic)
    return Dataset.from_dict(rows)


def distinct_dialogues(rows, n: int | None = None) -> list[dict]:
    """The first `n` distinct dialogues of DialogSum-shaped rows, each with all its summaries.

    DialogSum's test split holds 1,500 rows for 500 dialogues: three adjacent rows per dialogue,
    one per annotator's summary. Its first n rows are about n/3 dialogues, each shown up to three
    times. Here every dialogue comes once, in order of first appearance, as a dict with `id` (its
    first row's), `dialogue` and `summaries` (each distinct reference written for it, in row
    order). Rows are matched by dialogue text, so the order of the rows does not matter.
    """
    found: dict[str, dict] = {}
    for row in rows:
        entry = found.get(row["dialogue"])
        if entry is None:
            if n is not None and len(found) >= n:
                continue  # a dialogue beyond the first n; keep reading for their summaries
            entry = found[row["dialogue"]] = {"id": row["id"], "dialogue": row["dialogue"],
                                              "summaries": []}
        if row["summary"] not in entry["summaries"]:
            entry["summaries"].append(row["summary"])
    return list(found.values())


# ---------------------------------------------------------------- translation (opus_books en-fr)
# Word for word on purpose: "the cat sleeps now" -> "le chat dort maintenant". Four words at
# most: a tiny T5 has no absolute positions and swaps words in longer sentences.
EN_FR_SUBJECTS = {"the cat": "le chat", "the dog": "le chien", "the girl": "la fille",
                  "the boy": "le garçon", "the horse": "le cheval", "the woman": "la femme",
                  "the teacher": "le professeur", "the baby": "le bébé"}
EN_FR_VERBS = {"sleeps": "dort", "eats": "mange", "runs": "court", "sings": "chante",
               "reads": "lit", "works": "travaille", "plays": "joue", "waits": "attend"}
EN_FR_ADVERBS = {"now": "maintenant", "here": "ici", "again": "encore", "well": "bien",
                 "slowly": "lentement", "outside": "dehors", "today": "aujourd'hui"}


def translation_pairs(n: int = 1000, seed: int = 0):
    """English sentences of three or four words with their word-for-word French translation."""
    from datasets import Dataset

    rng = random.Random(seed)
    rows = {"id": [], "translation": []}
    for i in range(n):
        subject = rng.choice(list(EN_FR_SUBJECTS))
        verb = rng.choice(list(EN_FR_VERBS))
        en, fr = [subject, verb], [EN_FR_SUBJECTS[subject], EN_FR_VERBS[verb]]
        if rng.random() < 0.7:
            adverb = rng.choice(list(EN_FR_ADVERBS))
            en.append(adverb)
            fr.append(EN_FR_ADVERBS[adverb])
        rows["id"].append(str(i))
        rows["translation"].append({"en": " ".join(en), "fr": " ".join(fr)})
    return Dataset.from_dict(rows)


# ---------------------------------------------------------------- instruction mixture
# The prompts the tiny "flan" T5 and the tiny chat model are trained on. Real Flan-T5 was
# trained on similar wordings, so the same prompts work on google/flan-t5-small too.
PROMPTS = {
    "sentiment": "Is this review positive or negative? Review: {sentence}",
    "translation": "Translate English to French: {en}",
    "qa": "Answer the question. Question: {question} Context: {context}",
    "summarization": "Summarize the dialogue: {dialogue}",
}


def instruction_examples(task: str, n: int, seed: int = 0) -> list[dict]:
    """`n` examples of one task as dicts with task, instruction, input and output."""
    if task == "sentiment":
        ds = sentiment_reviews(n, seed)
        return [{"task": task, "instruction": PROMPTS[task].format(sentence=r["sentence"]),
                 "input": r["sentence"], "output": SENTIMENT_LABELS[r["label"]]} for r in ds]
    if task == "translation":
        ds = translation_pairs(n, seed)
        return [{"task": task, "instruction": PROMPTS[task].format(en=r["translation"]["en"]),
                 "input": r["translation"]["en"], "output": r["translation"]["fr"]} for r in ds]
    if task == "qa":
        ds = qa_examples(n, seed)
        return [{"task": task,
                 "instruction": PROMPTS[task].format(question=r["question"], context=r["context"]),
                 "input": r["question"], "output": r["answers"]["text"][0]} for r in ds]
    if task == "summarization":
        ds = dialogues(n, seed)
        return [{"task": task, "instruction": PROMPTS[task].format(dialogue=r["dialogue"]),
                 "input": r["dialogue"], "output": r["summary"]} for r in ds]
    raise ValueError(f"unknown task {task!r}; choose from {sorted(PROMPTS)}")


def instruction_tasks(counts: dict[str, int], seed: int = 0):
    """A shuffled mixture of instruction tasks, e.g. counts={"sentiment": 100, "qa": 50}."""
    from datasets import Dataset

    rows = []
    for offset, (task, n) in enumerate(sorted(counts.items())):
        rows += instruction_examples(task, n, seed + 1000 * offset)
    random.Random(seed).shuffle(rows)
    columns = ["task", "instruction", "input", "output"]
    return Dataset.from_dict({c: [r[c] for r in rows] for c in columns})


def corpus_text(n_per_kind: int = 400, seed: int = 0) -> list[str]:
    """Plain text from every generator (held-out reviews included): for training tokenizers."""
    texts = list(sentiment_reviews(n_per_kind, seed, list(SENTIMENT_DOMAINS))["sentence"])
    texts += news_topics(n_per_kind, seed)["text"]
    texts += [" ".join(t) for t in ner_sentences(n_per_kind, seed)["tokens"]]
    texts += qa_examples(n_per_kind, seed)["context"]
    texts += [d.replace("\n", " ") for d in dialogues(n_per_kind, seed)["dialogue"]]
    pairs = translation_pairs(n_per_kind, seed)["translation"]
    texts += [p["en"] for p in pairs] + [p["fr"] for p in pairs]
    texts += list(PROMPTS.values())
    return texts


def write_files(dataset, directory: str | Path, stem: str = "data") -> dict[str, Path]:
    """Write a flat dataset as CSV, JSON Lines and Parquet; return the three paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"csv": directory / f"{stem}.csv", "json": directory / f"{stem}.jsonl",
             "parquet": directory / f"{stem}.parquet"}
    dataset.to_csv(str(paths["csv"]), index=False)
    dataset.to_json(str(paths["json"]), lines=True)
    dataset.to_parquet(str(paths["parquet"]))
    return paths
