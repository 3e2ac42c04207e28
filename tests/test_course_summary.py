"""course_summary.py (4.1, 4.2, 5.1-5.4): the results report holds the day's numbers, peers sit side
by side, runs of different profiles are flagged, a broken file is named; DPO raises the held-out
reward margin and preference accuracy (3 seeds); int8 is smaller, no slower and as accurate."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from helpers import assert_usage_error, run_cli, run_main

SCRIPT = "Day3/4_WrapUpAndDemo/course_summary.py"
FLAN = "Day3/2_TrainingLLMs/flan_t5_finetuning.py"
JOURNEY = "Day3/4_WrapUpAndDemo/journey_demo.py"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-default-apps", "--disable-domain-reliability",
                  "--disable-client-side-phishing-detection", "--metrics-recording-only"]


@pytest.fixture(scope="module")
def day(tmp_path_factory, zoo):
    """Two of the day's scripts (tiny, short) into outputs/; peers alice (tiny) and bob (class)."""
    root = tmp_path_factory.mktemp("class-room")
    mine = root / "you" / "outputs"
    flan = run_main(FLAN, "--profile", "tiny", "--strategies", "lora", "--max-steps", "5",
                    "--max-samples", "8", "--output-dir", str(mine / "flan_t5_finetuning"))
    run_main(JOURNEY, "--profile", "tiny", "--no-ui", "--max-steps", "5", "--max-samples", "32",
             "--output-dir", str(mine / "journey_demo"))
    (mine / "broken_script").mkdir()
    (mine / "broken_script" / "results.json").write_text('{"profile": "tiny", ')  # cut short
    alice = root / "alice" / "outputs"
    shutil.copytree(mine / "journey_demo", alice / "journey_demo")
    saved = json.loads((alice / "journey_demo" / "results.json").read_text())
    saved["scores"]["LoRA fine-tuned"]["accuracy"] = 0.125  # her run went another way
    (alice / "journey_demo" / "results.json").write_text(json.dumps(saved))
    bob = root / "bob" / "outputs"  # a class-profile run, written by hand
    (bob / "flan_t5_finetuning").mkdir(parents=True)
    bob_flan = json.loads(json.dumps(flan))
    bob_flan["profile"] = "class"
    bob_flan["run_info"].update(profile="class", versions={"transformers": "5.0.0"})
    (bob / "flan_t5_finetuning" / "results.json").write_text(json.dumps(bob_flan))
    out = root / "summary"
    results = run_main(SCRIPT, "--profile", "tiny", "--parts", "report", "--outputs", str(mine),
                       "--peers", str(alice), str(bob), str(root / "carol" / "outputs"),
                       "--output-dir", str(out))
    return {"flan": flan, "results": results, "out": out, "root": root}


def test_report_holds_a_number_from_flan_t5_in_markdown_and_html(day):
    rouge = day["flan"]["strategies"]["lora"]["after"]["target_rougeL"]
    probes = day["flan"]["strategies"]["lora"]["after"]["probe_avg"]
    for name in ("report.md", "report.html"):
        text = (day["out"] / name).read_text()
        assert f"{rouge:.3f}" in text and f"{probes:.3f}" in text, name
    assert day["results"]["report"]["key_metrics"]["flan_t5_finetuning"]["lora ROUGE-L"] == rouge


def test_html_is_one_file_with_embedded_plots(day):
    html = (day["out"] / "report.html").read_text()
    assert "data:image/png;base64," in html
    assert 'src="report_' not in html  # nothing linked: the file travels alone


def test_each_result_carries_profile_device_seed_versions_and_date(day):
    md = (day["out"] / "report.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| you | journey_demo"))
    journey = day["out"].parent / "you" / "outputs" / "journey_demo" / "results.json"
    device = json.loads(journey.read_text())["run_info"]["device"]  # cpu, or cuda on a GPU
    assert f"| tiny | {device}" in row and "| 42 |" in row and "transformers 5." in row
    assert "20" in row.split("|")[-2]  # the date: 20xx-...


def test_peers_sit_side_by_side_with_the_spread(day):
    table = day["results"]["report"]["side_by_side"]["journey_demo"]
    assert table["people"] == ["you", "alice"] and table["not_comparable"] is None
    lora = next(r for r in table["rows"] if r[0] == "LoRA fine-tuned accuracy")
    assert lora[2] == 0.125 and lora[3] == pytest.approx(abs(lora[1] - 0.125)) and lora[3] > 0
    assert "| metric | you | alice | spread |" in (day["out"] / "report.md").read_text()


def test_tiny_and_class_runs_are_flagged_not_comparable(day):
    flan = day["results"]["report"]["side_by_side"]["flan_t5_finetuning"]
    assert "profile" in flan["not_comparable"] and "bob class" in flan["not_comparable"]
    assert "versions" in flan["not_comparable"]
    assert all(row[-1] is None for row in flan["rows"])  # no spread across profiles
    assert "not comparable" in (day["out"] / "report.html").read_text()


def test_a_malformed_file_and_a_missing_folder_are_named_not_fatal(day):
    warnings = day["results"]["report"]["warnings"]
    broken = [w for w in warnings if "broken_script" in w]
    assert len(broken) == 1 and "malformed results.json" in broken[0]
    assert any("carol" in w and "no such folder" in w for w in warnings)
    assert "broken_script" in (day["out"] / "report.md").read_text()


def test_gaps_name_the_script_that_fills_them(day):
    assert "finetune_strategies_overview" in day["results"]["report"]["gaps"]
    assert "python Day3/3_FineTuning/finetune_strategies_overview.py --profile tiny" in \
        (day["out"] / "report.md").read_text()


