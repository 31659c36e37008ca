"""KVM header: per-erratum MIDR range tables and the walker that fills R0-R3."""

from __future__ import annotations

from ..model import Affects, Cpu, Erratum, Registry
from ..render import Target, hexa
from .guest_header import PREFIX


def midr_range(a: Affects) -> str:
    """The kernel's own initialiser for the range, the narrowest form that fits."""
    m = a.cpu.macro
    (v0, r0), (v1, r1) = a.low, a.high
    if a.all_revisions:
        return f"MIDR_ALL_VERSIONS({m})"
    if (v0, r0) == (v1, r1):
        return f"MIDR_REV({m}, {v0}, {r0})"
    if v0 == v1:
        return f"MIDR_REV_RANGE({m}, {v0}, {r0}, {r1})"
    return f"MIDR_RANGE({m}, {v0}, {r0}, {v1}, {r1})"


def ident(name: str) -> str:
    return "kvm_migrn_" + name.lower()


def tables(e: Erratum) -> tuple[list[tuple[str, str, str]], list[tuple[str, list]]]:
    """An erratum's match entries (range, part mask, REVIDR fixes table or ""), and its REVIDR
    fixes tables (name, [(variant, revision, mask)]). Prepared here rather than in the
    template: a full registry has 12,800 entries, and jinja2 calls per field were a tenth of
    generate --check."""
    matches, fixes = [], []
    for a in e.affects:
        fixes_ident = ""
        if a.revidr_fixes:
            fixes_ident = f"{ident(e.name)}_fixes{len(fixes)}"
            fixes.append((fixes_ident, [(*f.revision, f.mask) for f in a.revidr_fixes]))
        matches.append((midr_range(a), hexa(a.mask), fixes_ident))
    return matches, fixes


def context(reg: Registry) -> dict:
    cpus: dict[str, Cpu] = {}
    for e in reg.errata:
        for a in e.affects:
            cpus.setdefault(a.cpu.macro, a.cpu)
    return {
        "errata": reg.errata,
        "tables": [(e, *tables(e)) for e in reg.errata],
        "cpus": sorted(cpus.values(), key=lambda c: (c.implementer.code, c.part, c.macro)),
        "midr_range": midr_range,
        "ident": ident,
        "guest_prefix": PREFIX,
    }


TARGET = Target("kvm-header", "kvm_header.h.j2", "linux/arch/arm64/kvm/migrn_errata_table.h", context)
