"""The outputs of ``rewardlang simulate``: text, JSON and CSV, all drawn from one set of tables.

``simfigures.figures`` gives each programme's figures as a plain dict; ``tables`` lays them out as
``Table`` values (a title, columns, typed cells), and every format renders those same tables —
the text for people, CSV for spreadsheets, the HTML report (``rewardlang.simreport``) — so a
number cannot say one thing in one format and another in the next. JSON is the figures dict
itself (``Simulation.to_dict``), with the comparison's differences in the tables' long form.

With ``--compare`` every table is shown long: one row a figure, with the base programme's value,
the compared one's, and the difference (compare − base); rows are matched by what names them (a
rule's name, a month, a tier move), and a row one programme lacks shows ``—`` there and counts
as 0 in the difference.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from rewardlang.simfigures import NO_TIER
from rewardlang.simulate import Simulation

NONE = "—"
KINDS = ("text", "int", "money", "percent", "ratio")


@attrs.frozen
class Cell:
    """A value and how it is shown: ``int`` (1,234), ``money`` (1,234.50), ``percent`` (12.3 %),
    ``ratio`` (2.25), ``text``. None is shown as ``—``."""

    value: Any
    kind: str


@attrs.frozen
class Table:
    """A titled table; the first ``labels`` columns name the row."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    labels: int = 1


# the programme's figures: key, label, kind ("money" shown with the currency)
PROGRAMME = (
    ("customers", "customers (with an applied event)", "int"),
    ("buyers", "buyers (with a purchase)", "int"),
    ("spend", "spend", "money"),
    ("purchases", "purchases", "int"),
    ("refunds", "refunds", "int"),
    ("refunded", "refunded", "money"),
    ("points_awarded", "points awarded", "int"),
    ("points_reversed", "points reversed by refunds", "int"),
    ("points_issued", "points issued (awarded - reversed)", "int"),
    ("points_redeemed", "points redeemed (for rewards + converted)", "int"),
    ("points_redeemed_for_rewards", "points redeemed for rewards", "int"),
    ("rewards_redeemed", "rewards redeemed", "int"),
    ("points_converted", "points converted (converts to)", "int"),
    ("points_expired", "points expired", "int"),
    ("points_adjusted", "points adjusted (adjust events)", "int"),
    ("points_pending", "points pending at the end", "int"),
    ("points_outstanding", "points outstanding at the end", "int"),
    ("customers_in_debt", "customers in debt at the end", "int"),
    ("points_in_debt", "points in debt at the end", "int"),
    ("vouchers", "vouchers given", "int"),
    ("vouchers_value", "vouchers worth", "money"),
    ("free_items", "free items given", "int"),
    ("free_items_value", "free items worth", "money"),
    ("messages", "messages (rules)", "int"),
    ("reminders", "messages (expiry reminders)", "int"),
    ("rewards_value", "rewards redeemed, at the point value", "money"),
    ("given_value", "given (vouchers + free items + rewards)", "money"),
    ("liability", "liability at the end (outstanding + pending points)", "money"),
    ("reward_cost", "reward cost (given + liability)", "money"),
    ("cost_per_customer", "reward cost per customer", "money"),
    ("cost_per_100_spend", "reward cost per 100 of spend", "money"),
)

RULES = (("rule", "rule", "text"), ("firings", "firings", "int"), ("customers", "customers", "int"),
         ("points", "points", "int"), ("share", "share of points", "percent"), ("vouchers", "vouchers", "int"),
         ("free_items", "free items", "int"), ("messages", "messages", "int"), ("cost", "cost", "money"))
TIERS = (("tier", "tier", "text"), ("customers", "customers", "int"), ("share", "share", "percent"))
MOVES = (("from", "from", "text"), ("to", "to", "text"), ("moves", "moves", "int"))
SEGMENTS = (("segment", "segment", "text"), ("customers", "customers", "int"), ("share", "share", "percent"),
            ("spend", "spend", "money"), ("points_issued", "points issued", "int"),
            ("points_outstanding", "points outstanding", "int"), ("reward_cost", "reward cost", "money"),
            ("cost_per_100_spend", "cost per 100 of spend", "money"))
