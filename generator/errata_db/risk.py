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
"""

from __future__ import annotations

import dataclasses
import html
import json
import types
from dataclasses import dataclass
from typing import Callable

from .diagnostics import escape, some
from .fleet import Host, cpu_label, cpu_names, not_covered_warning
from .lookup import implementer_part, lookup_module, unknown_cpu
from .model import Registry

ABIS = ("none", "bitmap", "impl-cpus")
ABI_MEANING = {
    "none": "the guest matches only the CPUs of the host it booted on: every kernel without a "
            "migration ABI",
    "bitmap": "the RFC's hypercall: the guest enables every bit of this registry's bitmap for the fleet",
    "impl-cpus": "Linux 6.15+: the guest matches its ranges against every CPU of the fleet's target "
                 "list; the Kryo part-family match counts only for the CPU it booted on",
}

# Kernel facts (target-impl.md): these two matchers ask for hyp mode on top of the MIDR match,
# which a guest kernel running at EL1 never has, on whatever CPU. Keyed by the matcher the
# registry records for the row (`kernel.matcher`), which is what has the hyp mode test.
EL1_NEVER = {
    "has_cortex_a76_erratum_1463225": "has_cortex_a76_erratum_1463225() needs the kernel to run in hyp mode",
    "needs_tx2_tvm_workaround": "needs_tx2_tvm_workaround() needs hyp mode available",
}

Cpu = tuple[int, int, int]  # MIDR, REVIDR, AIDR


@dataclass(frozen=True)
class HostClass:
    name: str  # its first host's, in input order
    hosts: tuple[str, ...]
    cpus: tuple[Cpu, ...]  # in numeric order
    labels: tuple[str, ...]  # each CPU as "Neoverse-N1 r3p1"


@dataclass(frozen=True)
class Pair:
    source: str  # the class the guest booted on
    target: str  # the class it is migrated to
    missing: dict[str, tuple[str, ...]]  # by behaviour: cpucaps without ARM64_, in bit order
    conditional: dict[str, tuple[str, ...]]  # the same for errata whose matcher adds a condition
    # With a guest kernel: what it enables under `bitmap` only because the host's bitmap says so
    # (it has the code, not the range), and what it cannot enable at all (no such cpucap).
    learned: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


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
    el1_never: str | None  # why a guest kernel at EL1 never enables it, if it never does
    needed_by: tuple[str, ...]  # class names


@dataclass(frozen=True)
class Risk:
    classes: tuple[HostClass, ...]
    pairs: tuple[Pair, ...]
    conditionals: tuple[Conditional, ...]
    warnings: tuple[tuple[str, str], ...]  # (kind, message)
    host_count: int
    guest: Guest | None = None

    def unsafe(self, abi: str) -> int:
        return sum(1 for p in self.pairs if p.missing[abi])

    def culprits(self, abi: str) -> list[tuple[str, int]]:
        """The errata that make pairs unsafe under abi, with how many pairs each: most first."""
        counts: dict[str, int] = {}
        for p in self.pairs:
            for cap in p.missing[abi]:
                counts[cap] = counts.get(cap, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def classes(reg: Registry, module: types.ModuleType, hosts: list[Host]) -> tuple[HostClass, ...]:
    """Hosts grouped by their set of CPUs, in the order of each group's first host.
    module: a generated lookup module, which matches the part family of a CPU cpus.yaml lacks."""
    groups: dict[tuple[Cpu, ...], list[str]] = {}
    for h in hosts:
        groups.setdefault(tuple(sorted({(c.midr, c.revidr, c.aidr) for c in h.cpus})), []).append(h.name)
    names = cpu_names(reg)
    return tuple(HostClass(members[0], tuple(members), cpus,
                           tuple(cpu_label(reg, module, names, c[0]) for c in cpus))
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


def analyse_guest(reg: Registry, hosts: list[Host], guest: Guest) -> Risk:
    """The same pairs for one actual guest kernel. What a class's CPUs need is the registry's
    answer; what the guest enables comes from its own kernel's ranges under `none` and
    `impl-cpus` (the latter only if the kernel uses a target list), and under `bitmap` from the
    registry's bitmap for the fleet, for every cpucap the guest kernel has, on top of its own
    matching."""
    host_any, host_local = matchers(reg)
    groups = classes(reg, host_local, hosts)
    guest_any, guest_local = matchers(guest.registry)
    order = {e.enables: e.bit for e in reg.errata}
    # The guest's kernel may name a cpucap by an older name (6.12's REPEAT_TLBI): the same cpucap.
    newest = {name: e.enables for e in reg.errata for name in e.cpucaps}
    guest_cpucaps = {newest.get(name, name) for name in guest.cpucaps}

    def caps(r: Registry, module, cpus: tuple[Cpu, ...], condition: bool | None = None) -> set[str]:
        bitmap = module.bitmap_for_cpus([(midr, revidr) for midr, revidr, _ in cpus])
        return {newest.get(e.enables, e.enables) for e in r.errata if e.active and bitmap >> e.bit & 1
                and (condition is None or bool(e.condition) == condition)}

    def ordered(names: set[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=lambda n: (order.get(n, len(order)), n)))

    fleet = tuple(c for g in groups for c in g.cpus)
    need = [caps(reg, host_any, g.cpus, False) | caps(reg, host_local, g.cpus, False) for g in groups]
    need_conditional = [caps(reg, host_any, g.cpus, True) | caps(reg, host_local, g.cpus, True)
                        for g in groups]
    own = [caps(guest.registry, guest_any, g.cpus) | caps(guest.registry, guest_local, g.cpus) for g in groups]
    over_fleet = caps(guest.registry, guest_any, fleet)
    bitmap = (caps(reg, host_any, fleet) | caps(reg, host_local, fleet)) & guest_cpucaps
    never = {e.enables: EL1_NEVER[e.kernel.matcher] for e in reg.errata if e.kernel.matcher in EL1_NEVER}
    pairs = []
    for i, source in enumerate(groups):
        enabled = {"none": own[i],
                   "bitmap": own[i] | bitmap,
                   "impl-cpus": own[i] if guest.no_target_impl else
                   over_fleet | caps(guest.registry, guest_local, source.cpus)}
        for j, target in enumerate(groups):
            if i == j:
                continue
            pairs.append(Pair(source.name, target.name,
                              {abi: ordered(need[j] - enabled[abi]) for abi in ABIS},
                              {abi: ordered(need_conditional[j] - never.keys() - enabled[abi]) for abi in ABIS},
                              learned=ordered((need[j] & bitmap) - own[j] - own[i]),
                              unknown=ordered(need[j] - guest_cpucaps)))
    conditionals = tuple(
        Conditional(e.enables, e.condition, never.get(e.enables),
                    tuple(g.name for g, n in zip(groups, need_conditional) if e.enables in n))
        for e in reg.errata if e.active and e.condition and any(e.enables in n for n in need_conditional))
    return Risk(groups, tuple(pairs), conditionals, tuple(_warnings(reg, host_local, groups)), len(hosts), guest)


def _warnings(reg: Registry, module: types.ModuleType, groups: tuple[HostClass, ...]):
    names = cpu_names(reg)
    unknown: dict[int, list[str]] = {}
    for g in groups:
        for midr, _, _ in g.cpus:
            if implementer_part(midr) not in names and g.name not in unknown.setdefault(midr, []):
                unknown[midr].append(g.name)
    for midr in sorted(unknown):
        yield ("unknown-cpu", unknown_cpu(reg, module, midr, f", on {', '.join(unknown[midr])}"))
    not_covered = not_covered_warning(reg)
    if not_covered:
        yield ("not-covered", not_covered)


# --- output ----------------------------------------------------------------------------------


def _summary_line(r: Risk) -> str:
    return (f"{r.host_count} host(s) in {len(r.classes)} class(es) of identical CPUs, {len(r.pairs)} "
            "ordered pair(s): the guest boots on a host of the first class and is migrated to one of the second")


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


def _guest_lines(r: Risk) -> list[str]:
    if r.guest is None:
        return []
    return [f"Guest kernel: {escape(r.guest.name)}: the errata each class needs are the registry's; "
            "what the guest enables is decided by that kernel"]


def _missing(p: Pair, abi: str) -> list[str]:
    """A pair's missing errata, those the guest kernel has no cpucap for said so under bitmap."""
    return [f"{cap} (unknown to this guest)" if abi == "bitmap" and cap in p.unknown else cap
            for cap in p.missing[abi]]


