"""The operator's question: a VM may run on any of these hosts; what does each side need?

The VMM needs the de-duplicated list of (MIDR, REVIDR) pairs to pass to KVM, KVM returns the
bitmap in R0-R3, and the guest enables the errata behind it. Hosts come from a YAML/JSON file
or from sysfs trees. Parsing the file and planning are pure; `read_sysfs` reads the disk.
"""

from __future__ import annotations

import json
import re
import types
from dataclasses import dataclass
from pathlib import Path

from . import schema
from .diagnostics import Diagnostic, Pos, error, escape, has_errors, note
from .inputs import Refused, read_limited
from .load import SourceFile, parse, quoted
from .model import Erratum, Registry, rev_str

SYSFS_CPUS = "sys/devices/system/cpu"
_ID_REGS = "regs/identification"
_REGISTER = re.compile(r"0[xX][0-9a-fA-F]{1,16}")
_CPU_DIR = re.compile(r"cpu[0-9]+")
_U32 = 0xFFFFFFFF
# sysfs shows an attribute in one page at most (and gives that page as every file's size).
REGISTER_FILE_MAX = 4096


class SysfsProblem(Exception):
    """A --sysfs root that cannot be used at all: an environment error."""


@dataclass(frozen=True)
class HostCpu:
    midr: int
    revidr: int
    count: int
    where: Pos


@dataclass(frozen=True)
class Host:
    name: str
    cpus: tuple[HostCpu, ...]
    where: Pos


def _u32(value) -> int:
    """A schema-valid u32: an int, or a decimal or 0x string (JSON has no hex literals)."""
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text, 16) if text[:2] in ("0x", "0X") else int(text, 10)


def parse_hosts(src: SourceFile) -> tuple[list[Host], list[Diagnostic]]:
    doc, diags = parse(src)
    if doc is None:
        return [], diags
    found, _ = schema.check(doc, "fleet")
    diags += found
    if found:
        return [], diags
    hosts: list[Host] = []
    for i, h in enumerate(doc.root["hosts"]):
        cpus = []
        for j, c in enumerate(h["cpus"]):
            keys = ["hosts", i, "cpus", j]
            values = {k: _u32(c.get(k, 0)) for k in ("midr", "revidr")}
            bad = [k for k, v in values.items() if v > _U32]
            for k in bad:
                diags.append(error(doc.pos([*keys, k]), "fleet-value",
                                   f"{k} {quoted(c[k])} does not fit in 32 bits"))
            if not bad:
                cpus.append(HostCpu(values["midr"], values["revidr"], int(c.get("count", 1)), doc.pos(keys)))
        hosts.append(Host(str(h["name"]), tuple(cpus), doc.pos(["hosts", i, "name"])))
    return hosts, diags


def duplicate_hosts(hosts: list[Host]) -> list[Diagnostic]:
    """Host names label the plan's output, across every file and sysfs tree: one name, one host."""
    seen: dict[str, Pos] = {}
    diags = []
    for h in hosts:
        if h.name in seen:
            diags.append(error(h.where, "fleet-duplicate-host",
                               f"host {quoted(h.name)} is already defined at {seen[h.name]}"))
        seen.setdefault(h.name, h.where)
    return diags


def _register_value(path: Path, shown: str) -> tuple[int | None, Diagnostic | None]:
    """A sysfs identification register: "0x00000000410fd034\\n", 64 bits of which the top half is RES0."""
    try:
        text = read_limited(path, REGISTER_FILE_MAX).decode("ascii")
    except (Refused, OSError, UnicodeDecodeError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) and exc.strerror
                  else str(exc) if isinstance(exc, Refused) else "not ASCII text")
        return None, error(Pos(shown), "fleet-sysfs", f"cannot read: {reason}")
    value_text = text.strip()
    if not _REGISTER.fullmatch(value_text):
        return None, error(Pos(shown, 1, 1), "fleet-sysfs",
                           f"{quoted(value_text[:40])} is not a register value like 0x00000000410fd034")
    value = int(value_text, 16)
    if value > _U32:
        return None, error(Pos(shown, 1, 1), "fleet-sysfs",
                           f"{value_text} has bits set above bit 31, which are RES0 in this register")
    return value, None


def sysfs_arg(arg: str) -> tuple[str | None, str]:
    """NAME=ROOT or ROOT: a name never holds '/', so a path with '=' in it stays a path."""
    name, sep, root = arg.partition("=")
    if sep and name and "/" not in name:
        return name, root
    return None, arg


