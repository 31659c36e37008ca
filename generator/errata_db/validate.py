"""Semantic rules over the model, as a table: rule name -> (check, severity).

Each check is a generator of (position, message) pairs; the rule name goes into every
diagnostic so that users can find the rule here and in docs/registry-format.md.
"""

from __future__ import annotations

import re
import shlex
from typing import Callable, Iterator

from .diagnostics import Diagnostic, Finding, Pos, Severity, capped_findings
from .load import quoted
from .lock import erratum_fingerprint
from .model import (KRYO_PART_MASK, LOOP, PRIVATE_USE, UNREVIEWED, UPSTREAM, Affects, Erratum, Located,
                    LockLine, Registry, kernel_table_rows, rev_str, row_name, rv, version_key, with_joined)
from .speculation import LIST_KINDS

Check = Callable[[Registry], Iterator[Finding]]

C_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# An entry's name is upper case: generated C identifiers lowercase it, so a mixed-case name
# could collide with another one.
ENTRY_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
# A cpucap is what arch/arm64/tools/gen-cpucaps.awk accepts (WORKAROUND_GICv3_BROKEN_SEIS).
CPUCAP_NAME = re.compile(r"[vA-Z0-9_]+")
CPUCAP_RULE = "as arch/arm64/tools/cpucaps writes them (A-Z, 0-9, _ and v)"


def _chain_problems(chain, what: str) -> Iterator[str]:
    """A chain of names is read oldest first: each later name says from which kernel, in order."""
    for dup, _ in _first_seen(chain, lambda n: n.name):
        yield f"{what} {quoted(dup.name)} is listed twice"
    for older, newer in zip(chain, chain[1:]):
        if newer.version is None:
            yield (f"{what} {quoted(newer.name)} follows {quoted(older.name)}: say from which kernel, "
                   "with since: (the first version that uses it) or seen_in: (a version that does)")
        elif older.version is not None and version_key(newer.version) < version_key(older.version):
            yield (f"{what} {quoted(newer.name)} ({newer.version}) is listed after {quoted(older.name)} "
                   f"({older.version}): names are listed oldest first")


def cpucap_names(reg: Registry) -> Iterator[Finding]:
    """A name means one cpucap: the chain of names of every bit that enables it is the same,
    so that a tree's name leads to one cpucap, whatever the kernel version."""
    chains: dict[str, tuple[Erratum, tuple[str, ...]]] = {}
    for e in reg.errata:
        for problem in _chain_problems(e.cpucap_names, "cpucap"):
            yield e.where("cpucap_names"), problem
        for key, chain in e.kernel.kconfig_names:
            if chain[-1].name != key:
                yield (e.where("kconfig_names"), f"kconfig_names {quoted(key)} must list {quoted(key)} last, as "
                       f"the newest name; it lists {quoted(chain[-1].name)}")
            # install renames the guards it writes: the row's and the ranges'.
            used = set(e.kernel.guard or ()) | {g for a in e.affects for g in a.guard}
            if key not in used:
                yield (e.where("kconfig_names"), f"kconfig_names {quoted(key)}: no guard of '{e.name}' uses "
                       "that symbol")
            for problem in _chain_problems(chain, "Kconfig symbol"):
                yield e.where("kconfig_names"), problem
        names = e.cpucaps
        for name in dict.fromkeys(names):
            first = chains.setdefault(name, (e, names))
            if first[1] != names:
                other = first[0]
                yield (e.where(e.cpucap_field),
                       f"cpucap name {quoted(name)} of '{e.name}' (names: {', '.join(names)}) is also a "
                       f"name of '{other.name}' at {other.where()} (names: {', '.join(first[1])}): a name "
                       "means one cpucap; give every bit of a cpucap the same cpucap_names")


def _first_seen(items, key) -> Iterator[tuple[object, object]]:
    """Yield (later, first) for every item whose key an earlier item already had."""
    seen: dict = {}
    for item in items:
        k = key(item)
        if k in seen:
            yield item, seen[k]
        else:
            seen[k] = item


def duplicate_name(reg: Registry) -> Iterator[Finding]:
    for e, first in _first_seen(reg.errata, lambda e: e.name):
        yield e.where("name"), f"name '{e.name}' is already used by the erratum at {first.where('name')}"


def _moved(reg: Registry) -> dict[tuple[str, str], LockLine]:
    """(origin, name) -> lock line of every entry the lock holds at another bit than it has now."""
    locked: dict[tuple[str, str], LockLine] = {}
    for line in reg.lock:
        locked.setdefault((line.origin, line.name), line)
    return {(e.origin, e.name): locked[(e.origin, e.name)] for e in reg.errata
            if (e.origin, e.name) in locked and locked[(e.origin, e.name)].bit != e.bit}


def duplicate_bit(reg: Registry) -> Iterator[Finding]:
    moved = _moved(reg)
    locked = {(line.origin, line.name, line.bit) for line in reg.lock}
    sharing: dict[int, list[Erratum]] = {}
    for e in reg.errata:
        sharing.setdefault(e.bit, []).append(e)
    for entries in sharing.values():
        # The entry bits.lock gives the bit to keeps it, wherever it sorts: the advice
        # (next-bit) goes to the others, and following it must never move a locked bit.
        holders = [e for e in entries if (e.origin, e.name, e.bit) in locked]
        owner = holders[0] if len(holders) == 1 else entries[0]
        for e in entries:
            if e is owner:
                continue
            if (e.origin, e.name) in moved or (owner.origin, owner.name) in moved:
                continue  # the move is the cause, reported by the lock rule with the fix (move it back)
            yield (e.where("bit"), f"bit {e.bit} of '{e.name}' is already given to '{owner.name}' "
                   f"at {owner.where('bit')}; run `errata-db next-bit` for a free bit")


