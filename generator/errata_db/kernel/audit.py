"""Cross-check the registry against a Linux tree: a table of checks, like validate's.

A Registry and a Tree in, diagnostics out; the tree's files are read through the Tree. Each
check tells a tree that is merely older than the registry (it does not know an erratum yet: a
note) from a real mismatch (the tree knows the erratum but disagrees with the registry: an
error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from ..diagnostics import Diagnostic, Pos, Severity, capped, error, note, warning
from ..model import Cpu, Erratum, Registry
from . import cpu_errata
from .facts import read_facts
from .plan import Plan, entry_key, plan
from .speculation import FILE as SPECULATION_FILE
from .speculation import changes, read_lists
from .tree import CPU_ERRATA, MIDR_MODEL, NotALinuxTree, SILICON_ERRATA, TableRow, Tree, define_value, midr_models

# How silicon-errata.rst writes "no erratum id" or "no Kconfig option".
NONE = "N/A"


@dataclass(frozen=True)
class Context:
    """What every check needs, computed once."""

    reg: Registry
    tree: Tree
    known: frozenset[str]  # names of the errata this tree knows
    table_ids: frozenset[str]
    registry_ids: dict[str, Erratum]
    registry_kconfig: dict[str, Erratum]
    renamed: dict[str, str]  # a registry cpucap -> the tree's new name for it, as import recognises


def _real_ids(ids) -> set[str]:
    return {i for i in ids if i != NONE}


def knows(tree: Tree, table_ids: frozenset[str], e: Erratum) -> bool:
    """Whether the tree has heard of the erratum at all: one of its ids in the table, one of
    its Kconfig options, or (when the bit has a cpucap of its own) its cpucap."""
    return (bool(_real_ids(e.errata_ids) & table_ids)
            or any(k in tree.kconfig for k in e.kconfig)
            or (not e.cpucap and any(name in tree.cpucaps for name in e.cpucaps)))


def _absent(ctx: Context, e: Erratum) -> bool:
    """True when the erratum is unknown to the tree: the other checks leave it to tree_older."""
    return e.name not in ctx.known


def _evidence(tree: Tree, table_ids: frozenset[str], e: Erratum) -> str:
    found = sorted(_real_ids(e.errata_ids) & table_ids)
    if found:
        return f"silicon-errata.rst lists erratum {found[0]}"
    k = next((k for k in e.kconfig if k in tree.kconfig), None)
    if k is not None:
        return f"{tree.kconfig[k].pos} defines {k}"
    return f"cpucaps has {e.name}"


Check = Callable[[Context], Iterator[Diagnostic]]


def cpucaps(ctx: Context) -> Iterator[Diagnostic]:
    for e in ctx.reg.errata:
        if any(name in ctx.tree.cpucaps for name in e.cpucaps) or _absent(ctx, e):
            continue
        where = e.where(e.cpucap_field)
        file = ctx.tree.path("arch/arm64/tools/cpucaps")
        new = ctx.renamed.get(e.enables)
        if new is not None:
            yield note(where, "audit-cpucap", f"the tree names cpucap {e.enables} (bit {e.bit}, '{e.name}') "
                       f"{new}: `errata-db import` records the new name")
            continue
        if not any(k in ctx.tree.errata_configs for k in e.kconfig):
            yield note(where, "audit-cpucap", f"cpucap {e.enables} (bit {e.bit}, '{e.name}') is not in {file}, "
                       f"and {ctx.tree.path(CPU_ERRATA)} does not work around the erratum, which the tree knows "
                       f"({_evidence(ctx.tree, ctx.table_ids, e)}): the tree is older than the registry")
            continue
        if not e.active:
            yield note(where, "audit-cpucap", f"retired '{e.name}' (bit {e.bit}): {file} no longer has "
                       f"cpucap {e.enables}")
            continue
        yield error(where, "audit-cpucap",
                    f"cpucap {e.enables} (bit {e.bit}, '{e.name}') is not in {file}, though the tree knows "
                    f"the erratum ({_evidence(ctx.tree, ctx.table_ids, e)}): if the kernel renamed it, "
                    "`errata-db import --kernel-tree` records the new name in `cpucap_names` (with "
                    "--rename OLD=NEW when it cannot tell)")


def kconfig(ctx: Context) -> Iterator[Diagnostic]:
    """An option the tree lacks may simply be newer than the tree (a later erratum id of the
    same entry). The mismatches: the tree lists one of the entry's ids under an option the
    entry does not have, or its table names an option of the entry that it defines nowhere."""
    arch = ctx.tree.path("arch/arm64/Kconfig")
    listed = {row.kconfig: row for row in reversed(ctx.tree.table)}
    # The rows of each id, so that an entry looks at the rows of its ids, not at every row.
    rows_of: dict[str, list[TableRow]] = {}
    for row in ctx.tree.table:
        for i in dict.fromkeys(row.ids):
            rows_of.setdefault(i, []).append(row)
    for e in ctx.reg.errata:
        if _absent(ctx, e):
            continue
        ids = _real_ids(e.errata_ids)
        rows = dict.fromkeys(row for i in sorted(ids) for row in rows_of.get(i, ()))
        yield from capped([
            error(e.where("kconfig"), "audit-kconfig",
                  f"{row.pos} lists erratum {', '.join(sorted(ids & set(row.ids)))} of '{e.name}' "
                  f"(bit {e.bit}) under {row.kconfig}, which the entry's kconfig lacks")
            for row in sorted(rows, key=lambda r: r.pos)
            if row.kconfig != NONE and row.kconfig not in e.kconfig and e.active], f"'{e.name}'")
        for k in e.kconfig:
            pos = ctx.tree.kconfig[k].pos if k in ctx.tree.kconfig else None
            if pos is None and k in listed and e.active:
                yield error(e.where("kconfig"), "audit-kconfig",
                            f"Kconfig symbol {k} ('{e.name}', bit {e.bit}) is defined nowhere in the tree, "
                            f"though {listed[k].pos} lists it")
            elif pos is None:
                yield note(e.where("kconfig"), "audit-kconfig",
                           f"Kconfig symbol {k} ('{e.name}', bit {e.bit}) is not defined in this tree, "
                           "which knows the entry through its other ids or options: the option is newer "
                           "than the tree")
            elif pos.path != arch:
                yield note(e.where("kconfig"), "audit-kconfig",
                           f"Kconfig symbol {k} ('{e.name}') is defined in {pos}, not in {arch}")


def _cpu_problems(tree: Tree, cpu: Cpu) -> Iterator[tuple[Pos, str, bool]]:
    """(registry position, problem, whether the macro is merely missing) for each way the
    tree's macros disagree with a CPU."""
    file = tree.path("arch/arm64/include/asm/cputype.h")
    d = tree.defines.get(cpu.macro)
    if d is None:
        yield cpu.where("macro"), f"{cpu.macro} ({cpu.name}) is not defined in {file}", True
        return
    m = MIDR_MODEL.fullmatch(d.value)
    if m is None:
        yield (cpu.where("macro"), f"{cpu.macro} is defined at {d.pos} as '{d.value}', not as "
               "MIDR_CPU_MODEL(...)", False)
        return
    imp, part = (define_value(tree.defines, m.group(i)) for i in (1, 2))
    if imp != cpu.implementer.code:
        shown = "an unknown value" if imp is None else f"{imp:#04x}"
        yield (cpu.where("implementer"), f"{cpu.macro} ({d.pos}) has implementer {m.group(1)} = {shown}, "
               f"the registry's {cpu.implementer.id} is {cpu.implementer.code:#04x}", False)
    if part != cpu.part:
        shown = "an unknown value" if part is None else f"{part:#05x}"
        yield (cpu.where("part"), f"{cpu.macro} ({d.pos}) has part {m.group(2)} = {shown}, the registry "
               f"says {cpu.part:#05x}", False)
    if cpu.part_macro is not None and cpu.part_macro != m.group(2):
        yield (cpu.where("part_macro"), f"{cpu.macro} ({d.pos}) is built from {m.group(2)}, the registry "
               f"names {cpu.part_macro}", False)


