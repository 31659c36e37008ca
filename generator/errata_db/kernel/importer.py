"""`errata-db import --kernel-tree`: bring a registry up to what a Linux tree's arm64_errata[] says.

Three steps, each a pure function but the first:
- read_facts: the tree's errata as data, read through the shared readers (cpu_errata.py for
  cpu_errata.c, tree.py for cputype.h, Kconfig, silicon-errata.rst and cpucaps), with
  every `#ifdef CONFIG_...` taken as enabled;
- plan: what the registry lacks or says otherwise, cpucap by cpucap, as typed changes;
- apply: the registry's files edited round-trip (comments, order and hand-written text stay),
  new entries at the next free upstream bits in the order of the tree's table, and the lock
  updated as `errata-db lock` does.

Bits never move, no entry is deleted, and an existing entry's identity and text are kept: only
its `affects` follow the tree (the stability rules then call that widened or narrowed).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarint import HexInt
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from .. import lock
from ..diagnostics import Pos
from ..load import SourceFile
from ..model import (KRYO_PART_MASK, LOCAL_CPU_ERRATUM, UPSTREAM, Erratum, KernelName, Registry, newest_in,
                     rev_str, version_key)
# The matcher each way of writing a row's ranges defaults to, as the table is generated.
from ..targets.kernel_tables import MATCHERS as DEFAULT_MATCHERS
from . import cpu_errata
from . import tree as kernel_tree
from .install import TABLE_HEADER, TABLE_PATH

IMPORT_MARKERS = ("Makefile", "arch/arm64/Kconfig", kernel_tree.CPUTYPE, kernel_tree.CPU_ERRATA)
# Who publishes the errata of a Kconfig option, by its prefix, when silicon-errata.rst does not say.
VENDOR_OF_OPTION = (("ARM64_ERRATUM_", "ARM"), ("CAVIUM_", "Cavium"), ("QCOM_", "Qualcomm"),
                    ("NVIDIA_", "NVIDIA"), ("AMPERE_", "Ampere"), ("HISILICON_", "HiSilicon"),
                    ("FUJITSU_", "Fujitsu"), ("ROCKCHIP_", "Rockchip"))
VENDOR_NAMES = {"Qualcomm Tech.": "Qualcomm", "Hisilicon": "HiSilicon"}


class CannotImport(Exception):
    """The tree cannot be read (not a tree, an unreadable file): an environment error, exit 2."""


class BadRename(Exception):
    """A --rename OLD=NEW that names no cpucap of the registry or no row of the tree: usage."""


class NoFreeBit(cpu_errata.NotRecognised):
    """The tree has more new cpucaps than the upstream range has free bits: the table was read,
    the registry cannot take it."""


# --- the tree's facts --------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeCpu:
    macro: str
    imp_macro: str
    implementer: int
    part_macro: str
    part: int


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

    @property
    def key(self) -> tuple:
        return (self.cpu.implementer, self.cpu.part, self.low, self.high, self.part_mask, self.fixes)

    @property
    def revisions(self) -> str:
        if (self.low, self.high) == ((0, 0), (15, 15)):
            return "all"
        return rev_str(self.low) if self.low == self.high else f"{rev_str(self.low)}..{rev_str(self.high)}"


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


@dataclass(frozen=True)
class TreeNotCovered:
    cpucap: str
    matcher: str
    desc: str
    cpu_enable: str | None
    guard: tuple[str, ...]
    pos: Pos
    type: str = LOCAL_CPU_ERRATUM


@dataclass(frozen=True)
class Facts:
    version: str
    display: str
    rows: tuple[TreeRow | TreeNotCovered, ...]  # in the table's order
    options: dict[str, kernel_tree.KconfigOption]  # arch/arm64/Kconfig's
    vendors: dict[tuple[str, ...], str]  # errata ids -> silicon-errata.rst's implementor
    makers: dict[int, str] = field(default_factory=dict)  # implementer code -> its name there
    cpucaps: frozenset[str] = frozenset()  # tools/cpucaps' names, without ARM64_ (none before 5.19)


def _read(root: Path, rel: str) -> str:
    try:
        return kernel_tree.read(root / rel)
    except kernel_tree.NotALinuxTree as exc:
        raise CannotImport(str(exc)) from exc


def read_facts(root: Path, display: str) -> Facts:
    """Everything import needs from the tree. Raises CannotImport for a tree it cannot read and
    cpu_errata.NotRecognised for a table written in a way the reader does not know."""
    try:
        kernel_tree.check_tree(root, IMPORT_MARKERS)
    except kernel_tree.NotALinuxTree as exc:
        raise CannotImport(str(exc)) from exc
    shown = display.rstrip("/")
    table_rel = next((p for p in kernel_tree.SILICON_ERRATA if (root / p).exists()), None)
    rst = (kernel_tree.parse_errata_table(_read(root, table_rel), f"{shown}/{table_rel}")
           if table_rel else ())
    cpucaps = (kernel_tree.parse_cpucaps(_read(root, kernel_tree.CPUCAPS), f"{shown}/{kernel_tree.CPUCAPS}")
               if (root / kernel_tree.CPUCAPS).exists() else None)
    options = kernel_tree.parse_kconfig_options(_read(root, kernel_tree.KCONFIG))
    models = kernel_tree.midr_models(kernel_tree.parse_defines(_read(root, kernel_tree.CPUTYPE),
                                                               f"{shown}/{kernel_tree.CPUTYPE}"))
    path = f"{shown}/{kernel_tree.CPU_ERRATA}"
    code = cpu_errata.read_source(_read(root, kernel_tree.CPU_ERRATA), path)
    src = code
    if cpu_errata.is_converted(code, TABLE_HEADER):
        # install --kernel-tables made cpu_errata.c include the table errata-db generated.
        header = TABLE_PATH
        src = cpu_errata.read_source(_read(root, header), f"{shown}/{header}")
    guards = {o for row in src.rows() for o in _all_options(row)}
    missing = guards - options.keys()
    if missing:
        try:
            options = {**kernel_tree.kconfig_options_elsewhere(root, shown, missing), **options}
        except kernel_tree.NotALinuxTree as exc:
            raise CannotImport(str(exc)) from exc
    rows = tuple(_rows(src, code, models, rst, cpucaps, options))
    makers: dict[int, str] = {}
    for row in rows:
        for r in getattr(row, "ranges", ()):
            for t in rst:
                if _cpu_keys(r.cpu) & _component_keys(t.component):
                    makers.setdefault(r.cpu.implementer, VENDOR_NAMES.get(t.implementor, t.implementor))
    return Facts(kernel_tree.parse_version(_read(root, "Makefile")), shown, rows, options, _vendors(rst),
                 makers, frozenset(cpucaps or ()))


def _all_options(row: cpu_errata.Row) -> set[str]:
    """Every Kconfig option that guards a row, its match list or its ranges."""
    found = {o for g in row.guard for o in g}
    for value in (row.get("midr_range_list"), row.get("match_list")):
        if isinstance(value, cpu_errata.RangeList):
            found |= {o for r in value.ranges for g in r.guard for o in g}
        elif value:
            found |= {o for sub in value for o in _all_options(sub)}
    return found


def _vendors(rst) -> dict[tuple[str, ...], str]:
    return {r.ids: VENDOR_NAMES.get(r.implementor, r.implementor) for r in rst}


def _ordered(options: frozenset[str], text: str) -> tuple[str, ...]:
    """A guard's options in the order the file writes them."""
    return tuple(sorted(options, key=lambda o: (text.find(f"CONFIG_{o}"), o)))