def duplicate_erratum_id(reg: Registry) -> Iterator[Finding]:
    owner: dict[tuple[str, str], Erratum] = {}
    for e in reg.errata:
        for eid in dict.fromkeys(e.errata_ids):
            key = (e.vendor.lower(), eid)
            first = owner.get(key)
            if first is None:
                owner[key] = e
            elif first.name not in e.shares_ids_with:
                yield (e.where("errata_ids"), f"{e.vendor} erratum id '{eid}' of '{e.name}' is already "
                       f"listed by '{first.name}' at {first.where('errata_ids')}; if both cpucaps "
                       "really work around it, name each other in shares_ids_with")
        for dup, _ in _first_seen(e.errata_ids, lambda x: x):
            yield e.where("errata_ids"), f"erratum id '{dup}' is listed twice in '{e.name}'"


def shares_ids_with(reg: Registry) -> Iterator[Finding]:
    by_name = {e.name: e for e in reg.errata}
    for e in reg.errata:
        for other in e.shares_ids_with:
            peer = by_name.get(other)
            if peer is None:
                yield e.where("shares_ids_with"), f"shares_ids_with names unknown erratum '{other}'"
            elif e.name not in peer.shares_ids_with:
                yield (e.where("shares_ids_with"), f"'{e.name}' shares ids with '{other}', but "
                       f"'{other}' does not list '{e.name}' in its shares_ids_with")
            elif not set(e.errata_ids) & set(peer.errata_ids):
                yield e.where("shares_ids_with"), f"'{e.name}' and '{other}' share no erratum id"


def bit_space(reg: Registry) -> Iterator[Finding]:
    for e in reg.errata:
        if not 0 <= e.bit < reg.bit_count:
            yield (e.where("bit"), f"bit {e.bit} of '{e.name}' is outside the bit space "
                   f"0..{reg.bit_count - 1} ({len(reg.registers)} registers x {reg.register_bits} bits)")


def allowed_bits(reg: Registry, e: Erratum) -> tuple[list[tuple[int, int]], str]:
    """The (first, last) spans an erratum's owner may give bits from, and who that owner is."""
    if e.origin == UPSTREAM:
        return [(r.first, r.last) for r in reg.ranges if r.owner == UPSTREAM], "upstream errata"
    who = f"overlay '{e.origin}'"
    ov = next((o for o in reg.overlays if o.owner == e.origin), None)
    rng = next((r for r in reg.ranges if ov is not None and r.name == ov.range
                and r.status == PRIVATE_USE), None)
    if rng is None:
        return [], who
    if ov.first is not None:
        return [(max(ov.first, rng.first), min(ov.last, rng.last))], who
    return [(rng.first, rng.last)], who


def in_allowed_bits(reg: Registry, e: Erratum) -> bool:
    return any(first <= e.bit <= last for first, last in allowed_bits(reg, e)[0])


def owner_range(reg: Registry) -> Iterator[Finding]:
    for e in reg.errata:
        if not 0 <= e.bit < reg.bit_count or in_allowed_bits(reg, e):
            continue
        spans, who = allowed_bits(reg, e)
        span = ", ".join(f"{first}..{last}" for first, last in spans) or "no bits (no range is theirs)"
        actual = reg.range_of(e.bit)
        inside = f"in range '{actual.name}' ({actual.status})" if actual else "in no range"
        yield e.where("bit"), f"bit {e.bit} of '{e.name}' is {inside}; {who} may only use {span}"


def range_layout(reg: Registry) -> Iterator[Finding]:
    for r in reg.ranges:
        if r.first > r.last:
            yield r.where("first"), f"range '{r.name}' starts at {r.first}, after its last bit {r.last}"
        if r.last >= reg.bit_count:
            yield r.where("last"), f"range '{r.name}' ends at {r.last}, outside the bit space 0..{reg.bit_count - 1}"
    ordered = sorted(reg.ranges, key=lambda r: r.first)
    for a, b in zip(ordered, ordered[1:]):
        if b.first <= a.last:
            yield b.where("first"), f"range '{b.name}' overlaps range '{a.name}' ({a.first}..{a.last})"
    for r, first in _first_seen(reg.ranges, lambda r: r.name):
        yield r.where("name"), f"range name '{r.name}' is already used at {first.where('name')}"


