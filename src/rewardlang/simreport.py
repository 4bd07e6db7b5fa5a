"""``rewardlang simulate --report report.html``: the simulation as one self-contained HTML page.

The page is what a marketer opens from an e-mail or a CI artifact, so it must open anywhere,
offline, and look the same everywhere: one file, no network, no JavaScript library. The charts
are drawn by **matplotlib** and embedded as inline SVG — matplotlib because it is the most widely
used and best maintained Python plotting library, renders vector charts with no browser-side code
(so a chart cannot fail to load, and it prints sharply), and its SVG output is repeatable (a fixed
hash salt, no date), so the same simulation gives the same bytes. It is an optional dependency
(``pip install 'rewardlang[report]'``): only the report needs it, and it is imported only here.

The tables are the same ``simtables`` tables the text output shows. A few lines of inline script,
run when the page has loaded, check that every chart has a drawn, visible SVG and mark the page
(``data-charts-rendered``); a chart that did not render is reported on the browser's console. The
page does not need the script to be read.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from typing import Any

from rewardlang.simtables import NONE, Table, all_tables, show, tier_text
from rewardlang.simulate import Simulation

SERIES = {"issued": "#2b6cb0", "redeemed": "#2f855a", "expired": "#c53030"}
TIER_COLOURS = ("#cbd5e0", "#90cdf4", "#f6ad55", "#68d391", "#b794f4", "#fc8181", "#4fd1c5", "#f687b3")
BASE, OTHER = "#2b6cb0", "#dd6b20"
_RC = {
    "svg.hashsalt": "rewardlang",  # element ids from content, not from a random salt
    "svg.fonttype": "none",  # text as text: small, selectable, in the page's font
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#e2e8f0",
    "axes.axisbelow": True,
}


class ReportUnavailable(Exception):
    """matplotlib is not installed: the message says how to install it."""


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise ReportUnavailable("--report needs matplotlib, which is not installed: install the report extra "
                                "(pip install 'rewardlang[report]') and run again") from None
    return matplotlib, Figure


# ---------------------------------------------------------------------------- charts


def _svg(figure: Any, prefix: str) -> str:
    """A matplotlib figure as an inline <svg> element whose ids are unique in the page."""
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": "rewardlang"})
    text = out.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', text)
    return text


def _month_axis(ax: Any, months: Sequence[str]) -> None:
    step = max(1, len(months) // 12)
    ax.set_xticks(range(0, len(months), step), [months[i] for i in range(0, len(months), step)])
    if len(months) > 6:
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")


def _months(programmes: Sequence[dict[str, Any]]) -> list[str]:
    return sorted({m["month"] for p in programmes for m in p["months"]})


def _points_chart(Figure: Any, programmes: Sequence[dict[str, Any]]) -> Any:
    months = _months(programmes)
    figure = Figure(figsize=(9, 3.8))
    ax = figure.subplots()
    styles = ("-", "--")
    for n, p in enumerate(programmes):
        by_month = {m["month"]: m for m in p["months"]}
        for key, colour in SERIES.items():
            values = [by_month[m][f"points_{key}"] if m in by_month else 0 for m in months]
            label = f"{key}" if len(programmes) == 1 else f"{key} ({'base' if n == 0 else 'compare'})"
            ax.plot(range(len(months)), values, styles[n], color=colour, marker="o", markersize=3, label=label)
    _month_axis(ax, months)
    ax.set_ylabel("points")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.legend(frameon=False, ncols=3 if len(programmes) == 1 else 2, fontsize=9)
    return figure


def _tiers_chart(Figure: Any, programmes: Sequence[dict[str, Any]]) -> Any:
    months = _months(programmes)
    figure = Figure(figsize=(9 if len(programmes) == 1 else 11, 3.8))
    axes = figure.subplots(1, len(programmes), sharey=True, squeeze=False)[0]
    for n, (ax, p) in enumerate(zip(axes, programmes)):
        by_month = {m["month"]: m for m in p["months"]}
        names = [t["tier"] for t in p["tiers"]]
        bottom = [0] * len(months)
        for i, tier in enumerate(names):
            values = []
            for m in months:
                counts = {t["tier"]: t["customers"] for t in by_month[m]["tiers"]} if m in by_month else {}
                values.append(counts.get(tier, 0))
            ax.bar(range(len(months)), values, bottom=bottom, color=TIER_COLOURS[i % len(TIER_COLOURS)],
                   label=tier_text(tier), width=0.8)
            bottom = [b + v for b, v in zip(bottom, values)]
        _month_axis(ax, months)
        ax.yaxis.set_major_formatter("{x:,.0f}")
        if len(programmes) > 1:
            ax.set_title("base" if n == 0 else "compare", loc="left", fontsize=10)
        ax.legend(frameon=False, fontsize=9, loc="upper left")
    axes[0].set_ylabel("customers")
    return figure


def _rules_chart(Figure: Any, programmes: Sequence[dict[str, Any]]) -> Any:
    names: list[str] = []
    for p in programmes:
        names.extend(r["rule"] for r in p["rules"] if r["rule"] not in names)
    costs = [{r["rule"]: float(r["cost"]) for r in p["rules"]} for p in programmes]  # plotting coordinates only
    figure = Figure(figsize=(9, max(2.5, 0.32 * len(names) * len(programmes) + 1.2)))
    ax = figure.subplots()
    height = 0.8 / len(programmes)
    for n, p in enumerate(programmes):
        positions = [i + (n - (len(programmes) - 1) / 2) * height for i in range(len(names))]
        values = [costs[n].get(name, 0.0) for name in names]
        label = None if len(programmes) == 1 else ("base" if n == 0 else "compare")
        ax.barh(positions, values, height=height, color=BASE if n == 0 else OTHER, label=label)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.grid(axis="x", color="#e2e8f0")
    ax.grid(axis="y", visible=False)
    ax.axvline(0, color="#4a5568", linewidth=0.8)
    ax.xaxis.set_major_formatter("{x:,.0f}")
    currency = programmes[0]["currency"] or ""
    ax.set_xlabel(f"cost {currency}".strip())
    if len(programmes) > 1:
        ax.legend(frameon=False, fontsize=9)
    return figure


def _spend_chart(Figure: Any, programmes: Sequence[dict[str, Any]]) -> Any:
    months = _months(programmes)
    p = programmes[0]
    by_month = {m["month"]: m for m in p["months"]}
    figure = Figure(figsize=(9, 3.4))
    ax = figure.subplots()
    spend = [float(by_month[m]["spend"]) if m in by_month else 0.0 for m in months]  # plotting coordinates only
    ax.bar(range(len(months)), spend, color="#a3bffa", label="spend")
    ax.set_ylabel(f"spend {p['currency'] or ''}".strip())
    ax.yaxis.set_major_formatter("{x:,.0f}")
    other = ax.twinx()
    other.plot(range(len(months)), [by_month[m]["active"] if m in by_month else 0 for m in months], color="#2d3748",
               marker="o", markersize=3, label="active customers")
    other.set_ylabel("active customers")
    other.grid(False)
    other.spines["right"].set_visible(True)
    other.yaxis.set_major_formatter("{x:,.0f}")
    _month_axis(ax, months)
    handles = ax.get_legend_handles_labels()[0] + other.get_legend_handles_labels()[0]
    ax.legend(handles, ["spend", "active customers"], frameon=False, fontsize=9, loc="upper left")
    return figure


CHARTS = (
    ("points", "Points issued, redeemed and expired per month", _points_chart),
    ("tiers", "Customers per tier at each month's end", _tiers_chart),
    ("rules", "Cost per rule (its points at the point value, its vouchers and free items at their worth)",
     _rules_chart),
    ("spend", "Spend and active customers per month", _spend_chart),
)


# ---------------------------------------------------------------------------- the page


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1a202c;
       margin: 2rem auto; max-width: 72rem; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.head p { margin: 0.2rem 0; color: #4a5568; } .notes { color: #975a16; }
figure.chart { margin: 1.5rem 0; } figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-weight: 600; margin-bottom: 0.3rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { padding: 0.2rem 0.7rem; border-bottom: 1px solid #e2e8f0; }
th { text-align: left; background: #f7fafc; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.pos { color: #276749; } td.neg { color: #9b2c2c; }
.scroll { overflow-x: auto; }
"""

