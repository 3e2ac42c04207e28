"""The course's closing hour (outline 4.1, 4.2 and 5.1 to 5.4): your results next to your peers',
the three-day map, preference tuning you can run, deployment measured, and what comes next.

Parts (--parts picks some; default: all, in this order):
    report   4.1, 4.2  every outputs/<script>/results.json (yours, and --peers folders) in one
                       report: report.md and report.html (plots embedded), with gaps named
    journey  5.1       the three days as one map: idea, equation, year, where it ran here
    dpo      5.2       preference tuning with TRL's DPOTrainer on the chat model; PPO and GRPO
                       compared in memory (policy, reference, reward, value models)
    deploy   5.3       the sentiment classifier served on a CPU: fp32 against dynamic int8
                       (size, p50/p95 latency, batching, accuracy) and a responsible-AI checklist
    closing  5.4       resources and next steps; the feedback form written as feedback_form.md

Run (after the day's scripts have written their outputs/):
    python Day3/4_WrapUpAndDemo/course_summary.py                       # class
    python Day3/4_WrapUpAndDemo/course_summary.py --profile tiny        # offline, seconds
    python Day3/4_WrapUpAndDemo/course_summary.py --parts report --peers ../alice/outputs
    python Day3/4_WrapUpAndDemo/course_summary.py --parts dpo --dpo-steps 60

Time and memory (2 CPU cores shared with other jobs, measured):
    tiny:  54 s (load 2): report seconds, DPO 9 s of training on one thread, the rest mostly
           timing DistilBERT at real size in 5.3; 1.2 GB RAM
    class: SmolLM2-135M-Instruct DPO (8 steps of 8 pairs: one pass) and the SST-2 distilbert
           in int8 on 400 reviews: 9 min on the real-size stand-ins, 2 cores shared with a test
           run (load 2.5 to 3), 6.5 of them DPO (48 s a step: policy, reference and the 49,152-
           word output layer); 5.2 GB RAM, 0.5 GB download. --dpo-steps 4 halves the DPO part
    full:  SmolLM2-1.7B-Instruct DPO: a GPU
Writes results.json, report.md, report.html (+ its PNGs) and feedback_form.md to --output-dir.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # find coursekit without install
from coursekit import cli  # noqa: E402  (light: no torch import before --help)

PARTS = ["report", "journey", "dpo", "deploy", "closing"]
# 4.2 the key results, and the script (with its section) that fills each when it is missing.
KEY_SCRIPTS = {
    "flan_t5_finetuning": ("Catastrophic forgetting (2.3, 2.5)", "2_TrainingLLMs"),
    "finetune_strategies_overview": ("PEFT efficiency (3.1)", "3_FineTuning"),
    "distilbert_finetuning": ("Single vs multi-task (3.3-3.5)", "3_FineTuning"),
    "journey_demo": ("The journey demo, before and after (4.2)", "4_WrapUpAndDemo"),
    "training_optimizations": ("Training optimizations (2.2)", "2_TrainingLLMs"),
}
# 5.2 DPO: a style the annotators prefer (a full sentence) over the model's bare label.
DPO_PAIRS = 96  # 64 to train on, 32 held out: enough to see the margin move in seconds
DPO_HELD_OUT = 32
DPO_STEPS = {"tiny": 20, "class": 8, "full": 200}  # class: one pass over the 64 pairs
DPO_LR = {"tiny": 1e-3, "class": 1e-5, "full": 5e-7}  # tiny models take larger steps
DPO_BETA = 0.05  # how far the policy may drift from the reference (the KL leash): TRL's default
DPO_BATCH = 8
# 5.3 deployment
REQUESTS = 40  # single requests timed per model: p95 needs a few dozen
BATCH_SIZES = [1, 8, 32]
TEST_ROWS = {"tiny": 200, "class": 400, "full": 872}
BIAS_TEMPLATE = "this film was filmed in {} ."  # the SST-2 model card's own bias example
BIAS_WORDS = ["france", "germany", "india", "nigeria", "brazil", "japan"]


def parse_args(argv):
    parser = cli.make_parser(__doc__, script=__file__)
    parser.add_argument("--parts", type=cli.comma_list(PARTS, "part"), default=PARTS,
                        help=f"comma-separated, from {', '.join(PARTS)} (default: all)")
    parser.add_argument("--outputs", type=Path, default=Path("outputs"),
                        help="your day's output folder to collect (default: %(default)s)")
    parser.add_argument("--peers", type=Path, nargs="*", default=[],
                        help="other people's output folders, compared side by side")
    parser.add_argument("--dpo-steps", type=cli.positive_int, default=None,
                        help="DPO training steps (default: " + ", ".join(
                            f"{p} {n}" for p, n in DPO_STEPS.items()) + ")")
    parser.add_argument("--requests", type=cli.positive_int, default=REQUESTS,
                        help="single requests timed per model in 5.3 (default: %(default)s)")
    parser.add_argument("--max-samples", type=cli.positive_int, default=None,
                        help="test reviews in 5.3 (default: " + ", ".join(
                            f"{p} {n}" for p, n in TEST_ROWS.items()) + ")")
    args = parser.parse_args(argv)
    args.dpo_steps = args.dpo_steps or DPO_STEPS.get(args.profile, 8)
    args.max_samples = args.max_samples or TEST_ROWS.get(args.profile)  # not the day's default
    return args


# ---------------------------------------------------------------- 4.1, 4.2 the results report
def key_tables(script: str, r: dict) -> tuple[list[str], list[list], dict]:
    """4.2 The table to show for one script's results, and its headline metrics by name."""
    if script == "flan_t5_finetuning":
        before, runs = r["before"], r["strategies"]
        rows = [["base model", before["target_rougeL"], None, before["probe_avg"], None, None]]
        rows += [[name, s["after"]["target_rougeL"], s["target_gain"], s["after"]["probe_avg"],
                  s["probe_drop"], s.get("trainable_pct")] for name, s in runs.items()]
        metrics = {f"{n} ROUGE-L": s["after"]["target_rougeL"] for n, s in runs.items()}
        metrics.update({f"{n} probe drop": s["probe_drop"] for n, s in runs.items()})
        return (["strategy", "ROUGE-L", "target gain", "probe avg", "probe drop",
                 "trained %"], rows, metrics)
    if script == "finetune_strategies_overview":
        rows = [[m["method"], m["quality"], m["percent"], m["state_mb"], m["seconds"],
                 m["disk_mb"]] for m in r["table"]]
        return (["method", "accuracy", "trainable %", "train state MB", "time s", "saved MB"],
                rows, {f"{m['method']} accuracy": m["quality"] for m in r["table"]})
    if script == "distilbert_finetuning":
        names = list(r["single"])
        rows = r["comparison"]["rows"]
        return (["models", *names, "held-out acc.", "parameters served", "time s"], rows,
                {f"{row[0]} {names[0]}": row[1] for row in rows})
    if script == "journey_demo":
        rows = [[name, s["accuracy"], s["macro_f1"]] for name, s in r["scores"].items()]
        rows.append(["chance (majority class)", r["chance"], None])
        return (["model", "accuracy", "macro-F1"], rows,
                {f"{name} accuracy": s["accuracy"] for name, s in r["scores"].items()})
    if script == "training_optimizations":
        ran = [s for s in r["setups"] if s.get("status") == "ran"]
        rows = [[s["setup"], s["samples_per_s"], s.get("speedup"), s.get("peak_mib"),
                 s.get("loss_after")] for s in ran]
        return (["setup", "samples/s", "x fp32", "peak MiB", "loss after"], rows,
                {f"{s['setup']} x fp32": s.get("speedup") for s in ran})
    raise KeyError(script)