def field_widths(reg: Registry) -> Iterator[Finding]:
    for imp in reg.implementers:
        if imp.code > 0xFF:
            yield imp.where("code"), f"implementer code {imp.code:#x} of '{imp.id}' does not fit in 8 bits (max 0xff)"
    for cpu in reg.cpus:
        if cpu.part > 0xFFF:
            yield cpu.where("part"), f"part number {cpu.part:#x} of '{cpu.id}' does not fit in 12 bits (max 0xfff)"
    for e in reg.errata:
        for a in e.affects:
            revs = (a.low, a.high, *(f.revision for f in a.revidr_fixes))
            if max(map(max, revs)) > 0xF:  # rarely: only then find which, once each
                for rev in dict.fromkeys(revs):
                    for value, what in ((rev[0], "variant"), (rev[1], "revision")):
                        if value > 0xF:
                            yield (a.where("revisions"), f"{what} {value} in {rev_str(rev)} of '{e.name}' "
                                   "does not fit in 4 bits (max 15)")
            if a.part_mask is not None and not 0 < a.part_mask <= 0xFFF:
                yield a.where("part_mask"), f"part_mask {a.part_mask:#x} of '{e.name}' must be within 0x1..0xfff"
            elif a.part_mask is not None and a.cpu.part & ~a.part_mask:
                yield (a.where("part_mask"), f"part {a.cpu.part:#x} of '{a.cpu.id}' has bits outside "
                       f"part_mask {a.part_mask:#x}: the kernel compares the masked MIDR with the CPU's "
                       "whole model, so it would never match; name the family's base part")


def revision_order(reg: Registry) -> Iterator[Finding]:
    for e in reg.errata:
        yield from capped_findings(f"'{e.name}'", "ranges with bounds out of order", (
            (a.where("revisions"), f"lower bound {rev_str(a.low)} is above upper bound "
             f"{rev_str(a.high)} in '{e.name}'")
            for a in e.affects if rv(a.low) > rv(a.high)))


def duplicate_range(reg: Registry) -> Iterator[Finding]:
    for e in reg.errata:
        key = lambda a: (a.cpu.id, a.low, a.high, a.part_mask)  # noqa: E731
        yield from capped_findings(f"'{e.name}'", "ranges listed twice", (
            (a.where(), f"'{e.name}' lists {a.cpu.id} {a.revisions} twice (first at {first.where()})")
            for a, first in _first_seen(e.affects, key)))


def _every(_a: Affects) -> bool:
    return True


def _overlapping(ranges: list[tuple[int, Affects]], reaches: Callable[[Affects], bool] = _every,
                 checked: Callable[[Affects], bool] = _every) -> Iterator[tuple[int, Affects, int, Affects]]:
    """Some overlapping pairs of (file order, range) among ranges of one CPU and part mask:
    every checked range that overlaps an earlier-starting range that reaches is in a pair.
    Ranges with the same bounds never pair (that is duplicate-range's business).

    A sweep in order of the lower bound keeps the range reaching furthest so far: a range
    overlaps an earlier-starting one exactly when it starts before that reach ends. Sorting,
    not comparing every two: a thousand ranges on one CPU make a thousand checks, not half a
    million pairs.
    """
    ordered = sorted(ranges, key=lambda r: (r[1].rv_min, r[1].rv_max, r[0]))
    reach: tuple[int, Affects] | None = None
    group_start = 0
    for i, (n, a) in enumerate(ordered):
        if i and (a.rv_min, a.rv_max) != (ordered[i - 1][1].rv_min, ordered[i - 1][1].rv_max):
            # The previous bounds are now all earlier-starting, distinct from these.
            for m, b in ordered[group_start:i]:
                if reaches(b) and (reach is None or b.rv_max > reach[1].rv_max):
                    reach = (m, b)
            group_start = i
        if reach is not None and reach[1].rv_max >= a.rv_min and checked(a):
            yield n, a, reach[0], reach[1]


def _without_ids(a: Affects) -> bool:
    return not a.errata_ids


def overlapping_ranges(reg: Registry) -> Iterator[Finding]:
    for e in reg.errata:
        # Two ranges conflict when they overlap and errata_ids do not tell them apart: one of
        # them has none, or they share one. So: all ranges of a CPU and mask, checked against
        # the ranges without ids, and the ranges carrying each id, checked among themselves.
        groups: dict[tuple, list[tuple[int, Affects]]] = {}
        for n, a in enumerate(e.affects):
            groups.setdefault((a.cpu.id, a.part_mask, None), []).append((n, a))
            for eid in dict.fromkeys(a.errata_ids):
                groups.setdefault((a.cpu.id, a.part_mask, eid), []).append((n, a))
        pairs: set[tuple[int, int]] = set()
        found: list[tuple[int, Affects, Affects]] = []
        for (_, _, eid), ranges in groups.items():
            sweeps = [_overlapping(ranges)] if eid is not None else [
                _overlapping(ranges, reaches=_without_ids), _overlapping(ranges, checked=_without_ids)]
            for n, a, m, b in (pair for sweep in sweeps for pair in sweep):
                later, earlier = ((n, a), (m, b)) if n > m else ((m, b), (n, a))
                if (later[0], earlier[0]) not in pairs:
                    pairs.add((later[0], earlier[0]))
                    found.append((later[0], later[1], earlier[1]))
        yield from capped_findings(f"'{e.name}'", "overlapping ranges", (
            (a.where(), f"{a.cpu.id} {a.revisions} overlaps {b.revisions} (at {b.where()}) "
             f"in '{e.name}': merge them, or give each the errata_ids it comes from")
            for _, a, b in sorted(found, key=lambda f: f[0])))