def _learned(r: Risk) -> list[Pair]:
    return [p for p in r.pairs if p.learned]


def _cells(r: Risk) -> dict[tuple[str, str], Pair]:
    return {(p.source, p.target): p for p in r.pairs}


def format_text(r: Risk) -> str:
    out = [_summary_line(r), *_guest_lines(r), "", "Classes"]
    width = max(len(escape(g.name)) for g in r.classes)
    for g in r.classes:
        out.append(f"  {escape(g.name):{width}}  {len(g.hosts)} host(s): {escape(some(g.hosts))}")
        out += [f"  {'':{width}}  MIDR {m:#010x}  REVIDR {rv:#010x}  AIDR {a:#010x}  {label}"
                for (m, rv, a), label in zip(g.cpus, g.labels)]
    cells = _cells(r)
    out += ["", "Errata missing after a migration, by guest behaviour (row: booted on, column: migrated to)"]
    heading = "from \\ to"
    width = max(width, len(heading))
    for abi in ABIS:
        out += ["", f"{abi}: {_meaning(r, abi)}",
                f"  {heading:{width}}  " + "  ".join(escape(g.name) for g in r.classes).rstrip()]
        for s in r.classes:
            row = [("-" if s is t else str(len(cells[s.name, t.name].missing[abi]))).ljust(len(escape(t.name)))
                   for t in r.classes]
            out.append(f"  {escape(s.name):{width}}  " + "  ".join(row).rstrip())
    unsafe = [p for p in r.pairs if any(p.missing.values())]
    out += ["", f"Unsafe pairs ({len(unsafe)})"]
    for p in unsafe:
        out.append(f"  {escape(p.source)} -> {escape(p.target)}")
        out += [f"    {abi:10} {', '.join(_missing(p, abi))}" for abi in ABIS if p.missing[abi]]
    if not unsafe:
        out.append("  (none)")
    if r.guest is not None:
        out += ["", "Learned from the bitmap: the host says the new CPUs need a workaround this guest has "
                "the code for but not their range"]
        out += [f"  {escape(p.source)} -> {escape(p.target)}: {', '.join(p.learned)}" for p in _learned(r)]
        if not _learned(r):
            out.append("  (none)")
    if r.conditionals:
        out += ["", "Errata whose kernel matcher adds a condition (not counted as unsafe)"]
        for c in r.conditionals:
            out.append(f"  {c.cpucap}: needed on {escape(some(c.needed_by, 10))}")
            if c.el1_never:
                out.append(f"    {c.el1_never}: a guest kernel at EL1 never enables it, under any behaviour, "
                           "migrated or not")
                continue
            out.append(f"    the guest enables it only if {c.condition}")
            for abi in ABIS:
                after = [f"{escape(p.source)} -> {escape(p.target)}" for p in r.pairs if c.cpucap in p.conditional[abi]]
                if after:
                    out.append(f"    {abi:10} missing after {', '.join(after)}")
    out += ["", "Summary: unsafe pairs by guest behaviour"]
    for abi in ABIS:
        culprits = ", ".join(f"{cap} ({n})" for cap, n in r.culprits(abi))
        out.append(f"  {abi:10} {r.unsafe(abi)} of {len(r.pairs)}" + (f"  {culprits}" if culprits else ""))
    if r.warnings:
        out += ["", f"Warnings ({len(r.warnings)})"]
        out += [f"  warning: {escape(message)} [{kind}]" for kind, message in r.warnings]
    return "\n".join(out) + "\n"