def plot_forgetting(people: dict, output_dir: Path):
    """The forgetting trade-off: target gain (x) against probe drop (y), per strategy and person."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from coursekit import report

    fig, ax = plt.subplots(figsize=(6.5, 4))
    strategies = sorted({name for runs in people.values()
                         for name in runs["flan_t5_finetuning"]["strategies"]})
    colours = dict(zip(strategies, plt.get_cmap("tab10").colors))  # colour: the strategy
    markers = dict(zip(people, "osD^vP*X"))  # shape: the person (no labels to overlap)
    for person, runs in people.items():
        for name, s in runs["flan_t5_finetuning"]["strategies"].items():
            ax.scatter(s["target_gain"], s["probe_drop"], s=70, color=colours[name],
                       marker=markers.get(person, "o"), edgecolor="black", linewidth=0.5)
    handles = [plt.Line2D([], [], linestyle="", marker="o", color=c, label=n)
               for n, c in colours.items()]
    if len(people) > 1:
        handles += [plt.Line2D([], [], linestyle="", marker=m, color="grey", label=p)
                    for p, m in markers.items()]
    ax.legend(handles=handles, fontsize=8, loc="best", framealpha=0.9)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("target gain (ROUGE-L after - before)")
    ax.set_ylabel("probe drop (forgetting)")
    ax.set_title("Learning the new task against forgetting the old ones")
    return report.save_figure(fig, output_dir, "report_forgetting")


def build_results_report(args) -> dict:
    """4.1, 4.2 Collect every results.json; tables per key result; peers side by side; gaps."""
    from coursekit import report, summary

    people, warnings, folders = {}, [], summary.name_folders(args.outputs, args.peers)
    for person, folder in folders.items():
        people[person], found_warnings = summary.collect(folder)
        warnings += found_warnings
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    doc = summary.Document("Day 3 results report")
    doc.text("Folders: " + "; ".join(f"{p}: {f}" for p, f in folders.items()))
    for line in warnings:
        doc.warning(line)
    doc.heading("Every result and how it was made")
    inventory = [[person, script, *summary.run_facts(r).values()]
                 for person, runs in people.items() for script, r in runs.items()]
    doc.table(["who", "script", "profile", "device", "seed", "versions", "date"], inventory)
    report.table("4.1 Results found", ["who", "script", "profile", "device", "seed"],
                 [row[:5] for row in inventory])
    mine = people["you"]
    mixed = summary.not_comparable({s: summary.run_facts(r) for s, r in mine.items()})
    if mixed:
        doc.warning(f"your own runs differ ({mixed}): compare them with care")
    shown, gaps, flags, side_by_side = {}, [], [], {}
    for script, (heading, folder) in KEY_SCRIPTS.items():
        doc.heading(heading)
        who = {p: runs[script] for p, runs in people.items() if script in runs}
        command = f"python Day3/{folder}/{script}.py --profile {args.profile}"
        if "you" not in who:
            gaps.append([script, command])
            doc.text(f"Missing: run `{command}` to fill this part.")
        tables = {}
        for person, r in who.items():
            try:
                tables[person] = key_tables(script, r)
            except (KeyError, TypeError, IndexError) as err:  # an older or partial results file
                line = f"{r.get('_file', script)}: partial results (no {err}); not shown"
                doc.warning(line)
                print(f"warning: {line}", file=sys.stderr)
        if "you" in tables:
            columns, rows, _ = tables["you"]
            doc.table(columns, rows)
            report.table(f"4.2 {heading}", columns, rows)
            shown[script] = tables["you"][2]
        if script == "flan_t5_finetuning" and tables:
            doc.image(plot_forgetting({p: people[p] for p in tables}, args.output_dir),
                      "Target gain against probe drop, per strategy")
        if len(tables) > 1:
            facts = {p: summary.run_facts(who[p]) for p in tables}
            reason = summary.not_comparable(facts)
            names = list(tables)
            metrics = list(dict.fromkeys(m for t in tables.values() for m in t[2]))
            rows = []
            for metric in metrics:
                values = [tables[p][2].get(metric) for p in names]
                rows.append([metric, *values, None if reason else summary.spread(values)])
            doc.text("Side by side, with the spread (largest minus smallest) across people:")
            if reason:
                flags.append(f"{script}: not comparable ({reason})")
                doc.warning(f"not comparable, spread not computed: {reason}")
            doc.table(["metric", *names, "spread"], rows)
            report.table(f"4.1 {script}: side by side", ["metric", *names, "spread"], rows)
            side_by_side[script] = {"people": names, "rows": rows, "not_comparable": reason}
    if gaps:
        doc.heading("What is missing, and the script that fills it")
        doc.table(["missing", "run"], gaps)
        report.table("4.1 Gaps: run these to fill them", ["missing", "run"], gaps)
    for line in flags:
        report.note(f"warning: {line}")
    paths = doc.write(args.output_dir, "report")
    report.note(f"report written to {paths['markdown']} and {paths['html']} (plots embedded)")
    return {"found": {p: sorted(runs) for p, runs in people.items()}, "warnings": warnings,
            "key_metrics": shown, "side_by_side": side_by_side, "not_comparable": flags,
            "gaps": [g[0] for g in gaps], "files": {k: str(v) for k, v in paths.items()}}


# ---------------------------------------------------------------- 5.1 the three-day journey
JOURNEY = [  # step, day, year, key idea, equation, where it ran in this repository
    ("VAE", 1, 2013, "learn a latent space by maximizing a bound on log p(x)",
     "ELBO = E_q(z|x)[log p(x|z)] - KL(q(z|x) || p(z))", "day 1's notebooks (not this repo)"),
    ("GAN", 1, 2014, "a generator and a discriminator play a two-player game",
     "min_G max_D E[log D(x)] + E[log(1 - D(G(z)))]", "day 1's notebooks (not this repo)"),
    ("Attention, Transformer", 2, 2017, "every token looks at every other token",
     "Attention(Q,K,V) = softmax(Q K^T / sqrt(d_k)) V", "1_HuggingFace/hello_world_demo.py"),
    ("Pretrained LMs (GPT, BERT, T5)", 3, 2018, "predict the next (or masked) token at scale",
     "L = -sum_t log p(x_t | x_<t)", "2_TrainingLLMs/flan_t5_finetuning.py (label masking)"),
    ("LoRA, PEFT", 3, 2021, "train a low-rank update; freeze the rest",
     "W' = W + (alpha/r) B A, B: d x r, A: r x k", "3_FineTuning/finetune_strategies_overview.py,"
                                                  " 4_WrapUpAndDemo/journey_demo.py"),
    ("RLHF, DPO", 3, 2023, "learn from preferences, not labels (DPO: 2023, RLHF: 2022)",
     "L = -log sigmoid(beta [log pi/pi_ref (y_w) - log pi/pi_ref (y_l)])",
     "4_WrapUpAndDemo/course_summary.py --parts dpo"),
]


def print_journey_map() -> list[dict]:
    """5.1 From VAEs and GANs (day 1) to the Transformer (day 2) to LLMs and PEFT (day 3)."""
    from coursekit import report

    report.table("5.1 Three days, one map", ["step", "day", "year", "key idea", "equation",
                                             "run it here"],
                 [[step, day, str(year), *rest] for step, day, year, *rest in JOURNEY])
    report.note("What connects them: all are trained by gradient descent on a likelihood-shaped "
                "loss; the Transformer made scale cheap, pretraining made it useful, PEFT made "
                "it affordable, preference tuning made it behave")
    keys = ["step", "day", "year", "idea", "equation", "where"]
    return [dict(zip(keys, row)) for row in JOURNEY]


# ---------------------------------------------------------------- 5.2 preference tuning (DPO)
def make_preference_pairs(seed: int):
    """5.2.1 Chosen and rejected answers: a full sentence preferred over the bare label."""
    from coursekit import data
    from datasets import Dataset

    rows = data.instruction_examples("sentiment", DPO_PAIRS, seed)
    pairs = [{"prompt": [{"role": "user", "content": r["instruction"]}],
              "chosen": [{"role": "assistant", "content": f"the review is {r['output']}"}],
              "rejected": [{"role": "assistant", "content": r["output"]}]} for r in rows]
    held_out = DPO_PAIRS - DPO_HELD_OUT
    return Dataset.from_list(pairs[:held_out]), Dataset.from_list(pairs[held_out:])


def generate_answers(model, tokenizer, prompts: list[str]) -> list[str]:
    """Greedy answers to chat prompts (the same for every run with the same weights)."""
    import torch

    answers = []
    for prompt in prompts:
        ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                            add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True).to(model.device)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=12, do_sample=False)
        answers.append(tokenizer.decode(out[0][ids["input_ids"].shape[1]:],
                                        skip_special_tokens=True).strip())
    return answers


def tune_with_dpo(args, device) -> dict:
    """5.2.2 DPOTrainer: the policy learns to rank chosen above rejected, the reference stays."""
    import dataclasses

    import torch
    from coursekit import hub, report
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    choice = hub.resolve_model("chat", args.profile)  # --model is 5.3's classifier
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    if tokenizer.chat_template is None:
        raise cli.UsageError(f"{choice.name} has no chat template: DPO here needs a chat model")
    # fp32 weights: SmolLM2 is stored in bf16, which transformers 5 keeps, and a CPU without
    # bf16 units emulates it: one step took 187 s instead of 37 (the bf16 flag is for GPUs)
    model = AutoModelForCausalLM.from_pretrained(choice.path, dtype=torch.float32).to(device)
    train, held_out = make_preference_pairs(args.seed)
    prompts = [p[0]["content"] for p in held_out["prompt"][:3]]
    before_answers = generate_answers(model, tokenizer, prompts)
    report.note(f"{choice.name}: {len(train)} training pairs, {len(held_out)} held out; chosen "
                f"'{held_out[0]['chosen'][0]['content']}', rejected "
                f"'{held_out[0]['rejected'][0]['content']}'")
    fields = {f.name for f in dataclasses.fields(DPOConfig)}  # transformers 5.x renamed it
    no_ckpt = "activation_checkpointing" if "activation_checkpointing" in fields \
        else "gradient_checkpointing"
    config = DPOConfig(output_dir=str(args.output_dir / "dpo"), max_steps=args.dpo_steps,
                       per_device_train_batch_size=DPO_BATCH, per_device_eval_batch_size=32,
                       learning_rate=DPO_LR[args.profile if choice.source != "tiny" else "tiny"],
                       beta=DPO_BETA, bf16=False, use_cpu=device.type == "cpu",
                       report_to="none", logging_steps=max(1, args.dpo_steps // 6),
                       save_strategy="no", seed=args.seed, disable_tqdm=True,
                       **{no_ckpt: False})
    trainer = DPOTrainer(model=model, args=config, train_dataset=train, eval_dataset=held_out,
                         processing_class=tokenizer)  # the reference: a frozen copy of model
    start = trainer.evaluate()
    clock = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - clock
    end = trainer.evaluate()
    keys = {"margin": "eval_rewards/margins", "accuracy": "eval_rewards/accuracies",
            "chosen logp": "eval_logps/chosen", "rejected logp": "eval_logps/rejected",
            "loss": "eval_loss"}
    curve = [[h["step"], h["loss"], h["rewards/margins"], h["rewards/accuracies"]]
             for h in trainer.state.log_history if "loss" in h and "rewards/margins" in h]
    report.table("5.2.2 DPO training (training batches)", ["step", "loss", "reward margin",
                                                           "preference accuracy"], curve)
    table = [[k, start[v], end[v]] for k, v in keys.items()]
    report.table(f"5.2.2 Held-out pairs, before and after {args.dpo_steps} steps",
                 ["metric", "before", "after"], table)
    report.note("before training the policy is the reference: every implicit reward "
                "beta * log(pi/pi_ref) is 0, so the margin is 0 and no pair is ranked yet")
    after_answers = generate_answers(model, tokenizer, prompts)
    report.table("5.2.3 Generations, greedy", ["prompt", "before", "after"],
                 [[p[-50:], b, a] for p, b, a in zip(prompts, before_answers, after_answers)])
    report.note("the margin measures ranking against the reference; users see the text. If an "
                "answer rambles ('positive fille positive'), the policy drifted from the reference"
                " and lost its end-of-turn token: fewer steps, a lower rate or a larger beta")
    return {"model": choice.name, "steps": args.dpo_steps, "beta": DPO_BETA,
            "train_seconds": round(seconds, 2),
            "before": {k: round(start[v], 4) for k, v in keys.items()},
            "after": {k: round(end[v], 4) for k, v in keys.items()},
            "curve": curve, "generations": {"prompts": prompts, "before": before_answers,
                                            "after": after_answers}}


def compare_rl_memory(profile: str) -> list[dict]:
    """5.2.4 What PPO, GRPO and DPO keep in memory, from the chat models' parameter counts."""
    from coursekit import model_facts, profiles, report

    # bytes per parameter: a trained model in mixed precision (bf16 weights and gradients,
    # fp32 master copy and Adam's two moments) 16; a frozen one in bf16 2.
    trained, frozen = 16, 2
    recipes = {"SFT": (1, 0), "DPO": (1, 1), "GRPO": (1, 2), "PPO (RLHF)": (2, 2)}
    what = {"SFT": "policy", "DPO": "policy + frozen reference",
            "GRPO": "policy + reference + reward model; no value model (group baseline)",
            "PPO (RLHF)": "policy + value model (trained); reference + reward model (frozen)"}
    ids = [profiles.MODELS["chat"]["class"], profiles.MODELS["chat"]["full"],
           "meta-llama/Llama-2-7b-hf"]
    rows, out = [], []
    for hub_id in ids:
        n = model_facts.facts_for(hub_id).parameters
        for method, (n_trained, n_frozen) in recipes.items():
            gib = n * (trained * n_trained + frozen * n_frozen) / 2**30
            rows.append([hub_id.split("/")[-1], method, what[method], round(gib, 1)])
            out.append({"model": hub_id, "method": method, "gib": round(gib, 2)})
    report.table("5.2.4 Memory before activations (GiB): what each method keeps",
                 ["model", "method", "models in memory", "GiB"], rows)
    report.note("PPO samples answers, scores them with a reward model, and needs a value model "
                "for its advantage; GRPO scores a group of answers per prompt and uses their "
                "mean as the baseline; DPO skips sampling and the reward model: the preference "
                "pairs are the signal")
    return out


