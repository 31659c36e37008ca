"""Classify every change between a registry at a git ref and now: breaking, needs review, safe.

compare() is pure: two models in, a list of changes out. Each change says what changed, where
(now and at the ref) and how to fix it. The rules, by level, are listed in docs/stability.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Iterator

from .diagnostics import Pos, escape, github_annotation
from .model import RESERVED, UNREVIEWED, Affects, Erratum, Registry, impact_rank, on_cpu_str, revision_set_str
from .validate import allowed_bits, in_allowed_bits


class Level(str, Enum):
    BREAKING = "breaking"
    REVIEW = "needs review"
    SAFE = "safe"


@dataclass(frozen=True, order=True)
class Change:
    level_rank: int
    rule: str
    message: str
    now: Pos | None
    then: Pos | None
    fix: str
    level: Level

    def where(self) -> str:
        return str(self.now or self.then)


_RANK = {Level.BREAKING: 0, Level.REVIEW: 1, Level.SAFE: 2}


def _change(level: Level, rule: str, message: str, now: Pos | None, then: Pos | None,
            fix: str = "") -> Change:
    return Change(_RANK[level], rule, message, now, then, fix, level)


def _key(a: Affects) -> tuple:
    return (a.cpu.implementer.code, a.cpu.part, a.part_mask, a.cpu.id)


def _coverage(affects: tuple[Affects, ...]) -> dict[tuple, set[tuple[int, int, frozenset]]]:
    """Per (CPU model, part mask): the set of (rv, REVIDR fixes on that rv) the entry matches."""
    out: dict[tuple, set] = {}
    for a in affects:
        key = _key(a)
        for v in range(a.low[0], a.high[0] + 1):
            lo = a.low[1] if v == a.low[0] else 0
            hi = a.high[1] if v == a.high[0] else 15
            for r in range(lo, hi + 1):
                fixes = frozenset(f.mask for f in a.revidr_fixes if f.revision == (v, r))
                out.setdefault(key, set()).add((v, r, fixes))
    return out


def _affects_changes(o: Erratum, n: Erratum) -> Iterator[Change]:
    if o.affects == n.affects:
        return
    old, new = _coverage(o.affects), _coverage(n.affects)
    # CPUs by the registry's names, as import reports the same change (a renamed CPU by its new one).
    names = {_key(a): a.cpu.name for a in (*o.affects, *n.affects)}
    narrowed, widened, fixes_added = [], [], []
    for key in sorted(set(old) | set(new), key=str):
        before = {(v, r): f for v, r, f in old.get(key, ())}
        after = {(v, r): f for v, r, f in new.get(key, ())}
        lost = set(before) - set(after)
        gained = set(after) - set(before)
        fixed = {rev for rev in set(before) & set(after) if after[rev] - before[rev]}
        for revs, found in ((lost, narrowed), (gained, widened), (fixed, fixes_added)):
            if revs:
                found.append(on_cpu_str(names[key], revision_set_str(revs), key[2]))
    if narrowed:
        yield _change(Level.REVIEW, "ranges-narrowed",
                      f"'{n.name}' affects fewer CPUs: no longer {'; '.join(narrowed)}", n.where("affects"),
                      o.where("affects"), "check that the CPUs dropped really are not affected")
    if fixes_added:
        yield _change(Level.REVIEW, "revidr-fix-added",
                      f"'{n.name}' gained REVIDR fixes on {'; '.join(fixes_added)}", n.where("affects"),
                      o.where("affects"), "check the REVIDR bit against the vendor's erratum notice")
    if widened:
        yield _change(Level.SAFE, "ranges-widened", f"'{n.name}' affects more CPUs: now {'; '.join(widened)}",
                      n.where("affects"), o.where("affects"))


def _weight_changes(o: Erratum, n: Erratum) -> Iterator[Change]:
    """Whether `risk` counts an erratum, and how high it ranks it: a change that makes every
    operator's report quieter is one a reviewer checks."""
    if n.host_only and not o.host_only:
        yield _change(Level.REVIEW, "guest-host-only", f"'{n.name}' became host-only: risk no longer counts it in "
                      f"any migration ({n.guest_reason})", n.where("guest"), o.where("guest") if o.guest else None,
                      "check the kernel files its guest_reason cites")
    elif o.host_only and not n.host_only:
        yield _change(Level.SAFE, "guest-needed", f"'{n.name}' is needed by a guest again", n.where("guest"),
                      o.where("guest"))
    # From unreviewed, a person's first decision: the entry, not its level, was what to review.
    if o.impact and n.impact and o.impact != n.impact and o.impact != UNREVIEWED:
        lower = impact_rank(n.impact) > impact_rank(o.impact)
        yield _change(Level.REVIEW if lower else Level.SAFE, "impact-lowered" if lower else "impact-raised",
                      f"impact of '{n.name}' changed from {o.impact} to {n.impact}", n.where("impact"),
                      o.where("impact"), "check the help text of its Kconfig option" if lower else "")