def _guard(guard: cpu_errata.Guard, src: cpu_errata.Source, pos: Pos) -> tuple[str, ...]:
    if len(guard) > 1:
        raise cpu_errata.NotRecognised(pos, "a range inside two Kconfig guards: the registry holds one "
                                       "guard of alternative options per range")
    return _ordered(guard[0], src.text) if guard else ()


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
    if not value:
        return ()
    if not isinstance(value, tuple) or not all(isinstance(f, tuple) and all(isinstance(x, int) for x in f)
                                               for f in value):
        raise cpu_errata.NotRecognised(pos, f"REVIDR fixes written as '{value}' are not MIDR_FIXED()")
    return tuple((_rev(rv, pos), mask) for rv, mask in value)


def _range(r: cpu_errata.Range, models, guard, pos, *, mask=None, fixes=()) -> TreeRange:
    macro, low, high = r
    if mask is not None:
        low, high = 0, cpu_errata.ALL
    return TreeRange(_cpu(macro, models, pos), _rev(low, pos), _rev(high, pos), mask, fixes, guard, False,
                     (), pos)


def _row_ranges(row: cpu_errata.Row, src, code, models) -> tuple[str, list[TreeRange], str | None]:
    """(how the row holds its ranges, the ranges, the name of an exported list). src holds the
    table, code the matcher functions (both are cpu_errata.c unless it includes the table)."""
    if row.get("match_list") is not None:
        out: list[TreeRange] = []
        for sub in row.get("match_list"):
            guard = _guard(sub.guard, src, sub.pos)
            _, ranges, _ = _row_ranges(sub, src, code, models)
            if sub.get("matches") == "is_kryo_midr":
                ranges = [_range((r.cpu.macro, 0, 0), models, guard, sub.pos, mask=KRYO_PART_MASK)
                          for r in ranges]
            ranges = [replace(r, guard=r.guard or guard) for r in ranges]
            # The generator puts consecutive plain ranges of one guard into one list: a range
            # that is a sub-entry of its own after such a range says so.
            if (len(ranges) == 1 and not ranges[0].fixes and ranges[0].part_mask is None and out
                    and out[-1].guard == ranges[0].guard and not out[-1].fixes and out[-1].part_mask is None):
                ranges = [replace(ranges[0], own_entry=True)]
            out += ranges
        return "entries", out, None
    lst = row.get("midr_range_list")
    if lst is not None:
        ranges = [_range(g.range, models, _guard(g.guard, src, g.pos), g.pos) for g in lst.ranges]
        return "list", ranges, lst.exported
    if row.get("midr_range") is not None:
        return "range", [_range(row.get("midr_range"), models, (), row.pos,
                                fixes=_fixes(row.get("fixed_revs"), row.pos))], None
    inside = cpu_errata.function_ranges(code, str(row.get("matches")))
    return "none", [_range(g.range, models, (), g.pos) for g in inside], None


def _selecting(guard: tuple[str, ...], options: dict[str, kernel_tree.KconfigOption]) -> tuple[str, ...]:
    """The erratum options behind a row guarded only by hidden ARM64_WORKAROUND_* options:
    those that select them."""
    if not guard or any(_option_id(o) for o in guard):
        return guard
    return tuple(k for k, o in options.items() if set(o.selects) & set(guard) and _option_id(k)) or guard


def _rows(src: cpu_errata.Source, code: cpu_errata.Source, models, rst, cpucaps, options):
    for row in src.rows():
        cap = row.get("capability")
        if not isinstance(cap, str) or not cap.startswith("ARM64_"):
            raise cpu_errata.NotRecognised(row.pos, f"a row whose capability is '{cap}', not an ARM64_ "
                                           "cpucap")
        if cpucaps is not None and cap[len("ARM64_"):] not in cpucaps:
            raise cpu_errata.NotRecognised(row.pos, f"{cap} is not in arch/arm64/tools/cpucaps")
        guard = _guard(row.guard, src, row.pos)
        table, ranges, exported = _row_ranges(row, src, code, models)
        matcher = str(row.get("matches"))
        if not ranges:
            yield TreeNotCovered(cap[len("ARM64_"):], matcher, str(row.get("desc") or ""),
                                 row.get("cpu_enable"), guard, row.pos, str(row.get("type") or LOCAL_CPU_ERRATUM))
            continue
        ranges = _with_ids_of_row(ranges, _selecting(guard, options), rst)
        yield TreeRow(cap[len("ARM64_"):], str(row.get("desc") or ""), tuple(ranges), table, matcher,
                      str(row.get("type") or LOCAL_CPU_ERRATUM), row.get("cpu_enable"), guard, exported,
                      row.pos)


# --- erratum ids, from silicon-errata.rst --------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _cpu_keys(cpu: TreeCpu) -> set[str]:
    vendor = cpu.imp_macro.rsplit("_", 1)[-1]
    name = cpu.macro[len("MIDR_"):]
    return {_norm(name), _norm(name.removeprefix(vendor + "_"))}


def _component_keys(component: str) -> set[str]:
    out = set()
    for part in component.split("/"):
        key = _norm(part)
        # cputype.h spells AmpereOne MIDR_AMPERE1.
        out |= {key, key.removesuffix("core"), key.replace("one", "1")}
    return out