# ---------------------------------------------------------------- 5.3 deployment, measured
def load_classifier(args, device):
    """5.3.1 The fine-tuned sentiment classifier and a labelled test slice of SST-2."""
    from coursekit import hub
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    choice = hub.resolve_model("sentiment", args.profile, args.model)  # e.g. journey's merged/
    tokenizer = AutoTokenizer.from_pretrained(choice.path)
    model = AutoModelForSequenceClassification.from_pretrained(choice.path).eval()
    test = hub.load_dataset_for("sentiment", args.profile, "validation", args.max_samples,
                                args.seed)
    return choice, tokenizer, model, (list(test["sentence"]), list(test["label"]))


def quantize_int8(model):
    """Dynamic int8: Linear weights stored as int8; activations quantized on the fly per call."""
    import torch

    # torch.ao.quantization is moving to torchao (it warns); no calibration data: try it first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                      dtype=torch.qint8)


def size_on_disk(model, path: Path) -> float:
    """MB of the saved state dict (torch.save: safetensors cannot hold quantized tensors)."""
    import torch

    torch.save(model.state_dict(), path)
    size = path.stat().st_size / 1e6
    path.unlink()
    return size


def measure_latency(models: dict, encode, texts: list[str], requests: int) -> dict:
    """p50 and p95 per request (batch 1), interleaving the models so load hits them alike."""
    import torch

    times = {name: [] for name in models}
    with torch.inference_mode():
        for i in range(requests + 3):
            for name, model in models.items():
                batch = encode([texts[i % len(texts)]])
                clock = time.perf_counter()
                model(**batch)
                if i >= 3:  # the first calls warm caches up: a service is always warm
                    times[name].append(1000 * (time.perf_counter() - clock))
    return {name: {"p50_ms": statistics.median(t),
                   "p95_ms": statistics.quantiles(t, n=20)[-1]} for name, t in times.items()}