MONTHS = (("month", "month", "text"), ("active", "active customers", "int"), ("purchases", "purchases", "int"),
          ("spend", "spend", "money"), ("points_issued", "points issued", "int"),
          ("points_redeemed", "points redeemed", "int"), ("points_expired", "points expired", "int"))
LOYALTY = (("group", "group", "text"), ("customers", "customers", "int"), ("spend", "spend", "money"),
           ("revenue_share", "share of revenue", "percent"), ("spend_per_customer", "spend per customer", "money"),
           ("purchases_per_customer", "purchases per customer", "ratio"),
           ("repeat_rate", "repeat-purchase rate", "percent"), ("points_per_customer", "points per customer", "ratio"),
           ("cost_per_100_spend", "reward cost per 100 of spend", "money"))
DIFFERING = (("customer", "customer", "text"), ("base", "points issued (base)", "int"),
             ("compare", "points issued (compare)", "int"), ("difference", "difference", "diff-int"))


def tier_text(tier: str | None) -> str:
    return NO_TIER if tier is None else tier


def _table(key: str, title: str, spec: Sequence[tuple[str, str, str]], items: Iterable[dict[str, Any]],
           currency: str | None, labels: int = 1) -> Table:
    headers = tuple(f"{header} ({currency})" if kind == "money" and currency else header
                    for _, header, kind in spec)
    rows = tuple(tuple(Cell(tier_text(item[k]) if k in ("tier", "from", "to") else item[k], kind)
                       for k, _, kind in spec) for item in items)
    return Table(key, title, headers, rows, labels)


def tables(figures: dict[str, Any]) -> list[Table]:
    """One programme's figures as the tables every format shows, in the order shown."""
    currency = figures["currency"]
    programme = figures["programme"]
    out = [Table("programme", "Programme", ("figure", "value"),
                 tuple((Cell(label, "text"), Cell(programme[key], kind)) for key, label, kind in PROGRAMME))]
    out.append(_table("rules", "Rules", RULES, figures["rules"], currency))
    if len(figures["tiers"]) > 1:
        out.append(_table("tiers", "Customers per tier at the end", TIERS, figures["tiers"], currency))
        out.append(_table("tier_moves", "Tier moves", MOVES, figures["tier_moves"], currency, labels=2))
    if figures["segments"]:
        out.append(_table("segments", "Segments (customers in each at the end)", SEGMENTS, figures["segments"],
                          currency))
    out.append(_table("months", "Month by month", MONTHS, figures["months"], currency))
    if len(figures["tiers"]) > 1:
        names = [t["tier"] for t in figures["tiers"]]
        out.append(Table("month_tiers", "Customers per tier at each month's end",
                         ("month",) + tuple(tier_text(n) for n in names),
                         tuple((Cell(m["month"], "text"),) + tuple(Cell(t["customers"], "int") for t in m["tiers"])
                               for m in figures["months"])))
    out.append(_table("loyalty", "Loyalty effect: the top 20 % of buyers by spend against the rest", LOYALTY,
                      figures["loyalty"], currency))
    return out


# ---------------------------------------------------------------------------- comparing


def _numeric(kind: str) -> bool:
    return kind in ("int", "money", "percent", "ratio")


def long_rows(table: Table) -> list[tuple[tuple[str, ...], str, Cell]]:
    """A table one value a row: (what names the row, the figure, the value)."""
    if table.key == "programme":
        return [((), str(row[0].value), row[1]) for row in table.rows]
    n = table.labels
    return [(tuple(show(c) for c in row[:n]), header, cell)
            for row in table.rows for header, cell in zip(table.headers[n:], row[n:])]


