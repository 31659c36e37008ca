"""The registry as frozen dataclasses, built from schema-valid documents.

Building resolves references (CPU ids, implementer ids, revision strings); what cannot be
resolved becomes a diagnostic and the entry is left out, so that the rest is still checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Collection, Iterable, Iterator

from .diagnostics import Diagnostic, Pos, capped, error, some
from .load import Document, quoted

MIDR_ARCHITECTURE = 0xF
FULL_PART_MASK = 0xFFF
UPSTREAM = "upstream"  # the origin of the registry's own entries; overlays use their owner
PRIVATE_USE = "Private Use"  # RFC 8126 statuses the rules depend on
RESERVED = "Reserved"
ALL_REVISIONS = ((0, 0), (15, 15))
_REVISION = re.compile(r"r([0-9]{1,3})p([0-9]{1,3})")


@dataclass(frozen=True)
class Where:
    """A fixed position for an object and all its fields (a bits.lock line, a default).
    Positions are kept out of equality, so that moving text is not a change."""

    pos: Pos

    def __call__(self, name: str = "") -> Pos:
        return self.pos


@dataclass(frozen=True)
class Located:
    """Where a node of a document and its fields are, looked up when a message asks: a full
    registry has some 44,000 fields, and its messages name a handful of them."""

    doc: Document
    keys: tuple
    nested: tuple[str, ...] = ()  # child mappings whose fields count as the node's own

    def __call__(self, name: str = "") -> Pos:
        if name:
            for base in (*((*self.keys, n) for n in self.nested), self.keys):
                if (*base, name) in self.doc.places:
                    return self.doc.pos((*base, name))
        return self.doc.pos(self.keys)


def _where(default: Pos) -> Any:
    return field(default=Where(default), compare=False, repr=False)


@dataclass(frozen=True)
class BitRange:
    name: str
    first: int
    last: int
    owner: str
    status: str
    description: str
    where: Where | Located = _where(Pos(""))

    def __contains__(self, bit: int) -> bool:
        return self.first <= bit <= self.last


@dataclass(frozen=True)
class Implementer:
    id: str
    code: int
    name: str
    macro: str
    origin: str
    where: Where | Located = _where(Pos(""))


@dataclass(frozen=True)
class Cpu:
    id: str
    implementer: Implementer
    part: int
    name: str
    macro: str
    part_macro: str | None
    note: str | None
    origin: str
    where: Where | Located = _where(Pos(""))

    @property
    def model(self) -> int:
        return midr_model(self.implementer.code, self.part)


def midr_model(implementer: int, part: int) -> int:
    """The MIDR bits that identify a model: implementer, architecture, part number."""
    return (implementer << 24) | (MIDR_ARCHITECTURE << 16) | (part << 4)


Revision = tuple[int, int]


def rv(rev: Revision) -> int:
    """The MIDR variant and revision fields of rXpY, as the kernel's rv_min/rv_max hold them."""
    return (rev[0] << 20) | rev[1]


def rev_str(rev: Revision) -> str:
    return f"r{rev[0]}p{rev[1]}"


def revision_range_str(low: Revision, high: Revision) -> str:
    """A range as the registry writes it: "all", "r1p2" or "r0p0..r1p2"."""
    if (low, high) == ALL_REVISIONS:
        return "all"
    return rev_str(low) if low == high else f"{rev_str(low)}..{rev_str(high)}"


def revision_set_str(revs: Iterable[Revision]) -> str:
    """A set of revisions as every report writes it: its runs in MIDR order, each as the
    registry writes a range ("r0p0..r1p2, r2p0"), so all 256 are "all" and one range reads as
    its `revisions:`. A run goes on as a range does: r0p15 into r1p0."""
    runs: list[list[Revision]] = []
    for v, r in sorted(set(revs)):
        if runs and runs[-1][1] == ((v, r - 1) if r else (v - 1, 15)):
            runs[-1][1] = (v, r)
        else:
            runs.append([(v, r), (v, r)])
    return some([revision_range_str(low, high) for low, high in runs])


def on_cpu_str(cpu_name: str, revisions: str, part_mask: int | None) -> str:
    """Revisions of one CPU, as every report of a change in ranges writes them: by the
    registry's CPU name, "Kryo 2XX Gold all (part family 0xf00)"."""
    family = f" (part family {part_mask:#x})" if part_mask is not None else ""
    return f"{cpu_name} {revisions}{family}"