def _doc(r: Risk) -> dict:
    return {
        "classes": [{"name": g.name, "hosts": list(g.hosts),
                     "cpus": [{"midr": m, "revidr": rv, "aidr": a} for m, rv, a in g.cpus]} for g in r.classes],
        "abis": list(ABIS),
        "pairs": [{"from": p.source, "to": p.target, "missing": {abi: list(p.missing[abi]) for abi in ABIS},
                   "conditional": {abi: list(p.conditional[abi]) for abi in ABIS}} for p in r.pairs],
        "unsafe_pairs": {abi: r.unsafe(abi) for abi in ABIS},
        "unsafe_by": {abi: dict(r.culprits(abi)) for abi in ABIS},
        "conditions": [{"cpucap": c.cpucap, "condition": c.condition, "el1_never": c.el1_never,
                        "needed_by": list(c.needed_by)} for c in r.conditionals],
        "warnings": [{"kind": kind, "message": message} for kind, message in r.warnings],
    } | ({} if r.guest is None else {
        "guest": {"kernel": r.guest.name, "impl_cpus": r.guest.no_target_impl is None,
                  "impl_cpus_missing": r.guest.no_target_impl},
        "learned": [{"from": p.source, "to": p.target, "cpucaps": list(p.learned)} for p in _learned(r)],
        "unknown_to_guest": [{"from": p.source, "to": p.target, "cpucaps": list(p.unknown)}
                             for p in r.pairs if p.unknown],
    })


