"""The CLI's lookups run the generated Python module itself, so that the command line, the
module and (through the differential tests) the KVM header can never disagree."""

from __future__ import annotations

import functools
import json
import types

from .diagnostics import some
from .model import MIDR_ARCHITECTURE, Cpu, Registry, rev_str, rv
from .render import render
from .resources import templates_dir
from .targets import TARGETS


def lookup_module(reg: Registry) -> types.ModuleType:
    target = TARGETS["python-module"]
    source = render(reg, {target.name: target}, templates_dir())[target.path]
    module = types.ModuleType("migrn_errata")
    exec(_compiled(source, target.path), module.__dict__)  # noqa: S102 - our own template
    return module


@functools.lru_cache(maxsize=16)
def _compiled(source: str, path: str) -> types.CodeType:
    """Compiling the module is most of building it, and one process often builds the module of
    the same rows again (risk's two halves, for the fleet and for a guest kernel; a caller that
    runs many commands). dont_inherit: this file's `from __future__ import annotations` must
    not leak into the module, whose dataclass would then resolve string annotations through
    sys.modules."""
    return compile(source, path, "exec", dont_inherit=True)


ARCHITECTURE_FIELD = 0xF << 16


def implementer_part(midr: int) -> tuple[int, int]:
    return midr >> 24, (midr >> 4) & 0xFFF


def revision(midr: int) -> tuple[int, int]:
    return (midr >> 20) & 0xF, midr & 0xF


def cpu_of(reg: Registry, midr: int) -> Cpu | None:
    """The cpus.yaml CPU of a MIDR: its implementer and part number."""
    return next((c for c in reg.cpus if (c.implementer.code, c.part) == implementer_part(midr)), None)


def part_families(reg: Registry, module: types.ModuleType, midr: int) -> list[str]:
    """The names of the CPUs whose part-family ranges (the Kryo rows) match a MIDR, as the
    lookup module matches them."""
    return sorted({a.cpu.name for e in reg.errata for a in e.affects if a.part_mask is not None
                   and midr & module.model_mask(a.mask) == a.cpu.model & module.model_mask(a.mask)})


def unknown_cpu(reg: Registry, module: types.ModuleType, midr: int, where: str = "") -> str:
    """The words for a MIDR that cpus.yaml lacks: "0 errata" would read as "no errata", and a
    part-family entry (the Kryo rows) may still match it, as the lookup module matches it."""
    implementer, part = implementer_part(midr)
    head = f"MIDR {midr:#010x} (implementer {implementer:#04x}, part {part:#05x}{where}) is not in cpus.yaml"
    families = part_families(reg, module, midr)
    if families:
        return f"{head}: it matches the part family of {', '.join(families)}, and has that family's errata"
    return f"{head}: the registry knows no errata for it, which does not mean it has none"


def cpu_warnings(reg: Registry, module: types.ModuleType, midr: int) -> list[tuple[str, str]]:
    """(kind, message) for a MIDR the registry does not know, or whose revision no entry names.
    module: the registry's lookup module.

    A variant or revision above every one the registry names for a known CPU is most often a
    mistyped MIDR: the closest revision it names is suggested, as a MIDR to look up instead.
    """
    cpu = cpu_of(reg, midr)
    if cpu is None:
        return [("unknown-cpu", unknown_cpu(reg, module, midr))]
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


# --- what lookup and bitmap print ----------------------------------------------------------------


def _erratum_rows(errata, reg: Registry) -> list[dict]:
    # `register` is the register's name, as in errata.json and fleet's JSON, with the bit's
    # place in it beside; the Python module's records keep the index (registers() is a tuple).
    return [{"name": e.name, "bit": e.bit, "register": reg.registers[e.register],
             "register_bit": e.bit % reg.register_bits, "status": e.status,
             "vendor": e.vendor, "errata_ids": list(e.errata_ids), "description": e.description}
            for e in errata]


def _errata_lines(errata, heading: str) -> list[str]:
    lines = [heading]
    for e in errata:
        ids = some(e.errata_ids)
        retired = "  (retired)" if e.status != "active" else ""
        lines.append(f"  bit {e.bit:3}  R{e.register}  {e.name:40} {e.vendor} {ids}{retired}")
    if not errata:
        lines.append("  (none)")
    return lines


def _warning_lines(warnings: list[tuple[str, str]]) -> list[str]:
    return [f"  warning: {message} [{kind}]" for kind, message in warnings]


def _warning_rows(warnings: list[tuple[str, str]]) -> list[dict]:
    return [{"kind": kind, "message": message} for kind, message in warnings]


def cpu_report(reg: Registry, midr: int, revidr: int, fmt: str) -> str:
    """`lookup`: the errata of one CPU, as text or JSON."""
    module = lookup_module(reg)
    errata = module.errata_for_cpu(midr, revidr)
    cpu = cpu_of(reg, midr)
    warnings = cpu_warnings(reg, module, midr)
    if fmt == "json":
        return json.dumps({"midr": midr, "revidr": revidr, "cpu": cpu.name if cpu else None,
                           "revision": rev_str(revision(midr)), "errata": _erratum_rows(errata, reg),
                           "warnings": _warning_rows(warnings)}, indent=2) + "\n"
    named = f" ({cpu.name} {rev_str(revision(midr))})" if cpu is not None else ""
    heading = f"MIDR {midr:#010x} REVIDR {revidr:#010x}{named}: "
    if cpu is None and not errata:
        # "0 errata" would read as "no errata": the registry simply does not know this CPU.
        lines = [heading + "not in cpus.yaml"]
    else:
        # A CPU cpus.yaml lacks can still match a part family (the Kryo rows).
        unknown = ", not in cpus.yaml" if cpu is None else ""
        lines = _errata_lines(errata, heading + f"{len(errata)} errata{unknown}")
    return "\n".join(lines + _warning_lines(warnings)) + "\n"


def bitmap_report(reg: Registry, cpus: list[tuple[int, int]], fmt: str) -> str:
    """`bitmap`: the R0-R3 values for a set of (MIDR, REVIDR) and the errata they carry."""
    mod = lookup_module(reg)
    bitmap = mod.bitmap_for_cpus(cpus)
    regs = mod.registers(bitmap)
    errata = mod.errata_from_registers(*regs)
    warnings = [w for midr in dict.fromkeys(m for m, _ in cpus) for w in cpu_warnings(reg, mod, midr)]
    if fmt == "json":
        return json.dumps({"cpus": [{"midr": m, "revidr": r} for m, r in cpus],
                           "bitmap": hex(bitmap),
                           "registers": {n: f"{v:#018x}" for n, v in zip(mod.REGISTERS, regs)},
                           "errata": _erratum_rows(errata, reg),
                           "warnings": _warning_rows(warnings)}, indent=2) + "\n"
    lines = [f"{n} = {v:#018x}" for n, v in zip(mod.REGISTERS, regs)]
    lines += _errata_lines(errata, f"{len(errata)} errata for {len(cpus)} CPU(s)")
    return "\n".join(lines + _warning_lines(warnings)) + "\n"
