"""The operator's question: a VM may run on any of these hosts; what does each side need?

The VMM needs the de-duplicated list of (MIDR, REVIDR) pairs to pass to KVM, KVM returns the
bitmap in R0-R3, and the guest enables the errata behind it. For the ABI Linux 6.15 shipped, the
VMM answers the guest's DISCOVER_IMPL_VER and DISCOVER_IMPL_CPUS hypercalls with the list of
(MIDR, REVIDR, AIDR) target implementations instead. Hosts come from a YAML/JSON file or from
sysfs trees. Parsing the file and planning are pure; `read_sysfs` reads the disk.
"""

from __future__ import annotations

import json
import re
import types
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, partial
from itertools import accumulate
from json.encoder import encode_basestring_ascii as _encode_str
from pathlib import Path
from typing import Callable

from . import schema, vmm
from .diagnostics import Diagnostic, Pos, error, escape, has_errors, note, some
from .errors import Unusable
from .inputs import Refused, TooLarge, read_limited, read_stream_limited
from .load import SourceFile, parse, quoted, read_source
from .lookup import implementer_part, part_families, unknown_cpu
from .model import Erratum, Located, Registry, Where, rev_str

SYSFS_CPUS = "sys/devices/system/cpu"
_ID_REGS = "regs/identification"
_REGISTER = re.compile(r"0[xX][0-9a-fA-F]{1,16}")
_REGISTER_LIKE = re.compile(r"[0-9a-fA-FxX]{0,18}")
_CPU_DIR = re.compile(r"cpu[0-9]+")
_U32 = 0xFFFFFFFF
# sysfs shows an attribute in one page at most (and gives that page as every file's size).
REGISTER_FILE_MAX = 4096
# A fleet's file may list tens of thousands of hosts, some 20 YAML nodes each; a registry
# file's limits would stop at 2,500.
MAX_BYTES = 16 << 20
MAX_NODES = 1_000_000
# What YAML reads as JSON reads it: printable characters (YAML refuses the others), no line
# break but LF and CR (YAML folds NEL, LS and PS inside a string), no escape (YAML refuses a
# lone surrogate).
_PLAIN_JSON = re.compile(r"[\t\n\r\x20-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
# The rest of the fleet schema that the JSON fast path checks itself. tests/test_fleet_scale.py
# checks that it accepts nothing the schema refuses.
_HOST_KEYS = frozenset({"name", "cpus"})
_CPU_KEYS = frozenset({"midr", "revidr", "aidr", "count"})
_U32_TEXT = re.compile(r"0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10}")
_MAX_COUNT = 1 << 20
# In such JSON, a literal can only follow one of these; a string that holds one is only
# refused the fast path.
_LITERAL = re.compile(r"[\[:,]\s*[tfn]")
# With no backslash, each '"' opens or closes a string: matching string after string stays in
# step, and a string followed by ':' is a key.
_JSON_STRING = re.compile(r'"[^"]*"\s*(:?)')
_NAME_KEY = re.compile(r'("name"\s*:\s*)')


class HostsUnreadable(Unusable):
    """A --hosts file or a --sysfs root that cannot be used at all: an environment error."""


@dataclass(frozen=True)
class HostCpu:
    midr: int
    revidr: int
    count: int
    aidr: int = 0  # AIDR_EL1: only the target implementation list carries it


@dataclass(frozen=True)
class Host:
    name: str
    # Hosts of one kind in a JSON file share one tuple: 300,000 hosts of 50 kinds make 50.
    cpus: tuple[HostCpu, ...]
    where: Callable[[], Pos]  # where its name is, found only when a message needs it


def _u32(value) -> int:
    """A schema-valid u32: an int, or a decimal or 0x string (JSON has no hex literals)."""
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text, 16) if text[:2] in ("0x", "0X") else int(text, 10)