def format_json(r: Risk) -> str:
    return json.dumps(_doc(r), indent=2) + "\n"


def _md(text: str) -> str:
    """A Markdown table cell: no line break, no column separator, no HTML."""
    return html.escape(escape(text)).replace("|", "\\|")


def format_markdown(r: Risk) -> str:
    out = ["# Migration risk", "", _summary_line(r) + ".", *(f"\n{_md(line)}." for line in _guest_lines(r)),
           "", "| class | hosts | CPUs |", "|---|---|---|"]
    for g in r.classes:
        cpus = "<br>".join(f"MIDR `{m:#010x}` REVIDR `{rv:#010x}` AIDR `{a:#010x}` {label}"
                           for (m, rv, a), label in zip(g.cpus, g.labels))
        out.append(f"| {_md(g.name)} | {len(g.hosts)}: {_md(escape(some(g.hosts)))} | {cpus} |")
    cells = _cells(r)
    for abi in ABIS:
        out += ["", f"## `{abi}`: {r.unsafe(abi)} of {len(r.pairs)} pair(s) unsafe", "",
                f"{_sentence(_meaning(r, abi))} Row: booted on; column: migrated to.", "",
                "| from \\ to | " + " | ".join(_md(t.name) for t in r.classes) + " |",
                "|---|" + "---|" * len(r.classes)]
        for s in r.classes:
            row = []
            for t in r.classes:
                if s is t:
                    row.append("-")
                    continue
                missing = cells[s.name, t.name].missing[abi]
                shown = _missing(cells[s.name, t.name], abi)
                row.append(f"**{len(missing)}**: " + ", ".join(f"`{m}`" for m in shown) if missing else "0")
            out.append(f"| {_md(s.name)} | " + " | ".join(row) + " |")
    if _learned(r):
        out += ["", "## Learned from the bitmap", "",
                "The host says the new CPUs need a workaround this guest has the code for but not their range.",
                "", "| from | to | cpucaps |", "|---|---|---|"]
        out += [f"| {_md(p.source)} | {_md(p.target)} | " + ", ".join(f"`{c}`" for c in p.learned) + " |"
                for p in _learned(r)]
    if r.conditionals:
        out += ["", "## Errata whose kernel matcher adds a condition", "",
                "Not counted as unsafe above.", "", "| cpucap | needed on | condition |", "|---|---|---|"]
        for c in r.conditionals:
            why = (f"{_md(c.el1_never)}: a guest kernel at EL1 never enables it" if c.el1_never
                   else f"the guest enables it only if {_md(c.condition)}")
            out.append(f"| `{c.cpucap}` | {_md(escape(some(c.needed_by, 10)))} | {why} |")
    if r.warnings:
        out += ["", "## Warnings", ""] + [f"- {_md(message)} [{kind}]" for kind, message in r.warnings]
    return "\n".join(out) + "\n"


