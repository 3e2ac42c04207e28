"""The command-line flags every script shares, and one-line errors for bad input.

    parser = cli.make_parser(__doc__, max_steps=100)
    args = parser.parse_args(argv)
    with cli.user_errors():
        device = cli.start(args, "1.6 Hello World")

Bad input (an unknown profile, an unwritable output folder, a model that does not exist...)
raises `UsageError` (from `coursekit.errors`, also reachable as `cli.UsageError`);
`user_errors()` prints it as one line on stderr and exits with status 2, and removes the output
folder if this run created it: a refused run leaves nothing behind. Any other exception keeps
its traceback: that is a bug to report, not a user mistake.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import sys
from pathlib import Path

from coursekit.errors import Interrupted, UsageError  # scripts write cli.UsageError
from coursekit.profiles import DEFAULT_PROFILE, DEFAULT_SAMPLES, PROFILES

DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_SEED = 2**32 - 1  # NumPy's seeds are 32-bit: np.random.seed(-1) or (2**32) is a ValueError
_created_output: list[Path] = []  # the output folder check_output_dir made in this run, if any


class CourseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (not the whole usage text)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def int_at_least(minimum: int):
    """argparse type: an integer of at least `minimum` (e.g. 2 classes for a classifier)."""
    def parse(text: str) -> int:
        value = positive_int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def port_number(text: str) -> int:
    """argparse type: a TCP port a user may open (1024 to 65535; lower ones need root)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1024 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 1024 and 65535, got {value}")
    return value


def seed_number(text: str) -> int:
    """argparse type: a random seed, 0 to 2**32 - 1 (what NumPy accepts)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SEED}, got {value}")
    return value


def non_empty(text: str) -> str:
    """argparse type: any text but an empty one ('' would mean the current folder, or nothing)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def output_folder(text: str) -> Path:
    """argparse type: a folder path, not empty ('' would write into the current folder)."""
    return Path(non_empty(text))


def profile_name(text: str) -> str:
    """argparse type for --profile that also checks a default taken from $DAY3_PROFILE
    (argparse checks `choices` only for what is typed on the command line)."""
    if text not in PROFILES and text == os.environ.get("DAY3_PROFILE"):
        raise argparse.ArgumentTypeError(f"unknown profile {text!r} from $DAY3_PROFILE; "
                                         f"choose one of {', '.join(PROFILES)}")
    return text


def _float(text: str) -> float:
    """A finite number: NaN and inf would pass every comparison check or end in results.json
    as NaN/Infinity, which is not valid JSON."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number above 0 (accepts 2e9 and 1e-4)."""
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def positive_float_at_most(limit: float):
    """argparse type: a number above 0 and at most `limit` (past it the lesson's sums mean
    nothing: --tokens 1e300 gave costs beyond the age of the universe)."""
    def parse(text: str) -> float:
        value = positive_float(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"must be at most {limit:g}, got {text}")
        return value
    return parse


def fraction(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    value = _float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def comma_list(choices: list[str] | None = None, what: str = "name"):
    """argparse type: a comma-separated list (duplicates dropped), of `choices` when given."""
    def parse(text: str) -> list[str]:
        names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
        if not names:
            raise argparse.ArgumentTypeError(f"no {what} given in {text!r}")
        unknown = [n for n in names if choices is not None and n not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(unknown)}; "
                                             f"choose from {', '.join(choices)}")
        return names
    return parse


def make_parser(doc: str, *, script: str | None = None, max_steps: int | None = None,
                max_samples: int | str | None = None) -> CourseArgumentParser:
    """A parser with the common flags; pass defaults to add --max-steps / --max-samples.

    `max_samples="profile"` takes the default from profiles.DEFAULT_SAMPLES (in `start`).
    """
    name = Path(script or sys.argv[0]).stem
    parser = CourseArgumentParser(
        prog=f"{name}.py", description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    env_profile = os.environ.get("DAY3_PROFILE", DEFAULT_PROFILE)
    parser.add_argument("--profile", type=profile_name, choices=PROFILES,
                        default=env_profile,
                        help="tiny: local models, seconds; class: small Hub models, minutes; "
                             "full: larger, for a GPU (default: $DAY3_PROFILE or %(default)s)")
    parser.add_argument("--model", type=non_empty, default=None,
                        help="a Hub model id or a local folder instead of the profile's model")
    parser.add_argument("--output-dir", type=output_folder, default=Path("outputs") / name,
                        help="where results.json and plots go (default: %(default)s)")
    parser.add_argument("--seed", type=seed_number, default=42,
                        help=f"random seed, 0 to {MAX_SEED} (default: 42)")
    parser.add_argument("--device", choices=DEVICES, default="auto",
                        help="auto picks CUDA, then Apple MPS, then the CPU (default: auto)")
    parser.add_argument("--verbose", action="store_true",
                        help="show the libraries' own logs, progress bars and load reports "
                             "(hidden by default: the lesson prints its own tables)")
    if max_steps is not None:
        parser.add_argument("--max-steps", type=positive_int, default=max_steps,
                            help="training steps (default: %(default)s)")
    if max_samples is not None:
        by_profile = max_samples == "profile"
        default_text = ", ".join(f"{p} {n or 'all'}" for p, n in DEFAULT_SAMPLES.items())
        parser.add_argument("--max-samples", type=positive_int,
                            default=None if by_profile else max_samples,
                            help="examples taken from each dataset split (default: "
                                 f"{default_text if by_profile else max_samples})")
    return parser


def check_profile(profile: str) -> str:
    """Reject an unknown profile, e.g. one set through $DAY3_PROFILE."""
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r} (from $DAY3_PROFILE?); "
                         f"choose one of {', '.join(PROFILES)}")
    return profile


