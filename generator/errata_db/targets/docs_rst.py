"""Documentation: an rst errata table in the style of silicon-errata.rst, with a bit column."""

from __future__ import annotations

from ..model import Affects, Erratum, Registry
from ..render import Target

HEADINGS = ("Implementor", "Component", "Erratum ID", "Kconfig", "Bit")

Cell = tuple[str, ...]


def _ids_for(e: Erratum, ranges: list[Affects]) -> tuple[str, ...]:
    """The erratum ids one CPU's ranges are attributed to, or all of the entry's."""
    if all(a.errata_ids for a in ranges):
        return tuple(dict.fromkeys(i for a in ranges for i in a.errata_ids))
    return e.errata_ids


def rows(reg: Registry) -> list[tuple[Cell, ...]]:
    """One row per erratum and CPU; the Kconfig symbols and the bit on each erratum's first row."""
    out = []
    for e in reg.errata:
        bit = str(e.bit) if e.active else f"{e.bit} (retired)"
        # Each CPU's ranges, gathered once: looking them up per CPU grew with ranges squared.
        # Keyed by id: hashing the frozen Cpu hashes every field, its implementer's too.
        by_cpu: dict[str, list[Affects]] = {}
        for a in e.affects:
            by_cpu.setdefault(a.cpu.id, []).append(a)
        for i, ranges in enumerate(by_cpu.values()):
            cpu = ranges[0].cpu
            family = any(a.part_mask is not None for a in ranges)
            out.append(((cpu.implementer.name,), (cpu.name + (" family" if family else ""),),
                        _ids_for(e, ranges) or ("N/A",),
                        (e.kconfig or ("N/A",)) if i == 0 else ("",), (bit,) if i == 0 else ("",)))
    return out


def grid(table: list[tuple[Cell, ...]]) -> str:
    """An rst grid table; a cell of several values gets one line per value."""
    head = tuple((h,) for h in HEADINGS)
    widths = [max(len(line) for r in [head, *table] for line in r[i]) + 2 for i in range(len(HEADINGS))]
    rule = "+" + "+".join("-" * w for w in widths) + "+"
    # One format for every line: the table of a full registry has some 25,000 of them.
    line = "|" + "|".join(f" {{:<{w - 1}}}" for w in widths) + "|"

    def lines(row: tuple[Cell, ...]) -> list[str]:
        height = max(map(len, row))
        if height == 1:
            return [line.format(*(c[0] for c in row))]
        return [line.format(*(c[n] if n < len(c) else "" for c in row)) for n in range(height)]

    out = [rule, *lines(head), rule.replace("-", "=")]
    for r in table:
        out += lines(r)
        out.append(rule)
    return "\n".join(out)


def context(reg: Registry) -> dict:
    return {"table": grid(rows(reg)), "ranges": reg.ranges}


TARGET = Target("docs", "migrn_errata.rst.j2", "docs/migrn-errata.rst", context)