def range_errata_ids(reg: Registry) -> Iterator[Finding]:
    for e in reg.errata:
        yield from capped_findings(f"'{e.name}'", "unknown range errata_ids", (
            (a.where("errata_ids"), f"erratum id '{eid}' is not one of '{e.name}' errata_ids")
            for a in e.affects for eid in a.errata_ids if eid not in e.errata_ids))


def _revidr_fixes(e: Erratum) -> Iterator[Finding]:
    for a in e.affects:
        for f in a.revidr_fixes:
            if f.mask == 0:
                yield f.where("mask"), "REVIDR fix mask is 0: it would never apply"
            elif f.mask > 0xFFFFFFFF:
                yield f.where("mask"), f"REVIDR fix mask {f.mask:#x} is wider than 32 bits"
            if not a.rv_min <= f.rv <= a.rv_max:
                yield (f.where("revision"), f"REVIDR fix on {rev_str(f.revision)}, which "
                       f"'{e.name}' does not affect on {a.cpu.id} ({a.revisions})")


def revidr_fixes(reg: Registry) -> Iterator[Finding]:
    for e in reg.errata:
        yield from capped_findings(f"'{e.name}'", "REVIDR fix problems", _revidr_fixes(e))


def c_identifiers(reg: Registry) -> Iterator[Finding]:
    for e in reg.errata:
        if not ENTRY_NAME.fullmatch(e.name):
            yield (e.where("name"), f"name {quoted(e.name)} is not an upper-case C identifier "
                   "(A-Z, 0-9, _)")
        for field, cap in [("cpucap", e.cpucap)] + [("cpucap_names", n.name) for n in e.cpucap_names]:
            if cap and not CPUCAP_NAME.fullmatch(cap):
                yield e.where(field), f"cpucap {quoted(cap)} is not a cpucap name {CPUCAP_RULE}"
        for _, chain in e.kernel.kconfig_names:
            for n in chain:
                if not C_IDENT.fullmatch(n.name):
                    yield e.where("kconfig_names"), f"Kconfig symbol {quoted(n.name)} is not a C identifier"
        for k in e.kconfig:
            if not C_IDENT.fullmatch(k):
                yield e.where("kconfig"), f"Kconfig symbol '{k}' is not a C identifier"
    for item, fields in ([(i, ("macro",)) for i in reg.implementers]
                         + [(c, ("macro", "part_macro")) for c in reg.cpus]):
        for f in fields:
            value = getattr(item, f)
            if value is not None and not C_IDENT.fullmatch(value):
                yield item.where(f), f"{f} '{value}' is not a C identifier"


CPUCAP_PREFIX = "ARM64_"


def arm64_prefix(reg: Registry) -> Iterator[Finding]:
    """Names and cpucaps are written without ARM64_: the generated code adds it, and a name
    locked as ARM64_ARM64_... could never be fixed."""
    named = [(e.where, "name", "name", e.name) for e in reg.errata]
    named += [(e.where, "cpucap", "cpucap", e.cpucap) for e in reg.errata if e.cpucap]
    named += [(e.where, "cpucap_names", "cpucap", n.name) for e in reg.errata for n in e.cpucap_names]
    named += [(n.where, "cpucap", "not_covered cpucap", n.cpucap) for n in reg.not_covered]
    for where, field, what, value in named:
        if value.startswith(CPUCAP_PREFIX) and len(value) > len(CPUCAP_PREFIX):
            yield (where(field), f"{what} {quoted(value)} starts with {CPUCAP_PREFIX}, which the generated "
                   f"code adds (it would read {CPUCAP_PREFIX}{value}): write `{field}: "
                   f"{value[len(CPUCAP_PREFIX):]}`")


_UNSAFE = re.compile(r"[^\x20-\x7e]|\*/|/\*|\\")


def _texts(reg: Registry):
    """(where, field, what, text) of every free text; where(field) is looked up only for a
    text that breaks the rule."""
    for e in reg.errata:
        yield e.where, "description", "description", e.description
        yield e.where, "vendor", "vendor", e.vendor
        for eid in e.errata_ids:
            yield e.where, "errata_ids", "erratum id", eid
        for name, value in (("note", e.note), ("condition", e.condition), ("guest_reason", e.guest_reason),
                            ("impact_note", e.impact_note), ("since", e.retired_since),
                            ("reason", e.retired_reason), ("desc", e.kernel.desc)):
            if value is not None:
                yield e.where, name, name, value
    for c in reg.cpus:
        yield c.where, "name", "CPU name", c.name
        if c.note:
            yield c.where, "note", "CPU note", c.note
    for i in reg.implementers:
        yield i.where, "name", "implementer name", i.name
    for r in reg.ranges:
        yield r.where, "", "range description", r.description
    if isinstance(reg.where, Located):
        yield Located(reg.where.doc, (), ("hypercall",)), "description", "hypercall description", \
            reg.hypercall_description
    for o in reg.overlays:
        if o.description is not None:
            yield o.where, "description", "overlay description", o.description
    for n in reg.not_covered:
        yield n.where, "", "not_covered reason", n.reason
        if n.desc is not None:
            yield n.where, "desc", "kernel desc", n.desc


def safe_text(reg: Registry) -> Iterator[Finding]:
    for where, field, what, text in _texts(reg):
        m = _UNSAFE.search(text)
        if m:
            shown = repr(m.group(0))
            yield (where(field), f"{what} contains {shown}: text goes into C comments and strings, so it "
                   "must be printable ASCII without '/*', '*/' or backslashes")


