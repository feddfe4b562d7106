"""Compliance per jurisdiction and role, as rows, CSV and a PNG chart."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from handlers.certifications.reminders import OfficialRecord, standings_for
from handlers.certifications.status import CompiledProgram

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLUMNS = ("certified", "due_soon", "in_progress", "overdue", "lapsed", "exempt")
BUCKET = {"certified": "certified", "provisional": "in_progress", "in_progress": "in_progress",
          "not_started": "in_progress", "renewal_due": "due_soon", "overdue": "overdue",
          "lapsed": "lapsed", "exempt": "exempt"}
DUE_SOON_DAYS = 30
#: Column headings and legend entries in plain words.
WORDS = {"certified": "Certified", "due_soon": "Due soon", "in_progress": "In progress",
         "overdue": "Overdue", "lapsed": "Lapsed", "exempt": "Exempt"}
#: Okabe & Ito's palette, told apart with the common colour-vision deficiencies.
PALETTE = {"certified": "#009E73", "due_soon": "#E69F00", "in_progress": "#56B4E9",
           "overdue": "#D55E00", "lapsed": "#CC79A7", "exempt": "#0072B2"}
#: Dots per inch of the saved PNG: sharp on paper.
DPI = 200


def compliance(records: list[OfficialRecord], programs: dict[str, CompiledProgram],
               now: datetime, jurisdiction: str | None = None) -> list[dict[str, object]]:
    """One row per (jurisdiction, role) with a count per bucket."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for record in records:
        if jurisdiction and record.jurisdiction != jurisdiction:
            continue
        today = now.astimezone(ZoneInfo(record.time_zone)).date()
        roles = {code: facts.role for code, facts in record.assignments}
        for standing in standings_for(record, programs, today):
            bucket = BUCKET[standing.status]
            if bucket == "in_progress" and standing.deadline and \
                    (standing.deadline - today).days <= DUE_SOON_DAYS:
                bucket = "due_soon"
            key = (record.jurisdiction, roles.get(standing.program, ""))
            counts.setdefault(key, Counter())[bucket] += 1
    return [{"jurisdiction": j, "role": r, **{c: counts[(j, r)][c] for c in COLUMNS}}
            for j, r in sorted(counts)]


def to_csv(rows: list[dict[str, object]]) -> str:
    """The rows as CSV, with the stored codes (``county_clerk``) for other programs to read."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["jurisdiction", "role", *COLUMNS])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_table(rows: list[dict[str, object]], names: Mapping[str, str] | None = None) -> str:
    """The rows as an aligned text table, in the chart's plain words (the CSV keeps the codes)."""
    header = ["Jurisdiction", "Role", *(WORDS[c] for c in COLUMNS)]
    body = [[jurisdiction_name(str(row["jurisdiction"]), names), role_name(str(row["role"])),
             *(str(row[c]) for c in COLUMNS)] for row in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths, strict=True)).rstrip() for b in body]
    return "\n".join(lines) + "\n"


def jurisdiction_name(code: str, names: Mapping[str, str] | None = None) -> str:
    """The jurisdiction's name from app.yaml ('Kansas'), else its code."""
    return (names or {}).get(code, code)


def role_name(role: str) -> str:
    """A role code in plain words: 'county_clerk' -> 'County clerk'."""
    return role.replace("_", " ").capitalize() if role else "Role not set"


def figure(rows: list[dict[str, object]], as_of: date,
           names: Mapping[str, str] | None = None) -> Figure:
    """A printable stacked bar chart: officials per jurisdiction and role, one colour a bucket.

    Whole-number y-axis, plain labels, the legend to the right of the plot (never over a bar),
    'as of' the report day in the subtitle and the Okabe-Ito colour-blind-safe palette.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels = [f"{jurisdiction_name(str(r['jurisdiction']), names)}\n{role_name(str(r['role']))}"
              for r in rows] or ["no officials"]
    fig = Figure(figsize=(min(11.0, max(8.0, 1.1 * len(labels) + 3.0)), 5.0), dpi=DPI,
                 layout="constrained")
    ax = fig.add_subplot()
    bottom = [0] * len(labels)
    for column in COLUMNS:
        values = [int(str(r[column])) for r in rows] or [0]
        ax.bar(labels, values, bottom=bottom, label=WORDS[column], color=PALETTE[column],
               edgecolor="white", linewidth=0.5)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(1, *bottom) * 1.05)
    ax.set_ylabel("Officials")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    fig.suptitle("Certification compliance by jurisdiction and role", fontweight="bold")
    ax.set_title(f"as of {as_of:%d %b %Y}", fontsize="medium")
    handles, texts = ax.get_legend_handles_labels()
    fig.legend(handles[::-1], texts[::-1], loc="outside right upper", title="Status")
    _tilt_if_crowded(fig)
    return fig


def _tilt_if_crowded(fig: Figure) -> None:
    """Slant the bar labels when, drawn level, any two would touch (many bars on one page)."""
    fig.draw_without_rendering()
    ticks = fig.axes[0].get_xticklabels()
    boxes = [t.get_window_extent() for t in ticks]
    if any(a.overlaps(b) for a, b in zip(boxes, boxes[1:], strict=False)):
        for tick in ticks:
            tick.set(rotation=40, ha="right", rotation_mode="anchor")


def chart(rows: list[dict[str, object]], path: Path, as_of: date,
          names: Mapping[str, str] | None = None) -> None:
    """The chart written as PNG (no display needed)."""
    figure(rows, as_of, names).savefig(path, format="png")
