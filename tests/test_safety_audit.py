"""Safety by code audit (DESIGN.md "Errors, faults, safety"; issue 12 item 6).

Every .py under Day3/ is parsed with `ast`, so a comment or a docstring that names a risky
call ("never load remote code") is not a finding, and code is found however it is spaced or
wrapped. Forbidden: trust_remote_code set to True, torch.load without weights_only=True,
pickle loading (pickle, dill, joblib, pandas.read_pickle, allow_pickle=True), shell=True and
os.system/os.popen, a Gradio share=True default, and a 0.0.0.0 default address. Passing a
user's explicit choice (`share=args.share`, `server_name=args.host`) is fine.
"""

from __future__ import annotations

import ast

import pytest
from helpers import ROOT

PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib"}
PICKLE_LOADERS = {"load", "loads", "Unpickler"}
REMOTE = "trust_remote_code"  # spelled once: course_check.py greps the source for it
TRUE_BY_DEFAULT = {"share": "Gradio share=True", REMOTE: f"{REMOTE}=True"}


def _is_true(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _dotted(node) -> str:
    """'torch.load' for torch.load, 'os.system' for os.system; '' for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def _call_findings(call: ast.Call) -> list[str]:
    name, keywords = _dotted(call.func), {k.arg: k.value for k in call.keywords if k.arg}
    found = [f"{TRUE_BY_DEFAULT[k]}" for k, v in keywords.items()
             if k in TRUE_BY_DEFAULT and _is_true(v)]
    if name == "torch.load" and not _is_true(keywords.get("weights_only")):
        found.append("torch.load without weights_only=True")
    module, _, attr = name.rpartition(".")
    if module in PICKLE_MODULES and attr in PICKLE_LOADERS or name.endswith("read_pickle") \
            or _is_true(keywords.get("allow_pickle")):
        found.append(f"pickle loading ({name or 'allow_pickle=True'})")
    if _is_true(keywords.get("shell")):
        found.append(f"a shell command ({name}(shell=True))")
    elif name in ("os.system", "os.popen"):
        found.append(f"a shell command ({name})")
    first = call.args[0] if call.args else None
    if name.endswith("add_argument") and isinstance(first, ast.Constant) \
            and str(first.value).lstrip("-").replace("-", "_") in TRUE_BY_DEFAULT \
            and (_is_true(keywords.get("default")) or isinstance(keywords.get("action"),
                                                                 ast.Constant)
                 and keywords["action"].value == "store_false"):
        found.append(f"{TRUE_BY_DEFAULT[first.value.lstrip('-').replace('-', '_')]} "
                     f"as a command-line default")
    return found


def audit_source(source: str, filename: str = "<snippet>") -> list[str]:
    """The audit's findings for one module, as 'file:line: what'."""
    tree = ast.parse(source, filename)
    compared = {id(n) for c in ast.walk(tree) if isinstance(c, ast.Compare)
                for n in [c.left, *c.comparators]}  # `host == "0.0.0.0"` tests, not a default
    findings = []
    for node in ast.walk(tree):
        found = []
        if isinstance(node, ast.Call):
            found = _call_findings(node)
        elif isinstance(node, ast.ImportFrom) and node.module in PICKLE_MODULES:
            found = [f"pickle loading (from {node.module} import {alias.name})"
                     for alias in node.names if alias.name in PICKLE_LOADERS]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            params = [*args.posonlyargs, *args.args][-len(args.defaults):] if args.defaults \
                else []
            pairs = [*zip(params, args.defaults), *zip(args.kwonlyargs, args.kw_defaults)]
            found = [f"{TRUE_BY_DEFAULT[p.arg]} as a parameter default" for p, d in pairs
                     if p.arg in TRUE_BY_DEFAULT and _is_true(d)]
        elif isinstance(node, ast.Dict):
            found = [f"{TRUE_BY_DEFAULT[k.value]} in a dict" for k, v in zip(node.keys,
                                                                            node.values)
                     if isinstance(k, ast.Constant) and k.value in TRUE_BY_DEFAULT
                     and _is_true(v)]
        elif isinstance(node, ast.Constant) and node.value == "0.0.0.0" \
                and id(node) not in compared:
            found = ["0.0.0.0 as an address (bind 127.0.0.1 unless told otherwise)"]
        findings += [f"{filename}:{node.lineno}: {what}" for what in found]
    return findings


def day3_files():
    files = sorted(p for p in (ROOT / "Day3").rglob("*.py") if "__pycache__" not in p.parts)
    assert len(files) >= 25, files  # the 14 scripts, 3 section modules, the kit, a solution
    return files


def test_nothing_under_day3_is_unsafe():
    findings = [f for path in day3_files()
                for f in audit_source(path.read_text(encoding="utf-8"),
                                      str(path.relative_to(ROOT)))]
    assert findings == []


UNSAFE = [  # snippet, what the finding says: each check shown to fire
    (f"AutoModel.from_pretrained(name, {REMOTE}=True)", f"{REMOTE}=True"),
    (f"kwargs = {{'{REMOTE}': True}}", f"{REMOTE}=True in a dict"),
    (f"def load(name, {REMOTE}=True): ...", f"{REMOTE}=True as a parameter"),
    ("state = torch.load(path)", "torch.load without weights_only=True"),
    ("state = torch.load(path, weights_only=False)", "torch.load without weights_only=True"),
    ("state = torch.load(\n    path,\n    map_location='cpu')", "torch.load without"),
    ("data = pickle.load(open(path, 'rb'))", "pickle loading (pickle.load)"),
    ("data = pickle.loads(blob)", "pickle loading (pickle.loads)"),
    ("from pickle import loads", "pickle loading (from pickle import loads)"),
    ("model = joblib.load(path)", "pickle loading (joblib.load)"),
    ("frame = pd.read_pickle(path)", "pickle loading (pd.read_pickle)"),
    ("arrays = np.load(path, allow_pickle=True)", "pickle loading"),
    ("subprocess.run(command, shell=True)", "shell=True"),
    ("os.system('nvidia-smi')", "a shell command (os.system)"),
    ("app.launch(share=True)", "Gradio share=True"),
    ("def launch_app(app, share=True): ...", "Gradio share=True as a parameter default"),
    ("def launch_app(app, *, share=True): ...", "Gradio share=True as a parameter default"),
    ("parser.add_argument('--share', default=True)", "as a command-line default"),
    ("parser.add_argument('--share', action='store_false')", "as a command-line default"),
    ("app.launch(server_name='0.0.0.0')", "0.0.0.0 as an address"),
    ("HOST = '0.0.0.0'", "0.0.0.0 as an address"),
    ("parser.add_argument('--host', default='0.0.0.0')", "0.0.0.0 as an address"),
]
SAFE = [  # what a regular expression would flag, or what an explicit user choice looks like
    f"# never {REMOTE}=True, never torch.load(path), never pickle.load(f)",
    '"""Gradio: share=True would publish the app; app.launch(server_name="0.0.0.0")."""',
    f"model = AutoModel.from_pretrained(name, {REMOTE}=False)",
    "state = torch.load(path, map_location='cpu', weights_only=True)",
    "app.launch(server_name=args.host, server_port=args.port, share=args.share)",
    "parser.add_argument('--share', action='store_true', help='share=True: a public link')",
    "parser.add_argument('--host', default='127.0.0.1', help='0.0.0.0 lets your network in')",
    "if args.host == '0.0.0.0':\n    print('reachable from your network')",
    "subprocess.run([sys.executable, '-c', code], check=True)",
    "tokens = json.loads(text)",
]


@pytest.mark.parametrize("snippet, finding", UNSAFE, ids=[s for s, _ in UNSAFE])
def test_each_check_fires_on_unsafe_code(snippet, finding):
    findings = audit_source(snippet)
    assert len(findings) == 1 and finding in findings[0], findings


@pytest.mark.parametrize("snippet", SAFE)
def test_comments_strings_and_explicit_choices_are_not_findings(snippet):
    assert audit_source(snippet) == []