def measure_throughput(model, encode, texts: list[str]) -> dict:
    """Requests per second when requests are batched (one padded forward per batch)."""
    import torch

    result = {}
    with torch.inference_mode():
        for size in BATCH_SIZES:
            batches = [texts[i:i + size] for i in range(0, min(len(texts), 3 * size), size)]
            model(**encode(batches[0]))  # warm-up
            clock = time.perf_counter()
            for chunk in batches:
                model(**encode(chunk))
            result[size] = sum(map(len, batches)) / (time.perf_counter() - clock)
    return result


def deploy_on_cpu(args) -> dict:
    """5.3.2 fp32 against dynamic int8 on the CPU: size, latency, batching, accuracy."""
    import torch
    from coursekit import report

    choice, tokenizer, model, (texts, labels) = load_classifier(args, torch.device("cpu"))
    encode = lambda batch: tokenizer(batch, padding=True, truncation=True, max_length=128,
                                     return_tensors="pt")
    int8 = quantize_int8(model)
    out, rows = {"model": choice.name, "test_examples": len(texts)}, []
    for name, m in (("fp32", model), ("int8", int8)):
        with torch.inference_mode():
            predicted = [m(**encode(texts[i:i + 32])).logits.argmax(-1).tolist()
                         for i in range(0, len(texts), 32)]
        predicted = sum(predicted, [])
        out[name] = {"accuracy": sum(p == y for p, y in zip(predicted, labels)) / len(labels),
                     "disk_mb": size_on_disk(m, args.output_dir / f"{name}.pt")}
    mine = choice.name.split("/")[-1]
    timed = {mine: (model, int8)}
    if choice.source == "tiny":  # tiny matrices: quantizing costs more than it saves
        from coursekit import model_facts, profiles

        big = model_facts.random_real_size(profiles.MODELS["sentiment"]["class"]).eval()
        real = profiles.MODELS["sentiment"]["class"].split("/")[-1]
        timed[f"{real} (real size, random weights)"] = (big, quantize_int8(big))
    for label, (fp32, q8) in timed.items():
        latency = measure_latency({"fp32": fp32, "int8": q8}, encode, texts, args.requests)
        for name, m in (("fp32", fp32), ("int8", q8)):
            speed = measure_throughput(m, encode, texts)
            row = {"disk_mb": out[name]["disk_mb"] if label == mine else
                   size_on_disk(m, args.output_dir / f"{name}.pt"), **latency[name],
                   **{f"batch_{b}_per_s": v for b, v in speed.items()}}
            out.setdefault("speed", {}).setdefault(label, {})[name] = row
            rows.append([label, name, row["disk_mb"], row["p50_ms"], row["p95_ms"],
                         *speed.values(), out[name]["accuracy"] if label == mine else "-"])
    report.table(f"5.3.2 fp32 vs dynamic int8 on the CPU ({torch.get_num_threads()} threads; "
                 f"{args.requests} single requests each)",
                 ["model", "weights", "disk MB", "p50 ms", "p95 ms",
                  *[f"req/s batch {b}" for b in BATCH_SIZES], "accuracy"], rows)
    out["accuracy_change"] = out["int8"]["accuracy"] - out["fp32"]["accuracy"]
    report.note(f"accuracy change {out['accuracy_change']:+.3f} on {len(texts)} test reviews; "
                f"monitor p95, not the mean: one slow request in twenty is what users notice")
    out["bias_probe"] = probe_bias(model, encode)
    return out