def duplicate_cpus(reg: Registry) -> Iterator[Finding]:
    for c, first in _first_seen(reg.cpus, lambda c: c.id):
        yield c.where("id"), f"CPU id '{c.id}' is already defined at {first.where('id')}"
    for c, first in _first_seen(reg.cpus, lambda c: (c.implementer.code, c.part)):
        yield c.where("part"), f"CPU '{c.id}' has the same implementer and part as '{first.id}' at {first.where('part')}"
    for c, first in _first_seen(reg.cpus, lambda c: c.macro):
        yield c.where("macro"), f"CPU '{c.id}' has the same macro {c.macro} as '{first.id}' at {first.where('macro')}"
    for i, first in _first_seen(reg.implementers, lambda i: i.id):
        yield i.where("id"), f"implementer id '{i.id}' is already defined at {first.where('id')}"
    for i, first in _first_seen(reg.implementers, lambda i: i.code):
        yield i.where("code"), f"implementer code {i.code:#x} is already used by '{first.id}' at {first.where('code')}"


def unused_cpus(reg: Registry) -> Iterator[Finding]:
    if not reg.complete:
        return
    used = {a.cpu.id for e in reg.errata for a in e.affects}
    used |= {r.cpu for lst in (reg.speculation.lists if reg.speculation else ()) for r in lst.ranges}
    for c in reg.cpus:
        if c.id not in used and not c.note:
            yield c.where(), (f"CPU '{c.id}' is used by no erratum and no speculation list; remove it or add a note "
                              "saying why it is kept")


def overlay_rules(reg: Registry) -> Iterator[Finding]:
    for ov in reg.overlays:
        if ov.owner == UPSTREAM:
            yield ov.where("owner"), "an overlay cannot be owned by 'upstream'"
        rng = next((r for r in reg.ranges if r.name == ov.range), None)
        if rng is None or rng.status != PRIVATE_USE:
            private = ", ".join(r.name for r in reg.ranges if r.status == PRIVATE_USE) or "none"
            yield ov.where("range"), f"overlay range '{ov.range}' is not a Private Use range (those are: {private})"
        elif ov.first is not None and not (rng.first <= ov.first <= ov.last <= rng.last):
            yield ov.where("first"), f"overlay bits {ov.first}..{ov.last} are not inside range '{rng.name}' ({rng.first}..{rng.last})"
    claimed = [o for o in reg.overlays if o.first is not None]
    for i, a in enumerate(claimed):
        for b in claimed[:i]:
            if a.first <= b.last and b.first <= a.last:
                yield a.where("first"), f"overlay '{a.owner}' bits {a.first}..{a.last} clash with overlay '{b.owner}' ({b.root}/overlay.yaml, {b.first}..{b.last})"
    for o, first in _first_seen(reg.overlays, lambda o: o.owner):
        yield o.where("owner"), f"overlay owner '{o.owner}' is also the owner of {first.root}"
    upstream_cpus = {c.id for c in reg.cpus if c.origin == UPSTREAM}
    for c in reg.cpus:
        if c.origin != UPSTREAM and c.id in upstream_cpus:
            yield c.where("id"), f"overlay '{c.origin}' redefines upstream CPU '{c.id}'"


def _lock_command(reg: Registry, origin: str) -> str:
    """The command that writes origin's lock: overlays are named, or it would not touch theirs."""
    overlays = "".join(f" --overlay {shlex.quote(o.root)}" for o in reg.overlays if o.owner == origin)
    return f"errata-db lock{overlays}"


def _twice(lines: list[LockLine], by_bit: dict[int, LockLine]) -> Iterator[Finding]:
    for line in lines:
        if line.bit in by_bit:
            yield line.where(), f"bit {line.bit} appears twice in the lock (first at {by_bit[line.bit].where()})"
        by_bit[line.bit] = line