def _difference(a: Cell | None, b: Cell | None) -> Any:
    va = None if a is None else a.value
    vb = None if b is None else b.value
    if va is None and vb is None:
        return None
    # a missing value counts as 0; a present 0 (Decimal("0.00") is false) keeps its places
    return (0 if vb is None else vb) - (0 if va is None else va)


def compared(base: Table | None, other: Table | None) -> Table:
    """One table of two programmes in long form: what names the row, the figure, the base
    programme's value, the compared one's, and the difference (compare − base)."""
    shape = base or other
    assert shape is not None
    values_a = {(labels, figure): cell for labels, figure, cell in (long_rows(base) if base else [])}
    values_b = {(labels, figure): cell for labels, figure, cell in (long_rows(other) if other else [])}
    order = list(values_a) + [key for key in values_b if key not in values_a]
    n = 0 if shape.key == "programme" else shape.labels
    rows = []
    for key in order:
        labels, figure = key
        a, b = values_a.get(key), values_b.get(key)
        kind = (a or b).kind  # type: ignore[union-attr]
        diff = Cell(_difference(a, b), "diff-" + kind) if _numeric(kind) else Cell(None, "text")
        rows.append(tuple(Cell(label, "text") for label in labels)
                    + (Cell(figure, "text"), a or Cell(None, kind), b or Cell(None, kind), diff))
    headers = shape.headers[:n] + ("figure", "base", "compare", "difference")
    return Table(shape.key, shape.title, headers, tuple(rows), n + 1)


def all_tables(simulation: Simulation) -> list[Table]:
    """Every table of a simulation, as the text, CSV and HTML show them."""
    first = tables(simulation.programmes[0])
    if len(simulation.programmes) == 1:
        return first
    second = tables(simulation.programmes[1])
    bases = {t.key: t for t in first}
    others = {t.key: t for t in second}
    keys = list(bases) + [k for k in others if k not in bases]
    out = [compared(bases.get(k), others.get(k)) for k in keys]
    out.append(_table("customers_differing", "Customers whose points issued differ most", DIFFERING,
                      simulation.differing, None))
    return out


def differences(simulation: Simulation) -> list[dict[str, Any]]:
    """The comparison's non-zero differences (the JSON output's ``differences``)."""
    out = []
    for table in all_tables(simulation):
        if table.key == "customers_differing":
            continue
        for row in table.rows:
            diff = row[-1]
            if diff.value is None or diff.value == 0:
                continue
            labels = [str(c.value) for c in row[:table.labels - 1]]
            out.append({"section": table.key, "item": " / ".join(labels) or None,
                        "figure": row[table.labels - 1].value, "base": row[-3].value, "compare": row[-2].value,
                        "difference": diff.value})
    return out


# ---------------------------------------------------------------------------- showing values


def show(cell: Cell, currency: str | None = None) -> str:
    """A cell as text: 1,234 · 1,234.50 (SEK) · 12.3 % · 2.25; differences signed (+12, -3.50,
    +1.2 pp); None as —."""
    value, kind = cell.value, cell.kind
    if value is None:
        return NONE
    signed = kind.startswith("diff-")
    if signed:
        kind = kind[5:]
    if kind == "text":
        return str(value)
    sign = "+" if signed and value > 0 else ""
    if kind == "int":
        text = f"{sign}{value:,}"
    elif kind == "money":
        text = f"{sign}{value:,.2f}" + (f" {currency}" if currency else "")
    elif kind == "percent":
        text = f"{sign}{value:,.1f}" + (" pp" if signed else " %")
    else:
        text = f"{sign}{value:,.2f}"
    return text