def _option_id(option: str) -> str | None:
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
        claimed.setdefault(options, set()).update(
            id(t) for t in rst if t.kconfig in options and _cpu_keys(r.cpu) & _component_keys(t.component))
    out = []
    for r in ranges:
        options = r.guard or row_guard
        rows = [t for t in rst if t.kconfig in options]
        named = any(_cpu_keys(r.cpu) & _component_keys(t.component) for t in rows)
        left = [t for t in rows if id(t) not in claimed[options]]
        out.append(_with_ids(r, row_guard, rst, left[0] if not named and len(left) == 1 else None))
    return out


def _with_ids(r: TreeRange, row_guard: tuple[str, ...], rst, only=None) -> TreeRange:
    """The erratum ids of one range: silicon-errata.rst's rows for its Kconfig option and its
    CPU (or `only`, the one row left for it); else the ids all that option's rows agree on;
    else the option's own number."""
    options = r.guard or row_guard
    rows = [t for t in rst if t.kconfig in options]
    mine = [only] if only is not None else [t for t in rows if _cpu_keys(r.cpu) & _component_keys(t.component)]
    ids = [i for t in mine for i in t.ids if i != "N/A"]
    if not ids and not mine and len({t.ids for t in rows}) == 1:
        ids = [i for i in rows[0].ids if i != "N/A"]
    if not ids:
        ids = [i for i in (_option_id(o) for o in options) if i]
    if not ids and any(t.ids == ("N/A",) for t in mine or rows):
        ids = ["N/A"]
    return replace(r, ids=tuple(dict.fromkeys(ids)))


# --- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewEntry:
    name: str
    bit: int
    vendor: str
    ids: tuple[str, ...]
    description: str
    kconfig: tuple[str, ...]
    ranges: tuple[TreeRange, ...]
    cpucap: str  # "" when the name is the cpucap
    condition: str | None
    kernel: dict
    cpucap_names: tuple[dict, ...] = ()  # those of the cpucap's other bits, which the kernel renamed


@dataclass(frozen=True)
class NewAffects:
    erratum: Erratum
    ranges: tuple[TreeRange, ...]
    gained: tuple[str, ...]
    lost: tuple[str, ...]
    table: str | None  # a new kernel `table:` when the old one cannot hold the ranges


@dataclass(frozen=True)
class NewRow:
    """An entry whose row of arm64_errata[] the tree writes otherwise: the `kernel:` fields to
    set, or to drop (None) where the tree's row is the default."""

    erratum: Erratum
    fields: tuple[tuple[str, Any], ...]
    shown: tuple[str, ...]  # each change as "cpu_enable cpu_clear_bf16_from_user_emulation -> none"


@dataclass(frozen=True)
class Renamed:
    """A cpucap the tree has under a new name: the bits that enable it keep their meaning and
    record the name."""

    old: str
    new: str
    entries: tuple[Erratum, ...]


@dataclass(frozen=True)
class Plan:
    added: tuple[NewEntry, ...]
    changed: tuple[NewAffects, ...]
    unchanged: tuple[str, ...]
    not_in_tree: tuple[str, ...]
    new_cpus: tuple[TreeCpu, ...]
    new_not_covered: tuple[tuple[TreeNotCovered, str | None], ...]  # with the row it follows
    shares: tuple[tuple[str, str], ...] = ()  # (entry, entry it now shares an erratum id with)
    rows: tuple[NewRow, ...] = ()
    renamed: tuple[Renamed, ...] = ()


def entry_key(e: Erratum) -> list[tuple]:
    """An entry's ranges as TreeRange.key spells them."""
    return [(a.cpu.implementer.code, a.cpu.part, a.low, a.high, a.part_mask,
             tuple((f.revision, f.mask) for f in a.revidr_fixes)) for a in e.affects]


def _describe(r: TreeRange, names: dict[tuple[int, int], str]) -> str:
    name = names.get((r.cpu.implementer, r.cpu.part)) or _cpu_name(r.cpu)
    mask = f" (part family {r.part_mask:#x})" if r.part_mask is not None else ""
    return f"{name} {r.revisions}{mask}"


def _vendor(ids: tuple[str, ...], options: tuple[str, ...], ranges: tuple[TreeRange, ...],
            facts: Facts) -> str:
    """silicon-errata.rst's implementor of the ids; else the vendor of the Kconfig options;
    else the maker of the CPUs (Oryon's CNTVOFF row has neither id nor option)."""
    found = Counter(v for rst_ids, v in facts.vendors.items() if set(rst_ids) & set(ids) - {"N/A"})
    if found:
        return found.most_common(1)[0][0]
    for option in options:
        for prefix, vendor in VENDOR_OF_OPTION:
            if option.startswith(prefix):
                return vendor
    makers = Counter(facts.makers[r.cpu.implementer] for r in ranges if r.cpu.implementer in facts.makers)
    return makers.most_common(1)[0][0] if makers else "ARM"


def _text(text: str) -> str:
    """Kernel text as the registry allows it: printable ASCII, no comment delimiters or
    backslashes."""
    text = re.sub(r"\s+", " ", text.replace("\\", " ").replace("/*", "/ *").replace("*/", "* /"))
    return "".join(c for c in text if " " <= c <= "~").strip()


def _kconfig(ranges, row_guard, facts: Facts) -> tuple[str, ...]:
    listed = tuple(dict.fromkeys(o for r in ranges for o in r.guard))
    return listed or _selecting(row_guard, facts.options)


def _description(kconfig: tuple[str, ...], row: TreeRow, facts: Facts) -> str:
    prompts = [facts.options[o].prompt for o in kconfig if o in facts.options and facts.options[o].prompt]
    return _text("; ".join(prompts) if prompts else row.desc) or row.cpucap


def _kernel_fields(row: TreeRow, ranges: tuple[TreeRange, ...], kconfig: tuple[str, ...],
                   ids: tuple[str, ...], vendor: str, whole: bool) -> dict:
    """The `kernel:` block of a new entry, holding only what differs from the defaults the
    kernel table target gives. An entry that takes only some of a row's ranges (a new erratum
    id of a known cpucap) becomes a row of its own, matched and enabled as the row is."""
    out: dict[str, Any] = {}
    title = f"{vendor} {'errata' if len(ids) > 1 else 'erratum'} {', '.join(ids)}"
    if whole and row.desc != title:
        out["desc"] = _text(row.desc)
    table = row.table if whole or row.table in ("entries", "none") else "list"
    default_table = "entries" if any(r.part_mask is not None or r.fixes for r in ranges) else "list"
    if table != default_table:
        out["table"] = table
    if whole and row.exported_list:
        out["list"] = row.exported_list
        out["exported"] = True
    if row.matcher != DEFAULT_MATCHERS.get(table):
        out["matcher"] = row.matcher
    if row.cpu_enable:
        out["cpu_enable"] = row.cpu_enable
    if row.type != LOCAL_CPU_ERRATUM:
        out["type"] = row.type
    if row.guard != kconfig and row.guard:
        out["guard"] = list(row.guard)
    return out