def lock_agrees(reg: Registry) -> Iterator[Finding]:
    for origin, path, exists in reg.lock_files:
        if not exists:
            yield Pos(path), f"{path} is missing: run `{_lock_command(reg, origin)}` to create it"
    by_bit = {}
    locks: dict[str, list[LockLine]] = {}
    for line in reg.lock:
        locks.setdefault(line.origin, []).append(line)
    for lines in locks.values():
        yield from capped_findings(lines[0].where().path, "bits locked twice", _twice(lines, by_bit))
    errata_bits = {e.bit for e in reg.errata}
    present = {o for o, _, exists in reg.lock_files if exists}
    moved = _moved(reg)
    holders = {(e.origin, e.name) for e in reg.errata if (e.origin, e.name) not in moved}
    for e in reg.errata:
        was = moved.get((e.origin, e.name))
        if was is not None:
            # The cause, reported at the entry: what the lock then says about either bit follows from it.
            yield (e.where("bit"), f"'{e.name}' moved from bit {was.bit} to bit {e.bit}: bits.lock "
                   f"({was.where()}) locks it at bit {was.bit}, and a bit never moves; put it back at "
                   f"bit {was.bit}")
            continue
        line = by_bit.get(e.bit)
        if line is None:
            if e.origin in present:
                yield (e.where("bit"), f"bit {e.bit} ('{e.name}') is not in bits.lock: "
                       f"run `{_lock_command(reg, e.origin)}`")
            continue
        if (line.origin, line.name) in holders and line.name != e.name:
            continue  # the locked entry still holds its bit: duplicate-bit reports this one
        if line.origin != e.origin:
            yield e.where("bit"), f"bit {e.bit} is locked by '{line.origin}' ({line.where()}), not '{e.origin}'"
        elif line.name == e.name and line.fingerprint != erratum_fingerprint(e):
            yield (e.where("errata_ids"), f"the identity of '{e.name}' (bit {e.bit}) changed: bits.lock "
                   f"({line.where()}) has fingerprint {line.fingerprint}, the registry's vendor and "
                   f"errata_ids give {erratum_fingerprint(e)}; restore them, and give new erratum ids "
                   f"an entry of their own at `errata-db next-bit`, with `cpucap: {e.enables}`")
        elif line.name != e.name:
            yield (e.where("bit"), f"bit {e.bit} is locked to '{line.name}' (fingerprint {line.fingerprint}, "
                   f"{line.where()}) but the registry gives it to '{e.name}' (fingerprint "
                   f"{erratum_fingerprint(e)}): a bit never changes meaning; restore the name, vendor "
                   "and errata_ids, or retire this bit and give the erratum a new one")
        elif line.status == "retired" and e.active:
            yield e.where("status"), f"bit {e.bit} ('{e.name}') is retired in bits.lock and cannot become active again"
        elif line.status == "active" and not e.active:
            yield e.where("status"), (f"bit {e.bit} ('{e.name}') is retired but bits.lock says active: "
                                      f"run `{_lock_command(reg, e.origin)}`")
    for lines in locks.values():
        yield from capped_findings(lines[0].where().path, "names locked twice", (
            (line.where(), f"'{line.name}' is locked at bit {first.bit} ({first.where()}) and again "
             f"at bit {line.bit}: a bit never moves, and a name keeps one bit")
            for line, first in _first_seen(lines, lambda x: x.name)))
    if not reg.complete:
        return
    for lines in locks.values():
        yield from capped_findings(lines[0].where().path, "bits no erratum has", (
            (line.where(), f"bit {line.bit} ('{line.name}') is in bits.lock but no erratum has it: "
             "restore the entry, with `status: retired` if it is gone")
            for line in lines if line.bit not in errata_bits and (line.origin, line.name) not in moved))


def not_covered(reg: Registry) -> Iterator[Finding]:
    """A cpucap is either carried by bits or decided by the guest alone, never both."""
    enabled = {}
    for e in reg.errata:
        for name in e.cpucaps:
            enabled.setdefault(name, e)
    for n, first in _first_seen(reg.not_covered, lambda n: n.cpucap):
        yield n.where("cpucap"), f"cpucap '{n.cpucap}' is already listed as not covered at {first.where('cpucap')}"
    for n in reg.not_covered:
        if not CPUCAP_NAME.fullmatch(n.cpucap):
            yield n.where("cpucap"), f"cpucap {quoted(n.cpucap)} is not a cpucap name {CPUCAP_RULE}"
        e = enabled.get(n.cpucap)
        if e is not None:
            yield (n.where("cpucap"), f"cpucap '{n.cpucap}' is listed as not covered, but bit {e.bit} "
                   f"('{e.name}', {e.where()}) enables it")


def _kernel_affects(e: Erratum, table: str) -> Iterator[Finding]:
    """The ranges of an entry, written in a row of that kernel table shape (its own, or the
    shape of the row it joins)."""
    for a in e.affects:
        if a.guard and table in ("range", "none"):
            yield a.where("guard"), f"a range guard needs a list, but '{e.name}' has kernel table '{table}'"
        for option in a.guard:
            if option not in e.kconfig:
                yield (a.where("guard"), f"guard '{option}' is not one of '{e.name}' kconfig options "
                       f"({', '.join(e.kconfig) or 'none'})")
        if a.own_entry and table != "entries":
            yield a.where("own_entry"), f"own_entry needs kernel table 'entries', not '{table}'"
        if a.part_mask is not None and table != "entries":
            yield (a.where("part_mask"), f"a part family is matched by is_kryo_midr in an entries table: "
                   f"set kernel table 'entries' for '{e.name}'")
        elif a.part_mask is not None and a.part_mask <= 0xFFF and (
                a.part_mask != KRYO_PART_MASK or not a.all_revisions):
            yield (a.where("part_mask"), f"the kernel matches a part family only with mask "
                   f"{KRYO_PART_MASK:#x} and all revisions (is_kryo_midr)")
        if a.revidr_fixes and table == "list":
            yield (a.where("revidr_fixes"), f"a range list has no REVIDR fixes: set kernel table "
                   f"'range' or 'entries' for '{e.name}'")


JOINED_ALONE = ("desc", "list", "exported", "matcher", "cpu_enable", "type", "guard", "after")


