"""What import reads from a Linux tree: the rows of its arm64_errata[] as data.

Read through the shared readers (cpu_errata.py for cpu_errata.c, the Tree for cputype.h,
Kconfig, silicon-errata.rst and cpucaps), with every `#ifdef CONFIG_...` taken as enabled; each
range carries the erratum ids silicon-errata.rst gives it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..diagnostics import Pos
from ..model import KRYO_PART_MASK, LOCAL_CPU_ERRATUM, midr_model, recorded_version, revision_range_str
from . import cpu_errata
from .tree import KconfigSymbol, TableRow, Tree, midr_models

if TYPE_CHECKING:
    from .speculation import TreeSpeculation


VENDOR_NAMES = {"Qualcomm Tech.": "Qualcomm", "Hisilicon": "HiSilicon"}


@dataclass(frozen=True)
class TreeCpu:
    macro: str
    imp_macro: str
    implementer: int
    part_macro: str
    part: int

    @property
    def id(self) -> str:
        """The registry id the CPU gets: MIDR_CORTEX_A53 -> cortex-a53."""
        return self.macro[len("MIDR_"):].removeprefix(self.vendor + "_").lower().replace("_", "-")

    @property
    def vendor(self) -> str:
        return self.imp_macro.rsplit("_", 1)[-1]

    @property
    def model(self) -> int:
        return midr_model(self.implementer, self.part)

    @property
    def imp_id(self) -> str:
        return self.vendor.lower()

    @property
    def name(self) -> str:
        """Cortex-A53, Neoverse-N1, Kryo 2XX Silver: as the kernel's documentation writes them."""
        shown = [w.upper() if re.fullmatch(r"[a-z]{0,2}[0-9]+[a-z]*|[0-9]xx", w) else w.capitalize()
                 for w in self.id.split("-")]
        if len(shown) > 1 and re.fullmatch(r"[A-Z]+[0-9][0-9A-Z]*", shown[1]):
            shown[:2] = [f"{shown[0]}-{shown[1]}"]
        return " ".join(shown)


@dataclass(frozen=True)
class TreeRange:
    cpu: TreeCpu
    low: tuple[int, int]
    high: tuple[int, int]
    part_mask: int | None
    fixes: tuple[tuple[tuple[int, int], int], ...]  # (revision, REVIDR mask)
    guard: tuple[str, ...]
    own_entry: bool
    ids: tuple[str, ...] = ()
    pos: Pos = field(default=Pos(""), compare=False)
    guard_pos: Pos | None = field(default=None, compare=False)  # where its guard opens

    @property
    def key(self) -> tuple:
        return (self.cpu.implementer, self.cpu.part, self.low, self.high, self.part_mask, self.fixes)

    @property
    def revisions(self) -> str:
        return revision_range_str(self.low, self.high)


@dataclass(frozen=True)
class TreeRow:
    """A MIDR-decided row of arm64_errata[]: its cpucap (without ARM64_), ranges and how it is
    written."""

    cpucap: str
    desc: str
    ranges: tuple[TreeRange, ...]
    table: str  # range, list, entries, or none (the matcher holds its ranges)
    matcher: str
    type: str
    cpu_enable: str | None
    guard: tuple[str, ...]
    exported_list: str | None
    pos: Pos
    guard_pos: Pos | None = None  # where its guard opens


@dataclass(frozen=True)
class TreeNotCovered:
    """A row decided by its own matcher. `refused` says why, when the row has ranges its matcher
    may not read as the CPUs it affects: the registry takes it only as a not_covered row it
    already has."""

    cpucap: str
    matcher: str
    desc: str
    cpu_enable: str | None
    guard: tuple[str, ...]
    pos: Pos
    type: str = LOCAL_CPU_ERRATUM
    refused: str | None = None


@dataclass(frozen=True)
class Facts:
    version: str
    display: str
    rows: tuple[TreeRow | TreeNotCovered, ...]  # in the table's order
    options: dict[str, KconfigSymbol]  # the tree's erratum Kconfig files'
    vendors: dict[tuple[str, ...], str]  # errata ids -> silicon-errata.rst's implementor
    makers: dict[int, str] = field(default_factory=dict)  # implementer code -> its name there
    cpucaps: frozenset[str] = frozenset()  # tools/cpucaps' names, without ARM64_ (none before 5.19)
    speculation: TreeSpeculation | None = None  # its speculation lists; None before proton-pack.c (5.10)

    @property
    def seen_in(self) -> str:
        return recorded_version(self.version)


