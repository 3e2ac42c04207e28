"""4.2 The journey demo: LoRA beats the base on the same test set, what is saved reloads to the
same outputs, and the app answers (gradio_client and a real Chromium) on 127.0.0.1 only.

The app runs as a user starts it: the real command line in a subprocess, on a free port.
That run (seed 42) is also the third seed of the before/after claim.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import ROOT, assert_usage_error, run_cli, run_main

SCRIPT = "Day3/4_WrapUpAndDemo/journey_demo.py"
CLEAR_POSITIVE = "i loved this course , it was great and the teacher was helpful ."
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# A closed network: no update checks, no background requests, a fresh profile each run.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-default-apps", "--disable-domain-reliability",
                  "--disable-client-side-phishing-detection", "--metrics-recording-only"]


def tiny_run(out: Path, *extra: str) -> dict:
    return run_main(SCRIPT, "--profile", "tiny", "--no-ui", "--output-dir", str(out), *extra)


@pytest.fixture(scope="module")
def seed_runs(zoo, tmp_path_factory) -> dict[int, dict]:
    """The pipeline on seeds 0 and 1 (the app fixture's run is seed 42)."""
    return {seed: tiny_run(tmp_path_factory.mktemp(f"journey-{seed}"), "--seed", str(seed))
            for seed in (0, 1)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app(zoo, tmp_path_factory):
    """`journey_demo.py --profile tiny --port P` as a user runs it, until its URL is printed."""
    out = tmp_path_factory.mktemp("journey-app")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / SCRIPT), "--profile", "tiny", "--port", str(port),
         "--output-dir", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 400
    while not any("Running on local URL" in line for line in lines):
        assert process.poll() is None, "".join(lines)[-3000:]
        assert time.time() < deadline, "the app did not start:\n" + "".join(lines)[-3000:]
        time.sleep(0.5)
    yield {"url": url, "port": port, "process": process, "out": out, "lines": lines,
           "results": json.loads((out / "results.json").read_text())}
    process.terminate()
    process.wait(timeout=30)


# ---------------------------------------------------------------- the pipeline
def test_lora_beats_the_base_model_over_three_seeds(seed_runs, app):
    runs = {**seed_runs, 42: app["results"]}
    for seed, res in runs.items():
        scores = res["scores"]
        base, tuned = scores["base (new head)"]["accuracy"], scores["LoRA fine-tuned"]["accuracy"]
        # measured on 2 CPU cores: base 0.50, LoRA 0.715 to 0.77 (seeds 0, 1, 42)
        assert tuned >= base + 0.1, (seed, scores)
        assert tuned >= res["chance"] + 0.1, (seed, scores)
        assert res["training"]["losses"][-1][1] < res["training"]["losses"][0][1] - 0.1, seed


def test_lora_trains_a_small_share_and_flan_t5_answers_zero_shot(seed_runs):
    res = seed_runs[0]
    assert res["training"]["trainable"] < 0.1 * res["training"]["total"]
    assert res["scores"]["Flan-T5 zero-shot"]["accuracy"] > res["chance"] + 0.2
    assert res["test_examples"] == 200 and 0.4 <= res["chance"] <= 0.6


def test_reloaded_adapter_and_merged_model_give_the_same_outputs(seed_runs):
    for res in seed_runs.values():
        for name, check in res["reload"].items():
            assert check["same_labels"], name
            assert check["max_probability_gap"] < 1e-5, (name, check)


def test_saved_folders_are_hub_ready_with_cards(seed_runs):
    from huggingface_hub import ModelCard

    res = seed_runs[1]
    adapter, merged = Path(res["folders"]["adapter"]), Path(res["folders"]["merged"])
    assert {"adapter_model.safetensors", "adapter_config.json", "README.md"} <= \
        {p.name for p in adapter.iterdir()}
    assert {"model.safetensors", "config.json", "README.md"} <= {p.name for p in merged.iterdir()}
    assert not [p for p in (*adapter.iterdir(), *merged.iterdir())
                if p.suffix in {".bin", ".pt", ".pkl"}]
    config = json.loads((merged / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "positive"}
    tuned = res["scores"]["LoRA fine-tuned"]["accuracy"]
    for folder, library in ((adapter, "peft"), (merged, "transformers")):
        card = ModelCard.load(folder / "README.md")
        assert card.data.library_name == library
        assert card.data.eval_results[0].metric_value == tuned
        assert "## Limitations and bias" in card.text and "## Licence and usage" in card.text
    assert "AutoPeftModelForSequenceClassification" in (adapter / "README.md").read_text()
    assert Path(res["plot"]).stat().st_size > 10_000


# ---------------------------------------------------------------- the app
def test_app_listens_on_localhost_only(app):
    import psutil

    process = psutil.Process(app["process"].pid)
    connections = getattr(process, "net_connections", None) or process.connections  # psutil<6
    listening = [c.laddr for c in connections("inet") if c.status == psutil.CONN_LISTEN]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
    assert any(f"127.0.0.1:{app['port']}" in line for line in app["lines"])


def classify(client, text: str):
    return client.predict(text, api_name="/classify")


def test_app_answers_through_gradio_client(app):
    from gradio_client import Client

    client = Client(app["url"], verbose=False)
    base, tuned, answer, tokens, logits, status = classify(client, CLEAR_POSITIVE)
    assert tuned["label"] == "positive", tuned
    assert answer == "positive"  # the tiny Flan-T5 was instruction-tuned on this prompt
    assert [row[1] for row in tokens["data"]][:3] == ["[CLS]", "i", "loved"]
    probabilities = {(row[0], row[1]): row[3] for row in logits["data"]}
    assert abs(probabilities[("fine-tuned", "positive")]
               + probabilities[("fine-tuned", "negative")] - 1) < 1e-3
    assert "tokens read" in status


@pytest.mark.parametrize("text, message", [
    ("", "box is empty"), ("   \n\t ", "box is empty"),
    ("a" * 100_000, "the limit is 2,000")])
def test_app_refuses_bad_input_in_words_and_keeps_serving(app, text, message):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(app["url"], verbose=False)
    with pytest.raises(AppError, match=message):
        classify(client, text)
    assert classify(client, CLEAR_POSITIVE)[1]["label"] == "positive"  # still serving


def test_app_refuses_undecodable_text_sent_as_raw_json(app):
    """A lone surrogate cannot even be encoded by Python clients: send the JSON by hand."""
    import httpx

    body = '{"data": ["\\ud800 broken"]}'  # valid JSON, but not a valid Unicode string
    call = f"{app['url']}/gradio_api/call/classify"
    event = httpx.post(call, content=body, headers={"Content-Type": "application/json"}).json()
    answer = httpx.get(f"{call}/{event['event_id']}", timeout=60).text
    assert "event: error" in answer and "not valid Unicode" in answer, answer
    assert "Traceback" not in "".join(app["lines"])  # refused in words, not logged as a crash
    from gradio_client import Client

    assert classify(Client(app["url"], verbose=False), CLEAR_POSITIVE)[1]["label"] == "positive"


@pytest.mark.parametrize("text", ["😀🎉👍", "the 食べ物 was great and очень хорошо"])
def test_app_says_when_words_are_unknown(app, text):
    from gradio_client import Client

    client = Client(app["url"], verbose=False)
    status = classify(client, text)[5]
    assert "[UNK]" in status and "not in the vocabulary" in status, status
    assert classify(client, CLEAR_POSITIVE)[1]["label"] == "positive"


def test_app_in_headless_chromium(app):
    if not CHROMIUM:
        if os.environ.get("DAY3_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    shot = app["out"] / "app_screenshot.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(app["out"] / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1200, "height": 1000})
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        # Nothing leaves this machine: requests to other hosts (web fonts) are refused.
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            app["url"]) else route.abort())
        page.goto(app["url"], wait_until="domcontentloaded")
        page.get_by_label("Review").fill(CLEAR_POSITIVE)
        page.get_by_role("button", name="Classify").click()
        tuned = page.locator("#tuned-label")
        tuned.get_by_text("positive").first.wait_for(timeout=60_000)
        page.locator("#flan-answer textarea").wait_for()
        page.wait_for_function("document.querySelector('#flan-answer textarea').value != ''")
        flan = page.locator("#flan-answer textarea").input_value()
        page.get_by_text("Under the hood").click()  # open it: the screenshot shows the tokens
        page.get_by_text("[CLS]").first.wait_for(timeout=10_000)
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert flan == "positive"
    assert shot.stat().st_size > 20_000
    assert not errors, errors


# ---------------------------------------------------------------- bad command lines
def test_port_in_use_is_one_line_before_any_work(app):
    start = time.perf_counter()
    result = run_cli(SCRIPT, "--profile", "tiny", "--port", str(app["port"]))
    assert_usage_error(result, f"port {app['port']} on 127.0.0.1 is in use")
    assert time.perf_counter() - start < 30  # refused at once, not after training


@pytest.mark.parametrize("port", ["80", "70000", "seven"])
def test_bad_port_numbers_are_refused(port):
    result = run_cli(SCRIPT, "--port", port)
    assert_usage_error(result, "--port")