def check_output_dir(path: Path) -> Path:
    """Create the output folder and make sure we can write there, before any work is done.

    A folder created here is remembered: if the run is then refused (a UsageError inside
    `user_errors`), it is removed again, so bad input leaves no empty folder behind.
    """
    if path.exists() and not path.is_dir():
        raise UsageError(f"--output-dir {str(path)!r} is a file, not a folder")
    missing = path
    while not missing.parent.exists() and missing.parent != missing:
        missing = missing.parent  # the top-most folder this call is about to create
    try:
        created = not path.exists()
        path.mkdir(parents=True, exist_ok=True)
        if created:
            _created_output.append(missing.absolute())
        probe = path / f".write-test-{os.getpid()}"  # per process: under accelerate launch
        probe.write_text("ok")  # all the processes check the same folder at once
        probe.unlink()
    except OSError as err:
        raise UsageError(f"cannot write to output folder {str(path)!r}: "
                         f"{err.strerror or err}") from None
    return path


def _remove_created_output() -> None:
    """Remove the output folder this run created (it holds only what the refused run wrote)."""
    while _created_output:
        shutil.rmtree(_created_output.pop(), ignore_errors=True)


INTERRUPTED_EXIT = 75  # EX_TEMPFAIL: not finished, try again (with --resume)


def out_of_memory(err: BaseException) -> bool:
    """MemoryError, torch.OutOfMemoryError (CUDA, MPS) or the CPU allocator's RuntimeError."""
    text = str(err)
    return isinstance(err, MemoryError) or "out of memory" in text.lower() or \
        "can't allocate memory" in text or "DefaultCPUAllocator" in text


@contextlib.contextmanager
def user_errors(resume_hint: bool = False):
    """Turn UsageError into one line on stderr and exit status 2, and Ctrl-C into one line and
    exit status 130 (the shell's code for SIGINT), with no traceback either way. Running out of
    memory is a usage error too (a smaller batch, rank or sample fits), and a run stopped by
    --interrupt-after says how to continue, with exit status 75 (not finished, try again).

    `resume_hint`: the script can continue an interrupted run with --resume; say so on Ctrl-C.
    """
    _created_output.clear()  # a new run: only its own folder may be removed
    try:
        yield
    except UsageError as err:
        _remove_created_output()
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    except (MemoryError, RuntimeError) as err:
        if not out_of_memory(err):
            raise
        _remove_created_output()
        print(f"error: out of memory ({type(err).__name__}): this run does not fit here; try a "
              f"smaller --batch-size, --max-samples, --seq-len or LoRA rank, or --profile tiny",
              file=sys.stderr)
        raise SystemExit(2) from None
    except Interrupted as stop:  # --interrupt-after: a stop the user asked for, unfinished
        from coursekit import report

        report.note(str(stop))
        raise SystemExit(INTERRUPTED_EXIT) from None
    except KeyboardInterrupt:
        then = ("run the same command with --resume to continue from the last checkpoint"
                if resume_hint else "run the command again to start over")
        print(f"\ninterrupted (Ctrl-C): {then}", file=sys.stderr)  # below a progress bar
        raise SystemExit(130) from None
    finally:
        _created_output.clear()


def start(args, title: str, needs_hub: bool | None = None):
    """Check the flags, seed, print the run header, quiet the libraries; return the device.

    `needs_hub` says whether the run may call the Hub (default: unless the profile is tiny and
    --model, if given, is a local folder, a zoo name or a packaged model); only then is the
    network probed and the offline banner shown.
    """
    from coursekit import device, hub, quiet, report

    check_profile(args.profile)
    check_output_dir(args.output_dir)
    if "max_samples" in vars(args) and args.max_samples is None:  # max_samples="profile"
        args.max_samples = DEFAULT_SAMPLES[args.profile]
    if not device.is_main_process():  # under `accelerate launch`, one process speaks
        report.console.quiet = True
    dev = device.pick_device(args.device)
    device.one_thread_for_tiny_models(args.profile, dev)
    device.seed_everything(args.seed)
    report.RUN.update(profile=args.profile, device=str(dev), seed=args.seed)  # -> results.json
    report.title(title, f"profile {args.profile} | device {device.describe(dev)} | "
                        f"seed {args.seed} | output {args.output_dir}")
    quiet.library_output(verbose=getattr(args, "verbose", False))  # no library bars or reports
    # Decide online/offline now, before any Hub call, and say so at once if offline.
    if needs_hub is None:
        needs_hub = args.profile != "tiny" or bool(args.model and hub.needs_the_hub(args.model))
    if needs_hub and not hub.network_status().online:
        hub.show_offline_banner(args.profile)
    return dev