def read_facts(tree: Tree, speculation: bool = True) -> Facts:
    """Everything import needs from the tree; its speculation lists only if `speculation`. Raises
    NotALinuxTree for a tree it cannot read and cpu_errata.NotRecognised for a table written in
    a way the reader does not know."""
    rst = tree.table
    cpucaps = tree.cpucaps
    models = midr_models(tree.defines)
    table = tree.errata_table
    if table is not tree.cpu_errata:
        # cpu_errata.c's definitions come before the table it includes.
        tree.cpu_errata.check_definitions(table.used_names())
    rows = tuple(_rows(table, tree.cpu_errata, models, rst, cpucaps, tree.kconfig))
    makers: dict[int, str] = {}
    for row in rows:
        for r in getattr(row, "ranges", ()):
            for t in rst:
                if _names(t, r.cpu):
                    makers.setdefault(r.cpu.implementer, VENDOR_NAMES.get(t.implementor, t.implementor))
    # Imported here: speculation.py builds on this module's TreeCpu.
    from .speculation import read_lists

    return Facts(tree.version, tree.display, rows, tree.kconfig, _vendors(rst), makers, frozenset(cpucaps or ()),
                 read_lists(tree) if speculation else None)


def _vendors(rst) -> dict[tuple[str, ...], str]:
    return {r.ids: VENDOR_NAMES.get(r.implementor, r.implementor) for r in rst}


def _guard(guard: cpu_errata.Guard, src: cpu_errata.Source, pos: Pos) -> tuple[str, ...]:
    """The guard's options in the order the file first writes them."""
    if len(guard) > 1:
        raise cpu_errata.NotRecognised(pos, "a range inside two Kconfig guards: the registry holds one "
                                       "guard of alternative options per range")
    return tuple(sorted(guard[0], key=lambda o: (src.config_order.get(o, len(src.config_order)), o))) if guard else ()


def _cpu(macro: Any, models: dict, pos: Pos) -> TreeCpu:
    if not isinstance(macro, str) or macro not in models:
        raise cpu_errata.NotRecognised(pos, f"{macro} is not a MIDR_CPU_MODEL() model of cputype.h")
    imp_macro, imp, part_macro, part = models[macro]
    return TreeCpu(macro, imp_macro, imp, part_macro, part)


def _rev(value: Any, pos: Pos) -> tuple[int, int]:
    if not isinstance(value, int):
        raise cpu_errata.NotRecognised(pos, f"'{value}' is not a variant and revision this reader can "
                                       "compute")
    return (value >> 20 & 0xF, value & 0xF)


def _fixes(value: Any, pos: Pos) -> tuple:
    return tuple((_rev(rv, pos), mask) for rv, mask in value or ())


def _range(r: cpu_errata.Range, models, guard, pos, *, mask=None, fixes=()) -> TreeRange:
    macro, low, high = r
    if mask is not None:
        low, high = 0, cpu_errata.ALL
    low, high = _rev(low, pos), _rev(high, pos)
    # is_affected_midr_range() reads the fixes only of a MIDR in the range: one outside it is inert.
    fixes = tuple(f for f in fixes if low <= f[0] <= high)
    return TreeRange(_cpu(macro, models, pos), low, high, mask, fixes, guard, False, (), pos)


class _OwnMatcher(Exception):
    """A row's ranges that its matcher may not read as the CPUs it affects: why."""


# The storage each of the kernel's own matchers reads.
_READS = {"is_affected_midr_range": "midr_range", "is_affected_midr_range_list": "midr_range_list",
          "cpucap_multi_entry_cap_matches": "match_list", "is_kryo_midr": "midr_range"}


def _holds(row: cpu_errata.Row) -> str | None:
    return next((name for name in ("match_list", "midr_range_list", "midr_range") if row.get(name) is not None), None)


