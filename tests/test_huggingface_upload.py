"""1.5 Uploading to the Hub: the folder, card and checklist are right; pushes never leak a token.

No test reaches the network: the conftest sets HF_HUB_OFFLINE=1, the dry run is watched by
stand-ins that fail if called, and the push paths run against stand-ins of the Hub functions.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import assert_usage_error, load_script, run_cli, run_main

SCRIPT = "Day3/1_HuggingFace/huggingface_upload.py"
FAKE_TOKEN = "hf_FAKEtokenVALUE123"
HUB_CALLS = ("whoami", "create_repo", "upload_folder", "create_tag", "create_branch",
             "delete_repo", "repo_exists", "list_repo_refs")


def forbid_hub_calls(monkeypatch) -> None:
    """Make every Hub function this script could call fail the test."""
    import huggingface_hub

    def called(*args, **kwargs):
        raise AssertionError("a dry run called the Hub")

    for name in HUB_CALLS:
        monkeypatch.setattr(huggingface_hub, name, called)


@pytest.fixture(scope="module")
def results(zoo, tmp_path_factory):
    out = tmp_path_factory.mktemp("upload")
    with pytest.MonkeyPatch.context() as monkeypatch:
        forbid_hub_calls(monkeypatch)
        return run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(out)), out


def all_text(out: Path) -> str:
    """Every file under out, as text: where a leaked token would show up."""
    return "".join(p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file())


def test_card_metadata_parses_back_with_the_measured_accuracy(results):
    from coursekit import hub, metrics
    from huggingface_hub import ModelCard
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    res, out = results
    folder = Path(res["folder"])
    card = ModelCard.load(folder / "README.md")
    assert card.data.license == "apache-2.0"
    assert card.data.base_model == "tiny-distilbert-sst2"
    assert card.data.pipeline_tag == "text-classification"
    [result] = card.data.eval_results
    assert (result.metric_type, result.task_type) == ("accuracy", "text-classification")
    assert result.metric_value == res["model"]["accuracy"] == res["card"]["accuracy"]
    # The value is measured, not written down: score the saved model on the same slice again.
    valid = hub.load_dataset_for("sentiment", "tiny", "validation", 200, 42)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    batch = AutoTokenizer.from_pretrained(folder)(list(valid["sentence"]), padding=True,
                                                  return_tensors="pt")
    predictions = model(**batch).logits.argmax(-1).tolist()
    assert metrics.accuracy(predictions, list(valid["label"])) == pytest.approx(
        result.metric_value, abs=1e-4)
    assert result.metric_value > 0.9
    assert {"Intended use", "Limitations and bias", "Training settings", "How to use",
            "Licence and usage"} <= set(res["card"]["sections"])
    assert "| steps | 20 |" in card.text and "| batch size | 8 |" in card.text


def test_checklist_is_all_ok_and_the_folder_holds_no_pickles(results):
    res, _ = results
    checklist = {row[0]: row for row in res["checklist"]}
    assert all(row[1] == "OK" for row in res["checklist"]), res["checklist"]
    assert "max logit gap 0.0e+00" in checklist["reloads with Auto classes"][2]
    assert set(res["files"]) == {"README.md", "config.json", "model.safetensors",
                                 "tokenizer.json", "tokenizer_config.json"}
    assert not [f for f in res["files"] if f.endswith((".bin", ".pt", ".pkl"))]
    assert res["total_bytes"] == sum(res["files"].values()) > 400_000


def test_fine_tuning_changed_the_weights_that_were_saved(results, zoo):
    from safetensors.torch import load_file

    res, _ = results
    saved = load_file(Path(res["folder"]) / "model.safetensors")
    base = load_file(zoo["tiny-distilbert-sst2"] / "model.safetensors")
    assert saved.keys() == base.keys()
    assert any(not saved[k].equal(base[k]) for k in saved)
    assert res["model"]["training"]["steps"] == 20


def test_dry_run_lists_files_and_hf_commands_and_creates_nothing(results):
    res, out = results
    assert res["dry_run"] and res["upload"] is None and not res["token_found"]
    plan = res["plan"]
    repo = "<your-username>/day3-tiny-distilbert-sst2"
    assert plan["repo_id"] == repo and plan["private"] is True
    commands = plan["commands"]
    assert commands[0].startswith("hf auth login")
    assert f"hf repos create {repo} --private --exist-ok" in commands
    assert any(c.startswith(f"hf upload {repo} ") and "--commit-message" in c
               for c in commands)
    assert f"hf repos tag create {repo} v1.0 -m 'Release v1.0'" in commands
    saved = json.loads((out / "results.json").read_text())
    assert saved["files"] == res["files"] and saved["dry_run"] is True


def test_as_is_public_custom_repo_and_a_found_token_that_never_leaks(zoo, tmp_path, capsys,
                                                                     monkeypatch):
    from safetensors.torch import load_file

    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    forbid_hub_calls(monkeypatch)
    res = run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path),
                   "--fine-tune-steps", "0", "--license", "mit", "--public",
                   "--repo-id", "ada/my-sentiment", "--version", "v2.0")
    saved = load_file(Path(res["folder"]) / "model.safetensors")
    base = load_file(zoo["tiny-distilbert-sst2"] / "model.safetensors")
    assert all(saved[k].equal(base[k]) for k in base)  # 0 steps: shared exactly as it is
    assert res["model"]["accuracy"] == res["model"]["accuracy_before"]
    assert res["card"]["yaml"]["license"] == "mit"
    assert "base_model_relation" not in res["card"]["yaml"]
    assert res["plan"]["repo_id"] == "ada/my-sentiment" and res["plan"]["private"] is False
    assert "hf repos create ada/my-sentiment --public --exist-ok" in res["plan"]["commands"]
    assert res["token_found"] is True
    captured = capsys.readouterr()
    assert "found (HF_TOKEN)" in captured.out
    for place in (captured.out, captured.err, json.dumps(res), all_text(tmp_path)):
        assert FAKE_TOKEN not in place


def test_checklist_catches_a_pickle_and_a_token_in_the_folder(results, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    module = load_script(SCRIPT)
    res, _ = results
    folder = tmp_path / "copy"
    shutil.copytree(res["folder"], folder)
    (folder / "pytorch_model.bin").write_bytes(b"pickled")
    (folder / "notes.txt").write_text("token = hf_" + "a1B2" * 9)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    expected = {"license": "apache-2.0", "base_model": "tiny-distilbert-sst2",
                "accuracy": res["model"]["accuracy"]}
    rows = {r[0]: r for r in module.validate_folder(folder, model, tokenizer, expected,
                                                    ["the pasta was tasty ."])}
    assert rows["no pickles (.bin/.pt/.pkl)"][1:] == ["FAIL", "pytorch_model.bin"]
    assert rows["no access token in the files"][1:] == ["FAIL", "notes.txt"]
    assert rows["card metadata parses back"][1] == "OK"
    expected["license"] = "mit"  # a card that says something else than intended
    rows = {r[0]: r for r in module.validate_folder(folder, model, tokenizer, expected,
                                                    ["the pasta was tasty ."])}
    assert rows["card metadata parses back"][1] == "FAIL"


def assert_one_error_line(stderr: str, message: str) -> None:
    """One "error:" line, the last one (progress bars may come before it), no traceback."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and errors[0] == lines[-1] and message in errors[0], stderr
    assert "Traceback" not in stderr


