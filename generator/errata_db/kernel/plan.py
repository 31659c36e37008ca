"""What importing a Linux tree changes in a registry, as typed changes: a pure function of the
registry and the tree's facts (facts.py).

Bits never move, no entry is deleted, and an existing entry's identity and text are kept: only
its `affects` follow the tree (the stability rules then call that widened or narrowed). A
cpucap the tree renamed keeps its bits (renames()); a new cpucap gets the next free upstream
bit, in the order of the tree's table.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from ..diagnostics import Pos
from ..errors import Unusable
from ..model import (LOCAL_CPU_ERRATUM, UPSTREAM, Erratum, KernelName, Registry, default_table, newest_in,
                     on_cpu_str, version_key)
# The matcher each way of writing a row's ranges defaults to, as the table is generated.
from ..targets.kernel_tables import MATCHERS as DEFAULT_MATCHERS
from . import cpu_errata, speculation
from .facts import Facts, TreeCpu, TreeNotCovered, TreeRange, TreeRow, registry_text, selecting
from .speculation import TreeSpeculation

VENDOR_OF_OPTION = (("ARM64_ERRATUM_", "ARM"), ("CAVIUM_", "Cavium"), ("QCOM_", "Qualcomm"),
                    ("NVIDIA_", "NVIDIA"), ("AMPERE_", "Ampere"), ("HISILICON_", "HiSilicon"),
                    ("FUJITSU_", "Fujitsu"), ("ROCKCHIP_", "Rockchip"))


class BadRename(Unusable):
    """A --rename OLD=NEW that names no cpucap of the registry or no row of the tree: usage."""


class NoFreeBit(cpu_errata.NotRecognised):
    """The tree has more new cpucaps than the upstream range has free bits: the table was read,
    the registry cannot take it."""



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
    speculation: Speculated | None = None


@dataclass(frozen=True)
class Speculated:
    """speculation.yaml after the import: the tree's lists, written when `write`, with what
    changes; or kept, with why (`kept`)."""

    lists: TreeSpeculation
    write: bool
    changes: tuple[speculation.Change, ...] = ()
    kept: str | None = None


def entry_key(e: Erratum) -> list[tuple]:
    """An entry's ranges as TreeRange.key spells them."""
    return [(a.cpu.implementer.code, a.cpu.part, a.low, a.high, a.part_mask,
             tuple((f.revision, f.mask) for f in a.revidr_fixes)) for a in e.affects]


def _describe(r: TreeRange, names: dict[tuple[int, int], str]) -> str:
    return on_cpu_str(names.get((r.cpu.implementer, r.cpu.part)) or r.cpu.name, r.revisions, r.part_mask)


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


def _kconfig(ranges, row_guard, facts: Facts) -> tuple[str, ...]:
    listed = tuple(dict.fromkeys(o for r in ranges for o in r.guard))
    return listed or selecting(row_guard, facts.options)


def _description(kconfig: tuple[str, ...], row: TreeRow, facts: Facts) -> str:
    prompts = [facts.options[o].prompt for o in kconfig if o in facts.options and facts.options[o].prompt]
    return registry_text("; ".join(prompts) if prompts else row.desc) or row.cpucap


def _kernel_fields(row: TreeRow, ranges: tuple[TreeRange, ...], kconfig: tuple[str, ...],
                   ids: tuple[str, ...], vendor: str, whole: bool) -> dict:
    """The `kernel:` block of a new entry, holding only what differs from the defaults the
    kernel table target gives. An entry that takes only some of a row's ranges (a new erratum
    id of a known cpucap) becomes a row of its own, matched and enabled as the row is."""
    out: dict[str, Any] = {}
    title = f"{vendor} {'errata' if len(ids) > 1 else 'erratum'} {', '.join(ids)}"
    # A row without a desc (or with none the registry can hold) gets the title: the desc is only printed.
    if whole and row.desc != title and registry_text(row.desc):
        out["desc"] = registry_text(row.desc)
    table = row.table if whole or row.table in ("entries", "none") else "list"
    if table != default_table((r.part_mask, r.fixes) for r in ranges):
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