# Cell colours by count of missing errata: none, one, two, three or more.
_HTML_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #999; padding: 0.3em 0.6em; vertical-align: top; text-align: left; }
th { background: #eee; }
td.self { background: #ddd; }
td.n0 { background: #d9f2d9; }
td.n1 { background: #fff3b0; }
td.n2 { background: #ffc87a; }
td.n3 { background: #f48a8a; }
td .count { font-weight: bold; font-size: 1.2em; }
td ul { margin: 0.2em 0 0 0; padding-left: 1.2em; font-size: 0.85em; font-family: monospace; }
"""


def format_html(r: Risk) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           "<title>Migration risk</title>", f"<style>{_HTML_STYLE}</style>", "</head>", "<body>",
           "<h1>Migration risk</h1>", f"<p>{e(_summary_line(r))}.</p>",
           *(f"<p>{e(line)}.</p>" for line in _guest_lines(r)),
           "<table><tr><th>class</th><th>hosts</th><th>CPUs</th></tr>"]
    for g in r.classes:
        cpus = "<br>".join(e(f"MIDR {m:#010x} REVIDR {rv:#010x} AIDR {a:#010x} {label}")
                           for (m, rv, a), label in zip(g.cpus, g.labels))
        out.append(f"<tr><td>{e(g.name)}</td><td>{len(g.hosts)}: {e(escape(some(g.hosts)))}</td><td>{cpus}</td></tr>")
    out.append("</table>")
    cells = _cells(r)
    for abi in ABIS:
        out += [f"<h2>{e(abi)}: {r.unsafe(abi)} of {len(r.pairs)} pair(s) unsafe</h2>",
                f"<p>{e(_sentence(_meaning(r, abi)))} Row: booted on; column: migrated to.</p>",
                "<table><tr><th>from \\ to</th>" + "".join(f"<th>{e(t.name)}</th>" for t in r.classes) + "</tr>"]
        for s in r.classes:
            row = [f"<th>{e(s.name)}</th>"]
            for t in r.classes:
                if s is t:
                    row.append('<td class="self"></td>')
                    continue
                missing = cells[s.name, t.name].missing[abi]
                items = "".join(f"<li>{e(m)}</li>" for m in _missing(cells[s.name, t.name], abi))
                row.append(f'<td class="n{min(len(missing), 3)}"><span class="count">{len(missing)}</span>'
                           + (f"<ul>{items}</ul>" if items else "") + "</td>")
            out.append("<tr>" + "".join(row) + "</tr>")
        out.append("</table>")
    if _learned(r):
        out += ["<h2>Learned from the bitmap</h2>",
                "<p>The host says the new CPUs need a workaround this guest has the code for but not their "
                "range.</p>", "<ul>"]
        out += [f"<li>{e(p.source)} &rarr; {e(p.target)}: {e(', '.join(p.learned))}</li>" for p in _learned(r)]
        out.append("</ul>")
    if r.conditionals:
        out += ["<h2>Errata whose kernel matcher adds a condition</h2>", "<p>Not counted as unsafe above.</p>",
                "<table><tr><th>cpucap</th><th>needed on</th><th>condition</th></tr>"]
        for c in r.conditionals:
            why = (f"{c.el1_never}: a guest kernel at EL1 never enables it" if c.el1_never
                   else f"the guest enables it only if {c.condition}")
            out.append(f"<tr><td>{e(c.cpucap)}</td><td>{e(escape(some(c.needed_by, 10)))}</td><td>{e(why)}</td></tr>")
        out.append("</table>")
    if r.warnings:
        out += ["<h2>Warnings</h2>", "<ul>"] + [f"<li>{e(message)} [{e(kind)}]</li>" for kind, message in r.warnings]
        out.append("</ul>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


FORMATS: dict[str, Callable[[Risk], str]] = {
    "text": format_text, "json": format_json, "markdown": format_markdown, "html": format_html}
