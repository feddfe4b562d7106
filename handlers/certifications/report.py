"""Compliance per jurisdiction and role, as rows, CSV and a PNG chart."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from handlers.certifications.reminders import OfficialRecord, standings_for
from handlers.certifications.replies import words
from handlers.certifications.status import CompiledProgram

COLUMNS = ("certified", "due_soon", "in_progress", "overdue", "lapsed", "exempt")
BUCKET = {"certified": "certified", "provisional": "in_progress", "in_progress": "in_progress",
          "not_started": "in_progress", "renewal_due": "due_soon", "overdue": "overdue",
          "lapsed": "lapsed", "exempt": "exempt"}
DUE_SOON_DAYS = 30


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


def to_table(rows: list[dict[str, object]]) -> str:
    """The rows as an aligned text table for people: plain words, no codes ('county clerk')."""
    keys = ["jurisdiction", "role", *COLUMNS]
    header = [words(k) for k in keys]
    body = [[words(str(row[k])) if k == "role" else str(row[k]) for k in keys] for row in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(lines) + "\n"


def chart(rows: list[dict[str, object]], path: Path) -> None:
    """A stacked bar chart per jurisdiction / role, written as PNG (Agg backend, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['jurisdiction']} {words(str(r['role']))}" for r in rows] or ["(none)"]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(labels)), 4.5))
    bottom = [0] * len(labels)
    colours = ("#2e7d32", "#f9a825", "#90a4ae", "#c62828", "#6a1b9a", "#1565c0")
    for column, colour in zip(COLUMNS, colours, strict=True):
        values = [int(str(r[column])) for r in rows] or [0]
        ax.bar(labels, values, bottom=bottom, label=words(column), color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("officials")
    ax.set_title("Certification compliance")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