def _apart(ranges: tuple[TreeRange, ...] | list[TreeRange]) -> None:
    """Refuses, at the later one, two ranges of what becomes one entry that the registry cannot
    hold apart (validate's duplicate-range and overlapping-ranges): the same CPU and part mask,
    the same revisions, or overlapping ones no erratum id tells apart. The kernel matches
    either; the registry wants each CPU revision of an erratum written once."""
    for n, r in enumerate(ranges):
        for first in ranges[:n]:
            if (r.cpu.implementer, r.cpu.part, r.part_mask) != (first.cpu.implementer, first.cpu.part,
                                                                first.part_mask):
                continue
            shown = on_cpu_str(r.cpu.name, r.revisions, r.part_mask)
            if (r.low, r.high) == (first.low, first.high):
                raise cpu_errata.NotRecognised(r.pos, f"{shown} a second time in one erratum's ranges (first at line "
                                               f"{first.pos.line}): the registry holds each range once")
            if r.low <= first.high and first.low <= r.high and not (r.ids and first.ids
                                                                     and not set(r.ids) & set(first.ids)):
                raise cpu_errata.NotRecognised(r.pos, f"{shown} overlaps {first.revisions} (line {first.pos.line}) "
                                               "in one erratum's ranges, and no erratum id tells them apart: the "
                                               "registry holds each revision of a CPU once")


def _guard_held(row: TreeRow, ranges: tuple[TreeRange, ...], kconfig: tuple[str, ...], guard) -> None:
    """Refuses a row guard the registry cannot write for a new entry (validate's kernel-table):
    one that is neither one of its Kconfig options (its ranges' guards, else the erratum options
    selecting the row's guard) nor its own ARM64_<cpucap>. At the guard of the first range that
    has one, since those make the options; else at the row's."""
    own = f"ARM64_{row.cpucap}"
    wrong = [o for o in guard if o not in kconfig and o != own]
    if not wrong:
        return
    guarded = next((r for r in ranges if r.guard), None)
    at = row.guard_pos or row.pos
    if guarded is not None:
        raise cpu_errata.NotRecognised(
            guarded.guard_pos or guarded.pos, f"a range of {own} guarded by {' || '.join(guarded.guard)}, in a row "
            f"guarded by {' || '.join(row.guard)} (line {at.line}): the registry takes the row's Kconfig options "
            f"from its ranges' guards ({', '.join(kconfig)}), and {', '.join(wrong)} is neither one of them nor "
            f"{own}")
    raise cpu_errata.NotRecognised(
        at, f"{own}'s row guarded by {', '.join(wrong)}, which is neither one of its Kconfig options "
        f"({', '.join(kconfig)}) nor {own}: the registry guards a row by its erratum options or its own cpucap's")


def _errata_of(entries: list[Erratum]) -> tuple[set[str], set[str]]:
    """What a cpucap's bits work around: their erratum ids, else their Kconfig options."""
    ids = {i for e in entries for i in e.errata_ids if i != "N/A"}
    options = {k for e in entries for k in e.kconfig}
    return (ids or options), ids | options


def _row_errata(row: TreeRow, facts: Facts) -> set[str]:
    ids = {i for r in row.ranges for i in r.ids if i != "N/A"}
    return ids | set(_kconfig(row.ranges, row.guard, facts))


def parse_renames(pairs: list[str]) -> dict[str, str]:
    """--rename OLD=NEW, repeatable: OLD -> NEW, each cpucap without ARM64_. Raises BadRename."""
    out: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        old, new = old.removeprefix("ARM64_"), new.removeprefix("ARM64_")
        if not sep or not old or not new:
            raise BadRename(f"--rename {pair}: expected OLD=NEW, two cpucaps")
        if out.get(old, new) != new:
            raise BadRename(f"--rename {pair}: {old} is already renamed to {out[old]}")
        out[old] = new
    return out


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
        _apart(ranges)
        ids = tuple(dict.fromkeys(i for r in ranges for i in r.ids)) or ("N/A",)
        kconfig = _kconfig(ranges, row.guard, facts)
        vendor = _vendor(ids, kconfig, ranges, facts)
        kernel = _kernel_fields(row, ranges, kconfig, ids, vendor, whole)
        if whole:
            _guard_held(row, ranges, kconfig, kernel.get("guard") or ())
        if after is not None:
            kernel["after"] = after
        condition = (f"{row.matcher}() in the kernel agrees, beyond the MIDR match"
                     if row.matcher not in DEFAULT_MATCHERS.values() else None)
        return NewEntry(name, next_bit(row.pos), vendor, ids, _description(kconfig, row, facts), kconfig,
                        ranges, cpucap, condition, kernel)

    for row in facts.rows:
        if isinstance(row, TreeNotCovered):
            if row.refused is not None and row.cpucap not in not_covered:
                raise cpu_errata.NotRecognised(row.pos, row.refused)
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
            _apart(mine[e.name])
            gained = tuple(_describe(r, names) for r in mine[e.name] if r.key not in old)
            lost_keys = [k for k in old if k not in new]
            lost = tuple(on_cpu_str(a.cpu.name, a.revisions, a.part_mask)
                         for a, k in zip(e.affects, old) if k in lost_keys)
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
            chain = chain_after(main, renamed, facts)
            if len(chain) > 1:
                entry = replace(entry, cpucap="", cpucap_names=chain)
            added.append(entry)
            used_names.add(name)
            in_row |= {id(r) for r in ranges}
        previous = last_erratum = main.name
    in_tree = {r.cpucap for r in facts.rows} | {r.old for r in renamed}
    absent += [e.name for e in upstream if not set(e.cpucaps) & in_tree]
    speculated = _speculated(reg, facts.speculation)
    if speculated is not None and speculated.write:
        for lst in speculated.lists.lists:
            for r in lst.ranges:
                if (r.cpu.implementer, r.cpu.part) not in known_cpus:
                    new_cpus.setdefault((r.cpu.implementer, r.cpu.part), r.cpu)
    return Plan(tuple(added), tuple(changed), tuple(unchanged), tuple(sorted(absent)),
                tuple(new_cpus.values()), tuple(new_nc), _shared(upstream, added), tuple(rows), renamed,
                speculated)


