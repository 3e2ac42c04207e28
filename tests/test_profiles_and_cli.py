"""Profiles table, common flags and one-line errors."""

from __future__ import annotations

import pytest
from coursekit import cli, profiles, tiny


def test_every_role_has_every_profile_and_tiny_names_are_zoo_models():
    for role, by_profile in profiles.MODELS.items():
        assert set(by_profile) == set(profiles.PROFILES), role
        assert by_profile["tiny"] in tiny.BUILDERS, role
        assert "/" in by_profile["class"], role


def test_class_profile_uses_the_course_models():
    assert profiles.model_id("instruction", "class") == "google/flan-t5-small"
    assert profiles.model_id("chat", "class") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert profiles.hub_models("tiny") == []
    assert len(profiles.hub_models("class")) == 8  # with the distillation student
    assert "google/bert_uncased_L-2_H-128_A-2" in profiles.hub_models("class")
    with pytest.raises(KeyError, match="unknown profile"):
        profiles.model_id("chat", "huge")


def test_parser_defaults_and_profile_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DAY3_PROFILE", "full")
    args = cli.make_parser("doc", script="demo.py", max_steps=10).parse_args([])
    assert (args.profile, args.max_steps, args.seed) == ("full", 10, 42)
    assert str(args.output_dir).endswith("outputs/demo")


@pytest.mark.parametrize("argv", [["--profile", "huge"], ["--device", "tpu"],
                                  ["--max-steps", "0"], ["--max-steps", "many"]])
def test_bad_flags_exit_2_with_one_line(argv, capsys):
    parser = cli.make_parser("doc", script="demo.py", max_steps=10)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "error:" in err


def test_unknown_profile_from_environment_is_a_usage_error():
    with pytest.raises(cli.UsageError, match="unknown profile 'huge'"):
        cli.check_profile("huge")


def test_unwritable_output_dir_is_a_usage_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(cli.UsageError, match="cannot write to output folder"):
        cli.check_output_dir(blocker / "results")


def test_user_errors_prints_one_line_and_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info, cli.user_errors():
        raise cli.UsageError("something the user can fix")
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: something the user can fix\n"


def test_cuda_requested_without_a_gpu_is_a_usage_error():
    import torch
    from coursekit import device

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(cli.UsageError, match="no CUDA GPU"):
        device.pick_device("cuda")
    assert device.pick_device("cpu").type == "cpu"
    assert device.pick_dtype(torch.device("cpu")) == torch.float32


def test_max_samples_can_default_by_profile(tmp_path):
    parser = cli.make_parser("doc", script="demo.py", max_samples="profile")
    args = parser.parse_args(["--profile", "tiny", "--output-dir", str(tmp_path)])
    assert args.max_samples is None  # decided by the profile, in cli.start
    cli.start(args, "test")
    assert args.max_samples == profiles.DEFAULT_SAMPLES["tiny"] == 400
    assert parser.parse_args(["--max-samples", "7"]).max_samples == 7


@pytest.mark.parametrize("parse, good, bad, message", [
    (cli.positive_float, ("2e9", 2e9), "0", "must be above 0"),
    (cli.fraction, ("0.25", 0.25), "1.5", "must be between 0 and 1"),
])
def test_float_flag_types(parse, good, bad, message):
    import argparse

    assert parse(good[0]) == good[1]
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse(bad)
    with pytest.raises(argparse.ArgumentTypeError, match="expected a number"):
        parse("lots")
    for not_finite in ("inf", "-inf", "nan", "1e999"):  # results.json would hold Infinity/NaN
        with pytest.raises(argparse.ArgumentTypeError, match="expected a finite number"):
            parse(not_finite)


def test_seed_is_what_numpy_accepts():
    import argparse

    assert cli.seed_number("0") == 0 and cli.seed_number(str(2**32 - 1)) == 2**32 - 1
    for bad in ("-1", str(2**32), "4.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            cli.seed_number(bad)


def test_refused_run_removes_only_the_output_folder_it_created(tmp_path):
    new, kept = tmp_path / "new" / "deeper", tmp_path / "kept"
    kept.mkdir()
    (kept / "results.json").write_text("{}")  # a previous run's results stay
    for folder in (new, kept):
        with pytest.raises(SystemExit), cli.user_errors():
            cli.check_output_dir(folder)
            (folder / "half-written.json").write_text("{")
            raise cli.UsageError("refused after the start")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]  # "new" is gone, parent too
    assert sorted(p.name for p in kept.iterdir()) == ["half-written.json", "results.json"]
    cli.check_output_dir(new)
    with cli.user_errors():  # a run that succeeds keeps its folder
        pass
    assert new.is_dir()


def test_kit_modules_import_errors_not_cli():
    import subprocess
    import sys

    from coursekit import errors

    assert cli.UsageError is errors.UsageError  # scripts keep writing cli.UsageError
    code = "import sys, coursekit.device, coursekit.hub; print('coursekit.cli' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_comma_list_keeps_order_drops_duplicates_and_names_unknowns():
    import argparse

    parse = cli.comma_list(["full", "lora", "ia3"], "method")
    assert parse(" lora, full,lora ") == ["lora", "full"]
    with pytest.raises(argparse.ArgumentTypeError,
                       match="^unknown method dora; choose from full, lora, ia3$"):
        parse("lora,dora")
    with pytest.raises(argparse.ArgumentTypeError, match="^no method given in ' , '$"):
        parse(" , ")
    assert cli.comma_list(what="layer name")("q_lin,v_lin") == ["q_lin", "v_lin"]


def test_plain_forward_undoes_the_bf16_wrapper_that_training_leaves():
    """The Trainer's Accelerate wraps model.forward in autocast; the wrapper outlives training."""
    import torch
    from accelerate import Accelerator
    from coursekit import device

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 2))
    x = torch.randn(8, 64)
    with torch.no_grad():
        fp32 = model(x)
        wrapped = Accelerator(cpu=True, mixed_precision="bf16").prepare_model(model)
        assert wrapped is model and (model(x) - fp32).abs().max() > 1e-4  # bf16 rounding
        assert device.plain_forward(model) is model
        assert torch.equal(model(x), fp32)  # fp32 again, bit for bit
        assert device.plain_forward(model) is model and torch.equal(model(x), fp32)  # idempotent