def probe_bias(model, encode) -> dict:
    """5.3.3 The same neutral sentence with one word changed: does the positive share move?"""
    import torch
    from coursekit import report

    texts = [BIAS_TEMPLATE.format(w) for w in BIAS_WORDS]
    with torch.inference_mode():
        probs = model(**encode(texts)).logits.softmax(-1)[:, -1].tolist()
    spread = max(probs) - min(probs)
    report.table("5.3.3 Bias probe: P(positive) for a neutral sentence", ["sentence",
                 "P(positive)"], [[t, p] for t, p in zip(texts, probs)])
    report.note(f"spread {spread:.3f}: a neutral sentence should not change with the country")
    checklist = [
        ["model card limits", "read each card's 'Limitations and bias' before use; the SST-2 "
         "DistilBERT card shows country names moving its predictions (probe above)"],
        ["data licences", "check the licence field of every dataset card (SST-2, DialogSum, "
         "Yelp, AG News) before shipping a model trained on it"],
        ["bias probes", "templated sentences that change one group word; track the spread"],
        ["your own card", "journey_demo.py and huggingface_upload.py write one: fill in the "
         "intended use, the data, the test numbers and the limits"],
        ["monitoring", "log p50/p95 latency, input lengths and the label mix; alert on drift"]]
    report.table("5.3.4 Responsible-AI checklist for today's models", ["check", "how"],
                 checklist)
    return {"texts": texts, "p_positive": probs, "spread": spread}