_CHECK = """
(function () {
  var charts = document.querySelectorAll("figure.chart");
  var rendered = 0;
  charts.forEach(function (figure) {
    var svg = figure.querySelector("svg");
    var box = svg ? svg.getBoundingClientRect() : null;
    var marks = svg ? svg.querySelectorAll("path, rect, line, polyline, polygon, use").length : 0;
    if (box && box.width > 0 && box.height > 0 && marks > 0) {
      rendered += 1;
      figure.setAttribute("data-rendered", "yes");
    } else {
      console.error("rewardlang report: the chart " + figure.id + " did not render");
    }
  });
  document.body.setAttribute("data-charts", String(charts.length));
  document.body.setAttribute("data-charts-rendered", String(rendered));
})();
"""


def _cell_html(cell: Any, unit: str | None) -> str:
    text = html.escape(show(cell, unit))
    if cell.kind == "text":
        return f"<td>{text}</td>"
    classes = ["n"]
    if cell.kind.startswith("diff-") and cell.value is not None and cell.value != 0:
        classes.append("pos" if cell.value > 0 else "neg")
    return f'<td class="{" ".join(classes)}">{text}</td>'


def table_html(table: Table, currency: str | None) -> str:
    unit = currency if table.key == "programme" else None
    kinds = [c.kind for c in table.rows[0]] if table.rows else ["text"] * len(table.headers)
    head = "".join(f'<th{"" if k == "text" else " class=n"}>{html.escape(h)}</th>'
                   for h, k in zip(table.headers, kinds))
    body = "\n".join("<tr>" + "".join(_cell_html(c, unit) for c in row) + "</tr>" for row in table.rows)
    if not table.rows:
        body = f'<tr><td colspan="{len(table.headers)}">{NONE}</td></tr>'
    return (f'<h2 id="table-{table.key}">{html.escape(table.title)}</h2>\n<div class="scroll"><table>\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>")


def report_html(simulation: Simulation, head: Sequence[str]) -> str:
    """The whole page. ``head`` is the text output's head (programmes, input, period, notes)."""
    matplotlib, Figure = _matplotlib()
    programmes = simulation.programmes
    title = programmes[0]["program"] or programmes[0]["ruleset"]
    if len(programmes) > 1:
        other = programmes[1]["program"] or programmes[1]["ruleset"]
        title = f"{title} compared with {other}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Simulation: {html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head>",
        "<body>",
        f'<header class="head"><h1>Simulation: {html.escape(title)}</h1>',
    ]
    for line in head:
        css = ' class="notes"' if line.startswith("Note") else ""
        parts.append(f"<p{css}>{html.escape(line)}</p>")
    parts.append("</header>")
    tables = all_tables(simulation)
    currency = programmes[0]["currency"]
    parts.append(table_html(tables[0], currency))
    parts.append('<section id="charts">')
    if simulation.end is not None:
        with matplotlib.rc_context(_RC):
            for key, caption, draw in CHARTS:
                figure = draw(Figure, programmes)
                parts.append(f'<figure class="chart" id="chart-{key}"><figcaption>{html.escape(caption)}'
                             f"</figcaption>\n{_svg(figure, 'c-' + key)}\n</figure>")
    parts.append("</section>")
    for table in tables[1:]:
        parts.append(table_html(table, currency))
    parts.append(f"<script>{_CHECK}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