def _row_ranges(row: cpu_errata.Row, src, code, models, top: bool = True) -> tuple[str, list[TreeRange], str | None]:
    """(how the row holds its ranges, the ranges, the name of an exported list). src holds the
    table, code the matcher functions (both are cpu_errata.c unless it includes the table).
    Raises _OwnMatcher for ranges a matcher of the file may not read as the CPUs affected."""
    matcher, holds = str(row.get("matches")), _holds(row)
    if matcher in _READS and holds != _READS[matcher]:
        raise cpu_errata.NotRecognised(row.pos, f"{matcher}() reads .{_READS[matcher]}, which this row does not "
                                       "set")
    if matcher == "is_kryo_midr" and top:
        raise cpu_errata.NotRecognised(row.pos, "is_kryo_midr() in a row of arm64_errata[]: the reader reads a "
                                       "Kryo part family only as an entry of a match list "
                                       "(cpucap_multi_entry_cap_matches), as Linux writes it since 4.20")
    if matcher not in _READS and holds is not None:
        why = ("has a .match_list, which only cpucap_multi_entry_cap_matches() reads" if holds == "match_list"
               else cpu_errata.requires(code, matcher, holds, bool(row.get("fixed_revs"))))
        if why is not None:
            raise _OwnMatcher(f"its matcher {matcher}() {why}, so its .{holds} need not be the CPUs it affects")
    if holds == "match_list":
        out: list[TreeRange] = []
        for sub in row.get("match_list"):
            guard = _guard(sub.guard, src, sub.pos)
            _, ranges, _ = _row_ranges(sub, src, code, models, top=False)
            if sub.get("matches") == "is_kryo_midr":
                ranges = [_range((r.cpu.macro, 0, 0), models, guard, sub.pos, mask=KRYO_PART_MASK)
                          for r in ranges]
            ranges = [replace(r, guard=r.guard or guard, guard_pos=r.guard_pos or sub.guard_pos) for r in ranges]
            # The generator puts consecutive plain ranges of one guard into one list: a range
            # that is a sub-entry of its own after such a range says so.
            if (len(ranges) == 1 and not ranges[0].fixes and ranges[0].part_mask is None and out
                    and out[-1].guard == ranges[0].guard and not out[-1].fixes and out[-1].part_mask is None):
                ranges = [replace(ranges[0], own_entry=True)]
            out += ranges
        return "entries", out, None
    if holds == "midr_range_list":
        lst = row.get("midr_range_list")
        ranges = [replace(_range(g.range, models, _guard(g.guard, src, g.pos), g.pos), guard_pos=g.guard_pos)
                  for g in lst.ranges]
        return "list", ranges, lst.exported
    if holds == "midr_range":
        return "range", [_range(row.get("midr_range"), models, (), row.pos,
                                fixes=_fixes(row.get("fixed_revs"), row.pos))], None
    inside = cpu_errata.function_ranges(code, matcher)
    if inside:
        why = cpu_errata.requires(code, matcher, "body")
        if why is not None:
            raise _OwnMatcher(f"its matcher {matcher}() {why}, so the ranges it declares need not be the CPUs "
                              "it affects")
    return "none", [_range(g.range, models, (), g.pos) for g in inside], None


def selecting(guard: tuple[str, ...], options: dict[str, KconfigSymbol]) -> tuple[str, ...]:
    """The erratum options behind a row guarded only by hidden ARM64_WORKAROUND_* options:
    those that select them."""
    if not guard or any(option_id(o) for o in guard):
        return guard
    return tuple(k for k, o in options.items() if set(o.selects) & set(guard) and option_id(k)) or guard


def _rows(src: cpu_errata.Source, code: cpu_errata.Source, models, rst, cpucaps, options):
    first: dict[str, int] = {}
    for row in src.rows():
        cap = row.get("capability")
        if not isinstance(cap, str) or not cap.startswith("ARM64_"):
            raise cpu_errata.NotRecognised(row.pos, f"a row whose capability is '{cap}', not an ARM64_ "
                                           "cpucap")
        if cpucaps is not None and cap[len("ARM64_"):] not in cpucaps:
            raise cpu_errata.NotRecognised(row.pos, f"{cap} is not in arch/arm64/tools/cpucaps")
        if cap in first:
            # Kernels before the cpucap pointer array enable a cpucap when any of its rows
            # matches; later ones warn at boot and skip every row but the first.
            raise cpu_errata.NotRecognised(row.pos, f"a second row for {cap} (the first is at line {first[cap]}): "
                                           "kernels differ on what that means, and the registry holds one row per "
                                           "cpucap: write its rows as one match list "
                                           "(cpucap_multi_entry_cap_matches), as Linux does since 4.20")
        first[cap] = row.pos.line
        guard = _guard(row.guard, src, row.pos)
        matcher = str(row.get("matches"))
        args = (cap[len("ARM64_"):], matcher, str(row.get("desc") or ""), row.get("cpu_enable"), guard, row.pos,
                str(row.get("type") or LOCAL_CPU_ERRATUM))
        try:
            table, ranges, exported = _row_ranges(row, src, code, models)
        except _OwnMatcher as exc:
            yield TreeNotCovered(*args, refused=(
                f"{cap}: {exc}: record it by hand as a not_covered row of the registry (registry.yaml), "
                "which import then leaves to its matcher"))
            continue
        if not ranges:
            yield TreeNotCovered(*args)
            continue
        ranges = _with_ids_of_row(ranges, selecting(guard, options), rst)
        yield TreeRow(cap[len("ARM64_"):], str(row.get("desc") or ""), tuple(ranges), table, matcher,
                      str(row.get("type") or LOCAL_CPU_ERRATUM), row.get("cpu_enable"), guard, exported,
                      row.pos, row.guard_pos)