class _NamePlaces:
    """Where each host's name is in a JSON fleet that the json module read, which records no
    places: parsing the text again as YAML to find them would take longer than all the rest, and
    past a million nodes cannot. With no backslash in the text (_PLAIN_JSON), every '"' opens or
    closes a string, so the n-th `"name":` is the n-th host's, and its value follows."""

    def __init__(self, path: str, text: str):
        self.path, self.text = path, text

    # Both lists are sums of lengths of pieces of the text, added up without a Python step per
    # piece: a file of 16 MiB has two million lines.

    @cached_property
    def _values(self) -> list[int]:
        return list(accumulate(map(len, _NAME_KEY.split(self.text))))[1::2]

    @cached_property
    def _line_starts(self) -> list[int]:
        # No line break here but LF, CR and CRLF (_PLAIN_JSON), which are YAML's.
        return list(accumulate(map(len, self.text.splitlines(True)), initial=0))

    def __call__(self, index: int) -> Pos:
        offset = self._values[index]
        line = bisect_right(self._line_starts, offset)
        return Pos(self.path, line, offset - self._line_starts[line - 1] + 1)


def _json_u32(value) -> int | None:
    """A u32 as the fleet schema has it (an integer, or a 0x or decimal string), or None."""
    if type(value) is int:  # not bool, which the schema refuses
        return value if 0 <= value <= _U32 else None
    if type(value) is str and _U32_TEXT.fullmatch(value):
        number = _u32(value)
        return number if number <= _U32 else None
    return None


def _json_cpus(entries: list[dict]) -> tuple[tuple[HostCpu, ...], int] | None:
    """A host's CPUs, and how many keys their entries have; None unless the fleet schema and
    the 32 bits both hold."""
    cpus = []
    for c in entries:
        count = c.get("count", 1)
        values = [_json_u32(c.get(k, 0)) for k in ("midr", "revidr", "aidr")]
        if (c.keys() - _CPU_KEYS or "midr" not in c or None in values or type(count) is not int
                or not 1 <= count <= _MAX_COUNT):
            return None
        cpus.append(HostCpu(values[0], values[1], count, values[2]))
    return (tuple(cpus), sum(len(c) for c in entries)) if cpus else None


def _json_hosts(src: SourceFile) -> list[Host] | None:
    """The hosts of a valid fleet in JSON, read by the json module and checked here: 330,000
    hosts (16 MiB) take about a second, against four more through the schema checker, and the
    YAML parser stops at a million nodes, some 50,000 hosts. None for anything else, and for any
    JSON that YAML could read otherwise: those take the YAML parser and the schema, which also
    word every problem."""
    if len(src.data) > MAX_BYTES or not src.data.lstrip()[:1] == b"{":
        return None
    try:
        text = src.data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # true, false and null are never valid, and true would pass for 1 in a cache key below.
    if not _PLAIN_JSON.fullmatch(text) or _LITERAL.search(text):
        return None

    def refuse(name: str):
        raise ValueError(name)

    try:
        root = json.loads(text, parse_float=refuse, parse_constant=refuse)
    except (ValueError, RecursionError):
        return None
    if type(root) is not dict or root.keys() != {"hosts"} or type(root["hosts"]) is not list or not root["hosts"]:
        return None
    places = _NamePlaces(src.path, text)
    hosts: list[Host] = []
    kinds: dict[tuple, tuple[tuple[HostCpu, ...], int]] = {}
    keys = 1
    for i, h in enumerate(root["hosts"]):
        if type(h) is not dict or h.keys() != _HOST_KEYS:
            return None
        name, entries = h["name"], h["cpus"]
        if type(name) is not str or not name or type(entries) is not list:
            return None
        try:
            kind = tuple([tuple(c.items()) for c in entries])
            known = kinds.get(kind)
        except (AttributeError, TypeError):  # an entry that is not a mapping, a value that is not a scalar
            return None
        if known is None:
            known = kinds[kind] = _json_cpus(entries)
            if known is None:
                return None
        cpus, n = known
        keys += 2 + n
        hosts.append(Host(name, cpus, partial(places, i)))
    # The json module keeps the last of two equal keys, where YAML refuses the file.
    if _JSON_STRING.findall(text).count(":") != keys:
        return None
    return hosts