def _models(tree: Tree) -> dict[tuple[int, int], str]:
    """(implementer, part) -> the tree's MIDR_* macro for it."""
    out: dict[tuple[int, int], str] = {}
    for name, (_, imp, _, part) in sorted(midr_models(tree.defines).items()):
        out.setdefault((imp, part), name)
    return out


def midr(ctx: Context) -> Iterator[Diagnostic]:
    users: dict[str, list[Erratum]] = {}
    for e in ctx.reg.errata:
        for a in e.affects:
            users.setdefault(a.cpu.id, []).append(e)
    named = _models(ctx.tree)
    # The CPUs the tree's table names for an erratum of theirs: their macros must be there.
    components = {row.component.lower() for row in ctx.tree.table}
    for cpu in ctx.reg.cpus:
        for pos, message, missing in _cpu_problems(ctx.tree, cpu):
            if not missing:
                yield error(pos, "audit-midr", message)
                continue
            # A macro the tree lacks may be a CPU newer than the tree; it is a mismatch when
            # the tree has the same implementer and part under another name.
            other = named.get((cpu.implementer.code, cpu.part))
            if other is not None:
                yield error(pos, "audit-midr", f"{message}; the tree names implementer "
                            f"{cpu.implementer.code:#04x} part {cpu.part:#05x} {other}")
            elif cpu.name.lower() in components and any(
                    k in ctx.tree.errata_configs for e in users.get(cpu.id, ()) for k in e.kconfig):
                yield error(pos, "audit-midr", f"{message}, though {ctx.tree.table_path} lists errata "
                            f"of the {cpu.name}")
            else:
                known = any(not _absent(ctx, e) for e in users.get(cpu.id, ()))
                why = "a CPU newer than the tree" if known else "the tree knows none of its errata yet"
                yield note(pos, "audit-midr", f"{message}: {why}")
    seen = set()
    for imp in ctx.reg.implementers:
        value = define_value(ctx.tree.defines, imp.macro)
        if imp.macro in seen or value == imp.code:
            continue
        seen.add(imp.macro)
        file = ctx.tree.path("arch/arm64/include/asm/cputype.h")
        if value is None:
            yield note(imp.where("macro"), "audit-midr", f"{imp.macro} ({imp.name}) is not defined in {file}")
        else:
            yield error(imp.where("code"), "audit-midr",
                        f"{imp.macro} is {value:#04x} in {file}, the registry says {imp.code:#04x}")


