"""Printing the lesson (headers, tables, notes) and saving its results (JSON, PNG plots)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from coursekit import atomic

# In a terminal rich uses its width; in a log (CI, a pipe) 120 columns keep wide tables whole.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def title(text: str, subtitle: str = "") -> None:
    """The run's title block."""
    console.print(Panel(subtitle, title=f"[bold]{text}[/bold]", title_align="left",
                        expand=False))


def section(number: str, text: str) -> None:
    """A numbered section header, numbered as in the course outline."""
    console.print()
    console.rule(f"[bold cyan]{number} {text}[/bold cyan]", align="left")


def note(text: str) -> None:
    """A short remark under a section (dimmed)."""
    console.print(f"[dim]{escape(text)}[/dim]")  # text may hold brackets: ".[offline]"


def banner(heading: str, text: str) -> None:
    """A boxed warning that must not be missed (used for the offline fallback)."""
    console.print(Panel(text, title=f"[bold yellow]{heading}[/bold yellow]",
                        border_style="yellow", expand=False))


def _cell(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}" if abs(value) < 1e-3 else \
            f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return escape(str(value))  # a cell is markup: "[/" in a review would break it


def table(heading: str, columns: list[str], rows: list[list]) -> None:
    """Print rows as a table; floats get fixed formats, integers thousands separators."""
    tab = Table(title=heading, title_justify="left", header_style="bold")
    for col in columns:
        tab.add_column(col)
    for row in rows:
        tab.add_row(*[_cell(v) for v in row])
    console.print(tab)


# Filled by cli.start: the run's profile, device and seed, written beside every results.json.
RUN: dict = {}


def run_info() -> dict:
    """What makes two runs comparable: profile, device, seed, library versions, date (UTC)."""
    import datetime
    import importlib.metadata as metadata
    import platform

    versions = {"python": platform.python_version()}
    for name in ("torch", "transformers", "peft", "datasets", "trl"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return {**RUN, "versions": versions, "date": date}


def write_results(output_dir: Path, results: dict) -> Path:
    """Write the dict a script's main() returns as output_dir/results.json.

    `results` gains a "run_info" key first (run_info()), so that 4.1 can compare runs.
    """
    path = Path(output_dir) / "results.json"
    results["run_info"] = {**run_info(), **results.get("run_info", {})}
    atomic.write_text(path, json.dumps(results, indent=2, default=str) + "\n")  # whole or none
    note(f"results written to {path}")
    return path


def save_figure(fig, output_dir: Path, name: str) -> Path:
    """Save a matplotlib figure as output_dir/name.png and close it."""
    import matplotlib.pyplot as plt

    path = Path(output_dir) / f"{name}.png"
    fig.tight_layout()
    with atomic.new_file(path) as partial:
        fig.savefig(partial, dpi=120, format="png")
    plt.close(fig)
    note(f"plot saved to {path}")
    return path


def bar_chart(values: dict[str, float], heading: str, ylabel: str, output_dir: Path,
              name: str) -> Path:
    """A labelled bar chart of name -> value, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no window: works on servers, CI and over SSH
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(values)), 3.5))
    bars = ax.bar(list(values), list(values.values()), color="#4C72B0")
    ax.bar_label(bars, fmt="%.3g")
    ax.set_title(heading)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelrotation=20)
    return save_figure(fig, output_dir, name)