def parse_hosts(src: SourceFile) -> tuple[list[Host], list[Diagnostic]]:
    hosts = _json_hosts(src)
    if hosts is not None:
        return hosts, []
    doc, diags = parse(src, MAX_BYTES, MAX_NODES)
    if doc is None:
        return [], diags
    found, _ = schema.check(doc, "fleet")
    diags += found
    if found:
        return [], diags
    hosts = []
    # A fleet of 10,000 hosts has a handful of distinct CPU entries: each is converted once.
    converted: dict[tuple, tuple[int, int, int]] = {}
    for i, h in enumerate(doc.root["hosts"]):
        cpus = []
        for j, c in enumerate(h["cpus"]):
            raw = (c["midr"], c.get("revidr", 0), c.get("aidr", 0))
            values = converted.get(raw)
            if values is None:
                values = converted[raw] = tuple(_u32(v) for v in raw)
            if max(values) > _U32:
                for k, v in zip(("midr", "revidr", "aidr"), values):
                    if v > _U32:
                        diags.append(error(doc.pos(["hosts", i, "cpus", j, k]), "fleet-value",
                                           f"{k} {quoted(c[k])} does not fit in 32 bits"))
                continue
            cpus.append(HostCpu(values[0], values[1], c.get("count", 1), values[2]))
        hosts.append(Host(str(h["name"]), tuple(cpus), Located(doc, ("hosts", i, "name"))))
    return hosts, diags


def _read_input(path: str, stdin) -> SourceFile:
    """A --hosts file, or stdin for '-', read no further than MAX_BYTES."""
    try:
        if path == "-":
            if stdin is None:  # started with stdin closed (`<&-`)
                raise HostsUnreadable("cannot read --hosts -: standard input is closed")
            try:
                return SourceFile("<stdin>", read_stream_limited(stdin.buffer, MAX_BYTES))
            except TooLarge as exc:
                return SourceFile("<stdin>", b"", str(exc))
        return read_source(Path(path), path, MAX_BYTES)
    except Refused as exc:
        # A FIFO may have no writer, and then waits forever; a pipe that has one is stdin's job.
        hint = "; to read a pipe, pass --hosts - and pipe it in" if exc.fifo else ""
        raise HostsUnreadable(f"cannot read {path}: {exc}{hint}") from exc
    except OSError as exc:
        raise HostsUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_hosts(sources: list[tuple[str, str]], stdin) -> tuple[list[Host], list[Diagnostic]]:
    """The hosts of --hosts FILE and --sysfs [NAME=]ROOT options, in the order given, and what
    is wrong with them. Raises HostsUnreadable for an input that cannot be read."""
    hosts: list[Host] = []
    diags: list[Diagnostic] = []
    for option, arg in sources:
        if option == "hosts":
            found, problems = parse_hosts(_read_input(arg, stdin))
            hosts += found
            diags += problems
            continue
        name, root = sysfs_arg(arg)
        host, problems = read_sysfs(Path(root), root, name)
        diags += problems
        if host is not None:
            hosts.append(host)
    return hosts, diags + duplicate_hosts(hosts)


