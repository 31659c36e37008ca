"""The kernel's errata tables: every MIDR list, match list and the arm64_errata[] initializer
of arch/arm64/kernel/cpu_errata.c, in the kernel's own macros (errata-db install
--kernel-tables puts it in a tree and makes cpu_errata.c include it).

The defaults a new entry gets are decided here, but for the table shape, which the model
settles (model.default_table): a range list matched by is_affected_midr_range_list, named
after the entry, guarded by the entry's Kconfig options.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import LOCAL_CPU_ERRATUM, Affects, Erratum, NotCovered, Registry, kernel_table_rows, with_joined
from ..render import Target
from .kvm_header import midr_range

PATH = "linux/arch/arm64/kernel/cpu_errata_table.h"
MATCHERS = {
    "list": "is_affected_midr_range_list",
    "range": "is_affected_midr_range",
    "entries": "cpucap_multi_entry_cap_matches",
}


def desc(e: Erratum) -> str:
    return e.kernel.desc or e.title


def list_name(e: Erratum) -> str:
    return e.kernel.list or f"{e.name.lower()}_list"


def matcher(e: Erratum) -> str | None:
    return e.kernel.matcher or MATCHERS.get(e.kernel.table)


def row_guard(e: Erratum) -> tuple[str, ...]:
    return e.kernel.guard if e.kernel.guard is not None else e.kconfig


def guard_open(options: tuple[str, ...]) -> str:
    if len(options) == 1:
        return f"#ifdef CONFIG_{options[0]}"
    return "#if " + " || \\\n\t".join(f"defined(CONFIG_{o})" for o in options)


def guarded(options: tuple[str, ...], lines: list[str]) -> list[str]:
    return [guard_open(options), *lines, "#endif"] if options else lines


def _chunks(affects: tuple[Affects, ...]) -> list[tuple[tuple[str, ...], list[Affects]]]:
    """Consecutive ranges under the same guard."""
    out: list[tuple[tuple[str, ...], list[Affects]]] = []
    for a in affects:
        if out and out[-1][0] == a.guard:
            out[-1][1].append(a)
        else:
            out.append((a.guard, [a]))
    return out


def _fixed(a: Affects) -> list[str]:
    """The REVIDR fixes of a range: MIDR_FIXED holds one."""
    fixes = [(f"MIDR_CPU_VAR_REV({f.revision[0]}, {f.revision[1]})", bits(f.mask)) for f in a.revidr_fixes]
    if len(fixes) == 1:
        return [f"MIDR_FIXED({fixes[0][0]}, {fixes[0][1]})"]
    if not fixes:
        return []
    return [".fixed_revs = (struct arm64_midr_revidr[]){" + ", ".join(f"{{ {r}, {m} }}" for r, m in fixes)
            + ", {}}"]


def bits(mask: int) -> str:
    return f"BIT({mask.bit_length() - 1})" if mask & (mask - 1) == 0 else f"{mask:#x}"


def _range_list(affects: list[Affects], indent: str) -> list[str]:
    lines = []
    for guard, chunk in _chunks(tuple(affects)):
        lines += guarded(guard, [f"{indent}{midr_range(a)}," for a in chunk])
    return lines


def _alone(a: Affects) -> bool:
    return bool(a.own_entry or a.part_mask is not None or a.revidr_fixes)


def _entries(e: Erratum) -> list[str]:
    """The sub-entries of a cpucap_multi_entry_cap_matches list: a part family, a range with
    its REVIDR fixes, or the ranges of one guard together in a range list."""
    lines = []
    for guard, chunk in _chunks(e.affects):
        groups: list[list[Affects]] = []
        for a in chunk:
            if _alone(a) or not groups or _alone(groups[-1][0]):
                groups.append([a])
            else:
                groups[-1].append(a)
        body: list[str] = []
        for group in groups:
            a = group[0]
            if a.part_mask is not None:
                fields = [f"\t\t.midr_range.model = {a.cpu.macro},", "\t\t.matches = is_kryo_midr,"]
            elif len(group) == 1:
                fields = [f"\t\tERRATA_{midr_range(a)},", *(f"\t\t{f}," for f in _fixed(a))]
            else:
                fields = ["\t\tERRATA_MIDR_RANGE_LIST(((const struct midr_range[]) {",
                          *(f"\t\t\t{midr_range(g)}," for g in group), "\t\t\t{}", "\t\t})),"]
            body += ["\t{", *fields, "\t},"]
        lines += guarded(guard, body)
    return lines


@dataclass(frozen=True)
class Table:
    """A list or entries array that rows name, with the guard it is built under."""

    name: str
    decl: str
    guard: tuple[str, ...]
    lines: tuple[str, ...]


def _table(e: Erratum) -> Table:
    static = "" if e.kernel.exported else "static "
    if e.kernel.table == "entries":
        return Table(list_name(e), f"{static}const struct arm64_cpu_capabilities {list_name(e)}[] = {{",
                     row_guard(e), tuple(_entries(e)))
    return Table(list_name(e), f"{static}const struct midr_range {list_name(e)}[] = {{", row_guard(e),
                 tuple(_range_list(list(e.affects), "\t")))


def _erratum_fields(e: Erratum) -> list[str]:
    table, kind = e.kernel.table, e.kernel.type or LOCAL_CPU_ERRATUM
    default_type, default_match = kind == LOCAL_CPU_ERRATUM, e.kernel.matcher is None
    fields = [f'.desc = "{desc(e)}",', f".capability = ARM64_{e.enables},"]
    if table == "range" and default_type and default_match:
        fields += [f"ERRATA_{midr_range(e.affects[0])},", *(f"{f}," for f in _fixed(e.affects[0]))]
    elif table == "list" and default_type and default_match:
        fields.append(f"ERRATA_MIDR_RANGE_LIST({list_name(e)}),")
    else:
        fields += [f".type = {kind},", f".matches = {matcher(e)},"]
        if table == "range":
            fields += [f".midr_range = {midr_range(e.affects[0])},", *(f"{f}," for f in _fixed(e.affects[0]))]
        elif table == "list":
            fields.append(f".midr_range_list = {list_name(e)},")
        elif table == "entries":
            fields.append(f".match_list = {list_name(e)},")
    if e.kernel.cpu_enable:
        fields.append(f".cpu_enable = {e.kernel.cpu_enable},")
    return fields


def _not_covered_fields(n: NotCovered) -> list[str]:
    # A row without a desc has none in the kernel either (4311569 in Linux 7.3).
    fields = [f'.desc = "{n.desc}",'] if n.desc else []
    fields += [f".capability = ARM64_{n.cpucap},", f".type = {n.type or LOCAL_CPU_ERRATUM},",
               f".matches = {n.matcher},"]
    if n.cpu_enable:
        fields.append(f".cpu_enable = {n.cpu_enable},")
    return fields


def context(reg: Registry) -> dict:
    rows, _ = kernel_table_rows(reg)
    tables: dict[str, Table] = {}
    out_rows = []
    for row in rows:
        if isinstance(row, NotCovered):
            out_rows.append((row.guard, _not_covered_fields(row)))
            continue
        row = with_joined(reg, row)
        if row.kernel.table in ("list", "entries"):
            tables.setdefault(list_name(row), _table(row))
        out_rows.append((row_guard(row), _erratum_fields(row)))
    return {"tables": list(tables.values()), "rows": out_rows, "guard_open": guard_open}


TARGET = Target("kernel-tables", "cpu_errata_table.h.j2", PATH, context)