# ---------------------------------------------------------------- 5.4 closing
RESOURCES = [
    ["Hugging Face LLM course", "https://huggingface.co/learn/llm-course"],
    ["TRL documentation (SFT, DPO, GRPO)", "https://huggingface.co/docs/trl"],
    ["PEFT documentation", "https://huggingface.co/docs/peft"],
    ["Build a Large Language Model (From Scratch), S. Raschka",
     "https://github.com/rasbt/LLMs-from-scratch"],
    ["nanoGPT, A. Karpathy", "https://github.com/karpathy/nanoGPT"],
    ["The Annotated Transformer", "https://nlp.seas.harvard.edu/annotated-transformer/"],
    ["DPO paper (Rafailov et al., 2023)", "https://arxiv.org/abs/2305.18290"],
]
FEEDBACK = ["Which part of the three days was most useful to you, and why?",
            "Which part was least clear? What would have helped?",
            "Pace: too slow, right, or too fast (1 to 5)?",
            "Did every script run on your machine? If not, which one and what happened?",
            "Which advanced topic (RLHF, multimodal, agents, safety) should a next course cover?",
            "Anything else for the instructors?"]


def close_course(output_dir: Path) -> dict:
    """5.4 Resources and next steps; the feedback questions as a form to fill in."""
    from coursekit import report

    report.table("5.4 Resources and next steps", ["resource", "where"], RESOURCES)
    form = output_dir / "feedback_form.md"
    form.write_text("# Day 3 course feedback\n\n" + "\n".join(
        f"{i}. {q}\n\n   Answer:\n" for i, q in enumerate(FEEDBACK, 1)))
    report.note(f"feedback form written to {form}: fill it in and hand it back")
    return {"resources": [r[1] for r in RESOURCES], "feedback_form": str(form)}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    with cli.user_errors():
        device = cli.start(args, "4.1-5.4 Results, recap, next steps",
                           needs_hub=args.profile != "tiny" and bool(
                               {"dpo", "deploy"} & set(args.parts)))
        from coursekit import report

        results = {"profile": args.profile, "seed": args.seed, "device": str(device),
                   "parts": args.parts}
        if "report" in args.parts:
            report.section("4.1, 4.2", "Your results, your peers', in one report")
            results["report"] = build_results_report(args)
        if "journey" in args.parts:
            report.section("5.1", "The three-day journey")
            results["journey"] = print_journey_map()
        if "dpo" in args.parts:
            report.section("5.2", "Preference tuning with DPO; PPO and GRPO in memory")
            results["dpo"] = tune_with_dpo(args, device)
            results["rl_memory"] = compare_rl_memory(args.profile)
            report.note("5.2 also: prompting (few-shot, chain of thought: 2.1 here), alignment "
                        "and safety (red-teaming, refusals), multimodal models (CLIP, LLaVA), "
                        "research (long context, mixture of experts, reasoning trained by RL)")
        if "deploy" in args.parts:
            report.section("5.3", "Deploy the classifier on a CPU, measured")
            results["deploy"] = deploy_on_cpu(args)
        if "closing" in args.parts:
            report.section("5.4", "Closing")
            results["closing"] = close_course(args.output_dir)
        report.write_results(args.output_dir, results)
    return results


if __name__ == "__main__":
    main()