def _row_text(row: TableRow) -> str:
    return f"{row.implementor} {row.component} erratum {', '.join(row.ids)} ({row.kconfig})"


def table_rows(ctx: Context) -> Iterator[Diagnostic]:
    """Rows of silicon-errata.rst the registry lacks; out-of-scope ones are counted in one note."""
    out_of_scope = 0
    # An erratum whose row the kernel decides without MIDR is in the registry as not covered.
    not_covered = {o for n in ctx.reg.not_covered for o in n.guard}
    for row in ctx.tree.table:
        if row.kconfig in not_covered:
            continue
        ids = _real_ids(row.ids)
        missing = sorted(ids - ctx.registry_ids.keys())
        if ids and not missing:
            continue
        by_kconfig = ctx.registry_kconfig.get(row.kconfig)
        if not ids and by_kconfig is not None:
            continue
        if by_kconfig is not None:
            yield error(row.pos, "audit-table",
                        f"{_row_text(row)}: no registry entry has erratum {missing[0]}, though "
                        f"'{by_kconfig.name}' (bit {by_kconfig.bit}, {by_kconfig.where()}) has the same "
                        f"Kconfig option: give the new id an entry and bit of its own, with "
                        f"`cpucap: {by_kconfig.enables}`")
        elif row.kconfig in ctx.tree.errata_configs:
            yield error(row.pos, "audit-table",
                        f"{_row_text(row)}: {ctx.tree.path(CPU_ERRATA)} works around it "
                        f"(CONFIG_{row.kconfig}), but the registry has no entry for it")
        else:
            out_of_scope += 1
    if out_of_scope:
        yield note(Pos(ctx.tree.table_path), "audit-table",
                   f"{out_of_scope} rows are not worked around through arm64_errata[] (interrupt "
                   f"controllers, SMMUs, timers, code outside {CPU_ERRATA}, or no workaround): "
                   "out of the registry's scope")