def test_report_opens_in_headless_chromium(day):
    if not CHROMIUM:
        if os.environ.get("DAY3_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    shot = day["out"] / "report_screenshot.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(day["out"] / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1200, "height": 900})
        page = browser.new_page()
        errors, requests = [], []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.on("request", lambda req: requests.append(req.url))
        page.goto((day["out"] / "report.html").as_uri(), wait_until="load")
        loaded = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        tables = page.locator("table").count()
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert not errors, errors
    assert loaded and all(width > 0 for width in loaded)  # the embedded PNGs decode
    assert tables >= 4
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert shot.stat().st_size > 20_000


# ---------------------------------------------------------------- 5.2 DPO
@pytest.fixture(scope="module")
def dpo_runs(tmp_path_factory, zoo):
    """The DPO part for three seeds, each with its own output folder."""
    runs = {}
    for seed in (0, 1, 42):
        out = tmp_path_factory.mktemp(f"dpo-{seed}")
        clock = time.perf_counter()
        runs[seed] = run_main(SCRIPT, "--profile", "tiny", "--parts", "dpo", "--seed", str(seed),
                              "--output-dir", str(out))
        runs[seed]["wall_s"] = time.perf_counter() - clock
    return runs


def test_dpo_raises_held_out_margin_and_preference_accuracy(dpo_runs):
    for seed, run in dpo_runs.items():
        before, after = run["dpo"]["before"], run["dpo"]["after"]
        assert before["margin"] == pytest.approx(0, abs=1e-6), seed  # policy == reference
        assert after["margin"] > before["margin"] + 1.0, (seed, after)
        assert after["accuracy"] >= 0.9 > before["accuracy"], (seed, after)
        assert after["chosen logp"] > before["chosen logp"] + 10, (seed, after)
        assert after["loss"] < before["loss"] / 2, (seed, after)


def test_dpo_reports_generations_before_and_after(dpo_runs):
    gen = dpo_runs[42]["dpo"]["generations"]
    assert len(gen["prompts"]) == len(gen["before"]) == len(gen["after"]) == 3
    assert all(answer for answer in gen["before"] + gen["after"])


def test_rl_memory_is_computed_from_the_model_facts(dpo_runs):
    from coursekit import model_facts

    memory = {(m["model"], m["method"]): m["gib"] for m in dpo_runs[42]["rl_memory"]}
    smol = "HuggingFaceTB/SmolLM2-135M-Instruct"
    n = model_facts.facts_for(smol).parameters
    assert memory[(smol, "DPO")] == round(n * (16 + 2) / 2**30, 2)
    assert memory[(smol, "PPO (RLHF)")] == round(n * (2 * 16 + 2 * 2) / 2**30, 2)
    for model in {m for m, _ in memory}:
        assert memory[(model, "SFT")] < memory[(model, "DPO")] < memory[(model, "GRPO")] \
            < memory[(model, "PPO (RLHF)")]


# ---------------------------------------------------------------- 5.3 deployment
@pytest.fixture(scope="module")
def deploy(tmp_path_factory, zoo):
    out = tmp_path_factory.mktemp("deploy")
    return run_main(SCRIPT, "--profile", "tiny", "--parts", "deploy", "--requests", "20",
                    "--output-dir", str(out))["deploy"]


def test_int8_is_smaller_on_disk_and_as_accurate(deploy):
    assert deploy["int8"]["disk_mb"] < 0.8 * deploy["fp32"]["disk_mb"]
    assert abs(deploy["accuracy_change"]) <= 0.02
    assert deploy["fp32"]["accuracy"] > 0.8  # a fine-tuned classifier, not a coin


def test_int8_is_no_slower_per_request_at_real_size(deploy):
    real = next(v for k, v in deploy["speed"].items() if "real size" in k)
    assert real["int8"]["disk_mb"] < 0.6 * real["fp32"]["disk_mb"]  # 139 MB against 268 MB
    assert real["int8"]["p50_ms"] <= 1.1 * real["fp32"]["p50_ms"], real
    for row in real.values():
        assert row["p95_ms"] >= row["p50_ms"] > 0
        assert row["batch_32_per_s"] > row["batch_1_per_s"]  # batching pays


def test_bias_probe_measures_a_spread(deploy):
    probe = deploy["bias_probe"]
    assert len(probe["p_positive"]) == len(probe["texts"]) >= 5
    assert probe["spread"] == pytest.approx(max(probe["p_positive"]) - min(probe["p_positive"]))


# ---------------------------------------------------------------- the real command line
def test_command_line_journey_and_closing(tmp_path):
    result = run_cli(SCRIPT, "--profile", "tiny", "--parts", "journey,closing",
                     "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "ELBO" in result.stdout and "LoRA" in result.stdout
    form = (tmp_path / "feedback_form.md").read_text()
    assert form.startswith("# Day 3 course feedback") and form.count("Answer:") >= 5
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [step["year"] for step in saved["journey"]] == sorted(
        step["year"] for step in saved["journey"])
    assert saved["run_info"]["versions"]["transformers"].startswith("5.")


@pytest.mark.parametrize("args, message", [
    (["--parts", "report,nope"], "unknown part nope"),
    (["--dpo-steps", "0"], "must be at least 1"),
])
def test_bad_flags_are_one_line(tmp_path, args, message):
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path), *args)
    assert_usage_error(result, message)


def test_help_is_fast():
    clock = time.perf_counter()
    result = run_cli(SCRIPT, "--help")
    assert result.returncode == 0 and "--peers" in result.stdout
    assert time.perf_counter() - clock < 5  # well under 1 s on an idle machine