@dataclass(frozen=True)
class RevidrFix:
    revision: Revision
    mask: int
    where: Where | Located = _where(Pos(""))

    @property
    def rv(self) -> int:
        return rv(self.revision)


@dataclass(frozen=True)
class Affects:
    cpu: Cpu
    low: Revision
    high: Revision
    part_mask: int | None
    revidr_fixes: tuple[RevidrFix, ...]
    errata_ids: tuple[str, ...]
    where: Where | Located = _where(Pos(""))
    guard: tuple[str, ...] = ()  # Kconfig options around the range in the kernel's table
    own_entry: bool = False  # an entry of its own in a kernel entries table

    @property
    def rv_min(self) -> int:
        return rv(self.low)

    @property
    def rv_max(self) -> int:
        return rv(self.high)

    @property
    def mask(self) -> int:
        """The part number bits compared: all of them, unless a part family is matched."""
        return FULL_PART_MASK if self.part_mask is None else self.part_mask

    @property
    def all_revisions(self) -> bool:
        return (self.low, self.high) == ALL_REVISIONS

    @property
    def revisions(self) -> str:
        return revision_range_str(self.low, self.high)


@dataclass(frozen=True)
class KernelName:
    """One name the kernel has given a cpucap or a Kconfig symbol, and from which version:
    the first that uses it (exact), or one seen to use it when the first is not known."""

    name: str
    version: str | None = None
    exact: bool = False


def newest_in(names: tuple[str, ...], present) -> str | None:
    """The newest of a chain of names (oldest first) that a tree has; None if it has none."""
    return next((name for name in reversed(names) if name in present), None)


# is_kryo_midr, the kernel's part-family matcher, compares only these part number bits.
KRYO_PART_MASK = 0xF00
LOCAL_CPU_ERRATUM = "ARM64_CPUCAP_LOCAL_CPU_ERRATUM"


@dataclass(frozen=True)
class KernelRow:
    """How an entry's row of the kernel's arm64_errata[] is written, where the registry says.
    The table shape is settled when the model is built (default_table); the other defaults,
    which a new entry gets, where the table is rendered (targets/kernel_tables.py)."""

    desc: str | None = None
    table: str = "list"  # list, range, entries or none; without one, entries for ranges a list cannot hold
    list: str | None = None
    exported: bool = False
    matcher: str | None = None
    cpu_enable: str | None = None
    type: str | None = None
    guard: tuple[str, ...] | None = None
    after: str | None = None
    # Guard symbols the kernel renamed: (the name the fields use, every name oldest first).
    kconfig_names: tuple[tuple[str, tuple[KernelName, ...]], ...] = ()
    joins: str | None = None  # the entry whose row holds this entry's ranges
    joins_at: int | None = None  # where among that row's ranges (None: after them)


# What goes wrong without an erratum's workaround, worst first (docs/registry-format.md). The
# order is what `risk` sorts, colours and gates (--min-impact) by.
IMPACTS = {
    "speculation": "speculative execution or a side channel breaks isolation between privilege levels, "
                   "processes or VMs",
    "corruption": "wrong data, memory ordering or coherency, or stale data from cache or TLB maintenance",
    "hang": "a deadlock, livelock or lockup",
    "trace": "trace, profiling, debug or counter readings wrong or lost, the running code's data intact",
    "performance": "slower or less accurate, nothing wrong",
}
# An entry import added and no person has reviewed: never guessed toward safe, so it ranks
# above every level and counts as needed in a guest.
UNREVIEWED = "unreviewed"


def impact_rank(level: str) -> int:
    """0 for the worst: UNREVIEWED, then IMPACTS in order."""
    return 0 if level == UNREVIEWED else 1 + list(IMPACTS).index(level)


def default_table(ranges: Iterable[tuple[int | None, Collection[object]]]) -> str:
    """The table a row is written in when its `kernel:` block names none, from each range's
    (part_mask, REVIDR fixes): a part family (is_kryo_midr) or a range with fixes is matched
    only from an entries array; any other range fits a range list. import writes a table only
    where it differs from this one, so the two must decide alike."""
    return "entries" if any(mask is not None or fixes for mask, fixes in ranges) else "list"