def registry_entries(ctx: Context) -> Iterator[Diagnostic]:
    """Erratum ids of known entries that the tree's table lacks."""
    table_kconfig = {r.kconfig for r in ctx.tree.table}
    for e in ctx.reg.errata:
        if _absent(ctx, e):
            continue
        ids = _real_ids(e.errata_ids)
        missing = sorted(ids - ctx.table_ids)
        # An entry with neither an id nor a Kconfig option (Oryon's CNTVOFF in 7.3) has nothing
        # silicon-errata.rst could list; its cpucap is what shows the tree knows it.
        if not ids and e.kconfig and not any(k in table_kconfig for k in e.kconfig):
            yield warning(e.where("errata_ids"), "audit-entry",
                          f"'{e.name}' (bit {e.bit}) has no erratum id and {ctx.tree.table_path} lists "
                          f"none of its Kconfig options ({', '.join(e.kconfig) or 'none'})")
        elif missing and e.active:
            # A later id of an entry the tree already knows, or a misspelt one: a misspelling
            # shows up as a table row (audit-table) with the right id under the entry's option.
            yield note(e.where("errata_ids"), "audit-entry",
                       f"erratum {', '.join(missing)} of '{e.name}' (bit {e.bit}) is not in "
                       f"{ctx.tree.table_path}, though the tree knows the entry "
                       f"({_evidence(ctx.tree, ctx.table_ids, e)}): the id is newer than the tree")


def tree_older(ctx: Context) -> Iterator[Diagnostic]:
    for e in ctx.reg.errata:
        if not _absent(ctx, e):
            continue
        why = ("retired, and this tree has no trace of it" if not e.active
               else "this tree is older than the registry")
        yield note(e.where(), "audit-tree-older",
                   f"'{e.name}' (bit {e.bit}) is not in this tree (no erratum id in silicon-errata.rst, "
                   f"no Kconfig option, no cpucap of its own): {why}")


def not_covered(ctx: Context) -> Iterator[Diagnostic]:
    for n in ctx.reg.not_covered:
        if n.cpucap not in ctx.tree.cpucaps:
            yield note(n.where("cpucap"), "audit-not-covered",
                       f"not_covered cpucap {n.cpucap} is not in {ctx.tree.path('arch/arm64/tools/cpucaps')}")


def speculation_lists(ctx: Context) -> Iterator[Diagnostic]:
    """The registry's speculation.yaml against the tree's lists: what the tree has and the
    registry lacks or says otherwise is a mismatch at the tree's line; what the registry has and
    the tree lacks, a tree older than the registry."""
    try:
        lists = read_lists(ctx.tree)
    except cpu_errata.NotRecognised as exc:
        yield error(exc.pos, "audit-speculation", f"{exc.reason}: the speculation lists are not checked")
        return
    if lists is None:
        return
    ours = ctx.reg.speculation
    if ours is None:
        yield note(ctx.reg.where(), "audit-speculation", f"the registry has no {SPECULATION_FILE}: `errata-db "
                   "import --kernel-tree` writes it from the tree's lists")
        return
    for change in changes(ours, lists, ctx.reg.cpus):
        yield (error if change.gained else note)(change.pos, "audit-speculation", change.text)