def read_sysfs(root: Path, display: str, name: str | None = None) -> tuple[Host | None, list[Diagnostic]]:
    """One host from the identification registers under root/sys/devices/system/cpu.

    CPUs without regs/identification (offline ones) are skipped with a note. Raises
    SysfsProblem when root has no sys/devices/system/cpu directory, or it cannot be listed.
    """
    base = root / SYSFS_CPUS
    shown_base = f"{display.rstrip('/')}/{SYSFS_CPUS}"
    if not base.is_dir():
        raise SysfsProblem(f"{display} has no {SYSFS_CPUS} directory")
    diags: list[Diagnostic] = []
    cpus: list[HostCpu] = []
    try:
        entries = [p for p in base.iterdir() if _CPU_DIR.fullmatch(p.name)]
    except OSError as exc:
        raise SysfsProblem(f"cannot list {shown_base}: {exc.strerror or exc}") from exc
    for cpu_dir in sorted(entries, key=lambda p: int(p.name[3:])):
        regs = cpu_dir / _ID_REGS
        shown = f"{shown_base}/{cpu_dir.name}/{_ID_REGS}"
        # A dangling or looping link is not an offline CPU: reading it says what is wrong.
        if not (regs / "midr_el1").exists() and not (regs / "midr_el1").is_symlink():
            diags.append(note(Pos(f"{shown_base}/{cpu_dir.name}"), "fleet-sysfs",
                              f"no {_ID_REGS}/midr_el1 (offline CPU?): skipped"))
            continue
        values = [_register_value(regs / name, f"{shown}/{name}") for name in ("midr_el1", "revidr_el1")]
        problems = [d for _, d in values if d is not None]
        diags += problems
        if not problems:
            cpus.append(HostCpu(values[0][0], values[1][0], 1, Pos(f"{shown}/midr_el1")))
    if not cpus:
        if not has_errors(diags):
            diags.append(error(Pos(shown_base), "fleet-sysfs",
                               f"no CPU here has {_ID_REGS}/midr_el1: not a sysfs tree of an arm64 host"))
        return None, diags
    return Host(name or display, tuple(cpus), Pos(shown_base)), diags


# --- planning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One distinct (MIDR, REVIDR) pair: an entry of the list the VMM passes to KVM."""

    midr: int
    revidr: int
    cpu: str | None  # the registry's name for it, None when cpus.yaml does not list it
    hosts: tuple[str, ...]
    count: int
    bits: tuple[int, ...]

    @property
    def revision(self) -> str:
        return rev_str(((self.midr >> 20) & 0xF, self.midr & 0xF))

    @property
    def label(self) -> str:
        return f"{self.cpu or 'unknown CPU'} {self.revision}"


@dataclass(frozen=True)
class Needed:
    bit: int
    register: str
    name: str
    vendor: str
    errata_ids: tuple[str, ...]
    status: str
    cpucap: str | None  # what the guest enables; None for a retired bit
    needed_by: tuple[str, ...]  # target labels


@dataclass(frozen=True)
class Plan:
    hosts: tuple[Host, ...]
    targets: tuple[Target, ...]
    bitmap: int
    registers: tuple[tuple[str, int], ...]
    errata: tuple[Needed, ...]
    warnings: tuple[tuple[str, str], ...]  # (kind, message)


def _implementer_part(midr: int) -> tuple[int, int]:
    return midr >> 24, (midr >> 4) & 0xFFF


def plan(reg: Registry, module: types.ModuleType, hosts: list[Host]) -> Plan:
    """Everything each side needs, from the generated lookup module (so it is what KVM does)."""
    where: dict[tuple[int, int], list[str]] = {}
    counts: dict[tuple[int, int], int] = {}
    for h in hosts:
        for c in h.cpus:
            key = (c.midr, c.revidr)
            if h.name not in where.setdefault(key, []):
                where[key].append(h.name)
            counts[key] = counts.get(key, 0) + c.count
    models = {(c.implementer.code, c.part): c.name for c in reg.cpus}
    targets = []
    for midr, revidr in sorted(where):
        bits = tuple(e.bit for e in module.errata_for_cpu(midr, revidr))
        targets.append(Target(midr, revidr, models.get(_implementer_part(midr)),
                              tuple(where[(midr, revidr)]), counts[(midr, revidr)], bits))
    bitmap = module.bitmap_for_cpus(list(where))
    regs = tuple(zip(module.REGISTERS, module.registers(bitmap)))
    by_bit = {e.bit: e for e in reg.errata}
    errata = []
    for m in module.errata_from_registers(*(v for _, v in regs)):
        e = by_bit[m.bit]
        errata.append(Needed(e.bit, module.REGISTERS[m.register], e.name, e.vendor,
                             e.errata_ids, e.status, e.enables if e.active else None,
                             tuple(t.label for t in targets if e.bit in t.bits)))
    return Plan(tuple(hosts), tuple(targets), bitmap, regs, tuple(errata),
                tuple(_warnings(reg, by_bit, targets, errata)))