def _errata_of(entries: list[Erratum]) -> tuple[set[str], set[str]]:
    """What a cpucap's bits work around: their erratum ids, else their Kconfig options."""
    ids = {i for e in entries for i in e.errata_ids if i != "N/A"}
    options = {k for e in entries for k in e.kconfig}
    return (ids or options), ids | options


def _row_errata(row: TreeRow, facts: Facts) -> set[str]:
    ids = {i for r in row.ranges for i in r.ids if i != "N/A"}
    return ids | set(_kconfig(row.ranges, row.guard, facts))


def renames(groups: dict[str, list[Erratum]], facts: Facts,
            explicit: dict[str, str] | None = None) -> dict[str, str]:
    """New cpucap -> the registry cpucap it renames. A row of the tree whose cpucap no entry
    has renames a cpucap the tree lacks when it works around the same errata: all of that
    cpucap's ids (or Kconfig options), and no other such cpucap shares any. Anything less sure
    is refused at the row, naming the candidates; `explicit` (--rename OLD=NEW) decides."""
    explicit = explicit or {}
    names = {name: cap for cap, entries in groups.items() for e in entries for name in e.cpucaps}
    present = facts.cpucaps | {r.cpucap for r in facts.rows}
    gone = {cap for cap, entries in groups.items()
            if not any(name in present for e in entries for name in e.cpucaps)}
    rows = {r.cpucap: r for r in facts.rows if isinstance(r, TreeRow)}
    out: dict[str, str] = {}
    for old, new in explicit.items():
        if old not in names:
            raise BadRename(f"--rename {old}={new}: no registry entry enables a cpucap named {old}")
        if names[old] not in gone:
            raise BadRename(f"--rename {old}={new}: {facts.display} still has {names[old]}, so it was not renamed")
        if new not in rows:
            raise BadRename(f"--rename {old}={new}: {facts.display} has no arm64_errata[] row for {new}")
        if new in names:
            raise BadRename(f"--rename {old}={new}: {new} is already a cpucap of the registry")
        if new in out:
            raise BadRename(f"--rename {old}={new}: {new} is already the new name of {out[new]}")
        out[new] = names[old]
    free = gone - set(out.values())
    claimed: dict[str, str] = {}  # a cpucap recognised as renamed -> the row that took it
    for cap, row in rows.items():
        if cap in names or cap in out:
            continue
        theirs = _row_errata(row, facts)
        candidates = [g for g in sorted(free) if _errata_of(groups[g])[1] & theirs]
        whole = [g for g in candidates if _errata_of(groups[g])[0] <= theirs]
        if not candidates:
            continue
        if len(candidates) == 1 and whole and candidates[0] not in claimed:
            out[cap] = candidates[0]
            claimed[candidates[0]] = cap
            continue
        raise cpu_errata.NotRecognised(
            row.pos, f"ARM64_{cap} is new to the registry and works around errata of "
            f"{' and '.join(_candidate(g, groups, g in whole, claimed.get(g)) for g in candidates)}, whose "
            f"cpucap the tree lacks: if the kernel renamed it, say so with --rename {candidates[0]}={cap}; "
            "else give these errata entries of their own")
    return out


def _candidate(cap: str, groups: dict[str, list[Erratum]], whole: bool, taken: str | None) -> str:
    bits = ", ".join(str(e.bit) for e in groups[cap])
    part = "" if whole else ", sharing only part of its errata"
    also = f", which the tree's {taken} already renames" if taken else ""
    return f"{cap} (bit {bits}{part}{also})"


