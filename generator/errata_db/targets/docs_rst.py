"""Documentation: an rst errata table in the style of silicon-errata.rst, with a bit column."""

from __future__ import annotations

from ..model import Registry
from ..render import Target

HEADINGS = ("Implementor", "Component", "Erratum ID", "Kconfig", "Bit")


def rows(reg: Registry) -> list[tuple[str, ...]]:
    out = []
    for e in reg.errata:
        bit = str(e.bit) if e.active else f"{e.bit} (retired)"
        components = []
        for a in e.affects:
            name = a.cpu.name + (" family" if a.part_mask is not None else "")
            if name not in components:
                components.append(name)
        ids = ", ".join(e.errata_ids) or "N/A"
        kconfig = ", ".join(e.kconfig) or "N/A"
        for i, comp in enumerate(components):
            first = i == 0
            out.append((e.vendor if first else "", comp, ids if first else "",
                        kconfig if first else "", bit if first else ""))
    return out


def grid(table: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [HEADINGS, *table]) + 2 for i in range(len(HEADINGS))]
    rule = "+" + "+".join("-" * w for w in widths) + "+"
    head_rule = rule.replace("-", "=")

    def line(cells):
        return "|" + "|".join(f" {c:<{w - 1}}" for c, w in zip(cells, widths)) + "|"

    lines = [rule, line(HEADINGS), head_rule]
    for r in table:
        lines += [line(r), rule]
    return lines


def context(reg: Registry) -> dict:
    return {"table": grid(rows(reg)), "ranges": reg.ranges}


TARGET = Target("docs", "migrn_errata.rst.j2", "docs/migrn-errata.rst", context)