def _warnings(reg: Registry, by_bit: dict[int, Erratum], targets: list[Target], errata: list[Needed]):
    for t in targets:
        if t.cpu is None:
            implementer, part = _implementer_part(t.midr)
            yield ("unknown-cpu",
                   f"MIDR {t.midr:#010x} (implementer {implementer:#04x}, part {part:#05x}, "
                   f"on {', '.join(t.hosts)}) is not in cpus.yaml: the registry knows no errata for it, "
                   "which does not mean it has none")
    for n in errata:
        e = by_bit[n.bit]
        if not e.active:
            yield ("retired", f"bit {n.bit} ({n.name}) is retired ({e.retired_reason}): KVM sets it for "
                   "guests built before the retirement; guests built from this registry enable nothing for it")
        if e.condition:
            yield ("condition", f"bit {n.bit} ({n.name}): KVM sets it from the MIDR alone; the guest "
                   f"enables it only if {e.condition}")
    if reg.not_covered:
        caps = ", ".join(n.cpucap for n in reg.not_covered)
        yield ("not-covered", f"the guest decides {caps} itself, from feature registers and firmware on "
               "the CPU it runs on; no bit carries them, so after a migration they are not re-evaluated")


# --- output ----------------------------------------------------------------------------------


def format_text(p: Plan) -> str:
    cpus = sum(c.count for h in p.hosts for c in h.cpus)
    out = [f"{len(p.hosts)} host(s), {cpus} CPU(s), {len(p.targets)} distinct MIDR/REVIDR pair(s)", "",
           f"VMM: target CPUs to pass to KVM ({len(p.targets)})"]
    for t in p.targets:
        out.append(f"  MIDR {t.midr:#010x}  REVIDR {t.revidr:#010x}  {t.label:28} x{t.count:<4} "
                   f"on {', '.join(t.hosts)}")
    out += ["", f"KVM: the hypercall returns (bitmap {p.bitmap:#x})"]
    out += [f"  {name} = {value:#018x}" for name, value in p.registers]
    out += ["", f"Guest: errata to enable ({len(p.errata)})"]
    for n in p.errata:
        # Some cpucaps carry twenty ids; --format json has them all.
        ids = ", ".join(n.errata_ids[:3]) + (f" +{len(n.errata_ids) - 3} more" if len(n.errata_ids) > 3 else "")
        enables = f"-> ARM64_{n.cpucap}" if n.cpucap else "(retired: enables nothing)"
        out.append(f"  bit {n.bit:3}  {n.register}  {n.name:36} {n.vendor} {ids}  {enables}")
        out.append(f"           needed by: {'; '.join(n.needed_by)}")
    if not p.errata:
        out.append("  (none)")
    if p.warnings:
        out += ["", f"Warnings ({len(p.warnings)})"]
        out += [f"  warning: {message} [{kind}]" for kind, message in p.warnings]
    # Host names come from files and command lines: each line stays one line, and inert.
    return "\n".join(escape(line) for line in out) + "\n"


def format_json(p: Plan) -> str:
    doc = {
        "hosts": [{"name": h.name, "cpus": [{"midr": c.midr, "revidr": c.revidr, "count": c.count}
                                            for c in h.cpus]} for h in p.hosts],
        "targets": [{"midr": t.midr, "revidr": t.revidr, "cpu": t.cpu, "revision": t.revision,
                     "count": t.count, "hosts": list(t.hosts), "bits": list(t.bits)} for t in p.targets],
        "bitmap": hex(p.bitmap),
        "registers": {name: f"{value:#018x}" for name, value in p.registers},
        "errata": [{"bit": n.bit, "register": n.register, "name": n.name, "vendor": n.vendor,
                    "errata_ids": list(n.errata_ids), "status": n.status, "enables": n.cpucap,
                    "needed_by": list(n.needed_by)} for n in p.errata],
        "warnings": [{"kind": kind, "message": message} for kind, message in p.warnings],
    }
    return json.dumps(doc, indent=2) + "\n"


FORMATS = {"text": format_text, "json": format_json}