def plan(reg: Registry, facts: Facts, explicit: dict[str, str] | None = None) -> Plan:
    """What importing the tree changes in the registry. explicit: --rename's OLD -> NEW."""
    upstream = [e for e in reg.errata if e.origin == UPSTREAM]
    groups: dict[str, list[Erratum]] = {}
    for e in upstream:
        groups.setdefault(e.enables, []).append(e)
    by_cap: dict[str, list[Erratum]] = {}
    for e in upstream:
        for name in e.cpucaps:
            by_cap.setdefault(name, []).append(e)
    renamed_to = renames(groups, facts, explicit)
    renamed = tuple(Renamed(old, new, tuple(groups[old])) for new, old in renamed_to.items())
    for new, old in renamed_to.items():
        by_cap[new] = groups[old]
    known_cpus = {(c.implementer.code, c.part) for c in reg.cpus}
    names = {(c.implementer.code, c.part): c.name for c in reg.cpus}
    not_covered = {n.cpucap for n in reg.not_covered}
    taken = {e.bit for e in reg.errata} | {line.bit for line in reg.lock}
    upstream_range = next(r for r in reg.ranges if r.owner == UPSTREAM)
    free = (b for b in range(upstream_range.first, upstream_range.last + 1) if b not in taken)
    used_names = {e.name for e in reg.errata}

    added: list[NewEntry] = []
    changed: list[NewAffects] = []
    unchanged: list[str] = []
    absent: list[str] = []
    rows: list[NewRow] = []
    new_nc: list[tuple[TreeNotCovered, str | None]] = []
    new_cpus: dict[tuple[int, int], TreeCpu] = {}
    previous: str | None = None  # the row before, in the registry's terms
    last_erratum: str | None = None  # the last erratum row before
    # A new entry comes last among the errata by its bit: it needs an `after:` unless the
    # erratum row before it in the tree is the one with the highest bit.
    active = [e for e in reg.errata if e.active]
    highest = max(active, key=lambda e: e.bit).name if active else None

    def next_bit(row_pos: Pos) -> int:
        bit = next(free, None)
        if bit is None:
            raise NoFreeBit(row_pos, f"no free bit left in the upstream range "
                            f"{upstream_range.first}-{upstream_range.last} for this row's cpucap")
        return bit

    def new_entry(name, row, ranges, cpucap, after, whole) -> NewEntry:
        ids = tuple(dict.fromkeys(i for r in ranges for i in r.ids)) or ("N/A",)
        kconfig = _kconfig(ranges, row.guard, facts)
        vendor = _vendor(ids, kconfig, ranges, facts)
        kernel = _kernel_fields(row, ranges, kconfig, ids, vendor, whole)
        if after is not None:
            kernel["after"] = after
        condition = (f"{row.matcher}() in the kernel agrees, beyond the MIDR match"
                     if row.matcher not in DEFAULT_MATCHERS.values() else None)
        return NewEntry(name, next_bit(row.pos), vendor, ids, _description(kconfig, row, facts), kconfig,
                        ranges, cpucap, condition, kernel)

    for row in facts.rows:
        if isinstance(row, TreeNotCovered):
            if row.cpucap not in not_covered and row.cpucap not in by_cap:
                new_nc.append((row, previous))
            previous = row.cpucap
            continue
        for r in row.ranges:
            if (r.cpu.implementer, r.cpu.part) not in known_cpus:
                new_cpus.setdefault((r.cpu.implementer, r.cpu.part), r.cpu)
        entries = by_cap.get(row.cpucap, [])
        if not entries:
            after = previous if last_erratum != highest else None
            entry = new_entry(row.cpucap, row, row.ranges, "", after, True)
            added.append(entry)
            used_names.add(entry.name)
            previous = last_erratum = highest = entry.name
            continue
        main = next((e for e in entries if e.name in e.cpucaps), entries[0])
        mine: dict[str, list[TreeRange]] = {e.name: [] for e in entries}
        orphans: dict[tuple[str, ...], list[TreeRange]] = {}
        for r in row.ranges:
            owner = next((e for e in entries if r.key in entry_key(e)), None)
            owner = owner or next((e for e in entries if set(r.ids) & set(e.errata_ids)), None)
            if owner is None and r.ids and all(i not in e.errata_ids for e in entries for i in r.ids) \
                    and not set(r.ids) <= {"N/A"}:
                orphans.setdefault(r.ids, []).append(r)
                continue
            mine[(owner or main).name].append(r)
        # The row is main's when every other entry of the cpucap has its ranges in it; a tree
        # without the ranges of one of them (an older tree) writes another row than the registry's.
        sole = all(e is main or (e.kernel.joins == main.name and mine[e.name]) for e in entries)
        row_change = _row_change(main, row, facts) if sole else None
        if row_change is not None:
            rows.append(row_change)
        for e in entries:
            old, new = entry_key(e), [r.key for r in mine[e.name]]
            if Counter(old) == Counter(new):
                guards = {k: (a.guard, a.own_entry) for k, a in zip(old, e.affects)}
                if sole and any(guards.get(r.key) != (r.guard, r.own_entry) for r in mine[e.name]):
                    changed.append(NewAffects(e, tuple(mine[e.name]), (), (), None))
                elif row_change is None or e is not main:
                    unchanged.append(e.name)
                continue
            if not new:
                absent.append(e.name)  # an older tree, not a removal
                continue
            gained = tuple(_describe(r, names) for r in mine[e.name] if r.key not in old)
            lost_keys = [k for k in old if k not in new]
            lost = tuple(f"{a.cpu.name} {a.revisions}" for a, k in zip(e.affects, old) if k in lost_keys)
            table = ("list" if e.kernel.table == "range" and len(mine[e.name]) > 1 and not sole
                     and not orphans else None)
            changed.append(NewAffects(e, tuple(mine[e.name]), gained, lost, table))
        # A new erratum id of the cpucap is an entry of its own; its ranges stay in the row
        # (kernel.joins), where the tree lists them.
        in_row = {id(r) for e in entries if e is main or e.kernel.joins == main.name for r in mine[e.name]}
        for ids, ranges in orphans.items():
            name = _free_name(f"WORKAROUND_{ids[0]}", used_names)
            entry = new_entry(name, row, tuple(ranges), row.cpucap, None, False)
            first = next(i for i, r in enumerate(row.ranges) if r is ranges[0])
            at = sum(id(r) in in_row for r in row.ranges[:first])
            kernel = {"joins": main.name, **({"joins_at": at} if at < len(in_row) else {})}
            entry = replace(entry, kernel=kernel, condition=None)
            chain = _chain_after(main, renamed, facts)
            if len(chain) > 1:
                entry = replace(entry, cpucap="", cpucap_names=chain)
            added.append(entry)
            used_names.add(name)
            in_row |= {id(r) for r in ranges}
        previous = last_erratum = main.name
    in_tree = {r.cpucap for r in facts.rows} | {r.old for r in renamed}
    absent += [e.name for e in upstream if not set(e.cpucaps) & in_tree]
    return Plan(tuple(added), tuple(changed), tuple(unchanged), tuple(sorted(absent)),
                tuple(new_cpus.values()), tuple(new_nc), _shared(upstream, added), tuple(rows), renamed)


def seen_in(facts: Facts) -> str:
    """The tree's version as the registry records it: numbers only (7.3.4, not 7.3.4-rc1)."""
    try:
        return ".".join(str(n) for n in version_key(facts.version))
    except ValueError:
        return facts.version


def _name_dict(n: KernelName) -> dict:
    return {"name": n.name, **({"since" if n.exact else "seen_in": n.version} if n.version else {})}


def _guard_renamed(e: Erratum, row: TreeRow, facts: Facts) -> dict | None:
    """kernel.kconfig_names when the tree guards the row with one symbol in place of the one
    the entry names, which the tree no longer defines: the kernel renamed it
    (ARM64_WORKAROUND_REPEAT_TLBI -> ..._REPEAT_TLBI_SYNC in 7.3)."""
    k = e.kernel
    if k.guard is None or len(k.guard) != 1 or len(row.guard) != 1 or k.guard == row.guard:
        return None
    old, new = k.guard[0], row.guard[0]
    # The entry's own erratum option guarding the row is the default shape, not a renamed
    # hidden symbol (6.12's CNP row, where 7.3 has ARM64_WORKAROUND_DISABLE_CNP).
    if old in facts.options or new not in facts.options or new in e.kconfig:
        return None
    if any(n.name == new for n in dict(k.kconfig_names).get(old, ())):
        return None  # an older tree, with a name the registry already records
    chains = {key: [_name_dict(n) for n in chain] for key, chain in k.kconfig_names}
    chain = chains.pop(old, [{"name": old}])
    chains[new] = [*chain, {"name": new, "seen_in": seen_in(facts)}]
    return chains