def _entry_changes(old: Registry, new: Registry) -> Iterator[Change]:
    old_by_name = {e.name: e for e in old.errata}
    new_by_name = {e.name: e for e in new.errata}
    new_by_bit = {e.bit: e for e in new.errata}
    old_by_bit = {e.bit: e for e in old.errata}
    old_lock = {line.bit: line for line in old.lock}
    for o in old.errata:
        n = new_by_name.get(o.name)
        if n is None:
            taker = new_by_bit.get(o.bit)
            if taker is not None and taker.name not in old_by_name:
                continue  # reported once, as a reused bit, below
            yield _change(Level.BREAKING, "entry-removed",
                          f"'{o.name}' (bit {o.bit}) was removed without a retired tombstone",
                          None, o.where(), "restore the entry with `status: retired` and a "
                          "`retired:` block; a retired entry keeps its bit forever")
            continue
        if n.bit != o.bit:
            yield _change(Level.BREAKING, "bit-moved", f"'{o.name}' moved from bit {o.bit} to bit {n.bit}",
                          n.where("bit"), o.where("bit"), f"put it back at bit {o.bit}: a bit never moves")
        if n.vendor != o.vendor or sorted(n.errata_ids) != sorted(o.errata_ids):
            what = []
            if n.vendor != o.vendor:
                what.append(f"vendor '{o.vendor}' -> '{n.vendor}'")
            if sorted(n.errata_ids) != sorted(o.errata_ids):
                what.append(f"errata_ids {list(o.errata_ids)} -> {list(n.errata_ids)}")
            yield _change(Level.BREAKING, "identity-changed",
                          f"identity of '{o.name}' (bit {o.bit}) changed: {', '.join(what)}",
                          n.where("errata_ids"), o.where("errata_ids"),
                          "restore the identity; new erratum ids get an entry of their own at "
                          f"`errata-db next-bit`, with `cpucap: {o.enables}` to enable the same cpucap")
        if o.enables != n.enables and n.cpucaps[:len(o.cpucaps)] == o.cpucaps:
            # The old names are kept, oldest first: a tree that has one still gets it.
            yield _change(Level.SAFE, "cpucap-renamed",
                          f"bit {n.bit} ('{n.name}') enables ARM64_{n.enables}, the kernel's new name "
                          f"for ARM64_{o.enables}, which older trees keep",
                          n.where("cpucap_names"), o.where(o.cpucap_field),
                          "")
        elif o.enables != n.enables:
            # A kernel rename moves every bit of a cpucap to a name no entry used before; pointing
            # a bit at a cpucap another bit already enabled changes what the guest does for it.
            renamed = (n.enables not in {e.enables for e in old.errata}
                       and o.enables not in {e.enables for e in new.errata})
            yield _change(Level.REVIEW if renamed else Level.BREAKING, "cpucap-changed",
                          f"bit {n.bit} ('{n.name}') now enables ARM64_{n.enables}, not ARM64_{o.enables}",
                          n.where("cpucap"), o.where("cpucap"),
                          "check that the kernel renamed the cpucap" if renamed else
                          f"restore `cpucap: {o.enables}`: only a kernel rename, to a cpucap no bit "
                          "enabled before, may change it")
        if o.active and not n.active:
            yield _change(Level.REVIEW, "entry-retired", f"'{o.name}' (bit {o.bit}) was retired: "
                          f"{n.retired_reason}", n.where("status"), o.where("status"),
                          "check that no supported kernel still needs the workaround")
        elif not o.active and n.active:
            yield _change(Level.BREAKING, "entry-unretired", f"retired '{o.name}' (bit {o.bit}) was made active",
                          n.where("status"), o.where("status"),
                          "a retired bit stays retired: add a new entry at `errata-db next-bit`")
        if n.bit == o.bit:
            yield from _affects_changes(o, n)
        yield from _weight_changes(o, n)
        for attr, label in (("description", "description"), ("kconfig", "Kconfig symbols"), ("note", "note"),
                            ("condition", "condition")):
            if getattr(o, attr) != getattr(n, attr):
                yield _change(Level.SAFE, f"{attr}-changed", f"{label} of '{n.name}' changed",
                              n.where(attr), o.where(attr))
    for n in new.errata:
        if n.name in old_by_name:
            continue
        prev = old_by_bit.get(n.bit) or old_lock.get(n.bit)
        if prev is not None:
            status = getattr(prev, "status", "active")
            yield _change(Level.BREAKING, "bit-reused",
                          f"bit {n.bit} was '{prev.name}' ({status}) at the base and is now given to '{n.name}'",
                          n.where("bit"), prev.where("bit") if isinstance(prev, Erratum) else prev.where(),
                          "give the new entry the bit `errata-db next-bit` prints; bits are never reused")
        else:
            yield _change(Level.SAFE, "entry-added", f"new entry '{n.name}' at never-used bit {n.bit}",
                          n.where("bit"), None)
    for n in new.errata:
        o = old_by_name.get(n.name)
        if not in_allowed_bits(new, n) and (o is None or in_allowed_bits(old, o)):
            yield _change(Level.BREAKING, "owner-range",
                          f"'{n.name}' (bit {n.bit}) is outside the bits {allowed_bits(new, n)[1]} may use",
                          n.where("bit"), o.where("bit") if o else None,
                          "keep bits and ranges as they were; ranges can grow, never shrink")