def _joins(reg: Registry) -> Iterator[Finding]:
    """An entry whose ranges are in another entry's row: a row that can hold them, under a
    guard that builds them, and none of the fields of a row of its own."""
    by_name = {e.name: e for e in reg.errata}
    for e in reg.errata:
        k = e.kernel
        if k.joins is None:
            if k.joins_at is not None:
                yield e.where("joins_at"), f"joins_at says where in another entry's row, but '{e.name}' joins none"
            continue
        host = by_name.get(k.joins)
        if not e.active:
            continue
        if host is None or host is e or not host.active or host.kernel.joins is not None or host.enables != e.enables:
            why = ("no entry has that name" if host is None else "that is its own row" if host is e
                   else "it is retired" if not host.active
                   else f"it joins '{host.kernel.joins}' itself" if host.kernel.joins is not None
                   else f"it enables {host.enables}, not {e.enables}")
            yield e.where("joins"), f"'{e.name}' joins the row of '{k.joins}', which cannot hold it: {why}"
            continue
        for field in JOINED_ALONE:
            if getattr(k, field) not in (None, False):
                yield (e.where(field), f"'{e.name}' has no row of its own (it joins '{host.name}'): its {field} "
                       f"is the row's, set on '{host.name}'")
        before = with_joined(reg, host, below=e.bit)
        if k.joins_at is not None and k.joins_at > len(before.affects):
            yield (e.where("joins_at"), f"joins_at {k.joins_at} is past the end of the row of '{host.name}', "
                   f"which has {len(before.affects)} range(s) before it")
        guard = host.kernel.guard if host.kernel.guard is not None else host.kconfig
        builds = set(e.kconfig) | {f"ARM64_{name}" for name in e.cpucaps}
        if guard and not builds & set(guard):
            yield (e.where("joins"), f"the row of '{host.name}' is built under {' || '.join(guard)}, none of "
                   f"which builds '{e.name}' ({', '.join(e.kconfig) or 'no option'}): give the row the option "
                   f"they select, ARM64_{e.enables}")
        yield from _kernel_affects(e, host.kernel.table)


def kernel_table(reg: Registry) -> Iterator[Finding]:
    """What `install --kernel-tables` writes must be a table the kernel builds and means."""
    lists: dict[str, Erratum] = {}
    for e in reg.errata:
        k = e.kernel
        ranges = len(with_joined(reg, e).affects) if e.active else len(e.affects)
        if k.table == "range" and ranges != 1 and k.joins is None:
            yield e.where("table"), f"kernel table 'range' holds one range; the row of '{e.name}' has {ranges}"
        if k.table == "none" and k.matcher is None:
            yield e.where("table"), "kernel table 'none' needs the matcher that knows the CPUs"
        if k.exported and k.table not in ("list", "entries"):
            yield e.where("exported"), f"only a list is exported, and kernel table '{k.table}' has none"
        own = f"ARM64_{e.enables}"
        for option in k.guard or ():
            if option not in e.kconfig and option not in {f"ARM64_{name}" for name in e.cpucaps}:
                yield (e.where("guard"), f"guard '{option}' is neither one of '{e.name}' kconfig options "
                       f"nor {own}, the option they select")
        if '"' in (e.kernel.desc or e.title):
            # Without a desc of its own, the row's desc is the title made of vendor and ids.
            where, what = ((e.where("desc"), "desc") if e.kernel.desc is not None else
                           (e.where("vendor"), f"the kernel table's desc '{e.title}', made of vendor and errata_ids,"))
            yield where, f"{what} would end the C string: it holds '\"'"
        if k.joins is None:
            yield from _kernel_affects(e, k.table)
        if e.active and k.table in ("list", "entries"):
            name = k.list or f"{e.name.lower()}_list"
            first = lists.setdefault(name, e)
            # Default names clash only when the entries' names do, which duplicate-name reports.
            if first is not e and k.list is not None and (first.kernel.table, first.affects, first.kernel.guard or first.kconfig) != (
                    k.table, e.affects, k.guard or e.kconfig):
                yield (e.where("list"), f"list '{name}' is also the list of '{first.name}' "
                       f"({first.where('list')}), with other ranges or guards")
    yield from _joins(reg)
    for n in reg.not_covered:
        if n.desc is not None and '"' in n.desc:
            yield n.where("desc"), "desc would end the C string: it holds '\"'"
    if not reg.complete:
        return  # an entry left out may be the row another one follows
    _, unplaced = kernel_table_rows(reg)
    names = {row_name(r) for r in (*(e for e in reg.errata if e.active), *reg.not_covered)}
    joined = {e.name: e.kernel.joins for e in reg.errata if e.active and e.kernel.joins is not None}
    for row in unplaced:
        after = row.kernel.after if isinstance(row, Erratum) else row.after
        why = (f"it has no row of its own (it joins '{joined[after]}')" if after in joined
               else "no active entry or not_covered cpucap has that name" if after not in names
               else "the rows' after: form a cycle")
        yield row.where("after"), f"'{row_name(row)}' comes after '{after}', which is never placed: {why}"