def _chain_after(e: Erratum, renamed: tuple[Renamed, ...], facts: Facts) -> tuple[dict, ...]:
    """The cpucap names of an entry once the import is done, as the registry writes them."""
    chain = [_name_dict(n) for n in e.cpucap_names] or [{"name": e.enables}]
    chain += [{"name": r.new, "seen_in": seen_in(facts)} for r in renamed if e in r.entries]
    return tuple(chain)


def _row_change(e: Erratum, row: TreeRow, facts: Facts) -> NewRow | None:
    """How the tree writes the row of a cpucap that one entry holds, where the entry's
    `kernel:` fields say otherwise."""
    k = e.kernel
    # The row's guard as this tree names it: an older tree has the older name of a renamed symbol.
    chains = {key: tuple(n.name for n in chain) for key, chain in k.kconfig_names}
    named = tuple(newest_in(chains[o], facts.options) or o if o in chains else o for o in (k.guard or e.kconfig))
    ranges_default = "entries" if any(r.part_mask is not None or r.fixes for r in row.ranges) else "list"
    table = (k.table, row.table, None if row.table == ranges_default else row.table)
    desc = (k.desc or e.title, row.desc, None if row.desc == e.title else _text(row.desc))
    explicit = None if row.matcher == DEFAULT_MATCHERS.get(row.table) else row.matcher
    matcher = (k.matcher, explicit, explicit)
    kind = (k.type or LOCAL_CPU_ERRATUM, row.type, None if row.type == LOCAL_CPU_ERRATUM else row.type)
    guard = (named, row.guard,
             None if set(row.guard) == set(e.kconfig) or not row.guard else list(row.guard))
    exported = (k.exported, bool(row.exported_list), True if row.exported_list else None)
    fields, shown = [], []
    for name, (now, tree, value) in {"table": table, "desc": desc, "matcher": matcher, "type": kind,
                                     "exported": exported,
                                     "cpu_enable": (k.cpu_enable, row.cpu_enable, row.cpu_enable),
                                     "guard": guard}.items():
        same = set(now) == set(tree) if name == "guard" else now == tree
        if not same:
            fields.append((name, value))
            shown.append(f"{name} {_field(now)} -> {_field(tree)}")
    chains = _guard_renamed(e, row, facts)
    if chains is not None:
        fields.append(("kconfig_names", chains))
        shown[-1] += " (renamed)"
    return NewRow(e, tuple(fields), tuple(shown)) if fields else None


def _field(value: Any) -> str:
    if value is True:
        return "yes"
    if not value:
        return "none"
    return ", ".join(value) if isinstance(value, tuple) else str(value)


def _shared(upstream: list[Erratum], added: list[NewEntry]) -> tuple[tuple[str, str], ...]:
    """Two cpucaps that work around one erratum id name each other (shares_ids_with): each new
    entry with each entry that lists one of its ids."""
    ids = ([(e.name, e.vendor, set(e.errata_ids)) for e in upstream]
           + [(n.name, n.vendor, set(n.ids)) for n in added])
    out = []
    for n in added:
        for name, vendor, theirs in ids:
            if name != n.name and vendor == n.vendor and theirs & set(n.ids) - {"N/A"}:
                out += [(n.name, name), (name, n.name)]
    return tuple(dict.fromkeys(out))


def _free_name(name: str, used: set[str]) -> str:
    name = re.sub(r"[^A-Z0-9_]", "_", name.upper())
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


# --- writing it into the registry's files --------------------------------------------------------


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096  # a registry line is never folded
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _flow(items) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _quoted(items) -> CommentedSeq:
    return _flow([DoubleQuotedScalarString(i) for i in items])


def _cpu_id(cpu: TreeCpu) -> str:
    vendor = cpu.imp_macro.rsplit("_", 1)[-1]
    return cpu.macro[len("MIDR_"):].removeprefix(vendor + "_").lower().replace("_", "-")


def _cpu_name(cpu: TreeCpu) -> str:
    """Cortex-A53, Neoverse-N1, Kryo 2XX Silver: as the kernel's documentation writes them."""
    shown = [w.upper() if re.fullmatch(r"[a-z]{0,2}[0-9]+[a-z]*|[0-9]xx", w) else w.capitalize()
             for w in _cpu_id(cpu).split("-")]
    if len(shown) > 1 and re.fullmatch(r"[A-Z]+[0-9][0-9A-Z]*", shown[1]):
        shown[:2] = [f"{shown[0]}-{shown[1]}"]
    return " ".join(shown)


def _imp_id(macro: str) -> str:
    return macro.rsplit("_", 1)[-1].lower()


def _affects_item(r: TreeRange, cpu_id: str, ids: tuple[str, ...] | None) -> CommentedMap:
    item = CommentedMap()
    item["cpu"] = cpu_id
    if r.part_mask is not None:
        item["part_mask"] = HexInt(r.part_mask)
    item["revisions"] = r.revisions
    if r.fixes:
        fixes = CommentedSeq()
        for rev, mask in r.fixes:
            fix = CommentedMap()
            fix["revision"] = rev_str(rev)
            fix["mask"] = HexInt(mask)
            fixes.append(fix)
        item["revidr_fixes"] = fixes
    if r.guard:
        item["guard"] = _flow(list(r.guard))
    if r.own_entry:
        item["own_entry"] = True
    if ids:
        item["errata_ids"] = _quoted(ids)
    return item


def _range_ids(r: TreeRange, entry_ids: tuple[str, ...]) -> tuple[str, ...] | None:
    """A range names its ids when its entry has several and the range's are among them."""
    return r.ids if len(entry_ids) > 1 and r.ids and set(r.ids) <= set(entry_ids) else None


def _entry_map(n: NewEntry, cpu_ids) -> CommentedMap:
    m = CommentedMap()
    m["name"] = n.name
    m["bit"] = n.bit
    m["vendor"] = n.vendor
    m["errata_ids"] = _quoted(n.ids)
    m["description"] = n.description
    m["kconfig"] = _flow(list(n.kconfig))
    if n.cpucap:
        m["cpucap"] = n.cpucap
    if n.cpucap_names:
        m["cpucap_names"] = _names_seq(list(n.cpucap_names))
    affects = CommentedSeq()
    for r in n.ranges:
        affects.append(_affects_item(r, cpu_ids[r.cpu.implementer, r.cpu.part], _range_ids(r, n.ids)))
    m["affects"] = affects
    if n.condition:
        m["condition"] = n.condition
    if n.kernel:
        kernel = CommentedMap()
        for k, v in n.kernel.items():
            kernel[k] = _flow(v) if isinstance(v, list) else v
        m["kernel"] = kernel
    m["status"] = "active"
    return m