@dataclass(frozen=True)
class Erratum:
    name: str
    bit: int
    vendor: str
    errata_ids: tuple[str, ...]
    description: str
    kconfig: tuple[str, ...]
    affects: tuple[Affects, ...]
    status: str
    retired_since: str | None
    retired_reason: str | None
    note: str | None
    shares_ids_with: tuple[str, ...]
    origin: str
    where: Where | Located = _where(Pos(""))
    cpucap: str = ""
    condition: str | None = None  # what the kernel checks on top of the MIDR match
    kernel: KernelRow = KernelRow()
    cpucap_names: tuple[KernelName, ...] = ()  # when the kernel renamed the cpucap, oldest first
    # Does a guest need it, and how bad is it without it (IMPACTS); both UNREVIEWED until a
    # person decides, which counts as needed and as the worst impact.
    guest: str | None = None  # None: not given, which validate refuses for an active entry
    guest_reason: str | None = None
    impact: str | None = None
    impact_note: str | None = None

    @property
    def enables(self) -> str:
        """The kernel cpucap (without ARM64_) that a guest enables for this bit, as the newest
        kernel the registry follows names it."""
        return self.cpucap_names[-1].name if self.cpucap_names else self.cpucap or self.name

    @property
    def cpucaps(self) -> tuple[str, ...]:
        """Every name the kernel has given that cpucap, oldest first."""
        return tuple(n.name for n in self.cpucap_names) or (self.enables,)

    @property
    def cpucap_field(self) -> str:
        """The field that says which cpucap the bit enables, for messages to point at."""
        return "cpucap_names" if self.cpucap_names else "cpucap" if self.cpucap else "name"

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def host_only(self) -> bool:
        """A guest kernel never needs it: it cannot make a migration unsafe."""
        return self.guest == "host-only"

    @property
    def impact_rank(self) -> int:
        return impact_rank(self.impact or UNREVIEWED)

    @property
    def title(self) -> str:
        """How the kernel names it in prose: "ARM errata 826319, 827319"."""
        if not self.errata_ids:
            return f"{self.vendor} erratum"
        noun = "errata" if len(self.errata_ids) > 1 else "erratum"
        return f"{self.vendor} {noun} {', '.join(self.errata_ids)}"


@dataclass(frozen=True)
class Overlay:
    owner: str
    range: str
    first: int | None
    last: int | None
    root: str
    where: Where | Located = _where(Pos(""))
    description: str | None = None


@dataclass(frozen=True)
class LockLine:
    bit: int
    status: str
    fingerprint: str
    name: str
    origin: str
    where: Where | Located = _where(Pos(""))


@dataclass(frozen=True)
class NotCovered:
    """A kernel errata cpucap that MIDR/REVIDR cannot decide, so no bit can carry it."""

    cpucap: str
    matcher: str
    reason: str
    where: Where | Located = _where(Pos(""))
    desc: str | None = None  # of its row of the kernel's arm64_errata[]
    cpu_enable: str | None = None
    guard: tuple[str, ...] = ()
    after: str | None = None
    type: str | None = None


# What a CPU on one of the kernel's speculation lists means (see speculation.py).
SAFE, AFFECTED, LOOP = "safe", "affected", "loop"
SPECULATION_CPUCAPS = ("SPECTRE_V2", "SPECTRE_V3A", "SPECTRE_V4", "SPECTRE_BHB", "UNMAP_KERNEL_AT_EL0")
MIDR_MODEL_MASK = 0xFF0FFFF0  # implementer, architecture and part number
MIDR_RV_MASK = 0xF0000F  # variant and revision


@dataclass(frozen=True)
class ListRange:
    """One range of a speculation list: a CPU model and its variants and revisions."""

    model: int  # the MIDR bits of implementer, architecture and part, as Cpu.model
    low: Revision
    high: Revision
    name: str  # the CPU's name: cpus.yaml's, or the kernel macro's for a CPU cpus.yaml lacks
    cpu: str | None = None  # its cpus.yaml id
    where: Where | Located = _where(Pos(""))

    def matches(self, midr: int) -> bool:
        """is_midr_in_range()'s answer for one CPU: the model, and the variant and revision
        between the bounds."""
        return (midr & MIDR_MODEL_MASK) == self.model and rv(self.low) <= (midr & MIDR_RV_MASK) <= rv(self.high)

    @property
    def shown(self) -> str:
        return f"{self.name} {revision_range_str(self.low, self.high)}"


@dataclass(frozen=True)
class MidrList:
    """A list of the kernel's speculation decisions outside arm64_errata[]: its array's name,
    the cpucap it decides, what a CPU on it means, and for a Spectre-BHB loop-count list the
    number of loops `k`."""

    name: str
    cpucap: str
    means: str  # SAFE, AFFECTED or LOOP
    ranges: tuple[ListRange, ...]
    k: int | None = None
    where: Where | Located = _where(Pos(""))

    def match(self, midr: int) -> ListRange | None:
        return next((r for r in self.ranges if r.matches(midr)), None)


