"""`errata-db risk`: which migrations in a fleet leave a guest without a workaround it needs.

Hosts with the same CPUs (the same set of MIDR/REVIDR/AIDR) form a class. For every ordered
pair of classes (the guest boots on the first and is migrated to the second) and each guest
behaviour, the answer is the errata that the second class's CPUs need and the guest did not
enable. The behaviours differ only in which CPUs the guest's matching sees:

- none: the CPUs of the host it booted on;
- bitmap: every CPU of the fleet, through KVM's bitmap of this registry;
- impl-cpus: every CPU of the fleet's target list for the matches built on is_midr_in_range(),
  but only the boot host's CPUs for the part-family match is_kryo_midr(), which reads the
  local CPU (see target-impl.md). REVIDR fixes count with each target's own REVIDR: the
  intended behaviour, which one merged version of is_affected_midr_range() got wrong.

So the matching is split by registry row: rows with a part_mask (the kernel's only part-family
matcher is is_kryo_midr()) read the local CPU, every other row any target CPU. Each half is
matched by the generated Python module itself, rendered from the registry with only those
rows, so that this command, `fleet`, `bitmap` and the KVM table never disagree on a match.

A pair's answer depends only on what its two classes need and enable: classes alike in that
form a kind, each pair of kinds is worked out once, on sets of bits, and past MAX_CLASSES
classes the report is given between kinds.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
import types
from dataclasses import dataclass
from typing import Callable

from .diagnostics import escape, some
from .errors import Unusable
from .fleet import Host, cpu_label, cpu_names, json_text, not_covered_warning
from .lookup import implementer_part, lookup_module, unknown_cpu
from . import speculation
from .model import IMPACTS, SPECULATION_CPUCAPS, UNREVIEWED, Erratum, Registry, Speculation, impact_rank
from .targets.json_export import guest_and_impact

ABIS = ("none", "bitmap", "impl-cpus")
ABI_MEANING = {
    "none": "the guest matches only the CPUs of the host it booted on: every kernel without a "
            "migration ABI",
    "bitmap": "the RFC's hypercall: the guest enables every bit of this registry's bitmap for the fleet",
    "impl-cpus": "Linux 6.15+: the guest matches its ranges against every CPU of the fleet's target "
                 "list; the Kryo part-family match counts only for the CPU it booted on",
}

Cpu = tuple[int, int, int]  # MIDR, REVIDR, AIDR

# The ordered pairs of classes grow with the square of the classes, and so do the time, the
# memory and the output of listing them (1,000 classes took 17 s and 712 MB, 3,000 156 s and
# 6.2 GB). A fleet has many hosts but few classes: past this many classes, or this many
# characters of class names (each pair names two), the report is given between kinds of
# classes instead (see Kind), and past this many kinds it is refused. The worst case under
# these bounds, measured, is in docs/performance.md: about two seconds and 220 MB.
MAX_CLASSES = 200
MAX_NAME_CHARS = 16_384


class TooManyKinds(Unusable):
    """Past MAX_CLASSES kinds of classes: the pairs of kinds would grow as the pairs of classes."""


@dataclass(frozen=True)
class HostClass:
    name: str  # its first host's, in input order
    hosts: tuple[str, ...]
    cpus: tuple[Cpu, ...]  # in numeric order
    labels: tuple[str, ...]  # each CPU as "Neoverse-N1 r3p1"


@dataclass(frozen=True)
class Kind:
    """Classes whose CPUs need the same errata and on which a guest enables the same: every
    pair of their classes has the same answer. Past MAX_CLASSES classes the pairs are given
    between kinds, each named by its number, whatever the length of its hosts' names."""

    name: str  # "kind 1", numbered in the order of their first classes
    classes: tuple[str, ...]
    hosts: int
    labels: tuple[str, ...]  # the distinct CPU labels of its classes
    needs: tuple[str, ...]  # cpucaps without ARM64_, the worst impact first, as Pair.missing; errata only


