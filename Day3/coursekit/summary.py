"""Collecting the day's results.json files, and writing a report as Markdown and as one HTML file.

    runs, warnings = summary.collect(folder)        # {script: results}, one line per problem
    doc = summary.Document("Results"); doc.table(...); doc.image(png_path)
    doc.write(output_dir, "report")                  # report.md (+ PNGs) and report.html

The HTML file embeds its plots as base64 PNG, so it can be mailed or opened offline as it is.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import math
from pathlib import Path

from coursekit import atomic


def collect(folder: Path) -> tuple[dict[str, dict], list[str]]:
    """Every <script>/results.json under `folder`: {script: results}, plus one warning a problem."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}, [f"{folder}: no such folder (nothing collected from it)"]
    found, warnings = {}, []
    for path in sorted(folder.glob("*/results.json")):
        try:
            results = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError) as err:
            warnings.append(f"{path}: unreadable results.json ({err}); skipped")
            continue
        except json.JSONDecodeError as err:
            warnings.append(f"{path}: malformed results.json ({err.msg}, line {err.lineno}); "
                            f"skipped")
            continue
        if not isinstance(results, dict):
            warnings.append(f"{path}: malformed results.json (not a JSON object); skipped")
            continue
        results.setdefault("_file", str(path))
        found[path.parent.name] = results
    if not found and not warnings:
        warnings.append(f"{folder}: no <script>/results.json in it yet")
    return found, warnings


def name_folders(mine: Path, peers: list[Path]) -> dict[str, Path]:
    """'you' for your outputs, then each peer named by its folder (alice/outputs -> alice)."""
    names = {"you": Path(mine)}
    for folder in map(Path, peers):
        name = folder.parent.name if folder.name == "outputs" and folder.parent.name else \
            folder.name
        while name in names:
            name += "'"
        names[name] = folder
    return names


def run_facts(results: dict) -> dict:
    """Profile, device, seed, versions and date of one result (older files: what they hold)."""
    info = results.get("run_info") or {}
    settings = results.get("settings") if isinstance(results.get("settings"), dict) else {}
    date = info.get("date")
    if date is None and results.get("_file") and Path(results["_file"]).exists():
        stamp = Path(results["_file"]).stat().st_mtime
        date = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).isoformat(
            timespec="seconds") + " (file time)"
    versions = info.get("versions") or {}
    return {"profile": info.get("profile", results.get("profile", "?")),
            "device": info.get("device", results.get("device", "?")),
            "seed": info.get("seed", results.get("seed", settings.get("seed", "?"))),
            "versions": ", ".join(f"{k} {v}" for k, v in versions.items()
                                  if k in ("torch", "transformers", "peft")) or "not recorded",
            "date": date or "?"}


def not_comparable(facts: dict[str, dict]) -> str | None:
    """Why results labelled by person (or script) cannot be compared; None if they can."""
    reasons = []
    for key in ("profile", "versions"):
        values = {label: f[key] for label, f in facts.items()}
        if len(set(values.values())) > 1:
            reasons.append(f"different {key}: " + "; ".join(f"{label} {value}" for label, value
                                                            in values.items()))
    return " | ".join(reasons) or None


def spread(values: list) -> float | None:
    """Largest minus smallest of the numbers given (None with fewer than two)."""
    numbers = [v for v in values if isinstance(v, (int, float)) and not math.isnan(v)]
    return max(numbers) - min(numbers) if len(numbers) > 1 else None


def cell(value) -> str:
    """One table cell: floats with 3 decimals (4 significant digits when tiny), ints with commas."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.3f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class Document:
    """A report built block by block, written as Markdown and as self-contained HTML."""

    def __init__(self, title: str):
        self.title, self.blocks = title, []

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(("heading", level, text))

    def text(self, text: str) -> None:
        self.blocks.append(("text", text))

    def warning(self, text: str) -> None:
        self.blocks.append(("warning", text))

    def table(self, columns: list[str], rows: list[list]) -> None:
        self.blocks.append(("table", columns, [[cell(v) for v in row] for row in rows]))

    def image(self, path: Path, caption: str) -> None:
        self.blocks.append(("image", Path(path), caption))

    def markdown(self) -> str:
        """The report as Markdown; images are linked by file name (they sit beside it)."""
        out = [f"# {self.title}", ""]
        for kind, *rest in self.blocks:
            if kind == "heading":
                out += ["#" * rest[0] + " " + rest[1], ""]
            elif kind == "text":
                out += [rest[0], ""]
            elif kind == "warning":
                out += [f"> **Warning:** {rest[0]}", ""]
            elif kind == "table":
                columns, rows = rest
                esc = lambda s: str(s).replace("|", "\\|")
                out += ["| " + " | ".join(map(esc, columns)) + " |",
                        "|" + "---|" * len(columns)]
                out += ["| " + " | ".join(map(esc, row)) + " |" for row in rows] + [""]
            elif kind == "image":
                out += [f"![{rest[1]}]({rest[0].name})", ""]
        return "\n".join(out)

    def html(self) -> str:
        """The report as one HTML page, plots embedded as base64 PNG (no other file needed)."""
        e = html.escape
        body = [f"<h1>{e(self.title)}</h1>"]
        for kind, *rest in self.blocks:
            if kind == "heading":
                body.append(f"<h{rest[0]}>{e(rest[1])}</h{rest[0]}>")
            elif kind == "text":
                body.append(f"<p>{e(rest[0])}</p>")
            elif kind == "warning":
                body.append(f'<p class="warning"><b>Warning:</b> {e(rest[0])}</p>')
            elif kind == "table":
                head = "".join(f"<th>{e(str(c))}</th>" for c in rest[0])
                rows = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>"
                               for row in rest[1])
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            elif kind == "image":
                data = base64.b64encode(rest[0].read_bytes()).decode("ascii")
                body.append(f'<figure><img alt="{e(rest[1])}" src="data:image/png;base64,'
                            f'{data}"><figcaption>{e(rest[1])}</figcaption></figure>')
        style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
                 "table{border-collapse:collapse;margin:.5em 0 1.5em}"
                 "th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}"
                 "th{background:#eef}td:first-child,th:first-child{text-align:left}"
                 ".warning{background:#fff3cd;border-left:4px solid #e0a800;padding:4px 8px}"
                 "img{max-width:100%}figcaption{color:#555;font-size:90%}")
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f"<title>{e(self.title)}</title><style>{style}</style></head>"
                f"<body>{''.join(body)}</body></html>\n")

    def write(self, output_dir: Path, stem: str) -> dict[str, Path]:
        """Write stem.md and stem.html into output_dir; return both paths."""
        paths = {"markdown": Path(output_dir) / f"{stem}.md",
                 "html": Path(output_dir) / f"{stem}.html"}
        atomic.write_text(paths["markdown"], self.markdown())
        atomic.write_text(paths["html"], self.html())
        return paths
