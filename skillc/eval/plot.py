"""Every matplotlib figure skillc draws: cost (x) against accuracy (y), Agg backend, no display needed.

Example:
    >>> import tempfile, pathlib
    >>> from skillc.eval.sweep import SweepPoint
    >>> pts = [SweepPoint(0.5, 0.8, 0.001, 0.0), SweepPoint(float("inf"), 1.0, 0.01, 1.0)]
    >>> plot_curve(pts, pathlib.Path(tempfile.mkdtemp()) / "curve.png").stat().st_size > 0
    True
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from skillc.eval.sweep import SweepPoint


def plot_curve(points: list[SweepPoint], path: Path, **style: Any) -> Path:
    """Plot cost (x) against accuracy (y) with matplotlib's Agg backend and save a PNG.

    `style` takes `draw_curve`'s keywords: `marks` names extra points; `series` adds one more curve per
    confidence signal (unannotated); `title`, `cost_label` and `label` set the text.
    """
    fig = new_figure(1)
    draw_curve(fig.axes[0], points, **style)
    return save_figure(fig, path)


def new_figure(panels: int, columns: int | None = None) -> Any:
    """A matplotlib Figure (Agg backend, no display needed) with `panels` axes sharing y, `columns` to a row
    (default: all in one row); unused cells of the last row are there too, for the caller to hide."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    columns = max(1, min(columns or panels, panels))
    rows = -(-panels // columns)
    fig = Figure(figsize=(6.4 * columns, 4.4 * rows), dpi=110)
    fig.subplots(rows, columns, sharey=True, squeeze=False)
    return fig


def save_figure(fig: Any, path: Path) -> Path:
    """Lay out and write `fig` as a PNG at `path` (parents created)."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


MARK_STYLES = {"teacher only": ("s", "tab:red"), "teacher + ": ("P", "tab:brown"), "raw student": ("^", "tab:gray"),
               "vote": ("X", "tab:cyan"), "no escalation": ("v", "tab:purple"), "oracle": ("*", "tab:orange")}


def mark_style(name: str) -> tuple[str, str]:
    """Marker and colour of a named point: the first `MARK_STYLES` key the name contains, else a green diamond.

    >>> mark_style("skill, no escalation"), mark_style("skill + escalation (measured)")
    (('v', 'tab:purple'), ('D', 'tab:green'))
    """
    return next((style for key, style in MARK_STYLES.items() if key in name), ("D", "tab:green"))


def draw_curve(
    ax: Any,
    points: list[SweepPoint],
    *,
    marks: dict[str, tuple[float, float]] | None = None,
    title: str = "cost–quality curve",
    cost_label: str = "cost per item (USD)",
    series: dict[str, list[SweepPoint]] | None = None,
    label: str = "skill, escalating items below threshold t",
) -> None:
    """Draw one annotated curve, the extra `series` and the named `marks` on a matplotlib axes."""
    xs, ys = [p.cost_per_item for p in points], [p.accuracy for p in points]
    ax.plot(xs, ys, "o-", color="tab:blue", label=label)
    for p in points:
        text = "t=∞" if math.isinf(p.threshold) else f"t={p.threshold:.2g}"
        ax.annotate(text, (p.cost_per_item, p.accuracy), textcoords="offset points", xytext=(4, -10), fontsize=7)
    for name, pts in (series or {}).items():
        ax.plot([p.cost_per_item for p in pts], [p.accuracy for p in pts], ".--", alpha=0.8,
                label=f"escalating on {name} below t")
    for name, (x, y) in (marks or {}).items():
        marker, color = mark_style(name)
        ax.plot([x], [y], marker, color=color, markersize=9, label=name)
    ax.set_xlabel(cost_label)
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", framealpha=0.85)