# --- erratum ids, from silicon-errata.rst --------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _cpu_keys(cpu: TreeCpu) -> set[str]:
    name = cpu.macro[len("MIDR_"):]
    return {_norm(name), _norm(name.removeprefix(cpu.vendor + "_"))}


def _names(row: TableRow, cpu: TreeCpu) -> bool:
    """Whether a row of silicon-errata.rst names the CPU in its component."""
    return bool(_cpu_keys(cpu) & _component_keys(row.component))


def _option_rows(options: tuple[str, ...], rst) -> list[TableRow]:
    return [t for t in rst if t.kconfig in options]


def _component_keys(component: str) -> set[str]:
    out = set()
    for part in component.split("/"):
        key = _norm(part)
        # cputype.h spells AmpereOne MIDR_AMPERE1.
        out |= {key, key.removesuffix("core"), key.replace("one", "1")}
    return out


def option_id(option: str) -> str | None:
    m = re.search(r"_ERRATUM_(\w+)$", option)
    return m.group(1) if m else None


def _with_ids_of_row(ranges: list[TreeRange], row_guard: tuple[str, ...], rst) -> list[TreeRange]:
    """Each range with its erratum ids. Where silicon-errata.rst names no range's CPU in one
    of an option's rows, and the row's other ranges claim all of that option's rows but one, the
    last row is that range's: AmpereOne AC04 (MIDR_AMPERE1A) gets AC04_CPU_10 beside
    AmpereOne's AC03_CPU_38."""
    claimed: dict[tuple[str, ...], set] = {}
    for r in ranges:
        options = r.guard or row_guard
        claimed.setdefault(options, set()).update(id(t) for t in _option_rows(options, rst) if _names(t, r.cpu))
    out = []
    for r in ranges:
        options = r.guard or row_guard
        rows = _option_rows(options, rst)
        named = any(_names(t, r.cpu) for t in rows)
        left = [t for t in rows if id(t) not in claimed[options]]
        out.append(_with_ids(r, row_guard, rst, left[0] if not named and len(left) == 1 else None))
    return out


def _with_ids(r: TreeRange, row_guard: tuple[str, ...], rst, only=None) -> TreeRange:
    """The erratum ids of one range: silicon-errata.rst's rows for its Kconfig option and its
    CPU (or `only`, the one row left for it); else the ids all that option's rows agree on;
    else the option's own number."""
    options = r.guard or row_guard
    rows = _option_rows(options, rst)
    mine = [only] if only is not None else [t for t in rows if _names(t, r.cpu)]
    ids = [i for t in mine for i in t.ids if i != "N/A"]
    if not ids and not mine and len({t.ids for t in rows}) == 1:
        ids = [i for i in rows[0].ids if i != "N/A"]
    if not ids:
        ids = [i for i in (option_id(o) for o in options) if i]
    if not ids and any(t.ids == ("N/A",) for t in mine or rows):
        ids = ["N/A"]
    return replace(r, ids=tuple(dict.fromkeys(ids)))


def registry_text(text: str) -> str:
    """Kernel text as the registry allows it: printable ASCII, no comment delimiters or
    backslashes."""
    text = re.sub(r"\s+", " ", text.replace("\\", " ").replace("/*", "/ *").replace("*/", "* /"))
    return "".join(c for c in text if " " <= c <= "~").strip()