def duplicate_hosts(hosts: list[Host]) -> list[Diagnostic]:
    """Host names label the plan's output, across every file and sysfs tree: one name, one host."""
    first: dict[str, Host] = {}
    diags = []
    for h in hosts:
        seen = first.setdefault(h.name, h)
        if seen is not h:
            diags.append(error(h.where(), "fleet-duplicate-host",
                               f"host {quoted(h.name)} is already defined at {seen.where()}"))
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
        # A link to another file (/etc/passwd) must not have it print its first bytes: only a
        # short token of a register's characters is quoted.
        what = (quoted(value_text) if _REGISTER_LIKE.fullmatch(value_text)
                else f"the file ({len(text)} bytes, not shown)")
        return None, error(Pos(shown, 1, 1), "fleet-sysfs", f"{what} is not a register value like 0x00000000410fd034")
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
    HostsUnreadable when root has no sys/devices/system/cpu directory, or it cannot be listed.
    """
    base = root / SYSFS_CPUS
    shown_base = f"{display.rstrip('/')}/{SYSFS_CPUS}"
    if not base.is_dir():
        raise HostsUnreadable(f"{display} has no {SYSFS_CPUS} directory")
    diags: list[Diagnostic] = []
    cpus: list[HostCpu] = []
    try:
        entries = [p for p in base.iterdir() if _CPU_DIR.fullmatch(p.name)]
    except OSError as exc:
        raise HostsUnreadable(f"cannot list {shown_base}: {exc.strerror or exc}") from exc
    for cpu_dir in sorted(entries, key=lambda p: int(p.name[3:])):
        regs = cpu_dir / _ID_REGS
        shown = f"{shown_base}/{cpu_dir.name}/{_ID_REGS}"
        # A dangling or looping link is not an offline CPU: reading it says what is wrong.
        if not (regs / "midr_el1").exists() and not (regs / "midr_el1").is_symlink():
            diags.append(note(Pos(f"{shown_base}/{cpu_dir.name}"), "fleet-sysfs",
                              f"no {_ID_REGS}/midr_el1 (offline CPU?): skipped"))
            continue
        names = ["midr_el1", "revidr_el1"]
        # Older kernels do not show AIDR_EL1; it is then 0, as in a hosts file.
        if (regs / "aidr_el1").exists() or (regs / "aidr_el1").is_symlink():
            names.append("aidr_el1")
        values = [_register_value(regs / name, f"{shown}/{name}") for name in names]
        problems = [d for _, d in values if d is not None]
        diags += problems
        if not problems:
            aidr = values[2][0] if len(values) > 2 else 0
            cpus.append(HostCpu(values[0][0], values[1][0], 1, aidr))
    if not cpus:
        if not has_errors(diags):
            diags.append(error(Pos(shown_base), "fleet-sysfs",
                               f"no CPU here has {_ID_REGS}/midr_el1: not a sysfs tree of an arm64 host"))
        return None, diags
    return Host(name or display, tuple(cpus), Where(Pos(shown_base))), diags


# --- planning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One distinct (MIDR, REVIDR) pair: an entry of the list the VMM passes to KVM."""

    midr: int
    revidr: int
    cpu: str | None  # the registry's name for it, None when cpus.yaml does not list it
    label: str  # as cpu_label shows it
    hosts: tuple[str, ...]
    count: int
    bits: tuple[int, ...]

    @property
    def revision(self) -> str:
        return rev_str(((self.midr >> 20) & 0xF, self.midr & 0xF))


@dataclass(frozen=True)
class ImplCpu:
    """One target implementation: what DISCOVER_IMPL_CPUS(index) returns in R1, R2 and R3."""

    midr: int
    revidr: int
    aidr: int
    label: str
    hosts: tuple[str, ...]


# DISCOVER_IMPL_VER's R1, in SMCCC version format: major 1, minor 0, the only version a guest
# accepts.
IMPL_VERSION = (1, 0)
IMPL_VERSION_R1 = IMPL_VERSION[0] << 16 | IMPL_VERSION[1]


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
    impl_cpus: tuple[ImplCpu, ...]  # by MIDR, then REVIDR, then AIDR
    bitmap: int
    registers: tuple[tuple[str, int], ...]
    errata: tuple[Needed, ...]
    warnings: tuple[tuple[str, str], ...]  # (kind, message)


def cpu_names(reg: Registry) -> dict[tuple[int, int], str]:
    """{(implementer, part): the registry's name of that CPU}."""
    return {(c.implementer.code, c.part): c.name for c in reg.cpus}


def cpu_label(reg: Registry, module: types.ModuleType, names: dict[tuple[int, int], str], midr: int) -> str:
    """How a CPU is shown: "Neoverse-N1 r3p1" (names: cpu_names of reg). A part cpus.yaml lacks
    is shown by the part family it matches, named as the unknown-cpu warning beside it names it,
    "Kryo (0x2xx family) part 0x201 r0p1": it has that family's errata. Else "unknown CPU r0p0"."""
    implementer, part = implementer_part(midr)
    name = names.get((implementer, part))
    if name is None:
        families = part_families(reg, module, midr)
        name = f"{', '.join(families)} part {part:#05x}" if families else "unknown CPU"
    return f"{name} {rev_str(((midr >> 20) & 0xF, midr & 0xF))}"


def not_covered_warning(reg: Registry) -> str | None:
    if not reg.not_covered:
        return None
    caps = ", ".join(n.cpucap for n in reg.not_covered)
    return (f"the guest decides {caps} itself, from feature registers and firmware on the CPU it runs "
            "on; no bit carries them, so after a migration they are not re-evaluated")