CHECKS: dict[str, Check] = {
    "audit-cpucap": cpucaps,
    "audit-not-covered": not_covered,
    "audit-kconfig": kconfig,
    "audit-midr": midr,
    "audit-table": table_rows,
    "audit-entry": registry_entries,
    "audit-tree-older": tree_older,
    "audit-speculation": speculation_lists,
}


def ranges(reg: Registry, the_plan: Plan) -> Iterator[Diagnostic]:
    """What import would change in the registry's ranges, read as import reads the table: a
    range the tree's table has and the registry lacks is a mismatch at the tree's line; one the
    registry has and the tree lacks, a tree older than the registry (or a narrowing to review).
    A CPU whose MIDR_* macro the tree defines otherwise is audit-midr's mismatch, said once."""
    models = {c.macro: (c.implementer.code, c.part) for c in reg.cpus}
    for change in the_plan.changed:
        e = change.erratum
        old = set(entry_key(e))
        # The same ranges, in the same order, as import described in change.gained.
        for r, shown in zip((r for r in change.ranges if r.key not in old), change.gained):
            if models.get(r.cpu.macro, (r.cpu.implementer, r.cpu.part)) != (r.cpu.implementer, r.cpu.part):
                continue
            yield error(r.pos, "audit-ranges", f"the tree's table gives '{e.name}' (bit {e.bit}, {e.where()}) "
                        f"{shown}, which the registry's ranges and REVIDR fixes do not match")
        for shown in change.lost:
            yield note(e.where("affects"), "audit-ranges", f"'{e.name}' (bit {e.bit}) has {shown}, which the "
                       "tree's table lacks: the tree is older than the registry, or narrowed it")
    for n in the_plan.added:
        if set(n.ids) - {NONE}:
            continue  # audit-table reports an erratum id the registry lacks, at its row
        first = n.ranges[0].pos if n.ranges else Pos("")
        yield error(first, "audit-ranges", f"the tree's arm64_errata[] has a row for ARM64_{n.cpucap or n.name}, "
                    "decided by MIDR, which no registry entry enables")


def import_plan(reg: Registry, tree: Tree) -> Plan | None:
    """What import would do with the tree: the renames it recognises and the ranges it would
    change. None for a table import cannot read or refuses (`import` says why): audit's own
    checks still run."""
    try:
        # The speculation lists are audit-speculation's, which says what it cannot read.
        return plan(reg, read_facts(tree, speculation=False))
    except cpu_errata.NotRecognised:
        return None


def audit(reg: Registry, tree: Tree) -> list[Diagnostic]:
    """Raises NotALinuxTree for a tree without silicon-errata.rst, or with a file it cannot read."""
    if tree.table_path is None:
        raise NotALinuxTree(f"{tree.root} has no {SILICON_ERRATA[0]} (nor the pre-6.5 {SILICON_ERRATA[1]})")
    the_plan = import_plan(reg, tree)
    table_ids = frozenset(i for row in tree.table for i in _real_ids(row.ids))
    ctx = Context(
        reg=reg, tree=tree,
        known=frozenset(e.name for e in reg.errata if knows(tree, table_ids, e)),
        table_ids=table_ids,
        registry_ids={i: e for e in reversed(reg.errata) for i in _real_ids(e.errata_ids)},
        registry_kconfig={k: e for e in reversed(reg.errata) for k in e.kconfig},
        renamed={r.old: r.new for r in the_plan.renamed} if the_plan is not None else {},
    )
    found = [d for check in CHECKS.values() for d in check(ctx)]
    return found + (list(ranges(reg, the_plan)) if the_plan is not None else [])


def summary(diags: list[Diagnostic]) -> dict[str, int]:
    return {s.value: sum(d.severity is s for d in diags) for s in Severity}