def _append(seq: CommentedSeq, item: Any, blank: bool) -> None:
    seq.fa.set_block_style()  # an empty list is written `[]`
    seq.append(item)
    if blank and len(seq) > 1:
        seq.yaml_set_comment_before_after_key(len(seq) - 1, before="\n", indent=2)


def _vendor_file(vendor: str) -> str:
    return f"errata/{re.sub(r'[^a-z0-9]+', '-', vendor.lower()).strip('-') or 'upstream'}.yaml"


NEW_ERRATA_FILE = """\
# yaml-language-server: $schema=../schema/errata.schema.json
#
# Errata published by {vendor}, in bit order.
errata: []
"""


def apply(files: dict[str, str], root: str, reg: Registry, the_plan: Plan, facts: Facts) -> dict[str, str]:
    """The registry files (relative path -> text) that change, edited round-trip: what is not
    changed keeps its bytes, comments and order. The lock is left to lock_text()."""
    y = _yaml()
    docs: dict[str, Any] = {}

    def doc(rel: str, default: str = "") -> Any:
        if rel not in docs:
            docs[rel] = y.load(files.get(rel) or default)
        return docs[rel]

    cpu_ids = {(c.implementer.code, c.part): c.id for c in reg.cpus}
    imp_ids = {i.code: i.id for i in reg.implementers}
    used_ids = {c.id for c in reg.cpus}
    if the_plan.new_cpus:
        cpus_doc = doc("cpus.yaml")
        for cpu in the_plan.new_cpus:
            if cpu.implementer not in imp_ids:
                imp = CommentedMap()
                imp["id"] = _imp_id(cpu.imp_macro)
                imp["code"] = HexInt(cpu.implementer, width=2)
                vendor = cpu.imp_macro.rsplit("_", 1)[-1]
                imp["name"] = facts.makers.get(cpu.implementer) or (
                    vendor if len(vendor) <= 4 else vendor.capitalize())
                imp["macro"] = cpu.imp_macro
                _append(cpus_doc["implementers"], imp, False)
                imp_ids[cpu.implementer] = imp["id"]
            cid = cpu_id = _cpu_id(cpu)
            n = 2
            while cid in used_ids:
                cid, n = f"{cpu_id}-{n}", n + 1
            used_ids.add(cid)
            item = CommentedMap()
            item["id"] = cid
            item["implementer"] = imp_ids[cpu.implementer]
            item["part"] = HexInt(cpu.part, width=3)
            item["name"] = _cpu_name(cpu)
            item["macro"] = cpu.macro
            item["part_macro"] = cpu.part_macro
            _append(cpus_doc["cpus"], item, False)
            cpu_ids[cpu.implementer, cpu.part] = cid

    for change in the_plan.changed:
        e = change.erratum
        rel, index = _place(e, root)
        node = doc(rel)["errata"][index]
        old = dict(zip(entry_key(e), node["affects"]))
        affects = CommentedSeq()
        for r in change.ranges:
            item = old.get(r.key)
            if item is None:
                item = _affects_item(r, cpu_ids[r.cpu.implementer, r.cpu.part], _range_ids(r, e.errata_ids))
            else:
                _set_or_drop(item, "guard", _flow(list(r.guard)) if r.guard else None, "revisions")
                _set_or_drop(item, "own_entry", True if r.own_entry else None, "guard")
            affects.append(item)
        node["affects"] = affects
        if change.table:
            _kernel_node(node)["table"] = change.table

    for new_row in the_plan.rows:
        rel, index = _place(new_row.erratum, root)
        node = doc(rel)["errata"][index]
        kernel = _kernel_node(node)
        for name, value in new_row.fields:
            if value is None:
                kernel.pop(name, None)
            elif isinstance(value, dict):
                kernel[name] = CommentedMap((k, _names_seq(v)) for k, v in value.items())
            else:
                kernel[name] = _flow(value) if isinstance(value, list) else value
        if not kernel:
            del node["kernel"]

    for r in the_plan.renamed:
        for e in r.entries:
            rel, index = _place(e, root)
            node = doc(rel)["errata"][index]
            if node.get("cpucap_names") is None:
                at = list(node).index("cpucap") if "cpucap" in node else list(node).index("kconfig") + 1
                node.pop("cpucap", None)
                node.insert(at, "cpucap_names", _names_seq([{"name": r.old}]))
            node["cpucap_names"].append(_name_map(_chain_after(e, (r,), facts)[-1]))

    new_nodes = {}
    for n in the_plan.added:
        rel = _vendor_file(n.vendor)
        new_nodes[n.name] = _entry_map(n, cpu_ids)
        _append(doc(rel, NEW_ERRATA_FILE.format(vendor=n.vendor))["errata"], new_nodes[n.name], True)
    by_name = {e.name: e for e in reg.errata}
    for name, other in the_plan.shares:
        if name in new_nodes:
            node = new_nodes[name]
        else:
            rel, index = _place(by_name[name], root)
            node = doc(rel)["errata"][index]
        if "shares_ids_with" not in node:
            node.insert(list(node).index("affects"), "shares_ids_with", _flow([]))
        if other not in node["shares_ids_with"]:
            node["shares_ids_with"].append(other)

    if the_plan.new_not_covered:
        head = doc("registry.yaml")
        if head.get("not_covered") is None:
            head["not_covered"] = CommentedSeq()
        for row, after in the_plan.new_not_covered:
            m = CommentedMap()
            m["cpucap"] = row.cpucap
            m["matcher"] = row.matcher
            if row.desc:
                m["desc"] = _text(row.desc)
            if row.cpu_enable:
                m["cpu_enable"] = row.cpu_enable
            if row.type != LOCAL_CPU_ERRATUM:
                m["type"] = row.type
            if row.guard:
                m["guard"] = _flow(list(row.guard))
            if after:
                m["after"] = after
            m["reason"] = (f"arm64_errata[] of Linux {facts.version} decides it with {row.matcher}(), not "
                           "from MIDR/REVIDR ranges of its table (imported: say by hand what it reads)")
            _append(head["not_covered"], m, False)

    out = {}
    for rel, data in docs.items():
        stream = io.StringIO()
        y.dump(data, stream)
        if stream.getvalue() != files.get(rel):
            out[rel] = stream.getvalue()
    return out


