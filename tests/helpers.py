"""Run a lesson script's main() in-process, or its real command line in a subprocess."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(relative_path: str):
    """Import a script by path (the numbered folders are not importable packages)."""
    path = ROOT / relative_path
    name = "script_" + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_main(relative_path: str, *args: str) -> dict:
    """Call the script's main([...]) in this process and return its results dict."""
    return load_script(relative_path).main(list(args))


def run_cli(relative_path: str, *args: str, env: dict | None = None, timeout: float = 300):
    """Run `python <script> args...` as a user would; return the CompletedProcess."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, str(ROOT / relative_path), *args], cwd=ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


def assert_usage_error(result, message: str) -> None:
    """Bad input: exit status 2, one line on stderr that contains `message`, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