def _hosts_by_cpu(hosts: list[Host]) -> tuple[dict, dict, dict]:
    """The hosts of each (MIDR, REVIDR) and of each (MIDR, REVIDR, AIDR), in input order and
    each once (a dict is the ordered set), and the CPU count of each (MIDR, REVIDR). Hosts that
    share their tuple of CPUs (a JSON file's hosts of one kind) share the finding of their sets:
    300,000 hosts cost a lookup and an insertion or two each."""
    pairs: dict[tuple[int, int], dict[str, None]] = {}
    triples: dict[tuple[int, int, int], dict[str, None]] = {}
    kinds: dict[int, list] = {}  # id of a tuple of CPUs: [the tuple, the sets its hosts join, its hosts]
    for h in hosts:
        kind = kinds.get(id(h.cpus))
        if kind is None:
            sets = [d for c in h.cpus for d in (pairs.setdefault((c.midr, c.revidr), {}),
                                                triples.setdefault((c.midr, c.revidr, c.aidr), {}))]
            kind = kinds[id(h.cpus)] = [h.cpus, sets, 0]
        kind[2] += 1
        for names in kind[1]:
            names[h.name] = None
    counts: dict[tuple[int, int], int] = {}
    for cpus, _, users in kinds.values():
        for c in cpus:
            counts[c.midr, c.revidr] = counts.get((c.midr, c.revidr), 0) + c.count * users
    return pairs, triples, counts


def plan(reg: Registry, module: types.ModuleType, hosts: list[Host]) -> Plan:
    """Everything each side needs, from the generated lookup module (so it is what KVM does)."""
    where, by_triple, counts = _hosts_by_cpu(hosts)
    models = cpu_names(reg)
    targets = []
    for midr, revidr in sorted(where):
        bits = tuple(e.bit for e in module.errata_for_cpu(midr, revidr))
        targets.append(Target(midr, revidr, models.get(implementer_part(midr)),
                              cpu_label(reg, module, models, midr), tuple(where[(midr, revidr)]),
                              counts[(midr, revidr)], bits))
    labels = {(t.midr, t.revidr): t.label for t in targets}
    # The distinct (MIDR, REVIDR, AIDR) triples in numeric order: the same fleet gives the same
    # index to the same CPU, whatever order its hosts come in.
    impl_cpus = tuple(ImplCpu(midr, revidr, aidr, labels[(midr, revidr)], tuple(by_triple[(midr, revidr, aidr)]))
                      for midr, revidr, aidr in sorted(by_triple))
    bitmap = module.bitmap_for_cpus(list(where))
    regs = tuple(zip(module.REGISTERS, module.registers(bitmap)))
    by_bit = {e.bit: e for e in reg.errata}
    errata = []
    for m in module.errata_from_registers(*(v for _, v in regs)):
        e = by_bit[m.bit]
        errata.append(Needed(e.bit, module.REGISTERS[m.register], e.name, e.vendor,
                             e.errata_ids, e.status, e.enables if e.active else None,
                             tuple(t.label for t in targets if e.bit in t.bits)))
    return Plan(tuple(hosts), tuple(targets), impl_cpus, bitmap, regs, tuple(errata),
                tuple(_warnings(reg, module, by_bit, targets, errata)))


def _warnings(reg: Registry, module: types.ModuleType, by_bit: dict[int, Erratum], targets: list[Target],
              errata: list[Needed]):
    for t in targets:
        if t.cpu is None:
            yield "unknown-cpu", unknown_cpu(reg, module, t.midr, f", on {', '.join(t.hosts)}")
    for n in errata:
        e = by_bit[n.bit]
        if not e.active:
            yield ("retired", f"bit {n.bit} ({n.name}) is retired ({e.retired_reason}): KVM sets it for "
                   "guests built before the retirement; guests built from this registry enable nothing for it")
        if e.condition:
            yield ("condition", f"bit {n.bit} ({n.name}): KVM sets it from the MIDR alone; the guest "
                   f"enables it only if {e.condition}")
    not_covered = not_covered_warning(reg)
    if not_covered:
        yield ("not-covered", not_covered)


# --- output ----------------------------------------------------------------------------------