def no_token_env(tmp_path: Path) -> dict:
    home = tmp_path / "empty-hf-home"
    home.mkdir()
    return {"HF_TOKEN": "", "HUGGING_FACE_HUB_TOKEN": "", "HF_HOME": str(home),
            "HF_TOKEN_PATH": str(home / "token")}


def test_push_without_a_token_stops_in_one_line(tmp_path):
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path / "out"),
                     "--push", env=no_token_env(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Hugging Face token found" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def test_push_offline_with_a_token_stops_and_never_shows_it(tmp_path):
    env = {**no_token_env(tmp_path), "HF_TOKEN": FAKE_TOKEN}  # HF_HUB_OFFLINE=1 from conftest
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path / "out"),
                     "--push", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "the Hub is unreachable" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert FAKE_TOKEN not in result.stdout + result.stderr + all_text(tmp_path)
    assert not (tmp_path / "out" / "results.json").exists()


class FakeHub:
    """Stand-ins for the Hub functions: they record calls instead of making them."""

    def __init__(self, monkeypatch, role="write", exists=False, tags=(), fail_upload=False):
        import huggingface_hub
        from coursekit import hub

        self.calls, self.role, self.exists, self.tags = [], role, exists, tags
        self.fail_upload = fail_upload
        monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
        monkeypatch.setattr(hub, "network_status",
                            lambda: hub.NetworkStatus(True, "test: pretend online", 0.0))
        for name in HUB_CALLS:
            monkeypatch.setattr(huggingface_hub, name, getattr(self, name))

    def whoami(self, token=None, **kwargs):
        self.calls.append(("whoami", token))
        return {"type": "user", "name": "ada",
                "auth": {"type": "access_token",
                         "accessToken": {"displayName": "laptop", "role": self.role}}}

    def repo_exists(self, repo_id, **kwargs):
        self.calls.append(("repo_exists", repo_id))
        return self.exists

    def list_repo_refs(self, repo_id, **kwargs):
        self.calls.append(("list_repo_refs", repo_id))
        return SimpleNamespace(tags=[SimpleNamespace(name=t) for t in self.tags])

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs["private"], kwargs["exist_ok"]))

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        self.calls.append(("upload_folder", repo_id, sorted(p.name for p in
                                                            Path(folder_path).iterdir())))
        if self.fail_upload:
            raise ConnectionError("connection reset by peer")
        return SimpleNamespace(oid="abc123")

    def create_tag(self, repo_id, *, tag, revision, **kwargs):
        self.calls.append(("create_tag", repo_id, tag, revision))

    def create_branch(self, *args, **kwargs):
        raise AssertionError("not expected")

    def delete_repo(self, repo_id, **kwargs):
        self.calls.append(("delete_repo", repo_id))

    def names(self):
        return [c[0] for c in self.calls]