@dataclass(frozen=True)
class Speculation:
    """The speculation lists of one kernel, in the order the kernel tries them (the
    loop-count lists from the largest k down)."""

    linux: str  # the version they are read from
    lists: tuple[MidrList, ...]
    source: str  # where they were read: speculation.yaml, or a tree
    where: Where | Located = _where(Pos(""))

    def of(self, cpucap: str, means: str) -> tuple[MidrList, ...]:
        return tuple(lst for lst in self.lists if lst.cpucap == cpucap and lst.means == means)


@dataclass(frozen=True)
class Registry:
    format: int
    hypercall_name: str
    hypercall_description: str
    registers: tuple[str, ...]
    register_bits: int
    ranges: tuple[BitRange, ...]
    implementers: tuple[Implementer, ...]
    cpus: tuple[Cpu, ...]
    errata: tuple[Erratum, ...]
    overlays: tuple[Overlay, ...] = ()
    lock: tuple[LockLine, ...] = ()
    lock_files: tuple[tuple[str, str, bool], ...] = ()  # (origin, path, exists)
    not_covered: tuple[NotCovered, ...] = ()
    # False when entries were left out because they failed to parse or resolve: rules that
    # need the whole registry (unused CPUs, lock lines without an entry) then stay silent.
    complete: bool = True
    where: Where | Located = _where(Pos(""))
    # Entries whose cpucap the Linux tree these outputs are for does not have (install).
    lacking: frozenset[str] = frozenset()
    speculation: Speculation | None = None  # speculation.yaml, when the registry has one

    @property
    def bit_count(self) -> int:
        return len(self.registers) * self.register_bits

    def range_of(self, bit: int) -> BitRange | None:
        return next((r for r in self.ranges if bit in r), None)


# ---------------------------------------------------------------------------------------------
# Building from documents. Each builder takes (document, keys of the items known to be valid).


def version_key(version: str) -> tuple[int, ...]:
    """A kernel version, 7.3 or 7.3.4 (an -rc suffix ignored), as numbers that compare in
    release order. ValueError for text that does not start with one."""
    m = re.match(r"[0-9]+(?:\.[0-9]+)*", version)
    if m is None:
        raise ValueError(f"not a kernel version: {version!r}")
    return tuple(int(x) for x in m.group().split("."))


def recorded_version(version: str) -> str:
    """A tree's version as the registry records it: numbers only (7.3.4, not 7.3.4-rc1), or the
    text as it is when it starts with none."""
    try:
        return ".".join(str(n) for n in version_key(version))
    except ValueError:
        return version


