"""The compliance chart and table read as a supervisor would print them (issue 14).

Properties of the drawn figure are checked, never pixels: whole-number ticks, the legend clear of
every bar, the as-of date in the titles, Okabe-Ito colours, plain labels and a print-ready PNG.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from handlers.certifications.report import COLUMNS, PALETTE, chart, figure, to_table

OKABE_ITO = {"#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00",
             "#cc79a7"}
NAMES = {"KS": "Kansas", "CT": "Connecticut"}
AS_OF = date(2026, 11, 28)


def row(jurisdiction: str, role: str, **counts: int) -> dict[str, object]:
    """A report row with zero in every column not given."""
    return {"jurisdiction": jurisdiction, "role": role, **{c: counts.get(c, 0) for c in COLUMNS}}


ONE_EACH = [row("KS", "county_clerk", certified=1), row("KS", "deputy_clerk", overdue=1),
            row("CT", "registrar", due_soon=1, lapsed=1)]
TALL = [row("KS", "county_clerk", certified=9, due_soon=2, in_progress=3, overdue=1, lapsed=1,
            exempt=1), row("CT", "registrar", certified=1)]


def bars(fig: Figure) -> list[Rectangle]:
    """The drawn bar segments (zero-height segments included: they sit on the bars too)."""
    return [p for c in fig.axes[0].containers for p in c if isinstance(p, Rectangle)]


@pytest.mark.parametrize("rows", [ONE_EACH, TALL, []], ids=["ones", "tall", "empty"])
def test_y_axis_counts_whole_officials(rows: list[dict[str, object]]) -> None:
    fig = figure(rows, AS_OF, NAMES)
    fig.draw_without_rendering()
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    shown = [t for t in ax.get_yticks() if low <= t <= high]
    assert len(shown) >= 2 and all(float(t).is_integer() for t in shown)
    assert high >= max([sum(int(str(r[c])) for c in COLUMNS) for r in rows] or [1])


@pytest.mark.parametrize("rows", [ONE_EACH, TALL, TALL * 4], ids=["ones", "tall", "many"])
def test_legend_sits_outside_the_plot_clear_of_every_bar(rows: list[dict[str, object]]) -> None:
    fig = figure(rows, AS_OF, NAMES)
    fig.draw_without_rendering()
    legend = fig.legends[0].get_window_extent()
    assert not legend.overlaps(fig.axes[0].get_window_extent())
    assert not any(legend.overlaps(b.get_window_extent()) for b in bars(fig))
    assert fig.bbox.contains(legend.x1 - 1, legend.y1 - 1)  # not cut off the page either


def test_titles_carry_the_as_of_date_and_labels_are_plain_words() -> None:
    fig = figure(ONE_EACH, AS_OF, NAMES)
    fig.draw_without_rendering()
    ax = fig.axes[0]
    titles = f"{fig.get_suptitle()} {ax.get_title()}"
    assert "Certification compliance" in titles and "as of 28 Nov 2026" in titles
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["Kansas\nCounty clerk", "Kansas\nDeputy clerk", "Connecticut\nRegistrar"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert set(legend) == {"Certified", "Due soon", "In progress", "Overdue", "Lapsed", "Exempt"}
    assert not any("_" in text for text in [*ticks, *legend, ax.get_ylabel()])


def test_unknown_jurisdiction_keeps_its_code_and_a_missing_role_is_said() -> None:
    fig = figure([row("ZZ", "")], AS_OF, NAMES)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["ZZ\nRole not set"]


def test_each_status_has_its_own_colour_from_the_okabe_ito_palette() -> None:
    fig = figure(TALL, AS_OF, NAMES)
    per_status = {c.get_label(): {to_hex(p.get_facecolor()) for p in c}
                  for c in fig.axes[0].containers}
    assert all(len(colours) == 1 for colours in per_status.values())
    used = [next(iter(colours)) for colours in per_status.values()]
    assert len(set(used)) == len(COLUMNS) and set(used) <= OKABE_ITO
    assert {to_hex(v) for v in PALETTE.values()} == set(used)


def test_png_is_sized_for_a_printed_page(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    chart(TALL * 4, path, AS_OF, NAMES)
    with Image.open(path) as image:
        width, height = image.size
        dpi = image.info["dpi"]
    assert round(dpi[0]) >= 150
    inches = (round(width / dpi[0], 2), round(height / dpi[1], 2))
    assert 6.0 <= inches[0] <= 11.0 and 3.5 <= inches[1] <= 8.5
    assert width > height


def test_table_uses_the_same_plain_words_and_numbers() -> None:
    lines = to_table(TALL, NAMES).splitlines()
    assert lines[0].split("  ")[0] == "Jurisdiction" and "Due soon" in lines[0]
    assert lines[1].split() == ["Kansas", "County", "clerk", "9", "2", "3", "1", "1", "1"]
    assert lines[2].split() == ["Connecticut", "Registrar", "1", "0", "0", "0", "0", "0"]


def test_bar_labels_stay_level_and_apart_until_crowded_then_slant_onto_the_page() -> None:
    few = figure(ONE_EACH, AS_OF, NAMES)
    few.draw_without_rendering()
    boxes = [t.get_window_extent() for t in few.axes[0].get_xticklabels()]
    assert not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:], strict=False))
    assert {t.get_rotation() for t in few.axes[0].get_xticklabels()} == {0.0}
    roles = ("county_clerk", "deputy_clerk", "registrar", "election_director", "election_official")
    crowded = figure([row(j, r, certified=1) for j in NAMES for r in roles], AS_OF, NAMES)
    crowded.draw_without_rendering()
    ticks = crowded.axes[0].get_xticklabels()
    assert {t.get_rotation() for t in ticks} == {40.0}
    page = crowded.bbox
    assert all(page.x0 <= b.x0 and b.x1 <= page.x1 and page.y0 <= b.y0
               for b in (t.get_window_extent() for t in ticks))