def speculation_lists(reg: Registry) -> Iterator[Finding]:
    """speculation.yaml holds the kernel's lists as the kernel's code reads them: each list
    once, of a kind its cpucap's code has (speculation.LIST_KINDS), a k exactly on the loop
    lists, and each loop count once, as the kernel's chain of loop lists tries each once."""
    if reg.speculation is None:
        return
    lists = reg.speculation.lists
    for lst, first in _first_seen(lists, lambda x: x.name):
        yield lst.where("name"), f"list '{lst.name}' is already listed at {first.where('name')}"
    for lst in lists:
        kinds = LIST_KINDS[lst.cpucap]
        if lst.means not in kinds:
            yield lst.where("means"), (f"list '{lst.name}': the kernel's {lst.cpucap} code has no '{lst.means}' list "
                                       f"(it has: {', '.join(kinds)})")
        if (lst.k is None) != (lst.means != LOOP):
            yield lst.where("k"), f"list '{lst.name}': a loop list, and only a loop list, has a k"
        for r in lst.ranges:
            if max(*r.low, *r.high) > 15 or r.low > r.high:
                yield r.where("revisions"), (f"list '{lst.name}': {r.shown} is no range of variants and revisions "
                                             "(each 0-15, the first not after the last)")
        for r, first in _first_seen(lst.ranges, lambda x: (x.model, x.low, x.high)):
            yield r.where(), f"list '{lst.name}' has {r.shown} twice (first at {first.where()})"
    for lst, first in _first_seen([x for x in lists if x.means != LOOP], lambda x: (x.cpucap, x.means)):
        yield lst.where("name"), f"a second {lst.means} list for {lst.cpucap}: the first is '{first.name}'"
    for lst, first in _first_seen([x for x in lists if x.means == LOOP], lambda x: x.k):
        yield lst.where("k"), f"list '{lst.name}' gives k={lst.k}, as '{first.name}' does"


# A path in a kernel tree: what a host-only reason cites (arch/arm64/kvm/hyp/switch.c).
KERNEL_FILE = re.compile(r"\b(arch|drivers|include|kernel|virt|Documentation)(/[\w.-]+)*/([\w-]+\.[chS]|[\w-]+\.rst|Kconfig|Makefile)\b")


def guest_reason(reg: Registry) -> Iterator[Finding]:
    """Host-only hides an erratum from every risk report: it must say where the kernel shows it."""
    for e in reg.errata:
        if e.active and e.host_only and e.guest_reason and not KERNEL_FILE.search(e.guest_reason):
            yield (e.where("guest_reason"), f"'{e.name}' is host-only without a kernel file in its guest_reason: cite "
                   "the file(s) that show a guest kernel never runs the workaround (arch/arm64/kvm/...), or make it "
                   "'guest: needed'")


def guest_and_impact(reg: Registry) -> Iterator[Finding]:
    """Risk reports weigh every active erratum by these. A rule, not the schema: a registry of
    a git ref from before they existed still loads, for stability to compare with."""
    for e in reg.errata:
        missing = [f for f, value in (("guest", e.guest), ("impact", e.impact)) if value is None]
        if e.active and missing:
            yield (e.where(), f"'{e.name}' does not say {' or '.join(_SAYS[f] for f in missing)}: give "
                   f"{' and '.join(missing)} (docs/registry-format.md)")


_SAYS = {"guest": "whether a guest kernel needs it (guest)", "impact": "how bad it is without it (impact)"}


def unreviewed(reg: Registry) -> Iterator[Finding]:
    for e in reg.errata:
        fields = [f for f, value in (("guest", e.guest), ("impact", e.impact)) if value == UNREVIEWED]
        if e.active and fields:
            yield (e.where(fields[0]), f"'{e.name}': {' and '.join(fields)} not reviewed yet (import added it; risk "
                   "counts it as needed by a guest and of the worst impact): decide them as docs/registry-format.md "
                   "says")


RULES: dict[str, tuple[Check, Severity]] = {
    "duplicate-name": (duplicate_name, Severity.ERROR),
    "duplicate-bit": (duplicate_bit, Severity.ERROR),
    "duplicate-erratum-id": (duplicate_erratum_id, Severity.ERROR),
    "shares-ids-with": (shares_ids_with, Severity.ERROR),
    "bit-space": (bit_space, Severity.ERROR),
    "owner-range": (owner_range, Severity.ERROR),
    "range-layout": (range_layout, Severity.ERROR),
    "field-width": (field_widths, Severity.ERROR),
    "revision-order": (revision_order, Severity.ERROR),
    "duplicate-range": (duplicate_range, Severity.ERROR),
    "overlapping-ranges": (overlapping_ranges, Severity.ERROR),
    "range-errata-ids": (range_errata_ids, Severity.ERROR),
    "revidr-fix": (revidr_fixes, Severity.ERROR),
    "c-identifier": (c_identifiers, Severity.ERROR),
    "arm64-prefix": (arm64_prefix, Severity.ERROR),
    "unsafe-text": (safe_text, Severity.ERROR),
    "duplicate-cpu": (duplicate_cpus, Severity.ERROR),
    "unused-cpu": (unused_cpus, Severity.WARNING),
    "overlay": (overlay_rules, Severity.ERROR),
    "lock": (lock_agrees, Severity.ERROR),
    "not-covered": (not_covered, Severity.ERROR),
    "cpucap-names": (cpucap_names, Severity.ERROR),
    "kernel-table": (kernel_table, Severity.ERROR),
    "speculation": (speculation_lists, Severity.ERROR),
    "guest-and-impact": (guest_and_impact, Severity.ERROR),
    "guest-reason": (guest_reason, Severity.ERROR),
    "unreviewed": (unreviewed, Severity.WARNING),
}


def check(reg: Registry) -> list[Diagnostic]:
    return [Diagnostic(pos, severity, rule, message)
            for rule, (fn, severity) in RULES.items()
            for pos, message in fn(reg)]