def format_text(p: Plan) -> str:
    cpus = sum(t.count for t in p.targets)
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
        ids = some(n.errata_ids)
        enables = f"-> ARM64_{n.cpucap}" if n.cpucap else "(retired: enables nothing)"
        out.append(f"  bit {n.bit:3}  {n.register}  {n.name:36} {n.vendor} {ids}  {enables}")
        out.append(f"           needed by: {'; '.join(n.needed_by)}")
    if not p.errata:
        out.append("  (none)")
    n = len(p.impl_cpus)
    out += ["", f"VMM, for Linux 6.15+ guests: the target implementations to return ({n})",
            f"  DISCOVER_IMPL_VER      R1 = {IMPL_VERSION_R1:#010x} (version {IMPL_VERSION[0]}.{IMPL_VERSION[1]})  "
            f"R2 = {n} (count)"]
    for i, c in enumerate(p.impl_cpus):
        call = f"DISCOVER_IMPL_CPUS({i})"
        out.append(f"  {call:22} R1 = MIDR {c.midr:#010x}  R2 = REVIDR {c.revidr:#010x}  "
                   f"R3 = AIDR {c.aidr:#010x}  {c.label}")
    if p.warnings:
        out += ["", f"Warnings ({len(p.warnings)})"]
        out += [f"  warning: {message} [{kind}]" for kind, message in p.warnings]
    # Host names come from files and command lines: each line stays one line, and inert.
    return "\n".join(escape(line) for line in out) + "\n"


def format_json(p: Plan) -> str:
    doc = {
        "hosts": ({"name": h.name, "cpus": [{"midr": c.midr, "revidr": c.revidr, "aidr": c.aidr,
                                             "count": c.count} for c in h.cpus]} for h in p.hosts),
        "targets": ({"midr": t.midr, "revidr": t.revidr, "cpu": t.cpu, "revision": t.revision,
                     "count": t.count, "hosts": t.hosts, "bits": t.bits} for t in p.targets),
        "target_impl": {"version": f"{IMPL_VERSION[0]}.{IMPL_VERSION[1]}", "version_r1": IMPL_VERSION_R1,
                        "count": len(p.impl_cpus),
                        "cpus": ({"index": i, "midr": c.midr, "revidr": c.revidr, "aidr": c.aidr,
                                  "cpu": c.label, "hosts": c.hosts} for i, c in enumerate(p.impl_cpus))},
        "bitmap": hex(p.bitmap),
        "registers": {name: f"{value:#018x}" for name, value in p.registers},
        "errata": [{"bit": n.bit, "register": n.register, "name": n.name, "vendor": n.vendor,
                    "errata_ids": n.errata_ids, "status": n.status, "enables": n.cpucap,
                    "needed_by": n.needed_by} for n in p.errata],
        "warnings": [{"kind": kind, "message": message} for kind, message in p.warnings],
    }
    return json_text(doc) + "\n"


_ARRAYS = (list, tuple, types.GeneratorType)


def json_text(value) -> str:
    """What json.dumps(value, indent=2) gives, byte for byte, for what fleet and risk print
    (dicts with str keys; lists, tuples and generators; str, int, bool and None), in a fraction
    of the time and memory: with an indent, the standard library encodes in pure Python, one
    token at a time, and 240,000 distinct CPUs took 15 s and 2 GB. A generator is encoded as it
    is consumed, so that the rows of a large report need not all exist at once."""
    return _json(value, "\n")


def _json(value, newline: str) -> str:
    """value, its nested lines starting with newline (a line break and the indent) and two spaces."""
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is int:
        return int.__repr__(value)
    inner = newline + "  "
    # Strings and numbers, most of the values, are encoded in place: a call less each.
    if kind is dict:
        items = [_encode_str(k) + ": " + (_encode_str(v) if type(v) is str else int.__repr__(v) if type(v) is int
                                          else _json(v, inner)) for k, v in value.items()]
        return "{" + inner + ("," + inner).join(items) + newline + "}" if items else "{}"
    if kind in _ARRAYS:
        items = [_encode_str(v) if type(v) is str else int.__repr__(v) if type(v) is int else _json(v, inner)
                 for v in value]
        return "[" + inner + ("," + inner).join(items) + newline + "]" if items else "[]"
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, str):
        return _encode_str(value)
    raise TypeError(f"{kind.__name__} is not in a report")


# --format qemu and libvirt: the target implementation list as the QEMU options that take it.
FORMATS = {"text": format_text, "json": format_json, **vmm.FORMATS}