def _lock_changes(old: Registry, new: Registry) -> Iterator[Change]:
    new_lock = {(line.origin, line.bit): line for line in new.lock}
    for line in old.lock:
        now = new_lock.get((line.origin, line.bit))
        if now is None:
            yield _change(Level.BREAKING, "lock-line-deleted", f"lock line for bit {line.bit} ('{line.name}') was deleted",
                          None, line.where(), "restore the line: bits.lock is append-only")
        elif (now.name, now.fingerprint) != (line.name, line.fingerprint):
            yield _change(Level.BREAKING, "lock-line-edited",
                          f"lock line for bit {line.bit} changed from '{line.name}' {line.fingerprint} "
                          f"to '{now.name}' {now.fingerprint}", now.where(), line.where(),
                          "restore the line: a locked bit never changes meaning")
        elif line.status == "retired" and now.status == "active":
            yield _change(Level.BREAKING, "lock-line-edited", f"lock line for bit {line.bit} went from retired to active",
                          now.where(), line.where(), "restore the line: a retired bit stays retired")


def _cpu_changes(old: Registry, new: Registry) -> Iterator[Change]:
    new_cpus = {c.id: c for c in new.cpus}
    for c in old.cpus:
        n = new_cpus.get(c.id)
        if n is None:
            continue
        if (n.implementer.code, n.part, n.macro) != (c.implementer.code, c.part, c.macro):
            yield _change(Level.BREAKING, "cpu-changed",
                          f"CPU '{c.id}' changed from implementer {c.implementer.code:#x} part {c.part:#x} "
                          f"({c.macro}) to implementer {n.implementer.code:#x} part {n.part:#x} "
                          f"({n.macro})", n.where("part"),
                          c.where("part"), "a CPU id always names the same silicon: add a new CPU instead")