def _speculated(reg: Registry, lists: TreeSpeculation | None) -> Speculated | None:
    """The tree's speculation lists replace the registry's, unless the registry follows a newer
    kernel: an older tree's lists would take back what a newer kernel added."""
    if lists is None:
        return None
    ours = reg.speculation
    if ours is None:
        return Speculated(lists, True)
    try:
        older = version_key(lists.linux) < version_key(ours.linux)
    except ValueError:  # a Makefile whose VERSION is no number: its lists are read all the same
        older = False
    if older:
        return Speculated(lists, False, kept=f"{speculation.FILE} follows Linux {ours.linux}, newer than this tree")
    found = speculation.changes(ours, lists, reg.cpus)
    return Speculated(lists, bool(found) or lists.linux != ours.linux, found)


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
    chains[new] = [*chain, {"name": new, "seen_in": facts.seen_in}]
    return chains


def chain_after(e: Erratum, renamed: tuple[Renamed, ...], facts: Facts) -> tuple[dict, ...]:
    """The cpucap names of an entry once the import is done, as the registry writes them."""
    chain = [_name_dict(n) for n in e.cpucap_names] or [{"name": e.enables}]
    chain += [{"name": r.new, "seen_in": facts.seen_in} for r in renamed if e in r.entries]
    return tuple(chain)


def _row_change(e: Erratum, row: TreeRow, facts: Facts) -> NewRow | None:
    """How the tree writes the row of a cpucap that one entry holds, where the entry's
    `kernel:` fields say otherwise."""
    k = e.kernel
    # The row's guard as this tree names it: an older tree has the older name of a renamed symbol.
    chains = {key: tuple(n.name for n in chain) for key, chain in k.kconfig_names}
    named = tuple(newest_in(chains[o], facts.options) or o if o in chains else o for o in (k.guard or e.kconfig))
    ranges_default = default_table((r.part_mask, r.fixes) for r in row.ranges)
    table = (k.table, row.table, None if row.table == ranges_default else row.table)
    # A row without a desc the registry can hold prints the entry's title, as the generated table does.
    tree_desc = row.desc if registry_text(row.desc) else e.title
    desc = (k.desc or e.title, tree_desc, None if tree_desc == e.title else registry_text(tree_desc))
    explicit = None if row.matcher == DEFAULT_MATCHERS.get(row.table) else row.matcher
    matcher = (k.matcher, explicit, explicit)
    kind = (k.type or LOCAL_CPU_ERRATUM, row.type, None if row.type == LOCAL_CPU_ERRATUM else row.type)
    guard = (named, row.guard,
             None if set(row.guard) == set(e.kconfig) or not row.guard else list(row.guard))
    exported = (k.exported, bool(row.exported_list), True if row.exported_list else None)
    chains = _guard_renamed(e, row, facts)
    fields, shown = [], []
    for name, (now, tree, value) in {"table": table, "desc": desc, "matcher": matcher, "type": kind,
                                     "exported": exported,
                                     "cpu_enable": (k.cpu_enable, row.cpu_enable, row.cpu_enable),
                                     "guard": guard}.items():
        same = set(now) == set(tree) if name == "guard" else now == tree
        if not same:
            fields.append((name, value))
            renamed = " (renamed)" if name == "guard" and chains is not None else ""
            shown.append(f"{name} {_field(now)} -> {_field(tree)}{renamed}")
    if chains is not None:
        fields.append(("kconfig_names", chains))
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