def parse_revision(text: str) -> Revision | None:
    m = _REVISION.fullmatch(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


@lru_cache(maxsize=4096)  # a registry spells the same few hundred ranges thousands of times
def parse_revisions(text: str) -> tuple[Revision, Revision] | None:
    if text == "all":
        return ALL_REVISIONS
    low_text, sep, high_text = text.partition("..")
    low = parse_revision(low_text)
    high = parse_revision(high_text) if sep else low
    if low is None or high is None:
        return None
    return low, high


def _opt(node: Any, key: str) -> Any:
    """An optional field as a plain Python value (ruamel hands out str and int subclasses)."""
    value = node.get(key)
    if value is None:
        return None
    return int(value) if isinstance(value, int) else str(value)


def build_ranges(doc: Any) -> tuple[BitRange, ...]:
    out = []
    for i, r in enumerate(doc.root["ranges"]):
        out.append(BitRange(str(r["name"]), int(r["first"]), int(r["last"]), str(r["owner"]),
                            str(r["status"]), str(r["description"]),
                            Located(doc, ("ranges", i))))
    return tuple(out)


def _strings(node: Any, key: str) -> tuple[str, ...]:
    return tuple(str(x) for x in node.get(key) or ())


def build_not_covered(doc: Any) -> tuple[NotCovered, ...]:
    return tuple(NotCovered(str(n["cpucap"]), str(n["matcher"]), str(n["reason"]),
                            Located(doc, ("not_covered", i)), _opt(n, "desc"), _opt(n, "cpu_enable"),
                            _strings(n, "guard"), _opt(n, "after"), _opt(n, "type"))
                 for i, n in enumerate(doc.root.get("not_covered") or []))


def _names(items: Any) -> tuple[KernelName, ...]:
    out = []
    for item in items or ():
        since, seen = _opt(item, "since"), _opt(item, "seen_in")
        out.append(KernelName(str(item["name"]), since or seen, since is not None))
    return tuple(out)


def _kernel_row(node: Any, affects: list[Affects]) -> KernelRow:
    node = node or {}
    table = _opt(node, "table") or default_table((a.part_mask, a.revidr_fixes) for a in affects)
    guard = _strings(node, "guard")
    return KernelRow(desc=_opt(node, "desc"), table=table, list=_opt(node, "list"),
                     exported=bool(node.get("exported")), matcher=_opt(node, "matcher"),
                     cpu_enable=_opt(node, "cpu_enable"), type=_opt(node, "type"),
                     guard=guard or None, after=_opt(node, "after"),
                     joins=_opt(node, "joins"), joins_at=_opt(node, "joins_at"),
                     kconfig_names=tuple((str(k), _names(chain))
                                        for k, chain in (node.get("kconfig_names") or {}).items()))


def build_implementers(doc: Any, valid: set[int], origin: str) -> list[Implementer]:
    out = []
    for i in sorted(valid):  # not the section itself: a broken one may not even be a list
        imp = doc.root["implementers"][i]
        keys = ["implementers", i]
        out.append(Implementer(str(imp["id"]), int(imp["code"]), str(imp["name"]), str(imp["macro"]),
                               origin, Located(doc, tuple(keys))))
    return out


def build_cpus(doc: Any, valid: set[int], origin: str,
               implementers: dict[str, Implementer]) -> tuple[list[Cpu], list[Diagnostic]]:
    out, diags = [], []
    for i in sorted(valid):
        cpu = doc.root["cpus"][i]
        keys = ["cpus", i]
        imp = implementers.get(str(cpu["implementer"]))
        if imp is None:
            diags.append(error(doc.pos([*keys, "implementer"]), "unknown-implementer",
                               f"CPU {quoted(cpu['id'])} names implementer {quoted(cpu['implementer'])}, "
                               "which no cpus.yaml defines"))
            continue
        out.append(Cpu(str(cpu["id"]), imp, int(cpu["part"]), str(cpu["name"]), str(cpu["macro"]),
                       _opt(cpu, "part_macro"), _opt(cpu, "note"), origin,
                       Located(doc, tuple(keys))))
    return out, diags


def _build_affects(doc: Any, keys: list, item: Any,
                   cpus: dict[str, Cpu]) -> Iterator[Affects | Diagnostic]:
    cpu = cpus.get(str(item["cpu"]))
    ok = True
    if cpu is None:
        import difflib  # only for an unknown CPU: not worth its import on every run

        close = difflib.get_close_matches(str(item["cpu"]), sorted(cpus), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(sorted(cpus)) or 'none'})"
        yield error(doc.pos([*keys, "cpu"]), "unknown-cpu",
                    f"unknown CPU {quoted(item['cpu'])}: not defined in cpus.yaml{hint}")
        ok = False
    bounds = parse_revisions(str(item["revisions"]))
    if bounds is None:
        yield error(doc.pos([*keys, "revisions"]), "revision-syntax",
                    f"revisions {quoted(item['revisions'])} must be 'all', 'rXpY' or 'rXpY..rXpY'")
        ok = False
    fixes = []
    for j, fix in enumerate(item.get("revidr_fixes") or []):
        rev = parse_revision(str(fix["revision"]))
        fkeys = [*keys, "revidr_fixes", j]
        if rev is None:
            yield error(doc.pos([*fkeys, "revision"]), "revision-syntax",
                        f"REVIDR fix revision {quoted(fix['revision'])} must be 'rXpY'")
            ok = False
            continue
        fixes.append(RevidrFix(rev, int(fix["mask"]),
                               Located(doc, tuple(fkeys))))
    if ok:
        yield Affects(cpu, bounds[0], bounds[1], _opt(item, "part_mask"), tuple(fixes),
                      tuple(str(x) for x in item.get("errata_ids") or ()),
                      Located(doc, tuple(keys)), _strings(item, "guard"), bool(item.get("own_entry")))


