"""The CLI's lookups run the generated Python module itself, so that the command line, the
module and (through the differential tests) the KVM header can never disagree."""

from __future__ import annotations

import types

from .model import MIDR_ARCHITECTURE, Cpu, Registry, rev_str, rv
from .render import render
from .resources import templates_dir
from .targets import TARGETS


def lookup_module(reg: Registry) -> types.ModuleType:
    target = TARGETS["python-module"]
    source = render(reg, {target.name: target}, templates_dir())[target.path]
    module = types.ModuleType("migrn_errata")
    # dont_inherit: this file's `from __future__ import annotations` must not leak into the
    # module, whose dataclass would then resolve string annotations through sys.modules.
    code = compile(source, target.path, "exec", dont_inherit=True)
    exec(code, module.__dict__)  # noqa: S102 - our own template
    return module


ARCHITECTURE_FIELD = 0xF << 16


def implementer_part(midr: int) -> tuple[int, int]:
    return midr >> 24, (midr >> 4) & 0xFFF


def revision(midr: int) -> tuple[int, int]:
    return (midr >> 20) & 0xF, midr & 0xF


def cpu_of(reg: Registry, midr: int) -> Cpu | None:
    """The cpus.yaml CPU of a MIDR: its implementer and part number."""
    return next((c for c in reg.cpus if (c.implementer.code, c.part) == implementer_part(midr)), None)


def unknown_cpu(reg: Registry, module: types.ModuleType, midr: int, where: str = "") -> str:
    """The words for a MIDR that cpus.yaml lacks: "0 errata" would read as "no errata", and a
    part-family entry (the Kryo rows) may still match it, as the lookup module matches it."""
    implementer, part = implementer_part(midr)
    head = f"MIDR {midr:#010x} (implementer {implementer:#04x}, part {part:#05x}{where}) is not in cpus.yaml"
    families = sorted({a.cpu.name for e in reg.errata for a in e.affects if a.part_mask is not None
                       and midr & module.model_mask(a.mask) == a.cpu.model & module.model_mask(a.mask)})
    if families:
        return f"{head}: it matches the part family of {', '.join(families)}, and has that family's errata"
    return f"{head}: the registry knows no errata for it, which does not mean it has none"


def cpu_warnings(reg: Registry, midr: int, module: types.ModuleType | None = None) -> list[tuple[str, str]]:
    """(kind, message) for a MIDR the registry does not know, or whose revision no entry names.
    module: the registry's lookup module; without one it is built here, for an unknown CPU only.

    A variant or revision above every one the registry names for a known CPU is most often a
    mistyped MIDR: the closest revision it names is suggested, as a MIDR to look up instead.
    """
    cpu = cpu_of(reg, midr)
    if cpu is None:
        return [("unknown-cpu", unknown_cpu(reg, module or lookup_module(reg), midr))]
    given = revision(midr)
    if midr & ARCHITECTURE_FIELD != cpu.model & ARCHITECTURE_FIELD:
        return [("unknown-architecture",
                 f"MIDR {midr:#010x} has architecture {(midr >> 16) & 0xF:#x}, not {MIDR_ARCHITECTURE:#x} "
                 f"as every arm64 CPU: the kernel matches no errata for it; {cpu.name} "
                 f"{rev_str(given)} is MIDR {cpu.model | rv(given):#010x}")]
    named = {bound for e in reg.errata for a in e.affects if a.cpu.id == cpu.id and not a.all_revisions
             for bound in (a.low, a.high, *(f.revision for f in a.revidr_fixes))}
    if not named or rv(given) <= max(map(rv, named)):
        return []
    closest = max(named, key=rv)
    suggestion = cpu.model | rv(closest)
    return [("unknown-revision",
             f"{cpu.name} {rev_str(given)}: no erratum of the registry names a {cpu.name} revision "
             f"above {rev_str(closest)}; if the MIDR's variant or revision is mistyped, the closest "
             f"known CPU is {cpu.name} {rev_str(closest)}, MIDR {suggestion:#010x}")]