def _set_or_drop(node: CommentedMap, key: str, value: Any, after: str) -> None:
    """Set a key to a value (placed after another key when new), or drop it for None."""
    if value is None:
        node.pop(key, None)
    elif key in node:
        if node[key] != value:
            node[key] = value
    else:
        keys = list(node)
        node.insert(keys.index(after) + 1 if after in keys else len(keys), key, value)


def _name_map(item: dict) -> CommentedMap:
    m = CommentedMap(item)
    m.fa.set_flow_style()
    for key in ("since", "seen_in"):
        if key in m:
            m[key] = DoubleQuotedScalarString(m[key])
    return m


def _names_seq(items: list[dict]) -> CommentedSeq:
    """A chain of kernel names, one flow mapping a line: - {name: X, seen_in: "7.3.4"}."""
    seq = CommentedSeq(_name_map(i) for i in items)
    seq.fa.set_block_style()
    return seq


def _kernel_node(node: CommentedMap) -> CommentedMap:
    """An entry's `kernel:` block, made after its `affects` if it has none."""
    if node.get("kernel") is None:
        node.insert(list(node).index("affects") + 1, "kernel", CommentedMap())
    return node["kernel"]


def _place(e: Erratum, root: str) -> tuple[str, int]:
    """The errata file (relative to the registry) and the index of an entry in it."""
    return e.where.doc.path[len(root) + 1:], e.where.keys[1]


def lock_text(old: str, reg: Registry) -> str:
    return lock.updated(old, [e for e in reg.errata if e.origin == UPSTREAM])


# --- the report ----------------------------------------------------------------------------------


def _some(items: list[str], n: int = 3) -> str:
    items = list(dict.fromkeys(items))
    return ", ".join(items[:n]) + (f" +{len(items) - n} more" if len(items) > n else "")


def report(the_plan: Plan, facts: Facts, written: bool, known_imps: set[int]) -> str:
    """What changed, grouped: added, widened, narrowed, unchanged (a count), not in this tree.
    known_imps: the implementer codes the registry had."""
    lines = []
    for n in the_plan.added:
        newest = n.cpucap_names[-1]["name"] if n.cpucap_names else n.cpucap
        cap = f", cpucap {newest}" if newest else ""
        lines.append(f"added     {n.name} (bit {n.bit}{cap}): {n.vendor} {_some(list(n.ids))}; "
                     f"{len(n.ranges)} range(s) on {_some([_cpu_id(r.cpu) for r in n.ranges], 4)}")
    if the_plan.new_cpus:
        imps = sorted({_imp_id(c.imp_macro) for c in the_plan.new_cpus if c.implementer not in known_imps})
        of = f" ({len(imps)} new implementer(s): {', '.join(imps)})" if imps else ""
        lines.append(f"added     {len(the_plan.new_cpus)} CPU(s){of}: "
                     f"{', '.join(_cpu_id(c) for c in the_plan.new_cpus)}")
    if the_plan.new_not_covered:
        lines.append(f"added     {len(the_plan.new_not_covered)} not_covered row(s), decided by their own "
                     f"matchers: {', '.join(row.cpucap for row, _ in the_plan.new_not_covered)}")
    for r in the_plan.renamed:
        bits = ", ".join(str(e.bit) for e in r.entries)
        lines.append(f"renamed   {r.old} -> {r.new} (bit{'s' if len(r.entries) > 1 else ''} {bits})")
    for c in the_plan.changed:
        if c.gained:
            lines.append(f"widened   {c.erratum.name} (bit {c.erratum.bit}): now {'; '.join(c.gained)}")
    for c in the_plan.changed:
        if c.lost:
            lines.append(f"narrowed  {c.erratum.name} (bit {c.erratum.bit}): no longer {'; '.join(c.lost)}")
    guards = {c.erratum.name for c in the_plan.changed if not c.gained and not c.lost}
    rows = {r.erratum.name: r for r in the_plan.rows}
    for c in the_plan.changed:
        if c.erratum.name in guards and c.erratum.name not in rows:
            lines.append(f"kernel    {c.erratum.name} (bit {c.erratum.bit}): its ranges' guards as the tree "
                         "writes them")
    for r in the_plan.rows:
        also = "; its ranges' guards" if r.erratum.name in guards else ""
        lines.append(f"kernel    {r.erratum.name} (bit {r.erratum.bit}): its row as the tree writes it: "
                     f"{'; '.join(r.shown)}{also}")
    lines.append(f"unchanged {len(the_plan.unchanged)} entr{'y' if len(the_plan.unchanged) == 1 else 'ies'}")
    if the_plan.not_in_tree:
        lines.append(f"not in this tree (kept as they are): {', '.join(the_plan.not_in_tree)}")
    changes = (len(the_plan.added) + len(the_plan.changed) + len(the_plan.new_cpus)
               + len(the_plan.new_not_covered) + len(the_plan.rows) + len(the_plan.renamed))
    verdict = ("nothing to change" if not changes else
               "registry updated" if written else "dry run: nothing written")
    lines.append(f"Linux {facts.version} at {facts.display}: {verdict}")
    return "\n".join(lines) + "\n"


def into_empty(facts: Facts) -> tuple[Registry | None, tuple]:
    """The tree imported into a new, empty registry held in memory: that kernel's own errata
    table as a registry (`risk --guest-kernel-tree`). Also the diagnostics if it is invalid."""
    from ..registry import RegistryFiles, assemble
    from ..scaffold import skeleton

    root = "<guest>"

    def staged(texts: dict[str, str]) -> RegistryFiles:
        return RegistryFiles(root, tuple(SourceFile(f"{root}/{rel}", text.encode("utf-8"))
                                         for rel, text in sorted(texts.items())))

    files = {rel: data.decode("utf-8") for rel, data in skeleton().items() if not rel.startswith("schema/")}
    empty = assemble(staged(files)).registry
    the_plan = plan(empty, facts)
    files.update(apply(files, root, empty, the_plan, facts))
    trial = assemble(staged(files))
    if trial.registry is not None:
        files[lock.LOCK_NAME] = lock_text(files[lock.LOCK_NAME], trial.registry)
        trial = assemble(staged(files))
    return trial.registry, trial.diagnostics