def _layout_changes(old: Registry, new: Registry) -> Iterator[Change]:
    """The wire format and the bit ranges: what every bit's position and ownership rests on."""
    if (old.registers, old.register_bits) != (new.registers, new.register_bits):
        yield _change(Level.BREAKING, "bit-space-changed",
                      f"bit space changed from {list(old.registers)} x {old.register_bits} to "
                      f"{list(new.registers)} x {new.register_bits}", new.where("bit_space"),
                      old.where("bit_space"),
                      "restore bit_space: every bit's register and position depends on it")
    if old.hypercall_name != new.hypercall_name:
        yield _change(Level.BREAKING, "hypercall-changed",
                      f"hypercall changed from {old.hypercall_name} to {new.hypercall_name}",
                      new.where("hypercall"), old.where("hypercall"),
                      "restore the hypercall name: guests and KVM agree on it")
    new_ranges = {r.name: r for r in new.ranges}
    for r in old.ranges:
        n = new_ranges.get(r.name)
        if r.status == RESERVED:
            continue  # reserved bits may be handed to a range; that takes nothing from anyone
        if n is None or n.owner != r.owner or n.first > r.first or n.last < r.last:
            now = f"{n.first}..{n.last} owned by {n.owner}" if n else "removed"
            yield _change(Level.BREAKING, "range-changed",
                          f"range '{r.name}' ({r.first}..{r.last} owned by {r.owner}) is now {now}",
                          n.where() if n else None, r.where(),
                          "a range may grow into reserved space, but never shrink or change owner")


def compare(old: Registry, new: Registry) -> list[Change]:
    return sorted(set([*_entry_changes(old, new), *_lock_changes(old, new), *_cpu_changes(old, new),
                       *_layout_changes(old, new)]),
                  key=lambda c: (c.level_rank, str(c.now or c.then), c.rule, c.message))


def has_breaking(changes: list[Change]) -> bool:
    return any(c.level is Level.BREAKING for c in changes)


# --- output --------------------------------------------------------------------------------


def _summary(changes: list[Change], base: str) -> str:
    counts = {lvl: sum(c.level is lvl for c in changes) for lvl in Level}
    return (f"{counts[Level.BREAKING]} breaking, {counts[Level.REVIEW]} need review, "
            f"{counts[Level.SAFE]} safe change(s) against {base}")


def _text(changes: list[Change], base: str) -> str:
    lines = []
    for c in changes:
        then = f" (was {c.then})" if c.then and c.now else ""
        fix = f"; fix: {c.fix}" if c.fix and c.level is not Level.SAFE else ""
        lines.append(f"{c.where()}: {c.level.value}: {c.message}{then}{fix} [{c.rule}]")
    lines.append(_summary(changes, base))
    return "\n".join(escape(line) for line in lines) + "\n"


def _json(changes: list[Change], base: str) -> str:
    rows = [{"level": c.level.value, "rule": c.rule, "message": c.message,
             "now": str(c.now) if c.now else None, "then": str(c.then) if c.then else None,
             "fix": c.fix or None} for c in changes]
    return json.dumps({"base": base, "breaking": has_breaking(changes), "changes": rows}, indent=2) + "\n"


def _github(changes: list[Change], base: str) -> str:
    kind = {Level.BREAKING: "error", Level.REVIEW: "warning", Level.SAFE: "notice"}
    lines = []
    for c in changes:
        text = f"{c.level.value}: {c.message}" + (f". Fix: {c.fix}" if c.fix and c.level is not Level.SAFE else "")
        lines.append(github_annotation(kind[c.level], c.now or c.then, c.rule, text))
    lines.append(_summary(changes, base))
    return "\n".join(lines) + "\n"


def _markdown(changes: list[Change], base: str) -> str:
    icon = {Level.BREAKING: "Breaking", Level.REVIEW: "Needs review", Level.SAFE: "Safe"}
    out = [f"### errata-db stability against `{base}`", "", _summary(changes, base) + ".", ""]
    for lvl in Level:
        rows = [c for c in changes if c.level is lvl]
        if not rows:
            continue
        out += [f"#### {icon[lvl]} ({len(rows)})", "", "| Where | Change | Fix |", "|---|---|---|"]
        for c in rows:
            where = f"`{c.where()}`"
            msg = c.message.replace("|", "\\|")
            out.append(f"| {where} | {msg} (`{c.rule}`) | {c.fix.replace('|', chr(92) + '|') if lvl is not Level.SAFE else ''} |")
        out.append("")
    if not changes:
        out.append("No bit moved, vanished, changed meaning or was reused.")
    return "\n".join(escape(line) for line in out).rstrip() + "\n"


FORMATS = {"text": _text, "json": _json, "github": _github, "markdown": _markdown}