@dataclass(frozen=True)
class Pair:
    source: str  # the class (or kind) the guest booted on
    target: str  # the class (or kind) it is migrated to
    missing: dict[str, tuple[str, ...]]  # by behaviour: cpucaps without ARM64_, the worst impact first
    conditional: dict[str, tuple[str, ...]]  # the same for errata whose matcher adds a condition
    # With a guest kernel: what it enables under `bitmap` only because the host's bitmap says so
    # (it has the code, not the range), and what it cannot enable at all (no such cpucap).
    learned: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    weight: int = 1  # how many ordered pairs of classes it stands for: more for kinds
    # By behaviour: each speculation mitigation the guest keeps with less than the destination
    # needs (speculation.compare); those of kind OFF or LESS are in `missing` too.
    speculation: dict[str, tuple[speculation.Finding, ...]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Guest:
    """One actual guest kernel (risk --guest-kernel-tree): its own errata table, imported."""

    name: str  # "Linux 6.1.192 at DIR"
    registry: Registry
    cpucaps: frozenset[str]  # every cpucap (without ARM64_) its kernel has the code for
    no_target_impl: str | None  # why its matching ignores a target list, or None if it uses one


@dataclass(frozen=True)
class Conditional:
    """An erratum whose kernel matcher checks more than the MIDR, which a fleet's CPUs need."""

    cpucap: str
    condition: str
    el1_never: str | None  # a host-only erratum's reason: a guest kernel at EL1 never needs it
    needed_by: tuple[str, ...]  # class names


@dataclass(frozen=True)
class HostOnly:
    """An erratum the fleet's CPUs have that a guest kernel never needs (the registry's `guest`):
    it makes no pair unsafe, and is listed apart with the registry's reason."""

    cpucap: str
    reason: str
    needed_by: tuple[str, ...]  # class names


@dataclass(frozen=True)
class Impact:
    """How bad a missing erratum is, from the registry (model.IMPACTS), for the report to sort,
    colour and gate by."""

    level: str
    rank: int  # 0 the worst: model.impact_rank
    note: str | None


@dataclass(frozen=True)
class Risk:
    classes: tuple[HostClass, ...]
    pairs: tuple[Pair, ...]  # every ordered pair of classes; none when the report is by kind
    conditionals: tuple[Conditional, ...]
    warnings: tuple[tuple[str, str], ...]  # (kind, message)
    host_count: int
    guest: Guest | None = None
    # Past MAX_CLASSES classes (or MAX_NAME_CHARS): the kinds, and every ordered pair of them,
    # a kind with itself too when it has two classes.
    kinds: tuple[Kind, ...] = ()
    kind_pairs: tuple[Pair, ...] = ()
    needed: tuple[tuple[str, int], ...] = ()  # each cpucap some class needs, worst first: how many classes
    host_only: tuple[HostOnly, ...] = ()
    impacts: dict[str, Impact] = dataclasses.field(default_factory=dict)  # every cpucap either registry has
    # Under impl-cpus, the speculation mitigations a guest lacks on the host it booted on, with
    # no migration at all: a safe list matched by any target leaves it off for every target.
    at_boot: tuple[tuple[str, tuple[speculation.Finding, ...]], ...] = ()
    speculation_lists: str | None = None  # whose lists decided what hosts need ("Linux 7.3.4"), None without any
    guest_speculation_lists: str | None = None  # whose decided what the guest keeps
    errata: tuple[Erratum, ...] = ()  # the registry's active entries the fleet's CPUs have, host-only too

    @property
    def pair_count(self) -> int:
        return len(self.classes) * (len(self.classes) - 1)

    def _answers(self) -> tuple[Pair, ...]:
        return self.kind_pairs if self.kinds else self.pairs

    def unsafe(self, abi: str) -> int:
        return sum(p.weight for p in self._answers() if p.missing[abi])

    def culprits(self, abi: str) -> list[tuple[str, int]]:
        """The errata that make pairs unsafe under abi, with how many pairs each: the worst
        impact first, then the most pairs."""
        counts: dict[str, int] = {}
        for p in self._answers():
            for cap in p.missing[abi]:
                counts[cap] = counts.get(cap, 0) + p.weight
        return sorted(counts.items(), key=lambda item: (self.rank(item[0]), -item[1], item[0]))

    def shown(self, classes: tuple[str, ...], most: int = 10) -> str:
        """Classes as a report lists them: past the limits, by their kinds, for a class name may
        be thousands of characters long."""
        if self.kinds:
            classes = tuple(dict.fromkeys(self._kind_of[c] for c in classes))
        return some(classes, most)

    @functools.cached_property
    def _kind_of(self) -> dict[str, str]:
        return {c: k.name for k in self.kinds for c in k.classes}

    def rank(self, cap: str) -> int:
        return self.impacts[cap].rank

    def worst(self, caps: tuple[str, ...]) -> str | None:
        """The worst impact level among caps (listed worst first), None for none."""
        return self.impacts[caps[0]].level if caps else None

    def offending(self, abi: str, min_impact: str) -> list[Pair]:
        """The pairs (or pairs of kinds) unsafe under abi for an erratum of min_impact or worse:
        the worst first, then those missing the most. What `risk --fail-on` fails for."""
        limit = impact_rank(min_impact)
        hits = [p for p in self._answers() if p.missing[abi] and self.rank(p.missing[abi][0]) <= limit]
        return sorted(hits, key=lambda p: (self.rank(p.missing[abi][0]), -len(p.missing[abi])))


def classes(reg: Registry, module: types.ModuleType, hosts: list[Host]) -> tuple[HostClass, ...]:
    """Hosts grouped by their set of CPUs, in the order of each group's first host.
    module: a generated lookup module, which matches the part family of a CPU cpus.yaml lacks."""
    groups: dict[tuple[Cpu, ...], list[str]] = {}
    keys: dict[int, tuple[Cpu, ...]] = {}  # hosts of one kind share their tuple of CPUs (fleet.Host)
    for h in hosts:
        key = keys.get(id(h.cpus))
        if key is None:
            key = keys[id(h.cpus)] = tuple(sorted({(c.midr, c.revidr, c.aidr) for c in h.cpus}))
        groups.setdefault(key, []).append(h.name)
    names = cpu_names(reg)
    labels: dict[int, str] = {}  # by MIDR: a label looks the part family up in every row
    for cpus in groups:
        for midr, _, _ in cpus:
            if midr not in labels:
                labels[midr] = cpu_label(reg, module, names, midr)
    return tuple(HostClass(members[0], tuple(members), cpus, tuple(labels[c[0]] for c in cpus))
                 for cpus, members in groups.items())


def _rows(reg: Registry, local: bool) -> Registry:
    """The registry with only its part-family rows (local=True), or only its other rows."""
    return dataclasses.replace(reg, errata=tuple(
        dataclasses.replace(e, affects=tuple(a for a in e.affects if (a.part_mask is not None) == local))
        for e in reg.errata))


def matchers(reg: Registry) -> tuple[types.ModuleType, types.ModuleType]:
    """The generated module for the rows a 6.15 guest matches against any target CPU, and the
    one for the part-family rows it matches against the local CPU only."""
    return lookup_module(_rows(reg, False)), lookup_module(_rows(reg, True))


def analyse(reg: Registry, hosts: list[Host]) -> Risk:
    """The pairs of a fleet for a guest whose kernel is the registry itself: its ranges, every
    cpucap, and the target list where that behaviour has one."""
    itself = Guest("the registry", reg, frozenset(e.enables for e in reg.errata), None)
    return dataclasses.replace(analyse_guest(reg, hosts, itself), guest=None)


class _Bitmaps:
    """The bitmap of a generated module for a set of CPUs, each CPU matched once: thousands of
    classes of one CPU model differ by a REVIDR or an AIDR."""

    def __init__(self, module: types.ModuleType):
        self.module, self.by_cpu = module, {}

    def __call__(self, cpus: tuple[Cpu, ...]) -> int:
        bitmap = 0
        for midr, revidr, _ in cpus:
            bits = self.by_cpu.get((midr, revidr))
            if bits is None:
                bits = self.by_cpu[midr, revidr] = self.module.bitmap_for_cpus([(midr, revidr)])
            bitmap |= bits
        return bitmap


class _Caps:
    """The cpucaps a registry's active rows enable for a bitmap, as a set of bits over one
    ordering of cpucap names (sets of names for every pair of classes were most of the time).
    host_only: None for every row, else only the rows whose `guest` is (True) or is not host-only."""

    def __init__(self, r: Registry, bit_of: dict[str, int], newest: dict[str, str], host_only: bool | None = None):
        self.rows = [(e.bit, 1 << bit_of[newest.get(e.enables, e.enables)], bool(e.condition))
                     for e in r.errata if e.active and host_only in (None, e.host_only)]
        self.known: dict[tuple[int, bool | None], int] = {}

    def __call__(self, bitmap: int, condition: bool | None = None) -> int:
        caps = self.known.get((bitmap, condition))
        if caps is None:
            caps = 0
            for bit, cap, conditional in self.rows:
                if bitmap >> bit & 1 and (condition is None or conditional == condition):
                    caps |= cap
            self.known[bitmap, condition] = caps
        return caps


def analyse_guest(reg: Registry, hosts: list[Host], guest: Guest) -> Risk:
    """The same pairs for one actual guest kernel. What a class's CPUs need is the registry's
    answer; what the guest enables comes from its own kernel's ranges under `none` and
    `impl-cpus` (the latter only if the kernel uses a target list), and under `bitmap` from the
    registry's bitmap for the fleet, for every cpucap the guest kernel has, on top of its own
    matching."""
    host_any, host_local = matchers(reg)
    groups = classes(reg, host_local, hosts)
    # analyse() asks for the registry itself as the guest: its modules are the host's.
    guest_any, guest_local = (host_any, host_local) if guest.registry is reg else matchers(guest.registry)
    order = {e.enables: e.bit for e in reg.errata}
    # The guest's kernel may name a cpucap by an older name (6.12's REPEAT_TLBI): the same cpucap.
    newest = {name: e.enables for e in reg.errata for name in e.cpucaps}
    impacts = _impacts(reg, guest.registry, newest)
    # Every cpucap a set below can hold, in the order a report lists them (bit i is names[i]):
    # the worst impact first; within one, by bit, then the speculation mitigations (no bit) in
    # the kernel's order, then a guest kernel's own cpucaps by name.
    after = {cap: i for i, cap in enumerate(SPECULATION_CPUCAPS)}
    names = sorted(impacts, key=lambda n: (impacts[n].rank, (0, order[n]) if n in order
                                           else (1, after[n]) if n in after else (2, 0), n))
    bit_of = {name: i for i, name in enumerate(names)}

    def mask(caps) -> int:
        return sum(1 << bit_of[c] for c in {newest.get(c, c) for c in caps} if c in bit_of)

    listed: dict[int, tuple[str, ...]] = {}

    def ordered(caps: int) -> tuple[str, ...]:
        if caps not in listed:
            listed[caps] = tuple(names[i] for i in range(caps.bit_length()) if caps >> i & 1)
        return listed[caps]

    needs, guest_caps = _Caps(reg, bit_of, newest, False), _Caps(guest.registry, bit_of, newest)
    needs_host_only = _Caps(reg, bit_of, newest, True)
    host_bits = [_Bitmaps(host_any), _Bitmaps(host_local)]
    guest_any_bits, guest_local_bits = _Bitmaps(guest_any), _Bitmaps(guest_local)
    host_bitmaps = [host_bits[0](g.cpus) | host_bits[1](g.cpus) for g in groups]
    guest_bitmaps = [(guest_any_bits(g.cpus), guest_local_bits(g.cpus)) for g in groups]
    need = [needs(b, False) for b in host_bitmaps]
    need_conditional = [needs(b, True) for b in host_bitmaps]
    own = [guest_caps(a | local) for a, local in guest_bitmaps]
    own_local = [guest_caps(local) for _, local in guest_bitmaps]
    spec = _Speculation(reg.speculation, guest.registry.speculation, groups, guest.no_target_impl is None)
    over_fleet = guest_caps(_union(a for a, _ in guest_bitmaps))
    bitmap = needs(_union(host_bitmaps)) & mask(guest.cpucaps)
    unknown = ~mask(guest.cpucaps)

    # Every answer depends on what the two classes need and enable, nothing else: classes alike
    # in that form a kind, and each ordered pair of kinds is worked out once.
    kind_of: dict[tuple[int, int, int, int, int], int] = {}
    members: list[list[int]] = []
    for i, profile in enumerate(zip(need, need_conditional, own, own_local, spec.ids)):
        k = kind_of.setdefault(profile, len(kind_of))
        if k == len(members):
            members.append([])
        members[k].append(i)
    profiles = list(kind_of)
    answers: dict[tuple[int, int], tuple] = {}

    def answer(a: int, b: int) -> tuple:
        """Pair's fields after source and target, for a class of kind a and one of kind b."""
        if (a, b) not in answers:
            _, _, own_a, local_a, spec_a = profiles[a]
            need_b, conditional_b, own_b, _, spec_b = profiles[b]
            enabled = {"none": own_a, "bitmap": own_a | bitmap,
                       "impl-cpus": own_a if guest.no_target_impl else over_fleet | local_a}
            findings = spec.findings(spec_a, spec_b)
            lacking = {abi: mask(f.cpucap for f in found if _counts(f)) for abi, found in findings.items()}
            answers[a, b] = ({abi: ordered(need_b & ~enabled[abi] | lacking[abi]) for abi in ABIS},
                             {abi: ordered(conditional_b & ~enabled[abi]) for abi in ABIS},
                             ordered(need_b & bitmap & ~own_b & ~own_a), ordered(need_b & unknown))
            answers[a, b] += (findings,)
        return answers[a, b]

    host_only_need = [needs_host_only(b) for b in host_bitmaps]
    # Each entry by its own bit: a cpucap some class needs may have entries for other CPUs too.
    fleet_bits = _union(host_bitmaps)
    errata = tuple(e for e in reg.errata if e.active and fleet_bits >> e.bit & 1)
    conditionals, host_only = [], []
    for e in sorted(errata, key=lambda e: bit_of[e.enables]):
        bit = bit_of[e.enables]
        needed_by = tuple(g.name for g, n, h in zip(groups, need_conditional, host_only_need) if (n | h) >> bit & 1)
        if not needed_by:
            continue
        if e.condition:
            conditionals.append(Conditional(e.enables, e.condition, e.guest_reason if e.host_only else None, needed_by))
        if e.host_only:
            host_only.append(HostOnly(e.enables, e.guest_reason or "", needed_by))
    risk = Risk(groups, (), tuple(conditionals), tuple(_warnings(reg, host_local, groups, spec)), len(hosts), guest,
                host_only=tuple(host_only), impacts=impacts, errata=errata, at_boot=spec.at_boot(),
                speculation_lists=spec.lists_name, guest_speculation_lists=spec.guest_lists_name)
    if len(groups) <= MAX_CLASSES and sum(len(g.name) for g in groups) <= MAX_NAME_CHARS:
        kind = [0] * len(groups)
        for k, indexes in enumerate(members):
            for i in indexes:
                kind[i] = k
        pairs = tuple(_pair(s.name, t.name, answer(kind[i], kind[j]))
                      for i, s in enumerate(groups) for j, t in enumerate(groups) if i != j)
        return dataclasses.replace(risk, pairs=pairs)
    if len(members) > MAX_CLASSES:
        raise TooManyKinds(
            f"{len(hosts)} host(s) in {len(groups)} classes of identical CPUs, of {len(members)} kinds (classes whose "
            f"CPUs need and enable the same errata): risk compares at most {MAX_CLASSES} kinds. A fleet has many "
            "hosts but few kinds of CPU; `errata-db fleet` gives what it needs as a whole")
    kinds = tuple(Kind(f"kind {k + 1}", tuple(groups[i].name for i in indexes),
                       sum(len(groups[i].hosts) for i in indexes),
                       tuple(dict.fromkeys(label for i in indexes for label in groups[i].labels)),
                       ordered(profiles[k][0]))
                  for k, indexes in enumerate(members))
    kind_pairs = tuple(_pair(s.name, t.name, answer(a, b), len(s.classes) * (len(t.classes) - (a == b)))
                       for a, s in enumerate(kinds) for b, t in enumerate(kinds) if a != b or len(s.classes) > 1)
    needed = tuple((name, sum(len(members[k]) for k, p in enumerate(profiles) if p[0] >> i & 1))
                   for i, name in enumerate(names) if any(p[0] >> i & 1 for p in profiles))
    return dataclasses.replace(risk, kinds=kinds, kind_pairs=kind_pairs, needed=needed)


# What a guest runs without, for the speculation mitigations the kernel decides from its own
# MIDR lists (speculation.yaml): no erratum entry carries these.
SPECULATION_NOTES = {
    "SPECTRE_V2": "Without it, code in another context can steer the kernel's indirect branches speculatively "
                  "(Spectre variant 2).",
    "SPECTRE_V3A": "Without it, speculative reads of system registers can reveal where the hypervisor's vectors "
                   "are (Spectre variant 3a).",
    "SPECTRE_V4": "Without it, a load can speculatively bypass an older store and read stale data "
                  "(Spectre variant 4).",
    "SPECTRE_BHB": "Without it, or with too short a history-clearing loop, branch history left by user space can "
                   "steer the kernel's speculation (Spectre-BHB).",
    "UNMAP_KERNEL_AT_EL0": "Without it, user space can read kernel memory speculatively (Meltdown).",
}


# A speculation mitigation only KVM's own code needs, as host-only errata are: its findings are
# shown and never counted.
HOST_ONLY = "host-only"
HOST_ONLY_SPECULATION = {
    "SPECTRE_V3A": "the mitigation hardens KVM's own vectors at EL2 (arch/arm64/kernel/proton-pack.c, "
                   "spectre_v3a_enable_mitigation()), which a guest kernel at EL1 never runs",
}


def _impacts(reg: Registry, guest: Registry, newest: dict[str, str]) -> dict[str, Impact]:
    """How bad each cpucap is: the worst of the registry's entries that enable it, else the
    guest kernel's (unreviewed: an import of a tree decides nothing); every speculation
    mitigation is of impact speculation."""
    impacts: dict[str, Impact] = {}
    if reg.speculation is not None:
        impacts |= {cap: Impact("speculation", impact_rank("speculation"), note)
                    for cap, note in SPECULATION_NOTES.items()}
    for r in (reg, guest):
        ours: dict[str, Impact] = {}
        for e in r.errata:
            cap = newest.get(e.enables, e.enables)
            if e.active and cap not in impacts and (cap not in ours or e.impact_rank < ours[cap].rank):
                ours[cap] = Impact(e.impact or UNREVIEWED, e.impact_rank, e.impact_note)
        impacts |= ours
    return impacts


# --min-impact's default: every erratum counts.
LEAST_IMPACT = list(IMPACTS)[-1]


def gate(r: Risk, abi: str, min_impact: str, shown: int = 5) -> list[str]:
    """risk --fail-on: why it fails, the worst pairs first, and under impl-cpus the classes a
    guest given the target list is exposed on before any migration; nothing when it passes."""
    hits = r.offending(abi, min_impact)
    exposed = [(name, caps) for name, caps in _exposed_at_boot(r)
               if abi == "impl-cpus" and impact_rank("speculation") <= impact_rank(min_impact)]
    if not hits and not exposed:
        return []
    lines = []
    if hits:
        kinds = f" ({len(hits)} pair(s) of kinds)" if r.kinds else ""
        worse = "" if min_impact == LEAST_IMPACT else f" for an erratum of impact {min_impact} or worse"
        lines.append(f"risk: {sum(p.weight for p in hits)} of {r.pair_count} pair(s) unsafe under {abi}{worse}{kinds}; "
                     "the first:")
        for p in hits[:shown]:
            caps = [cap for cap in p.missing[abi] if r.rank(cap) <= impact_rank(min_impact)]
            lines.append(f"  {p.source} -> {p.target}: " + ", ".join(f"{cap} [{r.impacts[cap].level}]" for cap in caps))
        if len(hits) > shown:
            lines.append(f"  and {len(hits) - shown} more: the report above has them all")
    if exposed:
        lines.append(f"risk: under {abi}, a guest given the fleet's target list lacks a speculation mitigation on "
                     f"{len(exposed)} class(es) before any migration; the first:")
        lines += [f"  {name}: " + ", ".join(f"{cap} [speculation]" for cap in caps) for name, caps in exposed[:shown]]
        if len(exposed) > shown:
            lines.append(f"  and {len(exposed) - shown} more: the report above has them all")
    return lines


def _exposed_at_boot(r: Risk) -> list[tuple[str, list[str]]]:
    """The classes (or kinds) a guest given the target list lacks a counted mitigation on with no
    migration at all, and which."""
    found: dict[str, dict[str, None]] = {}
    for name, findings in r.at_boot:
        for f in findings:
            if _counts(f):
                found.setdefault(r.shown((name,)), {})[f.cpucap] = None
    return [(name, list(caps)) for name, caps in found.items()]


def _counts(f: speculation.Finding) -> bool:
    """Whether a speculation finding makes a pair unsafe: the guest lacks a mitigation, or has
    it with too small a loop count, that a guest kernel needs."""
    return f.kind != speculation.OTHER and f.cpucap not in HOST_ONLY_SPECULATION


def _pair(source: str, target: str, answer: tuple, weight: int = 1) -> Pair:
    missing, conditional, learned, unknown, findings = answer
    return Pair(source, target, missing, conditional, learned, unknown, weight, findings)


class _Speculation:
    """The speculation mitigations of a fleet's classes (speculation.py): what each class needs,
    judged by the registry's lists, and what a guest keeps, judged by its own kernel's lists:
    booted on a class, or (impl-cpus, a kernel with the target list) over the fleet's."""

    def __init__(self, lists: Speculation | None, guest_lists: Speculation | None,
                 groups: tuple[HostClass, ...], target_list: bool):
        self.known = lists is not None and guest_lists is not None
        self.lists_name = self.guest_lists_name = None
        if lists is not None and guest_lists is not None:
            self.lists_name, self.guest_lists_name = f"Linux {lists.linux}", f"Linux {guest_lists.linux}"
        self.target_list = target_list
        self.groups = groups
        # Classes alike in what they need and a guest booted there keeps share a number (`ids`),
        # which a kind of class holds: the lists match MIDRs alone, and each set of MIDRs is
        # judged once (thousands of classes of one model differ by a REVIDR).
        by_midrs: dict[tuple[int, ...], int] = {}
        by_value: dict[tuple[tuple, tuple], int] = {}
        self.judged: list[tuple[tuple, tuple]] = []  # by id: (needs, what a guest booted there keeps)
        self.ids: list[int] = []
        for g in groups:
            key = tuple(sorted({c[0] for c in g.cpus}))
            if key not in by_midrs:
                value = ((speculation.needs(lists, g.cpus), speculation.kernel_state(guest_lists, g.cpus, False))
                         if lists is not None and guest_lists is not None else ((), ()))
                if value not in by_value:
                    by_value[value] = len(self.judged)
                    self.judged.append(value)
                by_midrs[key] = by_value[value]
            self.ids.append(by_midrs[key])
        every = tuple(dict.fromkeys(c for g in groups for c in g.cpus))
        self.fleet = speculation.kernel_state(guest_lists, every, True) if self.known and target_list else ()
        self.compared: dict[tuple[int, int], dict[str, tuple[speculation.Finding, ...]]] = {}

    def findings(self, source: int, target: int) -> dict[str, tuple[speculation.Finding, ...]]:
        """By behaviour, between classes of these ids: none and bitmap (which carries no
        speculation mitigation) keep what the boot class gave; impl-cpus what the target list
        gives, for a kernel that has one."""
        if not self.known:
            return {abi: () for abi in ABIS}
        if (source, target) not in self.compared:
            own, need = self.judged[source][1], self.judged[target][0]
            booted = speculation.compare(own, need)
            self.compared[source, target] = {
                "none": booted, "bitmap": booted,
                "impl-cpus": speculation.compare(self.fleet, need) if self.target_list else booted}
        return self.compared[source, target]

    def at_boot(self) -> tuple[tuple[str, tuple[speculation.Finding, ...]], ...]:
        """The classes on which a guest given the fleet's target list lacks a mitigation with no
        migration at all."""
        if not (self.known and self.target_list):
            return ()
        lacking = [speculation.compare(self.fleet, need) for need, _ in self.judged]
        return tuple((g.name, lacking[i]) for g, i in zip(self.groups, self.ids) if lacking[i])


def _union(bitmaps) -> int:
    union = 0
    for b in bitmaps:
        union |= b
    return union


def _warnings(reg: Registry, module: types.ModuleType, groups: tuple[HostClass, ...], spec: _Speculation):
    names = cpu_names(reg)
    unknown: dict[int, dict[str, None]] = {}  # ordered sets of class names
    for g in groups:
        for midr, _, _ in g.cpus:
            if implementer_part(midr) not in names:
                unknown.setdefault(midr, {})[g.name] = None
    for midr in sorted(unknown):
        yield ("unknown-cpu", unknown_cpu(reg, module, midr, f", on {some(tuple(unknown[midr]), 10)}"))
    not_covered = not_covered_warning(reg)
    if not_covered:
        yield ("not-covered", not_covered)
    if not spec.known:
        yield ("speculation", "no speculation lists (speculation.yaml, or the guest kernel's proton-pack.c and "
               "cpufeature.c): the Spectre and Meltdown mitigations are not compared")


# --- output ----------------------------------------------------------------------------------


def _summary_line(r: Risk) -> str:
    return (f"{r.host_count} host(s) in {len(r.classes)} class(es) of identical CPUs, {r.pair_count} "
            "ordered pair(s): the guest boots on a host of the first class and is migrated to one of the second")


def _by_kind_lines(r: Risk) -> list[str]:
    """Why the report is by kind, if it is."""
    if not r.kinds:
        return []
    chars = sum(len(g.name) for g in r.classes)
    why = (f"more than {MAX_CLASSES} classes" if len(r.classes) > MAX_CLASSES
           else f"class names of {chars} characters, more than {MAX_NAME_CHARS}")
    return [f"By kind: {why}, so the pairs are given between {len(r.kinds)} kind(s) of class, each the classes "
            "whose CPUs need and enable the same errata (a fleet has many hosts but few classes)"]


def _sentence(text: str) -> str:
    return f"{text[0].upper()}{text[1:]}."


GUEST_MEANING = {
    "none": "the guest matches only the CPUs of the host it booted on, with its own kernel's ranges",
    "bitmap": "the RFC's hypercall added to this guest: it enables every bit of this registry's bitmap "
              "for the fleet whose cpucap its kernel has, and matches its own ranges as well",
    "impl-cpus": "the guest matches its own kernel's ranges against every CPU of the fleet's target list; "
                 "the Kryo part-family match counts only for the CPU it booted on",
}


def _meaning(r: Risk, abi: str) -> str:
    if r.guest is None:
        return ABI_MEANING[abi]
    if abi == "impl-cpus" and r.guest.no_target_impl:
        return f"equals none: this kernel predates the target implementation list ({r.guest.no_target_impl})"
    return GUEST_MEANING[abi]


def _guest_lines(r: Risk, inert: Callable[[str], str] = escape) -> list[str]:
    """inert: how the format makes the guest's name, a path, plain text."""
    if r.guest is None:
        return []
    return [f"Guest kernel: {inert(r.guest.name)}: the errata each class needs are the registry's; "
            "what the guest enables is decided by that kernel"]


def _missing(p: Pair, abi: str) -> list[str]:
    """A pair's missing errata, those the guest kernel has no cpucap for said so under bitmap."""
    return [f"{cap} (unknown to this guest)" if abi == "bitmap" and cap in p.unknown else cap
            for cap in p.missing[abi]]


def _shown(r: Risk) -> tuple[HostClass | Kind, ...]:
    """The rows and columns of the matrices: the classes, or the kinds past the limits."""
    return r.kinds or r.classes


def _answers(r: Risk) -> tuple[Pair, ...]:
    return r.kind_pairs if r.kinds else r.pairs


def _learned(r: Risk) -> list[Pair]:
    return [p for p in _answers(r) if p.learned]


def _cells(r: Risk) -> dict[tuple[str, str], Pair]:
    """The answers by (row, column) name; none for a class with itself, or a kind of one class."""
    return {(p.source, p.target): p for p in _answers(r)}


def _named(r: Risk, shown: dict[str, str], p: Pair) -> str:
    """A pair as a text line names it; for kinds, with how many pairs of classes it stands for."""
    return f"{shown[p.source]} -> {shown[p.target]}" + (f" ({p.weight} pair(s) of classes)" if r.kinds else "")


def _needed_text(r: Risk) -> list[str]:
    every = [cap for cap, n in r.needed if n == len(r.classes)]
    some_only = [f"{cap} ({n} of {len(r.classes)})" for cap, n in r.needed if n < len(r.classes)]
    return ["", "Errata the classes need",
            f"  every class: {', '.join(every) or '(none)'}",
            f"  some classes only: {', '.join(some_only) or '(none)'}"]


def _cell_text(r: Risk, p: Pair | None, abi: str) -> str:
    """A text matrix cell: '-' for a class with itself, the count, and the worst impact."""
    if p is None:
        return "-"
    return f"{len(p.missing[abi])} {r.worst(p.missing[abi])}" if p.missing[abi] else "0"


def _unsafe(r: Risk) -> list[Pair]:
    """The unsafe pairs, the worst impact missing under any behaviour first, then the most missing."""
    def key(p: Pair) -> tuple[int, int]:
        caps = [caps[0] for caps in p.missing.values() if caps]
        return (min(r.rank(cap) for cap in caps), -max(len(caps) for caps in p.missing.values()))
    return sorted((p for p in _answers(r) if any(p.missing.values())), key=key)


def _guest_conditionals(r: Risk) -> list[Conditional]:
    """The conditional errata a guest may need: host-only ones are listed with their reason."""
    return [c for c in r.conditionals if c.el1_never is None]


@dataclass(frozen=True)
class _Culprit:
    cpucap: str
    impact: Impact
    pairs: tuple[int, ...]  # unsafe pairs it is missing in, by behaviour in ABIS order


def _per_erratum(r: Risk) -> list[_Culprit]:
    """Every erratum that makes a pair unsafe under some behaviour, the worst impact first."""
    counts = {abi: dict(r.culprits(abi)) for abi in ABIS}
    caps = {cap for abi in ABIS for cap in counts[abi]}
    return [_Culprit(cap, r.impacts[cap], tuple(counts[abi].get(cap, 0) for abi in ABIS))
            for cap in sorted(caps, key=lambda c: (r.rank(c), -max(counts[abi].get(c, 0) for abi in ABIS), c))]


def _depends(r: Risk) -> list[tuple[str, tuple[str, ...]]]:
    """What else decides each speculation mitigation the report names: ID registers and firmware."""
    caps = {g.finding.cpucap for g in _grouped(r)}
    return [(cap, speculation.DEPENDS[cap]) for cap in SPECULATION_CPUCAPS if cap in caps]


def _speculation_intro(r: Risk) -> str:
    guest = ("" if r.guest is None or r.guest_speculation_lists == r.speculation_lists
             else f"; what the guest keeps, from {r.guest_speculation_lists}'s")
    return (f"The Spectre and Meltdown mitigations the kernel decides from MIDR lists (what the hosts need, from "
            f"{r.speculation_lists}'s proton-pack.c and cpufeature.c{guest}), compared as the kernel matches "
            "them: under none and bitmap (which carries none of them) the boot class decides; under impl-cpus any "
            "target on a list counts, a safe list too, and the loop count k is the largest of the targets'")


NOT_COUNTED = {
    speculation.OTHER: "not counted: the guest keeps a loop where the destination's own kernel would rely on ECBHB, "
                       "CLRBHB or firmware",
    HOST_ONLY: "not counted: host-only, " + HOST_ONLY_SPECULATION["SPECTRE_V3A"],
}


@dataclass(frozen=True)
class _Group:
    """One finding of one behaviour, with every pair it is found in and every class a guest
    given the target list lacks it on before any migration (impl-cpus only)."""

    abi: str
    finding: speculation.Finding
    pairs: tuple[str, ...]  # "a -> b", as the report names them
    at_boot: tuple[str, ...]

    @property
    def text(self) -> str:
        why = NOT_COUNTED.get(_counted_as(self.finding))
        return self.finding.text + (f" ({why})" if why else "")


def _counted_as(f: speculation.Finding) -> str:
    """f's kind, or HOST_ONLY for a mitigation a guest kernel at EL1 never needs."""
    return HOST_ONLY if f.cpucap in HOST_ONLY_SPECULATION else f.kind


def _grouped(r: Risk) -> list[_Group]:
    """Each distinct finding once, by behaviour and text, with where it is found: one finding is
    often every pair's, and a report of many classes would repeat it thousands of times."""
    first: dict[tuple[str, str], speculation.Finding] = {}
    pairs: dict[tuple[str, str], list[str]] = {}
    boot: dict[tuple[str, str], dict[str, None]] = {}
    for p in _answers(r):
        for abi in ABIS:
            for f in p.speculation.get(abi, ()):
                key = (abi, f.text)
                first.setdefault(key, f)
                pairs.setdefault(key, []).append(f"{p.source} -> {p.target}")
    for name, found in r.at_boot:
        for f in found:
            key = ("impl-cpus", f.text)
            first.setdefault(key, f)
            boot.setdefault(key, {})[r.shown((name,))] = None
    order = {abi: i for i, abi in enumerate(ABIS)}
    keys = sorted(first, key=lambda k: (order[k[0]], SPECULATION_CPUCAPS.index(first[k].cpucap)))
    return [_Group(k[0], first[k], tuple(pairs.get(k, ())), tuple(boot.get(k, ()))) for k in keys]


def _speculation_text(r: Risk) -> list[str]:
    if r.speculation_lists is None:
        return []
    out = ["", "Speculation mitigations", f"  {_speculation_intro(r)}.",
           "  Assumed: " + "; ".join(speculation.ASSUMPTIONS) + "."]
    for abi in ABIS:
        groups = [g for g in _grouped(r) if g.abi == abi]
        if groups:
            out.append(f"  {abi}:")
        for g in groups:
            out.append(f"    {g.text}")
            if g.at_boot:
                out.append(f"      before any migration, on {escape(some(g.at_boot, 6))} itself")
            if g.pairs:
                out.append(f"      after {escape(some(g.pairs, 6))}")
    depends = _depends(r)
    if depends:
        out.append("  Each finding is as the lists decide; whether the guest is exposed also depends on")
        out += [f"    {cap}: {'; '.join(d)}" for cap, d in depends]
    else:
        out.append("  No pair lacks one as the lists decide; each decision also depends on ID registers and firmware, "
                   "as assumed above.")
    return out


def format_text(r: Risk) -> str:
    out = [_summary_line(r), *_by_kind_lines(r), *_guest_lines(r), ""]
    if r.kinds:
        out.append("Kinds")
        width = max(len(k.name) for k in r.kinds)
        for k in r.kinds:
            out += [f"  {k.name:{width}}  {len(k.classes)} class(es), {k.hosts} host(s): {escape(some(k.classes))}",
                    f"  {'':{width}}  CPUs: {some(k.labels, 5)}",
                    f"  {'':{width}}  needs: {', '.join(k.needs) or '(none)'}"]
        out += _needed_text(r)
    else:
        out.append("Classes")
        width = max(len(escape(g.name)) for g in r.classes)
        for g in r.classes:
            out.append(f"  {escape(g.name):{width}}  {len(g.hosts)} host(s): {escape(some(g.hosts))}")
            out += [f"  {'':{width}}  MIDR {m:#010x}  REVIDR {rv:#010x}  AIDR {a:#010x}  {label}"
                    for (m, rv, a), label in zip(g.cpus, g.labels)]
    cells = _cells(r)
    # Each name escaped once: a cell of each matrix is padded to its column's name.
    shown = {x.name: escape(x.name) for x in _shown(r)}
    out += ["", "Errata missing after a migration, by guest behaviour (row: booted on, column: migrated to"
            + ("; a kind's own cell: between two of its classes)" if r.kinds else ")")]
    heading = "from \\ to"
    width = max(width, len(heading))
    out.append("A cell: how many, and the worst impact among them (worst first: "
               + ", ".join(level for level, _ in _legend(r)) + ")")
    for abi in ABIS:
        text = {(s.name, t.name): _cell_text(r, cells.get((s.name, t.name)), abi) for s in _shown(r) for t in _shown(r)}
        widths = {t.name: max(len(shown[t.name]), *(len(text[s.name, t.name]) for s in _shown(r))) for t in _shown(r)}
        out += ["", f"{abi}: {_meaning(r, abi)}",
                f"  {heading:{width}}  " + "  ".join(shown[t.name].ljust(widths[t.name]) for t in _shown(r)).rstrip()]
        for s in _shown(r):
            row = [text[s.name, t.name].ljust(widths[t.name]) for t in _shown(r)]
            out.append(f"  {shown[s.name]:{width}}  " + "  ".join(row).rstrip())
    unsafe = _unsafe(r)
    out += ["", f"Unsafe pairs{' of kinds' if r.kinds else ''} ({len(unsafe)})"]
    for p in unsafe:
        out.append(f"  {_named(r, shown, p)}")
        out += [f"    {abi:10} " + ", ".join(f"{m} [{r.impacts[cap].level}]" for cap, m in zip(p.missing[abi], _missing(p, abi)))
                for abi in ABIS if p.missing[abi]]
    if not unsafe:
        out.append("  (none)")
    if r.guest is not None:
        out += ["", "Learned from the bitmap: the host says the new CPUs need a workaround this guest has "
                "the code for but not their range"]
        out += [f"  {_named(r, shown, p)}: {', '.join(p.learned)}" for p in _learned(r)]
        if not _learned(r):
            out.append("  (none)")
    out += _speculation_text(r)
    if r.host_only:
        out += ["", "Host-only errata: the fleet's CPUs have them, a guest kernel never needs them (never unsafe)"]
        for h in r.host_only:
            out += [f"  {h.cpucap}: on {escape(r.shown(h.needed_by))}", f"    {escape(h.reason)}"]
    if _guest_conditionals(r):
        out += ["", "Errata whose kernel matcher adds a condition (not counted as unsafe)"]
        for c in _guest_conditionals(r):
            out += [f"  {c.cpucap}: needed on {escape(r.shown(c.needed_by))}",
                    f"    the guest enables it only if {c.condition}"]
            for abi in ABIS:
                after = [f"{shown[p.source]} -> {shown[p.target]}" for p in _answers(r)
                         if c.cpucap in p.conditional[abi]]
                if after:
                    out.append(f"    {abi:10} missing after {', '.join(after)}")
    out += ["", "Summary: unsafe pairs by guest behaviour"]
    for abi in ABIS:
        culprits = ", ".join(f"{cap} ({n})" for cap, n in r.culprits(abi))
        out.append(f"  {abi:10} {r.unsafe(abi)} of {r.pair_count}" + (f"  {culprits}" if culprits else ""))
    exposed = _exposed_at_boot(r)
    if exposed:
        out.append(f"  {'':10} and before any migration, on {len(exposed)} class(es): a guest given the target list "
                   "lacks a speculation mitigation there")
    summary = _per_erratum(r)
    if summary:
        out += ["", "Errata that make pairs unsafe, the worst impact first (unsafe pairs under "
                + " / ".join(ABIS) + ")"]
        width = max(len(row.cpucap) for row in summary)
        counts = {row.cpucap: " / ".join(str(n) for n in row.pairs) for row in summary}
        count_width = max(len(c) for c in counts.values())
        for row in summary:
            out.append(f"  {row.cpucap:{width}}  {row.impact.level:11} {counts[row.cpucap]:{count_width}}  "
                       f"{escape(row.impact.note or '')}".rstrip())
    if r.warnings:
        out += ["", f"Warnings ({len(r.warnings)})"]
        out += [f"  warning: {escape(message)} [{kind}]" for kind, message in r.warnings]
    return "\n".join(out) + "\n"


def _state_doc(s: speculation.State) -> dict:
    return {"on": s.on, "k": s.k if s.cpucap == "SPECTRE_BHB" else None, "list": s.list, "cpus": s.cpus,
            "target_list": s.targets}


def _finding_doc(f: speculation.Finding) -> dict:
    return {"cpucap": f.cpucap, "kind": _counted_as(f), "counted": _counts(f), "text": f.text, "list": f.list,
            "kept": _state_doc(f.kept), "needed": _state_doc(f.needed)}


def _findings(r: Risk) -> dict[speculation.Finding, int]:
    """Every distinct speculation finding of the report, numbered: the JSON gives each once, and
    a pair names it by number with its loop counts (a fleet of many classes repeats a few
    findings in every pair)."""
    found = (f for p in _answers(r) for abi in ABIS for f in p.speculation.get(abi, ()))
    return {f: i for i, f in enumerate(dict.fromkeys([*found, *(f for _, fs in r.at_boot for f in fs)]))}


def _pair_doc(r: Risk, p: Pair, numbers: dict[speculation.Finding, int]) -> dict:
    return {"from": p.source, "to": p.target, "missing": p.missing, "conditional": p.conditional,
            "worst_impact": {abi: r.worst(p.missing[abi]) for abi in ABIS},
            "speculation": {abi: [{"finding": numbers[f], "cpucap": f.cpucap, "counted": _counts(f), "list": f.list,
                                   "k_kept": f.kept.k if f.cpucap == "SPECTRE_BHB" else None,
                                   "k_needed": f.needed.k if f.cpucap == "SPECTRE_BHB" else None}
                                  for f in p.speculation.get(abi, ())] for abi in ABIS}}


def _answer_doc(r: Risk, p: Pair, numbers: dict[speculation.Finding, int]) -> dict:
    return _pair_doc(r, p, numbers) | ({"learned": p.learned, "unknown_to_guest": p.unknown} if r.guest else {})


def _doc(r: Risk) -> dict:
    numbers = _findings(r)
    return {
        "classes": ({"name": g.name, "hosts": g.hosts,
                     "cpus": [{"midr": m, "revidr": rv, "aidr": a} for m, rv, a in g.cpus]} for g in r.classes),
        "abis": ABIS,
        "pairs": (_pair_doc(r, p, numbers) for p in r.pairs),
        "unsafe_pairs": {abi: r.unsafe(abi) for abi in ABIS},
        "unsafe_by": {abi: dict(r.culprits(abi)) for abi in ABIS},
        "conditions": [{"cpucap": c.cpucap, "condition": c.condition, "el1_never": c.el1_never,
                        "needed_by": c.needed_by} for c in r.conditionals],
        "warnings": [{"kind": kind, "message": message} for kind, message in r.warnings],
        "impact_levels": [UNREVIEWED, *IMPACTS],
        "errata": [{"cpucap": e.enables, "name": e.name, "bit": e.bit} | guest_and_impact(e) for e in r.errata],
        "host_only": [{"cpucap": h.cpucap, "reason": h.reason, "needed_by": h.needed_by} for h in r.host_only],
        "impacts": {cap: {"impact": r.impacts[cap].level, "impact_note": r.impacts[cap].note}
                    for cap in sorted(_named_caps(r), key=lambda c: (r.rank(c), c))},
        "speculation": {"lists": r.speculation_lists, "guest_lists": r.guest_speculation_lists,
                        "assumptions": speculation.ASSUMPTIONS,
                        "findings": [_finding_doc(f) for f in numbers],
                        "depends_on": dict(_depends(r)),
                        "impl_cpus_at_boot": [{"class": name, "findings": [numbers[f] for f in found]}
                                              for name, found in r.at_boot]},
    } | ({} if r.guest is None else {
        "guest": {"kernel": r.guest.name, "impl_cpus": r.guest.no_target_impl is None,
                  "impl_cpus_missing": r.guest.no_target_impl},
        "learned": ({"from": p.source, "to": p.target, "cpucaps": p.learned} for p in r.pairs if p.learned),
        "unknown_to_guest": ({"from": p.source, "to": p.target, "cpucaps": p.unknown} for p in r.pairs if p.unknown),
    }) | ({} if not r.kinds else {
        "by_kind": _by_kind_lines(r)[0],
        "kinds": [{"name": k.name, "classes": k.classes, "hosts": k.hosts, "needs": k.needs} for k in r.kinds],
        "kind_pairs": [_answer_doc(r, p, numbers) | {"class_pairs": p.weight} for p in r.kind_pairs],
        "needed_by": dict(r.needed),
    })


def format_json(r: Risk) -> str:
    return json_text(_doc(r)) + "\n"


# Every ASCII punctuation mark, each of which CommonMark makes literal after a backslash.
_MARKDOWN_PUNCTUATION = re.compile(r"[!-/:-@[-`{-~]")


def _md(text: str) -> str:
    """Text from a file or a command line, as Markdown shows it: one line (escape), and every
    punctuation mark literal, so that it makes no link, image, emphasis, code, HTML, table
    column, or autolink (GitHub links www. and http:// by themselves: '.' and ':' escaped
    stop it). A host named ![x](http://...) would otherwise be a remote image in a pull request."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\g<0>", escape(text))


def _needed_markdown(r: Risk) -> list[str]:
    every = ", ".join(f"`{cap}`" for cap, n in r.needed if n == len(r.classes)) or "none"
    some_only = ", ".join(f"`{cap}` ({n} of {len(r.classes)})" for cap, n in r.needed if n < len(r.classes)) or "none"
    return ["", f"Needed by every class: {every}. Needed by some classes only: {some_only}."]


def _named_caps(r: Risk) -> set[str]:
    """Every cpucap some pair lacks, under some behaviour."""
    return {cap for p in _answers(r) for caps in p.missing.values() for cap in caps}


def _legend(r: Risk) -> list[tuple[str, str]]:
    """The impact levels a report shows, worst first, with what each means."""
    levels = {r.impacts[cap].level for cap in _named_caps(r)}
    return ([("unreviewed", "import added it and no person has said; counted as the worst")]
            if "unreviewed" in levels else []) + list(IMPACTS.items())


def format_markdown(r: Risk) -> str:
    out = ["# Migration risk", "", _summary_line(r) + ".", *(f"\n{line}." for line in _by_kind_lines(r)),
           *(f"\n{line}." for line in _guest_lines(r, _md)), ""]
    if r.kinds:
        out += ["| kind | classes | hosts | CPUs | needs |", "|---|---|---|---|---|"]
        out += [f"| {k.name} | {len(k.classes)}: {_md(some(k.classes))} | {k.hosts} | {_md(some(k.labels, 5))} | "
                + (", ".join(f"`{cap}`" for cap in k.needs) or "none") + " |" for k in r.kinds]
        out += _needed_markdown(r)
    else:
        out += ["| class | hosts | CPUs |", "|---|---|---|"]
        for g in r.classes:
            cpus = "<br>".join(f"MIDR `{m:#010x}` REVIDR `{rv:#010x}` AIDR `{a:#010x}` {_md(label)}"
                               for (m, rv, a), label in zip(g.cpus, g.labels))
            out.append(f"| {_md(g.name)} | {len(g.hosts)}: {_md(escape(some(g.hosts)))} | {cpus} |")
    cells = _cells(r)
    where = "Row: booted on; column: migrated to" + ("; a kind's own cell: between two of its classes" if r.kinds
                                                     else "")
    out += ["", "A cell gives how many errata the guest lacks after that migration, the worst impact among them, "
            "and the errata, the worst first. The impacts, worst first:", ""]
    out += [f"- **{level}**: {meaning}" for level, meaning in _legend(r)]
    for abi in ABIS:
        out += ["", f"## `{abi}`: {r.unsafe(abi)} of {r.pair_count} pair(s) unsafe", "",
                f"{_sentence(_meaning(r, abi))} {where}.", "",
                "| from \\ to | " + " | ".join(_md(t.name) for t in _shown(r)) + " |",
                "|---|" + "---|" * len(_shown(r))]
        for s in _shown(r):
            row = []
            for t in _shown(r):
                if (s.name, t.name) not in cells:
                    row.append("-")
                    continue
                missing = cells[s.name, t.name].missing[abi]
                shown = _missing(cells[s.name, t.name], abi)
                row.append(f"**{len(missing)}** {r.worst(missing)}: " + ", ".join(f"`{m}`" for m in shown)
                           if missing else "0")
            out.append(f"| {_md(s.name)} | " + " | ".join(row) + " |")
    if _learned(r):
        out += ["", "## Learned from the bitmap", "",
                "The host says the new CPUs need a workaround this guest has the code for but not their range.",
                "", "| from | to | cpucaps |", "|---|---|---|"]
        out += [f"| {_md(p.source)} | {_md(p.target)} | " + ", ".join(f"`{c}`" for c in p.learned) + " |"
                for p in _learned(r)]
    summary = _per_erratum(r)
    if summary:
        out += ["", "## Errata that make pairs unsafe", "", "The worst impact first, then the most pairs.", "",
                "| cpucap | impact | what goes wrong | " + " | ".join(f"`{abi}`" for abi in ABIS) + " |",
                "|---|---|---|" + "---|" * len(ABIS)]
        out += [f"| `{row.cpucap}` | {row.impact.level} | {_md(row.impact.note or '')} | "
                + " | ".join(str(n) for n in row.pairs) + " |" for row in summary]
    if r.speculation_lists is not None:
        out += ["", "## Speculation mitigations", "", f"{_md(_speculation_intro(r))}. Assumed: "
                + _md("; ".join(speculation.ASSUMPTIONS)) + ".", ""]
        groups = _grouped(r)
        if groups:
            out += ["| behaviour | finding | before any migration, on | after |", "|---|---|---|---|"]
            out += [f"| `{g.abi}` | {_md(g.text)} | {_md(some(g.at_boot, 6)) if g.at_boot else '-'} | "
                    f"{_md(some(g.pairs, 6)) if g.pairs else '-'} |" for g in groups]
            out += ["", "Whether the guest is exposed also depends on:", ""]
            out += [f"- `{cap}`: {_md('; '.join(d))}" for cap, d in _depends(r)]
        else:
            out.append("No pair lacks one as the lists decide.")
    if r.host_only:
        out += ["", "## Host-only errata", "",
                "The fleet's CPUs have them, but a guest kernel never needs them: they make no pair unsafe.", "",
                "| cpucap | on | why a guest never needs it |", "|---|---|---|"]
        out += [f"| `{h.cpucap}` | {_md(r.shown(h.needed_by))} | {_md(h.reason)} |" for h in r.host_only]
    if _guest_conditionals(r):
        out += ["", "## Errata whose kernel matcher adds a condition", "",
                "Not counted as unsafe above.", "", "| cpucap | needed on | condition |", "|---|---|---|"]
        out += [f"| `{c.cpucap}` | {_md(r.shown(c.needed_by))} | the guest enables it only if {_md(c.condition)} |"
                for c in _guest_conditionals(r)]
    if r.warnings:
        out += ["", "## Warnings", ""] + [f"- {_md(message)} [{kind}]" for kind, message in r.warnings]
    return "\n".join(out) + "\n"


# A cell's colour is the worst impact among the errata it lacks (model.IMPACTS, worst first):
# from red for speculation to pale blue for performance; purple for an unreviewed entry, green
# for a safe pair. The legend shows the same classes.
_IMPACT_COLOURS = {"unreviewed": "#c9a0f0", "speculation": "#f07070", "corruption": "#f5a05a", "hang": "#f7d55c",
                   "trace": "#fdf3b8", "performance": "#dde8f5"}
_HTML_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #999; padding: 0.3em 0.6em; vertical-align: top; text-align: left; }
th { background: #eee; }
td.self { background: #ddd; }
td.safe { background: #d9f2d9; }
""" + "".join(f"td.impact-{level} {{ background: {colour}; }}\n" for level, colour in _IMPACT_COLOURS.items()) + """
td .count { font-weight: bold; font-size: 1.2em; }
td .impact { margin-left: 0.4em; }
td ul { margin: 0.2em 0 0 0; padding-left: 1.2em; font-size: 0.85em; font-family: monospace; }
table.legend td { min-width: 6em; }
"""


def format_html(r: Risk) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           "<title>Migration risk</title>", f"<style>{_HTML_STYLE}</style>", "</head>", "<body>",
           "<h1>Migration risk</h1>", f"<p>{e(_summary_line(r))}.</p>",
           *(f"<p>{e(line)}.</p>" for line in _by_kind_lines(r)),
           *(f"<p>{e(line)}.</p>" for line in _guest_lines(r))]
    if r.kinds:
        out.append("<table><tr><th>kind</th><th>classes</th><th>hosts</th><th>CPUs</th><th>needs</th></tr>")
        out += [f"<tr><td>{e(k.name)}</td><td>{len(k.classes)}: {e(escape(some(k.classes)))}</td><td>{k.hosts}</td>"
                f"<td>{e(some(k.labels, 5))}</td><td>{e(', '.join(k.needs) or 'none')}</td></tr>" for k in r.kinds]
        out.append("</table>")
        every = ", ".join(cap for cap, n in r.needed if n == len(r.classes)) or "none"
        some_only = ", ".join(f"{cap} ({n} of {len(r.classes)})" for cap, n in r.needed if n < len(r.classes))
        out.append(f"<p>Needed by every class: {e(every)}. Needed by some classes only: {e(some_only or 'none')}.</p>")
    else:
        out.append("<table><tr><th>class</th><th>hosts</th><th>CPUs</th></tr>")
        for g in r.classes:
            cpus = "<br>".join(e(f"MIDR {m:#010x} REVIDR {rv:#010x} AIDR {a:#010x} {label}")
                               for (m, rv, a), label in zip(g.cpus, g.labels))
            out.append(f"<tr><td>{e(g.name)}</td><td>{len(g.hosts)}: {e(escape(some(g.hosts)))}</td>"
                       f"<td>{cpus}</td></tr>")
        out.append("</table>")
    cells = _cells(r)
    where = "Row: booted on; column: migrated to" + ("; a kind's own cell: between two of its classes" if r.kinds
                                                     else "")
    out += ["<p>A cell gives how many errata the guest lacks after that migration and the worst impact among "
            "them, coloured by that impact, then the errata, the worst first.</p>",
            '<table class="legend" id="legend"><tr><th>colour</th><th>impact</th><th>what goes wrong</th></tr>']
    out += [f'<tr><td class="impact-{level}"></td><td>{e(level)}</td><td>{e(meaning)}</td></tr>'
            for level, meaning in _legend(r)]
    out += ['<tr><td class="safe"></td><td>safe</td><td>the guest lacks nothing</td></tr>', "</table>"]
    for abi in ABIS:
        out += [f"<h2>{e(abi)}: {r.unsafe(abi)} of {r.pair_count} pair(s) unsafe</h2>",
                f"<p>{e(_sentence(_meaning(r, abi)))} {e(where)}.</p>",
                "<table><tr><th>from \\ to</th>" + "".join(f"<th>{e(escape(t.name))}</th>" for t in _shown(r)) + "</tr>"]
        for s in _shown(r):
            row = [f"<th>{e(escape(s.name))}</th>"]
            for t in _shown(r):
                if (s.name, t.name) not in cells:
                    row.append('<td class="self"></td>')
                    continue
                missing = cells[s.name, t.name].missing[abi]
                if not missing:
                    row.append('<td class="safe"><span class="count">0</span></td>')
                    continue
                worst = r.worst(missing)
                items = "".join(f"<li>{e(m)}</li>" for m in _missing(cells[s.name, t.name], abi))
                row.append(f'<td class="impact-{worst}"><span class="count">{len(missing)}</span>'
                           f'<span class="impact">{worst}</span><ul>{items}</ul></td>')
            out.append("<tr>" + "".join(row) + "</tr>")
        out.append("</table>")
    if _learned(r):
        out += ["<h2>Learned from the bitmap</h2>",
                "<p>The host says the new CPUs need a workaround this guest has the code for but not their "
                "range.</p>", "<ul>"]
        out += [f"<li>{e(p.source)} &rarr; {e(p.target)}: {e(', '.join(p.learned))}</li>" for p in _learned(r)]
        out.append("</ul>")
    summary = _per_erratum(r)
    if summary:
        out += ["<h2>Errata that make pairs unsafe</h2>", "<p>The worst impact first, then the most pairs.</p>",
                '<table id="summary"><tr><th>cpucap</th><th>impact</th><th>what goes wrong</th>'
                + "".join(f"<th>{e(abi)}</th>" for abi in ABIS) + "</tr>"]
        out += [f'<tr><td>{e(row.cpucap)}</td><td class="impact-{row.impact.level}">{e(row.impact.level)}</td>'
                f"<td>{e(row.impact.note or '')}</td>" + "".join(f"<td>{n}</td>" for n in row.pairs) + "</tr>"
                for row in summary]
        out.append("</table>")
    if r.speculation_lists is not None:
        out += ["<h2>Speculation mitigations</h2>",
                f"<p>{e(_speculation_intro(r))}. Assumed: {e('; '.join(speculation.ASSUMPTIONS))}.</p>"]
        groups = _grouped(r)
        if groups:
            out.append('<table id="speculation"><tr><th>behaviour</th><th>finding</th><th>before any migration, '
                       "on</th><th>after</th></tr>")
            out += [f"<tr><td>{e(g.abi)}</td><td>{e(g.text)}</td><td>{e(escape(some(g.at_boot, 6))) if g.at_boot else '-'}"
                    f"</td><td>{e(escape(some(g.pairs, 6))) if g.pairs else '-'}</td></tr>" for g in groups]
            out += ["</table>", "<p>Whether the guest is exposed also depends on:</p>", "<ul>"]
            out += [f"<li>{e(cap)}: {e('; '.join(d))}</li>" for cap, d in _depends(r)]
            out.append("</ul>")
        else:
            out.append("<p>No pair lacks one as the lists decide.</p>")
    if r.host_only:
        out += ["<h2>Host-only errata</h2>",
                "<p>The fleet's CPUs have them, but a guest kernel never needs them: they make no pair unsafe.</p>",
                '<table id="host-only"><tr><th>cpucap</th><th>on</th><th>why a guest never needs it</th></tr>']
        out += [f"<tr><td>{e(h.cpucap)}</td><td>{e(escape(r.shown(h.needed_by)))}</td><td>{e(h.reason)}</td></tr>"
                for h in r.host_only]
        out.append("</table>")
    if _guest_conditionals(r):
        out += ["<h2>Errata whose kernel matcher adds a condition</h2>", "<p>Not counted as unsafe above.</p>",
                "<table><tr><th>cpucap</th><th>needed on</th><th>condition</th></tr>"]
        out += [f"<tr><td>{e(c.cpucap)}</td><td>{e(escape(r.shown(c.needed_by)))}</td>"
                f"<td>{e('the guest enables it only if ' + c.condition)}</td></tr>" for c in _guest_conditionals(r)]
        out.append("</table>")
    if r.warnings:
        out += ["<h2>Warnings</h2>", "<ul>"] + [f"<li>{e(message)} [{e(kind)}]</li>" for kind, message in r.warnings]
        out.append("</ul>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


FORMATS: dict[str, Callable[[Risk], str]] = {
    "text": format_text, "json": format_json, "markdown": format_markdown, "html": format_html}