def _aligned(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
        return "  " + "  ".join(parts).rstrip()

    return [line(headers)] + [line(r) for r in rows]


def table_text(table: Table, currency: str | None) -> list[str]:
    """A table as aligned text lines; money in the programme table carries the currency."""
    unit = currency if table.key == "programme" else None
    rows = [[show(c, unit) for c in row] for row in table.rows]
    kinds = [c.kind for c in table.rows[0]] if table.rows else ["text"] * len(table.headers)
    numeric = [k != "text" for k in kinds]
    if table.key == "programme":
        numeric = [False] + [True] * (len(table.headers) - 1)
    lines = [table.title]
    if not table.rows:
        return lines + ["  (none)"]
    return lines + _aligned(table.headers, rows, numeric)


def head_lines(simulation: Simulation) -> list[str]:
    lines = []
    roles = ("base", "compare") if len(simulation.programmes) > 1 else ("",)
    for role, figures in zip(roles, simulation.programmes):
        name = f"{figures['program']} ({figures['ruleset']})" if figures["program"] else figures["ruleset"]
        pv = figures["point_value"]
        value = f"point value {pv} {figures['currency']}" if pv is not None else "no point value"
        lines.append(f"{role + ': ' if role else 'Simulation of '}{name}; currency {figures['currency'] or 'none'}, "
                     f"{value}")
    for role, figures in zip(roles, simulation.programmes):
        i = figures["input"]
        line = (f"{role + ': ' if role else ''}{i['read']:,} lines read: {i['applied']:,} applied, "
                f"{i['duplicates']:,} duplicates, {i['rejected']:,} rejected")
        if i["rejected_by"]:
            line += " (" + ", ".join(f"{code} {n:,}" for code, n in i["rejected_by"].items()) + ")"
        lines.append(line)
    data = simulation.to_dict()
    if simulation.end is None:
        lines.append("No event could be placed in time: nothing was applied.")
    else:
        why = "--until" if simulation.until else "the latest time in the input"
        lines.append(f"Events from {data['first']}; figures at the end: {data['end']} ({why}).")
    for role, figures in zip(roles, simulation.programmes):
        for note in figures["notes"]:
            lines.append(f"Note{' (' + role + ')' if role else ''}: {note}.")
    return lines


def to_text(simulation: Simulation) -> str:
    """The text report: a head (programmes, input, period, notes), then every table."""
    lines = head_lines(simulation)
    currency = simulation.programmes[0]["currency"]
    for table in all_tables(simulation):
        lines.append("")
        lines.extend(table_text(table, currency))
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def to_json(simulation: Simulation) -> str:
    """The figures as JSON: money, shares and ratios as decimal strings (exact), counts as numbers."""
    data = simulation.to_dict()
    if len(simulation.programmes) > 1:
        data["differences"] = differences(simulation)
    return json.dumps(data, ensure_ascii=False, indent=2, default=_plain) + "\n"


def to_csv(simulation: Simulation) -> str:
    """Every table in one long CSV, one value a row: ``section, item, figure, value`` (with
    ``--compare``: ``base, compare, difference`` for ``value``). Values are plain (``1234.50``,
    ``12.3``), empty for none; ``item`` names the row (a rule, a month, ``silver / gold``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    compare = len(simulation.programmes) > 1
    writer.writerow(["section", "item", "figure"] + (["base", "compare", "difference"] if compare else ["value"]))
    for table in all_tables(simulation):
        if compare and table.key != "customers_differing":
            n = table.labels - 1
            for row in table.rows:
                writer.writerow([table.key, " / ".join(str(c.value) for c in row[:n]), row[n].value]
                                + [_csv(c) for c in row[n + 1:]])
        elif compare:  # the customers whose points differ: one row a customer
            for row in table.rows:
                writer.writerow([table.key, row[0].value, "points issued"] + [_csv(c) for c in row[1:]])
        else:
            for labels, figure, cell in long_rows(table):
                writer.writerow([table.key, " / ".join(labels), figure, _csv(cell)])
    return out.getvalue()


def _csv(cell: Cell) -> str:
    return "" if cell.value is None else str(cell.value)