def test_read_only_token_is_refused_before_anything_is_created(zoo, tmp_path, monkeypatch,
                                                                capsys):
    fake = FakeHub(monkeypatch, role="read")
    with pytest.raises(SystemExit) as stop:
        run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path), "--push")
    assert stop.value.code == 2
    assert fake.names() == ["whoami"]  # no create_repo, no upload
    err = capsys.readouterr().err
    assert_one_error_line(err, "read role")
    assert FAKE_TOKEN not in err
    assert not (tmp_path / "results.json").exists()


def test_push_creates_a_private_repo_uploads_and_tags(zoo, tmp_path, monkeypatch, capsys):
    fake = FakeHub(monkeypatch)
    res = run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path), "--push")
    repo = "ada/day3-tiny-distilbert-sst2"
    assert fake.names() == ["whoami", "repo_exists", "create_repo", "upload_folder",
                            "create_tag"]
    assert ("create_repo", repo, True, True) in fake.calls  # private, exist_ok
    upload = fake.calls[3]
    assert upload[2] == sorted(res["files"]) and "README.md" in upload[2]
    assert ("create_tag", repo, "v1.0", "abc123") in fake.calls  # the tag pins the commit
    assert res["dry_run"] is False and res["token_role"] == "write"
    assert res["upload"] == {"url": f"https://huggingface.co/{repo}", "commit": "abc123",
                             "tag": "v1.0", "created_repo": True}
    card = (Path(res["folder"]) / "README.md").read_text()
    assert f'model="{repo}", revision="v1.0"' in card
    captured = capsys.readouterr()
    for place in (captured.out, captured.err, all_text(tmp_path)):
        assert FAKE_TOKEN not in place


@pytest.mark.parametrize("exists, tags, message, calls", [
    (False, (), "the new repo was deleted again",
     ["repo_exists", "create_repo", "upload_folder", "delete_repo"]),
    (True, (), "the repo existed before and was kept",
     ["repo_exists", "list_repo_refs", "create_repo", "upload_folder"]),
    (True, ("v1.0",), "already has a tag v1.0", ["repo_exists", "list_repo_refs"]),
])
def test_failed_upload_leaves_nothing_half_done(zoo, tmp_path, monkeypatch, capsys, exists,
                                                tags, message, calls):
    fake = FakeHub(monkeypatch, exists=exists, tags=tags, fail_upload=True)
    with pytest.raises(SystemExit) as stop:
        run_main(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path), "--push")
    assert stop.value.code == 2
    assert fake.names() == ["whoami", *calls]
    assert_one_error_line(capsys.readouterr().err, message)
    assert not (tmp_path / "results.json").exists()


@pytest.mark.slow
def test_command_line_dry_run(zoo, tmp_path):
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "dry run" in result.stdout and "$ hf upload" in result.stdout
    assert (tmp_path / "results.json").exists()
    assert (tmp_path / "hub-folder" / "model.safetensors").exists()


@pytest.mark.parametrize("args, message", [
    (["--license", "my-own"], "not a Hub licence id"),
    (["--version", "v 1"], "--version 'v 1'"),
    (["--repo-id", "a/b/c"], "is not 'name' or 'owner/name'"),
    (["--repo-id", "ada/bad--name"], "is not 'name' or 'owner/name'"),
    (["--fine-tune-steps", "-1"], "must be 0 or more"),
])
def test_bad_input_gets_one_line_and_exit_2(tmp_path, args, message):
    result = run_cli(SCRIPT, "--profile", "tiny", "--output-dir", str(tmp_path / "out"), *args)
    assert_usage_error(result, message)
    assert not (tmp_path / "out").exists()


def test_help_is_fast_to_print():
    result = run_cli(SCRIPT, "--help")
    assert result.returncode == 0 and "--push" in result.stdout and "--license" in result.stdout