def build_errata(doc: Any, valid: set[int], origin: str,
                 cpus: dict[str, Cpu]) -> tuple[list[Erratum], list[Diagnostic]]:
    out, diags = [], []
    for i in sorted(valid):
        e = doc.root["errata"][i]
        keys = ["errata", i]
        affects, problems = [], []
        for j, item in enumerate(e["affects"]):
            for result in _build_affects(doc, [*keys, "affects", j], item, cpus):
                (affects if isinstance(result, Affects) else problems).append(result)
        if len(affects) != len(e["affects"]):
            diags += capped(problems, quoted(e["name"]))
            continue
        retired = e.get("retired") or {}
        out.append(Erratum(
            name=str(e["name"]), bit=int(e["bit"]), vendor=str(e["vendor"]),
            errata_ids=tuple(str(x) for x in e["errata_ids"]),
            description=str(e["description"]), kconfig=tuple(str(k) for k in e["kconfig"]),
            affects=tuple(affects), status=str(e["status"]),
            retired_since=_opt(retired, "since"), retired_reason=_opt(retired, "reason"),
            note=_opt(e, "note"), shares_ids_with=tuple(str(x) for x in e.get("shares_ids_with") or ()),
            cpucap=_opt(e, "cpucap") or "", condition=_opt(e, "condition"),
            guest=_opt(e, "guest"), guest_reason=_opt(e, "guest_reason"),
            impact=_opt(e, "impact"), impact_note=_opt(e, "impact_note"),
            cpucap_names=_names(e.get("cpucap_names")),
            origin=origin, where=Located(doc, tuple(keys), ("retired", "kernel")),
            kernel=_kernel_row(e.get("kernel"), affects)))
    return out, diags


KernelTableRow = Erratum | NotCovered


def row_name(row: KernelTableRow) -> str:
    """How `after:` names a row of the kernel's arm64_errata[]."""
    return row.name if isinstance(row, Erratum) else row.cpucap


def row_after(row: KernelTableRow) -> str | None:
    return row.kernel.after if isinstance(row, Erratum) else row.after


def kernel_table_rows(reg: Registry) -> tuple[list[KernelTableRow], list[KernelTableRow]]:
    """The rows of the kernel's arm64_errata[] in order: active entries by bit, then the
    not_covered cpucaps, each row with `after:` moved behind the row it names. Also the rows
    that could not be placed (an unknown row, or a cycle), which validate reports."""
    rows: list[KernelTableRow] = [e for e in reg.errata if e.active and e.kernel.joins is None]
    rows += reg.not_covered
    placed = [r for r in rows if row_after(r) is None]
    waiting = [r for r in rows if row_after(r) is not None]
    while waiting:
        names = {row_name(r): i for i, r in enumerate(placed)}
        ready = [r for r in waiting if row_after(r) in names]
        if not ready:
            break
        for r in reversed(ready):  # rows after the same row keep their own order
            placed.insert(names[row_after(r)] + 1, r)
            names = {row_name(p): i for i, p in enumerate(placed)}
        waiting = [r for r in waiting if all(r is not x for x in ready)]
    return placed, waiting


def with_joined(reg: Registry, host: Erratum, below: int | None = None) -> Erratum:
    """An entry whose row of arm64_errata[] holds the ranges of other entries (their
    kernel.joins), with all of them in the order the row lists them; only those of bits below
    `below`, when given."""
    affects = list(host.affects)
    joining = (e for e in reg.errata if e.active and e.kernel.joins == host.name and e is not host
               and (below is None or e.bit < below))
    for e in sorted(joining, key=lambda e: e.bit):
        at = len(affects) if e.kernel.joins_at is None else min(e.kernel.joins_at, len(affects))
        affects[at:at] = e.affects
    return host if len(affects) == len(host.affects) else replace(host, affects=tuple(affects))


def build_speculation(doc: Any, cpus: dict[str, Cpu]) -> tuple[Speculation, list[Diagnostic]]:
    """speculation.yaml's lists; a range whose CPU or revisions do not resolve is left out,
    with its diagnostic."""
    lists, diags = [], []
    for i, node in enumerate(doc.root["lists"]):
        ranges = []
        for j, item in enumerate(node["ranges"]):
            keys = ["lists", i, "ranges", j]
            results = list(_build_affects(doc, keys, item, cpus))
            problems = [r for r in results if not isinstance(r, Affects)]
            diags += problems
            for a in results:
                if isinstance(a, Affects):
                    ranges.append(ListRange(a.cpu.model, a.low, a.high, a.cpu.name, a.cpu.id, a.where))
        lists.append(MidrList(str(node["name"]), str(node["cpucap"]), str(node["means"]), tuple(ranges),
                              _opt(node, "k"), Located(doc, ("lists", i))))
    return Speculation(str(doc.root["linux"]), tuple(lists), doc.path, Located(doc, ())), diags
